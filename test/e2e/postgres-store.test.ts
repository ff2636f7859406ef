// The built CLI pointed at PostgreSQL with LANEKEEPER_STORE, as an agent's shell or an operator
// would run it: claims taken and denied across processes, the readers (status, claims) reading
// the same store, and the messages for a store URL that is wrong or a server that is not there
// (one line, exit 2, host and port named, no password, no stack trace).
//
// The PostgreSQL half needs LANEKEEPER_TEST_PG_URL (as the store contract does) and runs in a
// fresh schema, chosen through the URL's `options=-c search_path=…`; without a server it is
// skipped with the reason, unless LANEKEEPER_REQUIRE_PG=1.
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import { probePostgres } from '../store/contract/backends.js';
import { cli, tmpDir } from '../helpers/tmp.js';

const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
const requirePg = process.env.LANEKEEPER_REQUIRE_PG === '1';
if (!probe.ok && !requirePg) console.warn(`postgres CLI: skipping the PostgreSQL cases: ${probe.why}`);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('LANEKEEPER_STORE that cannot be used', () => {
  test('a server that is not there: one line naming host and port, exit 2, no password, no stack', async () => {
    const port = await closedPort();
    const env = { LANEKEEPER_STORE: `postgres://agent:pa55word@127.0.0.1:${port}/fleet` };
    for (const args of [
      ['claim', 'task:x', '--holder', 'a'],
      ['status', '--state', tmpDir()],
    ]) {
      const r = await cli(args, { env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `lanekeeper: cannot use the PostgreSQL store at 127.0.0.1:${port} (database fleet, user agent): connection refused (is PostgreSQL running and listening there?)\n`,
      );
    }
  });

  test('a URL that is not PostgreSQL: the variable is named, the URL is not repeated', async () => {
    const env = { LANEKEEPER_STORE: 'mysql://agent:pa55word@db/fleet' };
    const claim = await cli(['claim', 'task:x', '--holder', 'a'], { env });
    expect(claim.code).toBe(2);
    expect(claim.stderr).toMatch(
      /^lanekeeper claim: LANEKEEPER_STORE: expected a postgres:\/\/ or postgresql:\/\/ URL .*, got a "mysql:\/\/" URL\n$/,
    );
    const status = await cli(['status', '--state', tmpDir()], { env });
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^lanekeeper: LANEKEEPER_STORE: expected a postgres:\/\/ /);
    expect(claim.stderr + status.stderr).not.toContain('pa55word');
  });
});

if (probe.ok) {
  describe('the CLI on a PostgreSQL store', () => {
    const schema = `lk_cli_${process.pid}_${Date.now().toString(36)}`;
    const emptySchema = `${schema}_empty`;
    const withSchema = (s: string) =>
      `${probe.url}${probe.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${s}`)}`;
    const env = () => ({ LANEKEEPER_STORE: withSchema(schema) });
    let admin: pg.Client;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: probe.url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}; CREATE SCHEMA ${emptySchema}`);
      // As `lanekeeper run` would leave it: the store set up, a session running.
      const store = await openPostgresStore(withSchema(schema));
      await store.sessions.insert({
        id: 'code-1',
        lane: 'code',
        lane_id: 'code',
        arm: 'claude-code:opus',
        dispatch: 'tick',
        parent: null,
        started_at: Date.now(),
        log_path: null,
      });
      await store.lanes.set({
        lane_id: 'code',
        lane: 'code',
        slot: 0,
        state: 'running',
        since: Date.now(),
        session: 'code-1',
      });
      await store.close();
    });
    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${emptySchema} CASCADE`);
      await admin.end();
    });

    test('claims are taken and denied across processes, and the readers see them', async () => {
      const a = await cli(['claim', 'task:one', '--holder', 'alice'], { env: env() });
      expect(a).toMatchObject({ code: 0, stderr: '' });
      const token = Number(a.stdout);
      expect(token).toBeGreaterThan(0);
      const b = await cli(['claim', 'task:one', '--holder', 'bob'], { env: env() });
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/^DENIED — task:one held by alice \(expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$/);
      const list = JSON.parse((await cli(['claims', '--json'], { env: env() })).stdout) as {
        claims: { key: string; holder: string; token: number }[];
      };
      expect(list.claims).toEqual([expect.objectContaining({ key: 'task:one', holder: 'alice', token })]);
      // A reader given only --state honours LANEKEEPER_STORE.
      const status = await cli(['status', '--json', '--state', tmpDir()], { env: env() });
      expect(status.code).toBe(0);
      const view = JSON.parse(status.stdout) as {
        lanes: { name: string; state: string }[];
        sessions: { id: string }[];
        claims: { key: string; token: number }[];
      };
      expect(view.lanes).toEqual([expect.objectContaining({ name: 'code', state: 'running' })]);
      expect(view.sessions.map((s) => s.id)).toEqual(['code-1']);
      expect(view.claims).toEqual([expect.objectContaining({ key: 'task:one', token })]);
      expect(
        await cli(['release', 'task:one', '--holder', 'alice', '--token', String(token)], { env: env() }),
      ).toMatchObject({ code: 0, stdout: 'released task:one\n' });
    });

    test('a database lanekeeper has not set up: readers say so and create nothing', async () => {
      const r = await cli(['status', '--state', tmpDir()], { env: { LANEKEEPER_STORE: withSchema(emptySchema) } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^lanekeeper: no lanekeeper store at .+ yet \(has "lanekeeper run" used it\?\)\n$/);
      const tables = await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [emptySchema]);
      expect(tables.rows[0].n).toBe(0);
    });
  });
} else if (requirePg) {
  test('PostgreSQL is reachable (LANEKEEPER_REQUIRE_PG=1)', () => {
    throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
  });
} else {
  describe.skip(`the CLI on a PostgreSQL store (skipped: ${probe.why})`, () => test('needs PostgreSQL', () => {}));
}
