// The shared store goes away mid-run: first its backends are killed (pg_terminate_backend), then
// PostgreSQL itself is stopped for a few seconds and started again. Running sessions go on, nothing
// new is dispatched while it is gone, the log says so once per change (not per retry), and when it
// is back the journal goes on where it stopped: no event lost, no gap, every session exited and
// graded once, and new sessions start again.
//
// It restarts a PostgreSQL of its own (a throwaway cluster made with pg_createcluster, as root), so
// the other tests' database is never touched. Without that it is skipped with the reason, unless
// LANEKEEPER_REQUIRE_PG=1.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';

const VERSION = '15';
const NAME = `lk_outage_${process.pid}`;
const PORT = 55_000 + (process.pid % 1000);

function why(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to make a PostgreSQL cluster of its own';
  if (!existsSync('/usr/bin/pg_createcluster')) return 'pg_createcluster (postgresql-common) is not installed';
  if (!existsSync(`/usr/lib/postgresql/${VERSION}/bin/postgres`)) return `PostgreSQL ${VERSION} is not installed`;
  return null;
}
const skip = why();
if (skip && process.env.LANEKEEPER_REQUIRE_PG === '1')
  throw new Error(`LANEKEEPER_REQUIRE_PG=1 but the outage test ${skip}`);
if (skip) console.warn(`store outage test skipped: ${skip}`);

const ctl = (...args: string[]) => execFileSync('pg_ctlcluster', [VERSION, NAME, ...args], { stdio: 'pipe' });
const asPostgres = (sql: string) =>
  execFileSync(
    'runuser',
    ['-u', 'postgres', '--', 'psql', '-q', '-p', String(PORT), '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { stdio: 'pipe' },
  );

describe.skipIf(skip !== null)(`the store goes away and comes back${skip ? ` (skipped: ${skip})` : ''}`, () => {
  afterAll(() => {
    try {
      execFileSync('pg_dropcluster', ['--stop', VERSION, NAME], { stdio: 'pipe' });
    } catch {
      // Never made, or already gone.
    }
  });

  test(
    'backends killed, then PostgreSQL restarted: sessions go on, nothing is lost, dispatch resumes',
    { timeout: 180_000 },
    async () => {
      execFileSync('pg_createcluster', [VERSION, NAME, '--port', String(PORT), '--start'], { stdio: 'pipe' });
      asPostgres(`CREATE ROLE lk LOGIN PASSWORD 'lk'`);
      asPostgres('CREATE DATABASE lk OWNER lk');
      const url = `postgres://lk:lk@127.0.0.1:${PORT}/lk`;
      const { file, state } = writeConfig({
        store: url,
        width: 2,
        sessions: { kill_grace: '1s', drain_grace: '10s' },
        lanes: [
          { name: 'a', cooldown: '0s', timeout: '1m', respawn: { threshold: 0.5, chain_limit: 100 } },
          { name: 'b', cooldown: '0s', timeout: '1m', respawn: { threshold: 0.5, chain_limit: 100 } },
        ],
        backends: [fixtureAgent('ok.mjs', { env: { AGENT_SLEEP_MS: '2500', AGENT_GRADE: '0.9' } })],
      });
      const run = startCli(['run', '--config', file, '--state', state, '--tick', '1s'], {
        env: { LANEKEEPER_HOST: 'solo' },
      });
      await run.waitFor(/ started on fixture:ok/, { count: 2 });

      // Every connection lanekeeper has, killed from under it.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'lanekeeper%' AND pid <> pg_backend_pid()`,
      );
      await admin.end();
      await run.waitFor(/ started on fixture:ok/, { count: 3 });

      // Then the server: stopped while sessions run (they end while it is down), started again.
      ctl('stop', '-m', 'fast');
      await run.waitFor(/the store does not answer/);
      await new Promise((r) => setTimeout(r, 4000));
      const startedWhileDown = (run.output().match(/ started on fixture:ok/g) ?? []).length;
      ctl('start');
      await run.waitFor(/the store answers again \(after [\d.]+s\): the journal goes on and dispatch resumes/);
      await run.waitFor(/ started on fixture:ok/, { count: startedWhileDown + 2 });
      // The host's lock went with its connection; it is held again.
      const locks = new pg.Client({ connectionString: url });
      await locks.connect();
      const held = async () =>
        Number(
          (
            await locks.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'lanekeeper host solo:%'`,
            )
          ).rows[0]!.n,
        );
      for (let i = 0; i < 100 && (await held()) !== 1; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await held()).toBe(1);
      await locks.end();
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output().slice(-3000)).toBe(0);

      const out = run.output();
      // One line when it went, one when it came back: not one per retry.
      const downLines = (out.match(/the store does not answer/g) ?? []).length;
      const upLines = (out.match(/the store answers again/g) ?? []).length;
      expect(downLines).toBe(upLines);
      expect(downLines).toBeLessThanOrEqual(3);

      const check = new pg.Client({ connectionString: url });
      await check.connect();
      const journal = (
        await check.query<{ seq: string; type: string; payload: string }>(
          `SELECT seq, type, payload FROM journal WHERE host = 'solo' ORDER BY seq`,
        )
      ).rows;
      const sessions = (
        await check.query<{ id: string; ended_at: string | null; exit_code: number | null }>(
          'SELECT id, ended_at, exit_code FROM sessions',
        )
      ).rows;
      await check.end();
      expect(journal.map((r) => Number(r.seq))).toEqual(journal.map((_, i) => i + 1));
      const count = (type: string, id: string) =>
        journal.filter((r) => r.type === type && (JSON.parse(r.payload) as { sessionId?: string }).sessionId === id)
          .length;
      expect(sessions.length).toBeGreaterThanOrEqual(5);
      for (const s of sessions) {
        expect(s.ended_at, s.id).not.toBeNull();
        expect(count('SESSION_STARTED', s.id), s.id).toBe(1);
        expect(count('SESSION_EXITED', s.id), s.id).toBe(1);
        expect(count('SESSION_GRADED', s.id), s.id).toBe(1);
      }
      // The sessions that ran through the outage ended on their own (exit 0), not stopped by it.
      expect(sessions.filter((s) => s.exit_code === 0).length).toBeGreaterThanOrEqual(sessions.length - 2);
    },
  );
});
