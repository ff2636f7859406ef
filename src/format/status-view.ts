// The text view of `lanekeeper status`, one screen: when the next tick is due (or that lanekeeper
// is not running, and how its last run ended), one row per lane slot (its state and for how long, the session it runs with
// the time it has run, its last outcomes and grades), the claims held, the recent sessions and
// the last decisions; under the first lines, a STALLED line for each liveness rule that fired
// (policy/liveness.ts). Pure: the data, the time and the width to fit all come in. Tables are cut
// to the width (a cell that does not fit ends in "…"); decision and STALLED lines are wrapped,
// not cut, so no reason is lost.
import type { ClaimRow, LaneStateRow, SessionRow } from '../ports/store.js';
import { formatDuration } from '../config/duration.js';
import type { RecordDecisionIntent } from '../machines/intents.js';
import type { Liveness } from '../policy/liveness.js';
import { decisionLine, fallbackSteps, tallyFallbacks, tallyLine } from './decision.js';
import { leftText } from './left.js';
import { renderTable } from './table.js';

export interface StatusViewData {
  dir: string;
  /** A shared store (PostgreSQL), named without its password: shown instead of the state directory. */
  store?: string;
  now: number;
  /** Columns to fit. */
  width: number;
  lanes: readonly LaneStateRow[];
  /** The recent sessions table, newest first. */
  sessions: readonly SessionRow[];
  /** Enough recent sessions, newest first, to find each lane's last outcomes and its running session. */
  history: readonly SessionRow[];
  /** Live claims. */
  claims: readonly ClaimRow[];
  /** The recent decisions, newest first: the first few are shown, and the fallbacks of all are tallied. */
  decisions: readonly RecordDecisionIntent[];
  /**
   * Whether a runtime runs now (null: cannot be told, with why), and how the last one ended when
   * none does. Absent: not known (the view goes by the next tick alone).
   */
  run?: { running: boolean | null; unknown?: string; lastStop: { at: number; clean: boolean } | null };
  /** The next timer tick the runtime planned, or null. Ignored when lanekeeper is not running. */
  nextTick: number | null;
  /** Whether the fleet is stalled; absent: not judged. */
  liveness?: Liveness;
}

/** Outcomes shown per lane, newest first. */
export const LAST_PER_LANE = 3;
/** Decisions shown, newest first. */
export const DECISIONS_SHOWN = 3;
/** Claims listed; the rest are counted (`lanekeeper claims` lists them all). */
export const CLAIMS_SHOWN = 8;
/** A planned tick this far in the past means the runtime did not get to it. */
const OVERDUE_AFTER_MS = 10_000;

/** No runtime runs now: what the lanes and sessions say is how the last one left them. */
const notRunning = (v: StatusViewData) => v.run?.running === false;

export function renderStatusView(v: StatusViewData): string {
  const blocks = [
    [
      ...[
        `lanekeeper at ${clockTime(v.now, v.now)} · ${v.store ? `store: ${v.store}` : `state: ${v.dir}`}`,
        runtimeLine(v),
      ].map((l) => cut(l, v.width)),
      // Wrapped, not cut: the lanes named at the end are the point.
      ...(v.liveness?.reasons ?? []).map((r) => wrap(`STALLED: ${r}`, v.width, '', '  ')),
    ].join('\n'),
    v.lanes.length ? laneTable(v) : 'no lanes recorded yet',
    claimsBlock(v),
    v.sessions.length ? sessionsTable(v) : 'no sessions yet',
    v.decisions.length ? decisionsBlock(v) : 'no decisions yet',
  ];
  return blocks.join('\n\n');
}

/** The last decisions, their fallbacks by step only; then each distinct fallback once, with how many decisions recorded it. */
function decisionsBlock(v: StatusViewData): string {
  const shown = v.decisions.slice(0, DECISIONS_SHOWN);
  const lines = shown.map((d) => wrap(decisionLine(d, { fallbacks: fallbackSteps }), v.width, '  ', '      '));
  const tally = tallyFallbacks(v.decisions);
  const fallbacks = tally.length
    ? [
        '',
        `fallbacks of the last ${v.decisions.length} decision${v.decisions.length === 1 ? '' : 's'}, each once (latest first):`,
        ...tally.map((t) => wrap(tallyLine(t), v.width, '  ', '      ')),
      ]
    : [];
  return ['recent decisions (newest first):', ...lines, ...fallbacks].join('\n');
}

function runtimeLine(v: StatusViewData): string {
  if (!v.lanes.length && !v.run?.lastStop)
    return notRunning(v) || !v.run ? 'lanekeeper has not run here yet' : 'lanekeeper is starting';
  if (notRunning(v)) {
    const stop = v.run!.lastStop;
    if (!stop) return 'lanekeeper is not running';
    const at = `${clockTime(stop.at, v.now)}, ${elapsed(v.now - stop.at)} ago`;
    return `lanekeeper is not running (${stop.clean ? `stopped cleanly at ${at}` : `the last run ended without draining at ${at}`})`;
  }
  if (v.nextTick === null) return 'next tick: none planned';
  if (v.nextTick < v.now - OVERDUE_AFTER_MS)
    return `next tick was due ${clockTime(v.nextTick, v.now)} (${elapsed(v.now - v.nextTick)} ago): is lanekeeper still running?`;
  return `next tick ${clockTime(v.nextTick, v.now)} (${v.nextTick <= v.now ? 'due now' : `in ${elapsed(v.nextTick - v.now)}`})`;
}

