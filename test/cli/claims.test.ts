// Every path of the claim commands, as an agent's shell would run them.
import { beforeAll, describe, expect, test } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { cli, tmpDir } from '../helpers/tmp.js';

let state: string;
const run = (args: string[], env: Record<string, string | undefined> = {}) => cli([...args, '--state', state], { env });

beforeAll(async () => {
  state = tmpDir();
  await openSqliteStore(state).close();
});

const DENIED_HELD = /^DENIED — task:one held by alice \(expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$/;

describe('claim commands', () => {
  test('claim prints the token; the same holder gets it again; another is denied with holder and expiry', async () => {
    const a = await run(['claim', 'task:one', '--holder', 'alice']);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    const token = Number(a.stdout);
    expect(token).toBeGreaterThan(0);
    expect((await run(['claim', 'task:one', '--holder', 'alice'])).stdout.trim()).toBe(String(token));
    const b = await run(['claim', 'task:one', '--holder', 'bob']);
    expect(b.code).toBe(1);
    expect(b.stdout).toBe('');
    expect(b.stderr).toMatch(DENIED_HELD);
    const j = await run(['claim', 'task:one', '--holder', 'bob', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ granted: false, key: 'task:one', holder: 'alice', state: 'claimed' });
  });

  test('complete, then denied as completed until reopened; reopen grants a newer token', async () => {
    const t = Number((await run(['claim', 'task:two', '--holder', 'alice'])).stdout);
    expect(
      await run(['complete', 'task:two', '--holder', 'alice', '--token', String(t), '--result', 'PR #4']),
    ).toMatchObject({ code: 0, stdout: 'completed task:two\n' });
    const d = await run(['claim', 'task:two', '--holder', 'bob']);
    expect(d).toMatchObject({ code: 1, stderr: 'DENIED — task:two already completed by alice\n' });
    expect(await run(['reopen', 'task:two'])).toMatchObject({ code: 0, stdout: 'reopened task:two\n' });
    expect(await run(['reopen', 'task:two'])).toMatchObject({
      code: 1,
      stderr: 'task:two is not completed (it is released); nothing to reopen\n',
    });
    const again = Number((await run(['claim', 'task:two', '--holder', 'bob'])).stdout);
    expect(again).toBeGreaterThan(t);
  });

  test('renew with the current token; a stale token or another holder is refused and kept as an orphan', async () => {
    const t = Number((await run(['claim', 'task:three', '--holder', 'alice', '--ttl', '10m'])).stdout);
    const ok = await run(['renew', 'task:three', '--holder', 'alice', '--token', String(t), '--ttl', '20m']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^renewed task:three until \d{4}-.*Z\n$/);
    expect(await run(['renew', 'task:three', '--holder', 'alice', '--token', String(t + 1000)])).toMatchObject({
      code: 1,
      stderr: `STALE — token ${t + 1000} is not current for task:three (re-granted since, or never granted)\n`,
    });
    expect(await run(['release', 'task:three', '--holder', 'mallory', '--token', String(t)])).toMatchObject({
      code: 1,
      stderr: `STALE — task:three with token ${t} is held by alice, not mallory\n`,
    });
    expect(
      await run(['complete', 'task:three', '--holder', 'mallory', '--token', String(t), '--result', 'x']),
    ).toMatchObject({ code: 1 });
    expect(await run(['release', 'task:three', '--holder', 'alice', '--token', String(t)])).toMatchObject({
      code: 0,
      stdout: 'released task:three\n',
    });
    const stats = JSON.parse((await run(['stats', '--json'])).stdout) as { orphaned_results: number };
    // The refused release and completion are kept as orphans (a refused renewal has no result to keep).
    expect(stats.orphaned_results).toBe(2);
  });

  test('inside a session the holder is the session id; outside, --holder is required', async () => {
    const inside = await run(['claim', 'github:acme/app#12'], { LANEKEEPER_SESSION_ID: 'code-77' });
    expect(inside.code).toBe(0);
    const list = JSON.parse((await run(['claims', '--json'])).stdout) as { claims: { key: string; holder: string }[] };
    expect(list.claims).toContainEqual(expect.objectContaining({ key: 'github:acme/app#12', holder: 'code-77' }));
    const outside = await run(['claim', 'task:four'], { LANEKEEPER_SESSION_ID: undefined });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toBe(
      'lanekeeper claim: --holder is required outside a lanekeeper session (inside one it defaults to $LANEKEEPER_SESSION_ID)\n',
    );
  });

  test.each([
    ['github:acme', 'expected github:OWNER/REPO#NUMBER'],
    ['lane:Code', 'expected lane:NAME (lowercase letters, digits, "-" or "_")'],
    ['task:', 'expected task:SLUG (letters, digits, ".", "_", "/" or "-")'],
    ['x'.repeat(201), 'a claim key has at most 200 characters, this one has 201'],
    ['bad\u0007key', 'a claim key must be printable (it holds a control character)'],
    [' padded', 'a claim key cannot start or end with whitespace'],
  ])('bad key %j: exit 2 with the reason', async (key, reason) => {
    const r = await run(['claim', key, '--holder', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`lanekeeper claim: bad claim key ${JSON.stringify(key)}: ${reason}`);
  });

  test('free-text keys are fine; bad flags and values are exit 2', async () => {
    expect((await run(['claim', 'artifact:blog:my post', '--holder', 'x'])).code).toBe(0);
    expect(await run(['claim', 'task:five', '--holder', 'x', '--ttl', 'soon'])).toMatchObject({
      code: 2,
      stderr: 'lanekeeper claim: --ttl: expected a duration like "180s", got "soon"\n',
    });
    expect((await run(['claim', 'task:five', '--holder', 'x', '--tll', '5m'])).stderr).toMatch(
      /^lanekeeper claim: Unknown option '--tll'/,
    );
    expect((await run(['release', 'task:five', '--holder', 'x'])).stderr).toBe(
      'lanekeeper release: --token is required (the number "claim" printed)\n',
    );
    expect((await run(['release', 'task:five', '--holder', 'x', '--token', 'abc'])).stderr).toBe(
      'lanekeeper release: --token: expected a positive whole number, got "abc"\n',
    );
    expect((await run(['claim', '--holder', 'x'])).code).toBe(2);
  });

  test('claims lists held claims; --all shows released and completed ones', async () => {
    const held = await run(['claims']);
    expect(held.stdout).toMatch(/^KEY\s+SLOT\s+HOLDER\s+TOKEN\s+STATE\s+EXPIRES\s+RESULT/);
    expect(held.stdout).toContain('task:one');
    expect(held.stdout).not.toContain('task:three');
    const all = await run(['claims', '--all']);
    expect(all.stdout).toMatch(/task:three\s+0\s+alice\s+\d+\s+released/);
  });

  test('a state directory without a store: exit 2, saying so', async () => {
    const r = await cli(['claim', 'task:x', '--holder', 'x', '--state', tmpDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^lanekeeper: cannot use state directory .*: no lanekeeper database at .*lanekeeper\.db \(has "lanekeeper run" used this state directory\?\)\n$/,
    );
  });
});

describe('after a claim expired: expiry decides, not when the sweeper ran', () => {
  // Two state directories: in one the sweeper runs, in the other nothing settles the expired claims.
  const dirs = { swept: '', unswept: '' };
  const dirOf = (key: string) => (key.endsWith('-swept') ? dirs.swept : dirs.unswept);
  const runIn = (key: string, args: string[]) => cli([...args, '--state', dirOf(key)]);
  const sweep = async (key: string) => {
    const store = openSqliteStore(dirOf(key));
    try {
      return await store.claims.sweep();
    } finally {
      await store.close();
    }
  };
  const KEYS = [
    'task:done-late-swept',
    'task:done-late-unswept',
    'task:dropped-swept',
    'task:dropped-unswept',
    'task:taken',
  ];
  const claimed = new Map<string, { token: number; expires_at: string }>();
  /** alice's claim of `key` with the shortest lease a claim may have (3s), once it is no longer held. */
  async function expired(key: string): Promise<{ token: number; expires_at: string }> {
    while ((await runIn(key, ['claims', '--json'])).stdout.includes(`"${key}"`))
      await new Promise((r) => setTimeout(r, 100));
    return claimed.get(key)!;
  }
  const stateOf = async (key: string) =>
    (
      JSON.parse((await runIn(key, ['claims', '--all', '--json'])).stdout) as {
        claims: { key: string; state: string }[];
      }
    ).claims.find((c) => c.key === key)?.state;
  const orphans = async (key: string) =>
    (JSON.parse((await runIn(key, ['stats', '--json'])).stdout) as { orphaned_results: number }).orphaned_results;

  beforeAll(async () => {
    dirs.swept = tmpDir();
    dirs.unswept = tmpDir();
    for (const d of Object.values(dirs)) await openSqliteStore(d).close();
    // All at once, so the tests wait for one lease to run out, not one each.
    for (const [key, c] of await Promise.all(
      KEYS.map(
        async (key) => [key, await runIn(key, ['claim', key, '--holder', 'alice', '--ttl', '3s', '--json'])] as const,
      ),
    )) {
      expect(c.code, c.stderr).toBe(0);
      claimed.set(key, JSON.parse(c.stdout) as { token: number; expires_at: string });
    }
  });

  test.each([
    ['before the sweeper ran', false],
    ['after the sweeper ran', true],
  ])(
    'complete %s: EXPIRED, exit 1, the result kept as an orphan; the key can be claimed again',
    async (_when, swept) => {
      const key = `task:done-late-${swept ? 'swept' : 'unswept'}`;
      const c = await expired(key);
      if (swept) await sweep(key);
      // Swept, or still recorded as claimed (its lease ran out, but nothing settled it yet).
      expect(await stateOf(key)).toBe(swept ? 'released' : 'claimed');
      const before = await orphans(key);
      const r = await runIn(key, [
        'complete',
        key,
        '--holder',
        'alice',
        '--token',
        String(c.token),
        '--result',
        'PR #9',
      ]);
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: `EXPIRED — ${key} expired at ${c.expires_at} (token ${c.token}); claim it again\n`,
      });
      expect(await orphans(key)).toBe(before + 1);
      // Not completed: the key is free, and a new claim gets a newer token.
      const again = await runIn(key, ['claim', key, '--holder', 'alice']);
      expect(again.code).toBe(0);
      expect(Number(again.stdout)).toBeGreaterThan(c.token);
    },
  );

  test.each([
    ['before the sweeper ran', false],
    ['after the sweeper ran', true],
  ])('release %s: a no-op, exit 0, saying so', async (_when, swept) => {
    const key = `task:dropped-${swept ? 'swept' : 'unswept'}`;
    const c = await expired(key);
    if (swept) await sweep(key);
    // Swept, or still recorded as claimed (its lease ran out, but nothing settled it yet).
    expect(await stateOf(key)).toBe(swept ? 'released' : 'claimed');
    const before = await orphans(key);
    const r = await runIn(key, [
      'release',
      key,
      '--holder',
      'alice',
      '--token',
      String(c.token),
      '--result',
      'gave up',
    ]);
    expect(r).toEqual({
      code: 0,
      stdout: `${key} had expired at ${c.expires_at} (token ${c.token}); nothing to release\n`,
      stderr: '',
    });
    const j = await runIn(key, ['release', key, '--holder', 'alice', '--token', String(c.token), '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ key, ok: true, expiredAt: c.expires_at });
    expect(await orphans(key)).toBe(before);
    const all = JSON.parse((await runIn(key, ['claims', '--all', '--json'])).stdout) as {
      claims: { key: string; state: string; result: string | null }[];
    };
    expect(all.claims.find((x) => x.key === key)).toMatchObject({ state: 'released', result: 'expired' });
  });

  test('a stale token is still STALE: once another holder took the expired key, exit 1', async () => {
    const c = await expired('task:taken');
    expect((await runIn('task:taken', ['claim', 'task:taken', '--holder', 'bob'])).code).toBe(0);
    const stale = `STALE — token ${c.token} is not current for task:taken (re-granted since, or never granted)\n`;
    expect(
      await runIn('task:taken', ['release', 'task:taken', '--holder', 'alice', '--token', String(c.token)]),
    ).toEqual({ code: 1, stdout: '', stderr: stale });
    expect(
      await runIn('task:taken', ['complete', 'task:taken', '--holder', 'alice', '--token', String(c.token)]),
    ).toEqual({ code: 1, stdout: '', stderr: stale });
  });
});
