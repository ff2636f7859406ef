// Writes a long journal the way the service would record it, fast: six lanes driven through the
// real machines by a simulated shell (ticks, claims, session starts, exits and grades, wake-ups),
// each event with its intents and changed lane states, and a checkpoint every 1,000 events, in a
// real SQLite store. For the replay benchmark (bench/replay.mjs) and the test of replay in pieces.
// Needs a build (it uses dist/).
import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../dist/adapters/store/sqlite/index.js';
import { MACHINES_VERSION } from '../dist/streams/fleet-host.js';
import { Fold } from '../dist/streams/fold.js';
import { defaultSelection } from '../dist/runtime/selection.js';

export const CHECKPOINT_EVERY = 1000;

/** Writes `events` events into a new store in `dir` (which must exist and be empty). */
export async function writeSyntheticJournal(dir, events) {
  await openSqliteStore(dir).close(); // the schema
  const db = new Database(path.join(dir, 'lanekeeper.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const ins = {
    event: db.prepare('INSERT INTO journal (seq, at, type, seed, payload) VALUES (?, ?, ?, ?, ?)'),
    effect: db.prepare('INSERT INTO effects (seq, idx, intent) VALUES (?, ?, ?)'),
    changed: db.prepare('INSERT INTO transitions (seq, lanes) VALUES (?, ?)'),
    checkpoint: db.prepare('INSERT INTO checkpoints (seq, version, snapshot) VALUES (?, ?, ?)'),
  };
  const names = ['code', 'triage', 'content', 'research', 'infrastructure', 'cleanup'];
  const lanes = names.map((name, k) => ({
    name,
    enabled: true,
    concurrency: 1,
    cooldownMs: 60_000 * (k + 1),
    respawnThreshold: 0.65,
    chainLimit: 1,
    timeoutMs: 3_600_000,
    targetShare: k === 0 ? 0.3 : null,
    parallel: k !== 5,
    arms: ['fast:small', 'deep:large'],
    minTier: null,
    maxTier: null,
    prefer: null,
  }));
  const arms = [
    { id: 'fast:small', backend: 'fast', model: 'small', tier: 1, cost: 1 },
    { id: 'deep:large', backend: 'deep', model: 'large', tier: 3, cost: 5 },
  ];
  const fleet = { width: 3, lanes, arms, selection: defaultSelection(lanes) };
  // The one fold (src/streams/fold.ts): its first event, RUNTIME_STARTED, builds the fleet.
  const f = new Fold({ host: null, fleet: null });
  let seq = 0;
  let now = Date.UTC(2026, 0, 1);
  let rand = 12345;
  const rnd = () => (rand = (Math.imul(rand, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pending = [];
  const record = (e) => {
    const event = { ...e, seq: ++seq, now };
    const { intents, changed } = f.step(event);
    const { type, seed, ...rest } = event;
    delete rest.seq;
    delete rest.now;
    ins.event.run(seq, now, type, seed ?? null, JSON.stringify(rest));
    intents.forEach((x, k) => ins.effect.run(seq, k, JSON.stringify(x)));
    ins.changed.run(seq, JSON.stringify(changed));
    if (seq % CHECKPOINT_EVERY === 0)
      ins.checkpoint.run(
        seq,
        MACHINES_VERSION,
        JSON.stringify({ fleet: f.result.fleet, actors: f.result.host.persist() }),
      );
    // The simulated shell answers the intents as the adapters would.
    for (const x of intents) {
      if (x.type === 'requestClaim')
        pending.push({
          type: 'CLAIM_GRANTED',
          laneId: x.laneId,
          sessionId: x.sessionId,
          key: x.key,
          slot: 0,
          token: seq,
          expiresAt: now + 120_000,
          seed: (seq * 2654435761) >>> 0,
        });
      if (x.type === 'startSession') {
        const own = { laneId: x.laneId, sessionId: x.sessionId };
        const quality = 0.3 + (names.indexOf(x.lane) % 4) / 6;
        const grade = Math.min(1, Math.max(0, quality + (rnd() - 0.5) * 0.4));
        pending.push({ type: 'SESSION_STARTED', ...own, pid: 1000 + (seq % 30000), arm: x.arm });
        pending.push({
          type: 'SESSION_EXITED',
          ...own,
          exitCode: 0,
          signal: null,
          outcome: grade > 0.5 ? 'productive' : 'noop',
          durationMs: 600_000,
          reason: null,
        });
        pending.push({
          type: 'SESSION_GRADED',
          ...own,
          grade: Number(grade.toFixed(3)),
          source: 'session',
          dimensions: null,
          arm: x.arm,
        });
      }
    }
  };
  const write = db.transaction((n) => {
    for (let k = 0; k < n && seq < events; k++) {
      if (pending.length) record(pending.shift());
      else {
        now += 60_000;
        record(
          seq % 7 === 0
            ? { type: 'WAKE' }
            : { type: 'TICK', reason: 'timer', seed: (seq * 40503) >>> 0, inputs: { blocked: [] } },
        );
      }
      now += 1000;
    }
  });
  record({ type: 'RUNTIME_STARTED', fleet, machines: MACHINES_VERSION, mode: 'service' });
  while (seq < events) write(10_000);
  f.result.host.stop();
  db.close();
}
