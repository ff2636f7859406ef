// One fleet, three hosts: three lanekeeper processes with distinct host ids (LANEKEEPER_HOST) on
// one PostgreSQL store run a few hundred sessions of fake agents together. Afterwards the store
// must show that no lane ever ran more sessions at once than its fleet-wide concurrency, no claim
// had two holders at once, every host's journal is gapless, and the shared posteriors are exactly
// the fold of every host's grades, each once.
// Needs LANEKEEPER_TEST_PG_URL (skipped with a message without it, failed with LANEKEEPER_REQUIRE_PG=1).
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import { emptyLearning, learn } from '../../src/policy/learning.js';
import { lockStats } from '../../src/format/lock-stats.js';
import { probePostgres } from '../store/contract/backends.js';
import { startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';
import { inSchema } from '../helpers/intervals.js';

const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
if (!probe.ok && process.env.LANEKEEPER_REQUIRE_PG === '1') throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
if (!probe.ok) console.warn(`fleet on PostgreSQL skipped: ${probe.why}`);

const LANES = { a: 2, b: 1, c: 1, d: 2 } as const;
const HOSTS = ['h1', 'h2', 'h3'];

describe.skipIf(!probe.ok)(`one fleet on PostgreSQL, three hosts${probe.ok ? '' : ` (skipped: ${probe.why})`}`, () => {
  const url = probe.ok ? probe.url : '';
  const schema = `lk_fleet_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.query(`DROP SCHEMA IF EXISTS ${schema}_dup CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  });
  const schemaUrl = (name: string) => inSchema(url, name);

  test(
    'a second runtime with the same host id on the same store is refused, naming the first',
    { timeout: 60_000 },
    async () => {
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}_dup`);
      const { file, dir } = writeConfig({
        store: schemaUrl(`${schema}_dup`),
        lanes: [{ name: 'a' }],
        backends: [{ name: 'b', command: ['true'], models: [{ name: 'm' }] }],
      });
      const first = startCli(['run', '--config', file, '--state', path.join(dir, 'one')], {
        env: { LANEKEEPER_HOST: 'dup' },
      });
      await first.waitFor(/lanekeeper: 1 lane,/);
      const second = await cli(['run', '--config', file, '--state', path.join(dir, 'two')], {
        env: { LANEKEEPER_HOST: 'dup' },
      });
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(
          `^lanekeeper: another lanekeeper \\(pid ${first.child.pid} on .+\\) runs as host dup on this store; give this one another host id`,
        ),
      );
      // Another host id on the same store is welcome.
      const other = await cli(['run', '--config', file, '--state', path.join(dir, 'three'), '--for', '1s'], {
        env: { LANEKEEPER_HOST: 'other' },
      });
      expect(other.code, other.stderr).toBe(0);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    },
  );

  test(
    'lane concurrency and claims hold fleet-wide; the posteriors are the fold of all grades',
    { timeout: 180_000 },
    async () => {
      await admin.query(`CREATE SCHEMA ${schema}`);
      const storeUrl = schemaUrl(schema);
      const { file, dir } = writeConfig({
        store: storeUrl,
        width: 3,
        sessions: { kill_grace: '1s', drain_grace: '5s' },
        lanes: Object.entries(LANES).map(([name, concurrency]) => ({
          name,
          concurrency,
          timeout: '1m',
          cooldown: '0s',
          respawn: { threshold: 0.5, chain_limit: 5 },
        })),
        backends: [fixtureAgent('ok.mjs', { env: { AGENT_SLEEP_MS: '50', AGENT_GRADE: '0.9' } })],
      });
      const runs = HOSTS.map((h) =>
        startCli(['run', '--config', file, '--state', path.join(dir, h), '--tick', '1s', '--for', '25s'], {
          env: { LANEKEEPER_HOST: h },
        }),
      );
      const codes = await Promise.all(runs.map((r) => r.exited));
      expect(codes, runs.map((r) => r.output().slice(-2000)).join('\n---\n')).toEqual([0, 0, 0]);

      // status and stats read the whole fleet: every host's lane slots, every host's sessions.
      const status = await cli(['status', '--json', '--config', file], { env: { LANEKEEPER_HOST: 'h1' } });
      expect(status.code, status.stderr).toBe(0);
      const shown = (JSON.parse(status.stdout) as { lanes: { lane_id: string; host?: string }[] }).lanes;
      expect(new Set(shown.map((l) => l.host))).toEqual(new Set(HOSTS));
      expect(shown).toHaveLength(HOSTS.length * Object.values(LANES).reduce((a, b) => a + b, 0));
      const text = await cli(['status', '--config', file], { env: { LANEKEEPER_HOST: 'h2' } });
      expect(text.stdout).toMatch(/^a\.2@h3 /m);
      // The store it reads, never with its password.
      expect(text.stdout).toMatch(/· store: postgres:\/\/lanekeeper@/);
      expect(text.stdout).not.toContain(':lanekeeper@');

      const store = await openPostgresStore(url, { schema, mustExist: true });
      const sessions = await store.sessions.list();
      const records = await store.claims.lockRecords();
      const memory = await store.learning.load();
      await store.close();
      const journals = await admin.query<{ host: string; seq: string; type: string; payload: string }>(
        `SELECT host, seq, type, payload FROM ${schema}.journal ORDER BY host, seq`,
      );

      // Enough work, spread over the hosts.
      expect(sessions.length).toBeGreaterThan(100);
      const perHost = HOSTS.map((h) => sessions.filter((s) => s.id.endsWith(`@${h}`)).length);
      console.info(`one fleet, three hosts: ${sessions.length} sessions (${perHost.join(', ')} per host)`);
      // Each host takes part; how much depends on who wins the claims on a busy machine.
      for (const n of perHost) expect(n, `sessions per host: ${perHost.join(', ')}`).toBeGreaterThan(0);
      expect(sessions.every((s) => s.ended_at !== null)).toBe(true);

      // No lane above its fleet-wide concurrency at any moment; no claim with two holders.
      for (const [lane, concurrency] of Object.entries(LANES)) {
        const points = sessions
          .filter((s) => s.lane === lane)
          .flatMap((s): [number, number][] => [
            [s.started_at, 1],
            [s.ended_at!, -1],
          ]);
        points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        let open = 0;
        let peak = 0;
        for (const [, d] of points) peak = Math.max(peak, (open += d));
        expect(peak, lane).toBeLessThanOrEqual(concurrency);
      }
      expect(lockStats(records).same_lock_violations).toBe(0);

      // Each host's journal: its own seq, without a gap.
      for (const h of HOSTS) {
        const seqs = journals.rows.filter((r) => r.host === h).map((r) => Number(r.seq));
        expect(seqs, h).toEqual(seqs.map((_, i) => i + 1));
      }

      // The posteriors: every learnable grade of every host, once, and nothing else, folded in order.
      const learnable = journals.rows
        .filter((r) => r.type === 'SESSION_GRADED')
        .map((r) => JSON.parse(r.payload) as { sessionId: string; grade: number | null; censored?: string })
        .filter((e) => e.grade !== null && !e.censored);
      expect([...memory!.graded!].map(([id]) => id).sort()).toEqual(learnable.map((e) => e.sessionId).sort());
      const laneOf = new Map(sessions.map((s) => [s.id, s.lane]));
      let expected = emptyLearning(memory!.learning.model, memory!.learning.forgetting);
      for (const [id, g] of memory!.graded!) expected = learn(expected, laneOf.get(id)!, g);
      expect(memory!.learning).toEqual(expected);
    },
  );
});
