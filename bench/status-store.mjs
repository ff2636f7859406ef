// A store the size of a long-lived service's, built fast for bench/status-stats.mjs and the
// retention bench: rows written in bulk with SQL into a real SQLite store (the schema made by the
// store's own code), not folded through the machines. A year of history: `events` journal events
// (with an intent and a transition each, a checkpoint every 1,000), `sessions` sessions, a tick
// decision per three sessions, and lock telemetry (`lockEventsPerSession`: a grant, renewals, a
// release per session). The shapes and sizes of the rows are those the runtime writes.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

const DAY = 86_400_000;
export const LANES = ['code', 'triage', 'content', 'research', 'infrastructure', 'cleanup'];
const TYPES = ['TICK', 'CLAIM_GRANTED', 'SESSION_STARTED', 'SESSION_EXITED', 'SESSION_GRADED', 'WAKE'];

/**
 * Writes the store into `dir` (new or empty), its schema made by the build in `opts.dist` (default:
 * this one's dist/). `now`: the end of the year of history. Returns the counts written and the
 * seconds it took.
 */
export async function buildStatusStore(dir, opts = {}) {
  const dist = path.resolve(opts.dist ?? path.join(import.meta.dirname, '../dist'));
  const { openSqliteStore } = await import(path.join(dist, 'adapters/store/sqlite/index.js'));
  const MACHINES_VERSION = 'bench';
  const events = opts.events ?? 1_000_000;
  const sessions = opts.sessions ?? 100_000;
  const lockPer = opts.lockEventsPerSession ?? 3;
  const now = opts.now ?? Date.now();
  const t0 = now - 365 * DAY;
  const started = performance.now();
  openSqliteStore(dir).close();
  const db = new Database(path.join(dir, 'lanekeeper.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const ins = {
    event: db.prepare('INSERT INTO journal (seq, at, type, seed, payload) VALUES (?, ?, ?, ?, ?)'),
    effect: db.prepare('INSERT INTO effects (seq, idx, intent) VALUES (?, ?, ?)'),
    changed: db.prepare('INSERT INTO transitions (seq, lanes) VALUES (?, ?)'),
    checkpoint: db.prepare('INSERT INTO checkpoints (seq, version, snapshot) VALUES (?, ?, ?)'),
    session: db.prepare(
      `INSERT INTO sessions (id, lane, lane_id, arm, dispatch, parent, pid, pid_start, started_at, ended_at, exit_code,
         signal, outcome, reason, grade, grade_source, dimensions, log_path, task)
       VALUES (?, ?, ?, ?, 'tick', NULL, ?, ?, ?, ?, 0, NULL, ?, NULL, ?, 'session', NULL, ?, NULL)`,
    ),
    decision: db.prepare('INSERT INTO decisions (seq, at, kind, chosen, detail) VALUES (?, ?, ?, ?, ?)'),
    lock: db.prepare(
      'INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event) VALUES (?, ?, 0, 1, ?, ?, ?)',
    ),
    lane: db.prepare(
      'INSERT INTO lanes (lane_id, lane, slot, state, since, session, target_share, deadline) VALUES (?, ?, 1, ?, ?, NULL, NULL, ?)',
    ),
    info: db.prepare('INSERT OR REPLACE INTO runtime_info (key, value) VALUES (?, ?)'),
  };
  const components = {
    sample: 0.71,
    mean: 0.64,
    evidence: 12.4,
    deficit: 0.2,
    monotony: 0,
    neglect: 0,
    plateau: [],
    streak: 1,
    windowShare: 0.17,
    signal: 0,
    tier: 1,
    priority: null,
    claimBlocked: [],
  };
  // A snapshot of the actors about the size the runtime persists for six lanes.
  const snapshot = JSON.stringify({
    fleet: { width: 3, lanes: LANES.map((name) => ({ name })), arms: [], selection: {} },
    actors: {
      children: Object.fromEntries(LANES.map((l) => [l, { value: 'idle', context: { pad: 'x'.repeat(4000) } }])),
    },
  });
  db.transaction(() => {
    for (let seq = 1; seq <= events; seq++) {
      const at = t0 + Math.floor(((seq - 1) * 365 * DAY) / events);
      const type = seq === 1 ? 'RUNTIME_STARTED' : TYPES[seq % TYPES.length];
      const lane = LANES[seq % LANES.length];
      const payload =
        type === 'RUNTIME_STARTED'
          ? JSON.stringify({ fleet: { width: 3, lanes: LANES.map((name) => ({ name })) }, machines: MACHINES_VERSION })
          : JSON.stringify({ laneId: lane, sessionId: `${lane}-${seq}`, arm: 'claude-code:sonnet', reason: null });
      ins.event.run(seq, at, type, type === 'TICK' ? (seq * 2654435761) % 4294967296 : null, payload);
      ins.effect.run(
        seq,
        0,
        JSON.stringify({ type: 'laneNote', laneId: lane, note: 'cooldown', detail: { untilMs: at + 180_000 } }),
      );
      ins.changed.run(seq, JSON.stringify({ [lane]: 'cooldown' }));
      if (seq % 1000 === 0) ins.checkpoint.run(seq, MACHINES_VERSION, snapshot);
    }
    for (let i = 0; i < sessions; i++) {
      const at = t0 + Math.floor((i * 365 * DAY) / sessions);
      const lane = LANES[i % LANES.length];
      const id = `${lane}-${i + 1}`;
      ins.session.run(
        id,
        lane,
        lane,
        'claude-code:sonnet',
        10_000 + (i % 50_000),
        String(1_000_000 + i),
        at,
        at + 20 * 60_000,
        i % 7 === 0 ? 'noop' : 'productive',
        0.5 + (i % 50) / 100,
        `/var/lib/lanekeeper/logs/${id}.log`,
      );
      for (let k = 0; k < lockPer; k++) {
        const event = k === 0 ? 'acquired' : k === lockPer - 1 ? 'released' : 'renewed';
        ins.lock.run(at + k * 40_000, `lane:${lane}`, id, i + 1, event);
      }
      if (i % 3 === 0) {
        const seq = Math.max(1, Math.floor((i * events) / sessions));
        const chosen = [{ laneId: lane, lane, task: null, score: 1.2, components }];
        const detail = {
          type: 'recordDecision',
          kind: 'tick',
          seq,
          seed: 2775532384,
          width: 3,
          gate: {
            loadRatio: 0.4,
            memAvailable: 0.6,
            action: 'proceed',
            width: 3,
            narrowed: false,
            reason: 'full width',
          },
          source: 'builtin',
          fallbacks: [],
          chosen,
          ranked: LANES.map((l) => ({ lane: l, score: 1, tiebreak: 0.5, components })),
          skipped: [{ laneId: 'docs', reason: 'cooldown' }],
        };
        ins.decision.run(seq, at, 'tick', JSON.stringify([lane]), JSON.stringify(detail));
      }
    }
    for (const l of LANES) ins.lane.run(l, l, 'cooldown', now - 60_000, now + 120_000);
    ins.info.run('started_at', String(now - 30 * DAY));
    ins.info.run('run_mode', 'service');
    ins.info.run('enabled_lanes', JSON.stringify(LANES));
    ins.info.run('run_state', 'stopped');
    ins.info.run('stopped_at', String(now - 60_000));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    events,
    sessions,
    decisions: Math.ceil(sessions / 3),
    lockEvents: sessions * lockPer,
    buildS: (performance.now() - started) / 1000,
  };
}