function laneTable(v: StatusViewData): string {
  const byId = new Map(v.history.map((s) => [s.id, s]));
  // Several hosts on one store: each host's lane slots, named with the host.
  const hosts = new Set(v.lanes.map((l) => l.host ?? ''));
  const nameOf = (l: LaneStateRow) => (hosts.size > 1 && l.host ? `${l.lane_id}@${l.host}` : l.lane_id);
  const rows = v.lanes.map((l) => {
    const s = l.session === null ? undefined : byId.get(l.session);
    const live = s && s.ended_at === null && !notRunning(v);
    const session = l.session === null ? '' : live ? `${l.session} (${elapsed(v.now - s.started_at)})` : l.session;
    return [nameOf(l), laneState(l, v), elapsed(v.now - l.since), session];
  });
  const head = ['LANE', 'STATE', 'FOR', 'SESSION'];
  // The last outcomes get what the other columns leave of the width: as many as fit, up to three.
  const used = renderTable([head, ...rows])
    .split('\n')
    .reduce((w, line) => Math.max(w, line.length), 0);
  const room = Math.max(v.width - used - 2, 0);
  const withLast = rows.map((r, i) => [
    ...r,
    lastOutcomes(v.history, v.lanes[i]!.lane_id, room, hosts.size > 1 ? v.lanes[i]!.host : undefined),
  ]);
  return renderTable([[...head, 'LAST (newest first)'], ...withLast])
    .split('\n')
    .map((l) => cut(l, v.width))
    .join('\n');
}

/**
 * "cooldown (1h 59m left)"; with no runtime, what it left claiming or running is marked "was …"
 * (recovered or closed at the next start), and a deadline is what the next start goes on with.
 */
function laneState(l: LaneStateRow, v: StatusViewData): string {
  if (notRunning(v) && (l.state === 'running' || l.state === 'claiming' || l.state === 'respawn'))
    return `was ${l.state}`;
  return l.deadline != null && (l.state === 'cooldown' || l.state === 'waiting')
    ? `${l.state} (${leftText(l.deadline, v.now)})`
    : l.state;
}

/** "productive 0.82, noop 0.10, failed –": the lane's last ended sessions that fit in `room`. */
function lastOutcomes(history: readonly SessionRow[], laneId: string, room: number, host?: string): string {
  const ended = history
    .filter((s) => s.lane_id === laneId && s.ended_at !== null && (!host || s.id.endsWith(`@${host}`)))
    .slice(0, LAST_PER_LANE);
  if (!ended.length) return '–';
  let text = '';
  for (const s of ended) {
    const item = `${s.outcome ?? 'unknown'} ${s.grade === null ? '–' : s.grade.toFixed(2)}`;
    const next = text ? `${text}, ${item}` : item;
    if (text && next.length > room) break;
    text = next;
  }
  return text;
}

function claimsBlock(v: StatusViewData): string {
  if (!v.claims.length) return 'no claims held';
  const shown = v.claims.slice(0, CLAIMS_SHOWN);
  const table = renderTable([
    ['KEY', 'HOLDER', 'EXPIRES IN'],
    ...shown.map((c) => [cut(c.key, 48), cut(c.holder, 32), elapsed(c.expires_at - v.now)]),
  ]);
  const more = v.claims.length - shown.length;
  const lines = [
    `claims held: ${v.claims.length}`,
    ...table.split('\n'),
    ...(more ? [`… and ${more} more (lanekeeper claims lists them all)`] : []),
  ];
  return lines.map((l) => cut(l, v.width)).join('\n');
}

function sessionsTable(v: StatusViewData): string {
  const rows = v.sessions.map((s) => [
    s.id,
    s.arm,
    s.dispatch,
    clockTime(s.started_at, v.now),
    s.ended_at === null
      ? notRunning(v)
        ? 'was running'
        : `running ${elapsed(v.now - s.started_at)}`
      : formatDuration(s.ended_at - s.started_at),
    s.outcome ?? '',
    s.grade === null ? '' : s.grade.toFixed(2),
  ]);
  return renderTable([['SESSION', 'ARM', 'DISPATCH', 'STARTED', 'TOOK', 'OUTCOME', 'GRADE'], ...rows])
    .split('\n')
    .map((l) => cut(l, v.width))
    .join('\n');
}

/** Whole seconds, so a refreshing view does not flicker with tenths: 0s, 12s, 3m 5s, 2h 10m. */
export function elapsed(ms: number): string {
  return ms < 1000 ? '0s' : formatDuration(Math.floor(ms / 1000) * 1000);
}

/** Local wall-clock time: HH:MM:SS today, else the date and the minute. */
export function clockTime(ms: number, now: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return d.toDateString() === new Date(now).toDateString()
    ? time
    : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time.slice(0, 5)}`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Word-wraps one line to the width: `first` before the first line, `rest` before the others. */
function wrap(text: string, width: number, first: string, rest: string): string {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(' ')) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.map((l) => cut(l, width)).join('\n');
}
