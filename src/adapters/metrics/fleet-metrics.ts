// The fleet's Prometheus metrics. FleetMetrics is a runtime observer: it sees every journaled event
// with the intents it produced and the lanes after it, and turns them into counters, gauges and a
// grade histogram in a registry of its own (never prom-client's global one, so two runtimes in one
// process — tests — do not mix). Gauges that mirror state (running sessions, lane states, the
// journal) are computed when scraped, from what the last event left, so they cannot drift.
//
// Label values stay few: lanes and arms come from the configuration, outcomes and grade sources
// are fixed sets, claim keys are reduced to their namespace (lane, task, …) and a skipped lane's
// free-text reason to a short kind (width_reached, cooldown, claim_blocked, …).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StampedEvent } from '../../machines/events.js';
import type { Intent } from '../../machines/intents.js';
import type { LaneStatus } from '../../machines/types.js';
import type { RuntimeObserver } from '../../ports/observer.js';

export interface FleetMetricsOptions {
  /** Events in the journal (its last seq), read at each scrape; without it the gauge is not exported. */
  journalSize?: () => number | Promise<number>;
  /** Bytes the store takes on disk, read at each scrape; for stores kept in a file. */
  databaseBytes?: () => number;
  /** Also export Node's process metrics (CPU, memory, event-loop lag, GC). */
  processMetrics?: boolean;
}

/** The lane machine's top-level states, each exported (0 or 1) for every lane slot. */
export const LANE_STATES = ['idle', 'claiming', 'running', 'cooldown', 'respawn', 'waiting'] as const;

/** Grades are in [0, 1]: one bucket per tenth. */
export const GRADE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

const CLAIM_NAMESPACE = /^[a-z][a-z0-9_-]{0,31}$/;

/** A claim key's namespace ("lane:code" → "lane"); keys outside any namespace count as "other". */
export function claimKind(key: string): string {
  const i = key.indexOf(':');
  const ns = i > 0 ? key.slice(0, i) : '';
  return CLAIM_NAMESPACE.test(ns) ? ns : 'other';
}

// The planner's skip reasons (src/policy/plan-tick.ts) carry details (a load, a key, a score);
// the label keeps only what kind of reason it was.
const SKIP_KINDS: [RegExp, string][] = [
  [/^resource gate/, 'resource_gate'],
  [/^claim_blocked/, 'claim_blocked'],
  [/^noop backoff/, 'noop_backoff'],
  [/^score .*≤ 0/, 'score_not_positive'],
  [/^width reached/, 'width_reached'],
  [/^a lane that runs alone was chosen/, 'exclusive_lane_chosen'],
  [/^a lane that runs alone is running/, 'exclusive_lane_running'],
  [/^runs alone; others are running/, 'runs_alone'],
  [/^not named by the external selector/, 'not_selected_externally'],
];

/** The kind of a skip reason: a short snake_case word ("disabled", "cooldown", "width_reached", …). */
export function skipKind(reason: string): string {
  for (const [re, kind] of SKIP_KINDS) if (re.test(reason)) return kind;
  // "disabled" and the lane states (running, cooldown, …) are single words already.
  return /^[a-z_]{1,32}$/.test(reason) ? reason : 'other';
}

type LaneSlots = ReadonlyMap<string, { lane: string; state: string }>;

// The gauges' collect() runs with `this` bound to the gauge, at each scrape.

/** Sessions whose agent runs now, by lane (0 for a lane with none). */
function runningGauge(registers: Registry[], lanes: LaneSlots, running: ReadonlyMap<string, string>): void {
  new Gauge({
    name: 'lanekeeper_sessions_running',
    help: 'Sessions whose agent is running now, by lane.',
    labelNames: ['lane'],
    registers,
    collect() {
      this.reset();
      for (const { lane } of lanes.values()) this.set({ lane }, 0);
      for (const lane of running.values()) this.inc({ lane });
    },
  });
}

/** Each lane slot's state, one series per state (1 for the current one). */
function laneStateGauge(registers: Registry[], lanes: LaneSlots): void {
  new Gauge({
    name: 'lanekeeper_lane_state',
    help: 'The state of each lane slot: 1 for its current state, 0 for the others.',
    labelNames: ['lane', 'lane_id', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [laneId, { lane, state }] of lanes) {
        const states: readonly string[] = LANE_STATES.includes(state as (typeof LANE_STATES)[number])
          ? LANE_STATES
          : [...LANE_STATES, state];
        for (const s of states) this.set({ lane, lane_id: laneId, state: s }, s === state ? 1 : 0);
      }
    },
  });
}

/** The journal's size and the database's bytes, when the store can tell. */
function storeGauges(registers: Registry[], { journalSize, databaseBytes }: FleetMetricsOptions): void {
  if (journalSize) {
    new Gauge({
      name: 'lanekeeper_journal_events',
      help: 'Events in the journal (its last sequence number).',
      registers,
      async collect() {
        this.set(await journalSize());
      },
    });
  }
  if (databaseBytes) {
    new Gauge({
      name: 'lanekeeper_database_bytes',
      help: 'Bytes of the database that holds the journal and the rest of the state (with its write-ahead log).',
      registers,
      collect() {
        this.set(databaseBytes());
      },
    });
  }
}

export class FleetMetrics implements RuntimeObserver {
  readonly registry = new Registry();
  /** Lane slot → its lane and state after the last event. */
  private readonly lanes = new Map<string, { lane: string; state: string }>();
  /** Sessions begun and not yet ended → the arm that runs them. */
  private readonly arms = new Map<string, string>();
  /** Sessions whose agent is running → their lane. */
  private readonly running = new Map<string, string>();

