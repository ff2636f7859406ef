// Contract cases for the claims port, on each store's own clock (SQLite: the host's; PostgreSQL:
// the database's), so expiry is reached by waiting past a short TTL, never by asserting how long
// anything took. Claims meant to stay live use TTLs of a minute.
import { expect, test } from 'vitest';
import type { AcquireResult, Store } from '../../../src/ports/store.js';
import type { Backend } from './backends.js';

const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Granted = Extract<AcquireResult, { granted: true }>;
function granted(r: AcquireResult): Granted {
  if (!r.granted) throw new Error(`expected a grant, got a denial by ${r.holder} (${r.state})`);
  return r;
}

async function grant(
  s: Store,
  key: string,
  holder: string,
  ttlMs = MINUTE,
  more: { slots?: number; keep?: boolean } = {},
): Promise<Granted> {
  return granted(await s.claims.acquire({ key, holder, ttlMs, ...more }));
}

export function claimCases(b: Backend): void {
  test('a key with 2 slots grants two holders, denies the third naming the soonest expiry', async () => {
    const { store: s } = await b.fresh();
    const a = await grant(s, 'lane:code', 'a', MINUTE, { slots: 2 });
    const c = await grant(s, 'lane:code', 'b', 2 * MINUTE, { slots: 2 });
    expect([a.slot, c.slot]).toEqual([0, 1]);
    expect(await s.claims.acquire({ key: 'lane:code', holder: 'c', ttlMs: MINUTE, slots: 2 })).toEqual({
      granted: false,
      key: 'lane:code',
      holder: 'a',
      expiresAt: a.expiresAt,
      state: 'claimed',
    });
    // Denials write nothing.
    expect((await s.claims.lockRecords()).map((r) => [r.holder, r.slot, r.slots, r.event])).toEqual([
      ['a', 0, 2, 'acquired'],
      ['b', 1, 2, 'acquired'],
    ]);
    // A freed slot is the one granted next.
    expect(await s.claims.release({ key: 'lane:code', holder: 'a', token: a.token })).toEqual({ ok: true });
    expect(await grant(s, 'lane:code', 'c', MINUTE, { slots: 2 })).toMatchObject({ slot: 0 });
  });

  test('a key once used with 2 slots, asked for with 1: a holder of either slot denies it; granted once both are free', async () => {
    const { store: s } = await b.fresh();
    const a = await grant(s, 'lane:mixed', 'a', MINUTE, { slots: 2 });
    const c = await grant(s, 'lane:mixed', 'b', MINUTE, { slots: 2 });
    expect(await s.claims.release({ key: 'lane:mixed', holder: 'a', token: a.token })).toEqual({ ok: true });
    // Slot 0 is free, but this asker allows one holder and b holds slot 1.
    expect(await s.claims.acquire({ key: 'lane:mixed', holder: 'c', ttlMs: MINUTE })).toEqual({
      granted: false,
      key: 'lane:mixed',
      holder: 'b',
      expiresAt: c.expiresAt,
      state: 'claimed',
    });
    expect(await s.claims.release({ key: 'lane:mixed', holder: 'b', token: c.token })).toEqual({ ok: true });
    const d = await grant(s, 'lane:mixed', 'c', MINUTE);
    expect(d).toMatchObject({ slot: 0, renewed: false });
    expect(d.token).toBeGreaterThan(c.token);
  });

  test('the same holder extends its claim and keeps its token; every grant draws a new, higher token', async () => {
    const { store: s } = await b.fresh();
    const first = await grant(s, 'task:x', 'a', MINUTE);
    expect(first.renewed).toBe(false);
    const again = await grant(s, 'task:x', 'a', 2 * MINUTE);
    expect(again).toMatchObject({ renewed: true, token: first.token, slot: 0 });
    expect(again.expiresAt).toBeGreaterThan(first.expiresAt);
    const other = await grant(s, 'task:y', 'a', MINUTE);
    expect(other.token).toBeGreaterThan(first.token);
    const row = (await s.claims.list()).find((r) => r.key === 'task:x')!;
    expect(row).toMatchObject({
      holder: 'a',
      epoch: first.token,
      state: 'claimed',
      ttl_ms: 2 * MINUTE,
      keep: 0,
      attempt: 1,
      result: null,
      expires_at: again.expiresAt,
    });
    expect(row.expires_at - row.renewed_at).toBe(2 * MINUTE);
  });

  test('an expired claim goes to the next holder with a new token and one more attempt; the old token is stale', async () => {
    const { store: s } = await b.fresh();
    const a = await grant(s, 'task:x', 'a', 30);
    await sleep(80);
    const c = await grant(s, 'task:x', 'b', MINUTE);
    expect(c.token).toBeGreaterThan(a.token);
    expect((await s.claims.list()).find((r) => r.key === 'task:x')).toMatchObject({
      holder: 'b',
      epoch: c.token,
      attempt: 2,
    });
    expect((await s.claims.lockRecords()).map((r) => [r.holder, r.epoch, r.event])).toEqual([
      ['a', a.token, 'acquired'],
      ['a', a.token, 'expired'],
      ['b', c.token, 'acquired'],
    ]);
    expect(await s.claims.renew({ key: 'task:x', holder: 'a', token: a.token })).toEqual({
      ok: false,
      reason: `token ${a.token} is not current for task:x (re-granted since, or never granted)`,
    });
  });

  test('renew and release need the current token; a stale one is refused with the reason and kept as an orphan', async () => {
    const { store: s } = await b.fresh();
    const a = await grant(s, 'lane:x', 'a', MINUTE);
    const renewed = await s.claims.renew({ key: 'lane:x', holder: 'a', token: a.token, ttlMs: 2 * MINUTE });
    expect(renewed.ok && renewed.expiresAt! - a.expiresAt).toBeGreaterThanOrEqual(MINUTE);
    // Renewing with its own TTL: the TTL given at the grant, not the last renewal's.
    expect((await s.claims.list())[0]!.ttl_ms).toBe(MINUTE);
    expect(await s.claims.release({ key: 'lane:x', holder: 'c', token: a.token, result: 'not mine' })).toEqual({
      ok: false,
      reason: `lane:x with token ${a.token} is held by a, not c`,
    });
    expect(await s.claims.release({ key: 'lane:x', holder: 'a', token: a.token + 1000 })).toEqual({
      ok: false,
      reason: `token ${a.token + 1000} is not current for lane:x (re-granted since, or never granted)`,
    });
    expect(await s.claims.release({ key: 'lane:x', holder: 'a', token: a.token, result: 'done' })).toEqual({
      ok: true,
    });
    expect(await s.claims.release({ key: 'lane:x', holder: 'a', token: a.token })).toEqual({
      ok: false,
      reason: `lane:x with token ${a.token} is already released`,
    });
    expect(await s.claims.renew({ key: 'lane:x', holder: 'a', token: a.token })).toEqual({
      ok: false,
      reason: `lane:x with token ${a.token} is already released`,
    });
    const orphans = await s.claims.orphans();
    expect(orphans.map((o) => [o.op, o.key, o.holder, o.token, o.result])).toEqual([
      ['release', 'lane:x', 'c', a.token, 'not mine'],
      ['release', 'lane:x', 'a', a.token + 1000, null],
      ['release', 'lane:x', 'a', a.token, null],
    ]);
    expect(orphans[0]!.reason).toBe(`lane:x with token ${a.token} is held by a, not c`);
    expect(await s.claims.orphans({ since: orphans[2]!.at + 1 })).toEqual([]);
    expect((await s.claims.list({ all: true }))[0]).toMatchObject({ state: 'released', result: 'done' });
  });

  test.each([
    ['before the sweeper ran', false],
    ['after the sweeper ran', true],
  ])(
    'after expiry, %s: complete is refused as expired and kept as an orphan, release is a no-op, renew is refused',
    async (_when, swept) => {
      const { store: s } = await b.fresh();
      const c = await grant(s, 'task:c', 'a', 30);
      const r = await grant(s, 'task:r', 'a', 30);
      const n = await grant(s, 'task:n', 'a', 30);
      await sleep(80);
      if (swept) expect(await s.claims.sweep()).toBe(3);
      expect(await s.claims.complete({ key: 'task:c', holder: 'a', token: c.token, result: 'PR #9' })).toEqual({
        ok: false,
        reason: `task:c with token ${c.token} has expired`,
        expiredAt: c.expiresAt,
      });
      expect(await s.claims.release({ key: 'task:r', holder: 'a', token: r.token, result: 'gave up' })).toEqual({
        ok: true,
        expiredAt: r.expiresAt,
      });
      expect(await s.claims.renew({ key: 'task:n', holder: 'a', token: n.token })).toEqual({
        ok: false,
        reason: `task:n with token ${n.token} has expired`,
        expiredAt: n.expiresAt,
      });
      // The same answers again: expiry decides, not whether it has been recorded yet.
      expect(await s.claims.complete({ key: 'task:c', holder: 'a', token: c.token })).toMatchObject({
        ok: false,
        expiredAt: c.expiresAt,
      });
      expect(await s.claims.release({ key: 'task:r', holder: 'a', token: r.token })).toEqual({
        ok: true,
        expiredAt: r.expiresAt,
      });
      // Only the refused completions are orphans: a release of an expired claim has nothing to keep.
      expect((await s.claims.orphans()).map((o) => [o.op, o.key, o.token, o.result])).toEqual([
        ['complete', 'task:c', c.token, 'PR #9'],
        ['complete', 'task:c', c.token, null],
      ]);
      // Each claim ended once, by expiry, whoever noticed first; nothing is left for the sweeper.
      expect((await s.claims.list({ all: true })).map((row) => [row.key, row.state, row.result])).toEqual([
        ['task:c', 'released', 'expired'],
        ['task:n', 'released', 'expired'],
        ['task:r', 'released', 'expired'],
      ]);
      expect(
        (await s.claims.lockRecords())
          .filter((e) => e.event !== 'acquired')
          .map((e) => [e.key, e.event])
          .sort(),
      ).toEqual([
        ['task:c', 'expired'],
        ['task:n', 'expired'],
        ['task:r', 'expired'],
      ]);
      expect(await s.claims.sweep()).toBe(0);
      // The keys are free again, with newer tokens.
      expect((await grant(s, 'task:c', 'b')).token).toBeGreaterThan(n.token);
    },
  );

  test('after expiry a stale token is still stale: once someone else took the key, the old token is refused and its result kept', async () => {
    const { store: s } = await b.fresh();
    const a = await grant(s, 'task:x', 'a', 30);
    await sleep(80);
    const c = await grant(s, 'task:x', 'b');
    const stale = {
      ok: false,
      reason: `token ${a.token} is not current for task:x (re-granted since, or never granted)`,
    };
    expect(await s.claims.release({ key: 'task:x', holder: 'a', token: a.token, result: 'late' })).toEqual(stale);
    expect(await s.claims.complete({ key: 'task:x', holder: 'a', token: a.token, result: 'late' })).toEqual(stale);
    expect((await s.claims.orphans()).map((o) => o.op)).toEqual(['release', 'complete']);
    expect(await s.claims.release({ key: 'task:x', holder: 'b', token: c.token })).toEqual({ ok: true });
  });

  test('complete: the key is denied to everyone until reopened; a stale completion is an orphan', async () => {
    const { store: s } = await b.fresh();
    expect(await s.claims.reopen({ key: 'task:x' })).toEqual({ reopened: false, state: null });
    const a = await grant(s, 'task:x', 'a');
    expect(await s.claims.reopen({ key: 'task:x' })).toEqual({ reopened: false, state: 'claimed' });
    expect(await s.claims.complete({ key: 'task:x', holder: 'a', token: a.token, result: 'merged #12' })).toEqual({
      ok: true,
    });
    expect(await s.claims.acquire({ key: 'task:x', holder: 'b', ttlMs: MINUTE })).toEqual({
      granted: false,
      key: 'task:x',
      holder: 'a',
      expiresAt: null,
      state: 'completed',
    });
    expect(await s.claims.acquire({ key: 'task:x', holder: 'a', ttlMs: MINUTE })).toMatchObject({
      granted: false,
      state: 'completed',
    });
    expect(await s.claims.complete({ key: 'task:x', holder: 'a', token: a.token, result: 'again' })).toEqual({
      ok: false,
      reason: `task:x with token ${a.token} is already completed`,
    });
    expect((await s.claims.orphans()).map((o) => [o.op, o.result])).toEqual([['complete', 'again']]);
    expect((await s.claims.list()).map((r) => r.key)).toEqual([]);
    expect((await s.claims.list({ completed: true })).map((r) => [r.key, r.state, r.result])).toEqual([
      ['task:x', 'completed', 'merged #12'],
    ]);
    expect(await s.claims.reopen({ key: 'task:x' })).toEqual({ reopened: true, state: 'released' });
    const c = await grant(s, 'task:x', 'b');
    expect(c.token).toBeGreaterThan(a.token);
    expect((await s.claims.lockRecords()).map((r) => r.event)).toEqual([
      'acquired',
      'completed',
      'released',
      'acquired',
    ]);
  });

  test('releaseHolder settles a claim that expired meanwhile as expired, not released', async () => {
    const { store: s } = await b.fresh();
    const gone = await grant(s, 'task:gone', 's1', 30);
    await grant(s, 'task:live', 's1');
    await sleep(80);
    expect(await s.claims.releaseHolder('s1')).toEqual(['task:live']);
    expect((await s.claims.list({ all: true })).find((r) => r.key === 'task:gone')).toMatchObject({
      state: 'released',
      result: 'expired',
    });
    expect((await s.claims.lockRecords()).filter((e) => e.key === 'task:gone').map((e) => [e.epoch, e.event])).toEqual([
      [gone.token, 'acquired'],
      [gone.token, 'expired'],
    ]);
    // The session's own release of it afterwards is the no-op every expired claim's release is.
    expect(await s.claims.release({ key: 'task:gone', holder: 's1', token: gone.token })).toEqual({
      ok: true,
      expiredAt: gone.expiresAt,
    });
  });

  test('releaseHolder ends a session: releases its claims except those kept and those excepted', async () => {
    const { store: s } = await b.fresh();
    await grant(s, 'task:b', 's1');
    await grant(s, 'task:a', 's1');
    await grant(s, 'task:keep', 's1', MINUTE, { keep: true });
    await grant(s, 'lane:code', 's1');
    await grant(s, 'task:other', 's2');
    expect(await s.claims.releaseHolder('s1', { except: ['lane:code'] })).toEqual(['task:a', 'task:b']);
    expect((await s.claims.list()).map((r) => [r.key, r.holder, r.keep])).toEqual([
      ['lane:code', 's1', 0],
      ['task:keep', 's1', 1],
      ['task:other', 's2', 0],
    ]);
    expect((await s.claims.list({ all: true })).find((r) => r.key === 'task:a')).toMatchObject({
      state: 'released',
      result: 'session ended',
    });
    expect((await s.claims.list({ holder: 's1' })).map((r) => r.key)).toEqual(['lane:code', 'task:keep']);
    expect(await s.claims.releaseHolder('s1')).toEqual(['lane:code']);
    expect(await s.claims.releaseHolder('nobody')).toEqual([]);
  });

  test('renewHolder renews claims that used a third of their TTL and reports (and frees) lost ones', async () => {
    const { store: s } = await b.fresh();
    const fresh = await grant(s, 'task:fresh', 'h', 10 * MINUTE);
    const aging = await grant(s, 'task:aging', 'h', 3000);
    await grant(s, 'task:lost', 'h', 30);
    await grant(s, 'task:other', 'x', 30);
    await sleep(1100);
    const r = await s.claims.renewHolder('h');
    expect({ ...r, held: [...r.held].sort() }).toEqual({
      renewed: 1,
      lost: ['task:lost'],
      held: ['task:aging', 'task:fresh'],
    });
    const rows = await s.claims.list({ all: true });
    expect(rows.find((c) => c.key === 'task:fresh')!.expires_at).toBe(fresh.expiresAt);
    expect(rows.find((c) => c.key === 'task:aging')!.expires_at).toBeGreaterThan(aging.expiresAt);
    expect(rows.find((c) => c.key === 'task:lost')).toMatchObject({ state: 'released', result: 'expired' });
    // Another holder's expired claim is left to the sweeper.
    expect(rows.find((c) => c.key === 'task:other')).toMatchObject({ state: 'claimed' });
    expect(
      (await s.claims.lockRecords())
        .filter((e) => e.holder === 'h' && e.event !== 'acquired')
        .map((e) => [e.key, e.event]),
    ).toEqual(
      expect.arrayContaining([
        ['task:aging', 'renewed'],
        ['task:lost', 'expired'],
      ]),
    );
  });

  test('the sweeper releases expired claims, once', async () => {
    const { store: s } = await b.fresh();
    const a = await grant(s, 'lane:a', 'a', 30);
    await grant(s, 'lane:b', 'b', MINUTE);
    await sleep(80);
    // Expired but not swept: no longer listed as held.
    expect((await s.claims.list()).map((c) => c.key)).toEqual(['lane:b']);
    expect(await s.claims.sweep()).toBe(1);
    expect(await s.claims.sweep()).toBe(0);
    expect((await s.claims.list({ all: true })).find((c) => c.key === 'lane:a')).toMatchObject({
      state: 'released',
      result: 'expired',
      epoch: a.token,
    });
    expect(
      (await s.claims.lockRecords()).filter((e) => e.event === 'expired').map((e) => [e.key, e.holder, e.epoch]),
    ).toEqual([['lane:a', 'a', a.token]]);
  });

  test('tokens are unique across keys and clients: one fence for the whole store', async () => {
    const f = await b.fresh();
    const other = await f.another();
    const tokens: number[] = [];
    for (let i = 0; i < 5; i++) {
      tokens.push((await grant(f.store, `task:${i}`, 'a')).token);
      tokens.push((await grant(other, `task:o${i}`, 'b')).token);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    expect([...tokens].sort((x, y) => x - y)).toEqual(tokens);
    // The second client sees the first one's claims.
    expect(await other.claims.acquire({ key: 'task:0', holder: 'b', ttlMs: MINUTE })).toMatchObject({
      granted: false,
      holder: 'a',
    });
  });

  test('lock records since a time; orphans since a time', async () => {
    const { store: s } = await b.fresh();
    const a = await grant(s, 'task:x', 'a');
    const records = await s.claims.lockRecords();
    expect(records).toEqual([
      { at: expect.any(Number), key: 'task:x', slot: 0, slots: 1, holder: 'a', epoch: a.token, event: 'acquired' },
    ]);
    expect(await s.claims.lockRecords({ since: records[0]!.at + 1 })).toEqual([]);
    expect(await s.claims.lockRecords({ since: records[0]!.at })).toHaveLength(1);
  });

  test('lock records of a window: found reading back from the newest, out of order by up to an hour', async () => {
    const f = await b.fresh();
    const T = 1_700_000_000_000;
    const H = 3_600_000;
    // A year of records before the window would be read whole if it were scanned from the start.
    await f.addLockRecords([T - 3 * H, T - 2 * H, T, T + 1000, T - 1500, T - 500, T + 2000]);
    const ats = async (since: number) => (await f.store.claims.lockRecords({ since })).map((r) => r.at);
    // In the order appended; those before the window left out, even when appended after it began.
    expect(await ats(T - 1000)).toEqual([T, T + 1000, T - 500, T + 2000]);
    expect(await ats(T - 2 * H)).toEqual([T - 2 * H, T, T + 1000, T - 1500, T - 500, T + 2000]);
    expect(await ats(T + 1500)).toEqual([T + 2000]);
    expect(await ats(T + 3000)).toEqual([]);
    expect((await f.store.claims.lockRecords()).length).toBe(7);
  });
}
