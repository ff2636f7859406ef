// lanekeeper status [--state DIR] [--json] [--limit N]
import { openSqliteStore } from '../adapters/store/sqlite/index.js';
import type { LaneStateRow, SessionRow } from '../adapters/store/ports.js';
import { formatDuration } from '../config/duration.js';
import { decisionLine } from '../format/decision.js';
import { renderTable } from '../format/table.js';
import type { RecordDecisionIntent } from '../machines/intents.js';
import { iso, out } from './io.js';
import { stateDirForReaders } from './state-dir.js';

export interface StatusOptions {
  state?: string;
  config?: string;
  json?: boolean;
  limit?: number;
}

export async function statusCommand(opts: StatusOptions): Promise<void> {
  const dir = await stateDirForReaders(opts, process.env);
  const store = openSqliteStore(dir, { mustExist: true });
  try {
    const lanes = await store.lanes.list();
    const sessions = await store.sessions.list({ limit: opts.limit ?? (opts.json ? 200 : 12) });
    // Decisions recorded by an older lanekeeper have another shape; they are left out.
    const decisions = (await store.decisions.list({ limit: opts.json ? 20 : 3 }))
      .map((d) => d.detail as RecordDecisionIntent)
      .filter((d) => (d.kind === 'tick' && 'gate' in d) || (d.kind === 'pivot' && 'denied' in d));
    if (opts.json) {
      out(
        JSON.stringify({
          state_dir: dir,
          lanes: lanes.map((l) => ({ name: l.lane, slot: l.slot, lane_id: l.lane_id, state: l.state, since: iso(l.since), session: l.session })),
          sessions: sessions.map(sessionJson),
          decisions: decisions.map(decisionJson),
        }),
      );
      return;
    }
    out(renderStatus(dir, lanes, sessions, decisions, Date.now()));
  } finally {
    await store.close();
  }
}

function sessionJson(s: SessionRow) {
  return {
    id: s.id,
    lane: s.lane,
    arm: s.arm,
    dispatch: s.dispatch,
    parent: s.parent,
    task: s.task,
    started_at: iso(s.started_at),
    ended_at: iso(s.ended_at),
    exit_code: s.exit_code,
    outcome: s.outcome,
    grade: s.grade,
    grade_source: s.grade_source,
    reason: s.reason,
  };
}

/** A decision as `status --json` shows it: the chosen slots with score components, skips, fallbacks. */
function decisionJson(d: RecordDecisionIntent) {
  const chosen = d.chosen.map((c) => ({ lane: c.lane, lane_id: c.laneId, task: c.task?.id ?? null, ...('score' in c ? { score: c.score, components: c.components } : {}) }));
  if (d.kind === 'pivot') return { seq: d.seq, kind: d.kind, tick: d.tickSeq, denied: d.denied, chosen, reason: d.reason };
  return { seq: d.seq, kind: d.kind, seed: d.seed, width: d.width, source: d.source, gate: d.gate, chosen, skipped: d.skipped, fallbacks: d.fallbacks };
}

function renderStatus(dir: string, lanes: LaneStateRow[], sessions: SessionRow[], decisions: RecordDecisionIntent[], now: number): string {
  const laneRows = [['LANE', 'STATE', 'FOR', 'SESSION'], ...lanes.map((l) => [l.lane_id, l.state, formatDuration(Math.max(0, now - l.since)), l.session ?? ''])];
  const sessionRows = [
    ['SESSION', 'ARM', 'DISPATCH', 'STARTED', 'TOOK', 'OUTCOME', 'GRADE'],
    ...sessions.map((s) => [
      s.id,
      s.arm,
      s.dispatch,
      new Date(s.started_at).toISOString().slice(11, 19),
      s.ended_at === null ? `running ${formatDuration(now - s.started_at)}` : formatDuration(s.ended_at - s.started_at),
      s.outcome ?? '',
      s.grade === null ? '' : s.grade.toFixed(2),
    ]),
  ];
  const stopped = lanes.length > 0 && lanes.every((l) => l.state === 'stopped');
  const header = `state: ${dir}${stopped ? `\nlanekeeper is not running (stopped ${new Date(Math.max(...lanes.map((l) => l.since))).toISOString()})` : ''}`;
  const recent = decisions.length ? `recent decisions (newest first):\n${decisions.map((d) => `  ${decisionLine(d)}`).join('\n')}` : 'no decisions yet';
  return `${header}\n\n${lanes.length ? renderTable(laneRows) : 'no lanes recorded yet'}\n\n${sessions.length ? renderTable(sessionRows) : 'no sessions yet'}\n\n${recent}`;
}
