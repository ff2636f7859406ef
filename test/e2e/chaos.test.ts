// Chaos: a seeded loop starts lanekeeper with fake agents (test/fixtures/agents/chaos.mjs: random
// work, grades, failures, forked grandchildren), kills it with SIGKILL at random moments (at a
// random time, just as a session starts, just as a grade arrives), and starts it again; then one
// last run is drained with SIGTERM. Afterwards the store must show that nothing was lost or done
// twice: no lane ran more sessions at once than its concurrency, no claim had two holders at once, every session exited once and was graded once, what
// was learned counts each grade once, the journal has no gap, and no agent process is left.
//
// CHAOS_SEED picks the run (printed on failure); CHAOS_ROUNDS the number of kills (default 12).
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { lockStats } from '../../src/format/lock-stats.js';
import { rngFromSeed } from '../../src/policy/prng.js';
import { leftovers, startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { peak } from '../helpers/intervals.js';

const SEED = Number(process.env.CHAOS_SEED ?? 20261123);
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 12);
const LANES = { a: 2, b: 1, c: 1 } as const;
const WIDTH = 3;

test(
  `SIGKILL at random moments, ${ROUNDS} times (seed ${SEED}): nothing lost, nothing twice, nothing left running`,
  { timeout: 300_000 },
  async () => {
    const random = rngFromSeed(SEED);
    const { file, state } = writeConfig({
      width: WIDTH,
      checkpoint_every: 40,
      sessions: { kill_grace: '1s', drain_grace: '3s' },
      claims: { lane_ttl: '3s' },
      lanes: Object.entries(LANES).map(([name, concurrency]) => ({
        name,
        concurrency,
        timeout: '1m',
        cooldown: '0s',
        respawn: { threshold: 0.5, chain_limit: 3 },
      })),
      backends: [fixtureAgent('chaos.mjs', { model: 'chaos', env: { CHAOS_SEED: String(SEED) } })],
    });
    const args = ['run', '--config', file, '--state', state, '--tick', '1s'];
    const log: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const run = startCli(args);
      const how = random();
      if (how < 0.4) {
        await new Promise((r) => setTimeout(r, 200 + random() * 2300));
        log.push(`round ${round}: killed after a while`);
      } else if (how < 0.7) {
        await run.waitFor(/ started on fixture:chaos/, { timeoutMs: 60_000 });
        await new Promise((r) => setTimeout(r, random() * 30));
        log.push(`round ${round}: killed as a session started`);
      } else {
        await run.waitFor(/ graded /, { timeoutMs: 60_000 });
        await new Promise((r) => setTimeout(r, random() * 20));
        log.push(`round ${round}: killed as a grade arrived`);
      }
      run.child.kill('SIGKILL');
      await run.exited;
    }
    const last = startCli(args);
    await last.waitFor(/ started on fixture:chaos/, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1500));
    last.child.kill('SIGTERM');
    const context = `seed ${SEED}\n${log.join('\n')}\n--- last run:\n${last.output().slice(-4000)}`;
    expect(await last.exited, context).toBe(0);

    const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
    const sessions = db.prepare('SELECT id, lane, started_at, ended_at FROM sessions').all() as {
      id: string;
      lane: keyof typeof LANES;
      started_at: number;
      ended_at: number | null;
    }[];
    const journal = (
      db.prepare('SELECT seq, type, payload FROM journal ORDER BY seq').all() as {
        seq: number;
        type: string;
        payload: string;
      }[]
    ).map((r) => ({
      seq: r.seq,
      type: r.type,
      ...(JSON.parse(r.payload) as { sessionId?: string; grade?: number | null; censored?: string }),
    }));
    db.close();
    const store = openSqliteStore(state, { mustExist: true });
    const records = await store.claims.lockRecords();
    const memory = await store.learning.load();
    await store.close();

    // Enough happened for the checks to mean something.
    expect(journal.filter((e) => e.type === 'RUNTIME_RECOVERED').length, context).toBeGreaterThan(ROUNDS / 2);
    expect(sessions.length, context).toBeGreaterThan(ROUNDS);

    // The journal has no gap.
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));

    // Every session ended, and exited and was graded exactly once in the journal.
    const counts = (type: string) => {
      const m = new Map<string, number>();
      for (const e of journal) if (e.type === type && e.sessionId) m.set(e.sessionId, (m.get(e.sessionId) ?? 0) + 1);
      return m;
    };
    const exited = counts('SESSION_EXITED');
    const graded = counts('SESSION_GRADED');
    const started = counts('SESSION_STARTED');
    const problems: string[] = [];
    for (const s of sessions) {
      if (s.ended_at === null) problems.push(`${s.id} has no end`);
      if (exited.get(s.id) !== 1) problems.push(`${s.id} exited ${exited.get(s.id) ?? 0} times`);
      if (graded.get(s.id) !== 1) problems.push(`${s.id} graded ${graded.get(s.id) ?? 0} times`);
      if ((started.get(s.id) ?? 0) > 1) problems.push(`${s.id} started ${started.get(s.id)} times`);
    }
    for (const id of started.keys())
      if (!sessions.some((s) => s.id === id)) problems.push(`${id} started but has no record`);
    expect(problems, context).toEqual([]);

    // What was learned counts every learnable grade once.
    const learnable = journal.filter((e) => e.type === 'SESSION_GRADED' && e.grade !== null && !e.censored).length;
    expect(memory?.learning.clock, context).toBe(learnable);

    // No lane above its concurrency (width bounds the sessions a tick starts, not those running), no
    // claim with two holders.
    for (const [lane, concurrency] of Object.entries(LANES)) {
      const mine = sessions.filter((s) => s.lane === lane).map((s): [number, number] => [s.started_at, s.ended_at!]);
      expect(peak(mine), `${lane}: ${context}`).toBeLessThanOrEqual(concurrency);
    }
    const stats = lockStats(records);
    expect(stats.same_lock_violations, JSON.stringify(stats.violations)).toBe(0);

    // No agent, and nothing an agent forked, outlived the final drain.
    expect(leftovers(state), context).toEqual([]);
  },
);