  private readonly sessions: Counter<'lane' | 'arm' | 'outcome'>;
  private readonly granted: Counter<'lane' | 'kind'>;
  private readonly denied: Counter<'lane' | 'kind'>;
  private readonly lost: Counter<'lane' | 'kind'>;
  private readonly grades: Histogram<'lane' | 'source'>;
  private readonly regraded: Counter<'lane'>;
  private readonly ticks: Counter<'source'>;
  private readonly chosen: Counter<'lane'>;
  private readonly skipped: Counter<'lane' | 'reason'>;

  constructor(opts: FleetMetricsOptions = {}) {
    const registers = [this.registry];
    this.sessions = new Counter({
      name: 'lanekeeper_sessions_total',
      help: 'Sessions that ended, by lane, arm and outcome.',
      labelNames: ['lane', 'arm', 'outcome'],
      registers,
    });
    // The state gauges read these maps when scraped (registered in this order: the text follows it).
    runningGauge(registers, this.lanes, this.running);
    this.granted = new Counter({
      name: 'lanekeeper_claims_granted_total',
      help: 'Claims the runtime was granted, by lane and kind of key (lane, task, …).',
      labelNames: ['lane', 'kind'],
      registers,
    });
    this.denied = new Counter({
      name: 'lanekeeper_claims_denied_total',
      help: 'Claims the runtime was denied (someone else held the key), by lane and kind of key.',
      labelNames: ['lane', 'kind'],
      registers,
    });
    this.lost = new Counter({
      name: 'lanekeeper_claims_lost_total',
      help: 'Held claims that could not be renewed, by lane and kind of key.',
      labelNames: ['lane', 'kind'],
      registers,
    });
    this.grades = new Histogram({
      name: 'lanekeeper_session_grade',
      help: 'Grades of ended sessions (0 to 1), by lane and grade source; ungraded sessions are not counted.',
      labelNames: ['lane', 'source'],
      buckets: GRADE_BUCKETS,
      registers,
    });
    this.regraded = new Counter({
      name: 'lanekeeper_sessions_regraded_total',
      help: 'Late grades (lanekeeper grade) applied, by lane.',
      labelNames: ['lane'],
      registers,
    });
    this.ticks = new Counter({
      name: 'lanekeeper_ticks_total',
      help: 'Tick decisions made, by the source of the lane order (builtin or external).',
      labelNames: ['source'],
      registers,
    });
    this.chosen = new Counter({
      name: 'lanekeeper_tick_lanes_chosen_total',
      help: 'Lane slots a tick chose to dispatch, by lane.',
      labelNames: ['lane'],
      registers,
    });
    this.skipped = new Counter({
      name: 'lanekeeper_tick_lanes_skipped_total',
      help: 'Lane slots a tick passed over, by lane and kind of reason.',
      labelNames: ['lane', 'reason'],
      registers,
    });
    laneStateGauge(registers, this.lanes);
    storeGauges(registers, opts);
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The metrics in Prometheus's text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  event(event: StampedEvent, intents: readonly Intent[], lanes: readonly LaneStatus[]): void {
    for (const l of lanes) this.lanes.set(l.laneId, { lane: l.lane, state: l.state });
    this.take(event);
    for (const intent of intents) this.intent(intent);
  }

  private laneOf(laneId: string): string {
    return this.lanes.get(laneId)?.lane ?? laneId;
  }

  private take(e: StampedEvent): void {
    switch (e.type) {
      case 'SESSION_STARTED':
        this.arms.set(e.sessionId, e.arm);
        this.running.set(e.sessionId, this.laneOf(e.laneId));
        break;
      case 'SESSION_EXITED':
        this.sessions.inc({
          lane: this.laneOf(e.laneId),
          arm: this.arms.get(e.sessionId) ?? 'unknown',
          outcome: e.outcome,
        });
        this.arms.delete(e.sessionId);
        this.running.delete(e.sessionId);
        break;
      case 'SESSION_GRADED':
        if (e.grade !== null) this.grades.observe({ lane: this.laneOf(e.laneId), source: e.source }, e.grade);
        break;
      case 'SESSION_REGRADED':
        this.regraded.inc({ lane: this.laneOf(e.laneId) });
        break;
      case 'CLAIM_GRANTED':
        this.granted.inc({ lane: this.laneOf(e.laneId), kind: claimKind(e.key) });
        break;
      case 'CLAIM_DENIED':
        this.denied.inc({ lane: this.laneOf(e.laneId), kind: claimKind(e.key) });
        break;
      case 'CLAIM_LOST':
        this.lost.inc({ lane: this.laneOf(e.laneId), kind: claimKind(e.key) });
        break;
      default:
        break;
    }
  }

  private intent(i: Intent): void {
    if (i.type === 'startSession') {
      // The arm is known from here on, even if the agent never starts (a SESSION_EXITED follows).
      this.arms.set(i.sessionId, i.arm);
    } else if (i.type === 'recordDecision' && i.kind === 'tick') {
      this.ticks.inc({ source: i.source });
      for (const c of i.chosen) this.chosen.inc({ lane: c.lane });
      for (const s of i.skipped) this.skipped.inc({ lane: this.laneOf(s.laneId), reason: skipKind(s.reason) });
    }
  }
}
