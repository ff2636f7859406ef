import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { DB_FILE } from '../../src/adapters/store/sqlite/open.js';
import { tmpDir } from '../helpers/tmp.js';

function store() {
  let now = 1_000_000;
  const s = openSqliteStore(tmpDir(), { clock: () => now });
  return { s, advance: (ms: number) => (now += ms), now: () => now };
}

describe('SQLite store: claims', () => {
  test('a key with 2 slots grants two holders, denies the third with the soonest expiry', async () => {
    const { s, advance } = store();
    const a = await s.claims.acquire({ key: 'lane:code', holder: 'a', ttlMs: 1000, slots: 2 });
    advance(10);
    const b = await s.claims.acquire({ key: 'lane:code', holder: 'b', ttlMs: 1000, slots: 2 });
    const c = await s.claims.acquire({ key: 'lane:code', holder: 'c', ttlMs: 1000, slots: 2 });
    expect(a).toMatchObject({ granted: true, slot: 0 });
    expect(b).toMatchObject({ granted: true, slot: 1 });
    expect(c).toEqual({ granted: false, key: 'lane:code', holder: 'a', expiresAt: 1_001_000, state: 'claimed' });
  });

  test('the same holder extends its claim and keeps its token; tokens never go back', async () => {
    const { s, advance } = store();
    const first = await s.claims.acquire({ key: 'task:x', holder: 'a', ttlMs: 1000 });
    advance(500);
    const again = await s.claims.acquire({ key: 'task:x', holder: 'a', ttlMs: 1000 });
    expect(again).toMatchObject({
      granted: true,
      renewed: true,
      token: (first as { token: number }).token,
      expiresAt: 1_001_500,
    });
    advance(2000);
    const other = await s.claims.acquire({ key: 'task:x', holder: 'b', ttlMs: 1000 });
    expect(other.granted && other.token).toBeGreaterThan((first as { token: number }).token);
  });

  test('renew and release need the current token; a stale one is refused with the reason', async () => {
    const { s, advance } = store();
    const a = (await s.claims.acquire({ key: 'lane:x', holder: 'a', ttlMs: 1000 })) as { token: number };
    expect(await s.claims.renew({ key: 'lane:x', holder: 'a', token: a.token, ttlMs: 1000 })).toEqual({
      ok: true,
      expiresAt: 1_001_000,
    });
    advance(1001);
    expect(await s.claims.renew({ key: 'lane:x', holder: 'a', token: a.token, ttlMs: 1000 })).toEqual({
      ok: false,
      reason: `lane:x with token ${a.token} has expired`,
      expiredAt: 1_001_000,
    });
    const b = (await s.claims.acquire({ key: 'lane:x', holder: 'b', ttlMs: 1000 })) as { token: number };
    expect(await s.claims.release({ key: 'lane:x', holder: 'a', token: a.token })).toEqual({
      ok: false,
      reason: `token ${a.token} is not current for lane:x (re-granted since, or never granted)`,
    });
    expect(await s.claims.release({ key: 'lane:x', holder: 'c', token: b.token })).toEqual({
      ok: false,
      reason: `lane:x with token ${b.token} is held by b, not c`,
    });
    expect(await s.claims.release({ key: 'lane:x', holder: 'b', token: b.token })).toEqual({ ok: true });
    expect(await s.claims.acquire({ key: 'lane:x', holder: 'c', ttlMs: 1000 })).toMatchObject({ granted: true });
  });

  test('the sweeper releases expired claims', async () => {
    const { s, advance } = store();
    await s.claims.acquire({ key: 'lane:a', holder: 'a', ttlMs: 1000 });
    await s.claims.acquire({ key: 'lane:b', holder: 'b', ttlMs: 5000 });
    advance(2000);
    expect(await s.claims.sweep()).toBe(1);
    expect((await s.claims.list()).map((c) => c.key)).toEqual(['lane:b']);
    expect((await s.claims.list({ all: true })).find((c) => c.key === 'lane:a')).toMatchObject({
      state: 'released',
      result: 'expired',
    });
  });
});

describe('SQLite store: journal and sessions', () => {
  test('events come back in seq order with their stamps; effects per event', async () => {
    const { s } = store();
    await s.journal.append({ type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 5 });
    await s.journal.append({ type: 'WAKE', seq: 2, now: 20 });
    await s.journal.recordEffects(
      1,
      [{ type: 'laneNote', laneId: 'a', note: 'drained', detail: { sessionId: 'a-1' } }],
      { a: 'idle' },
    );
    expect(await s.journal.lastSeq()).toBe(2);
    expect(await s.journal.read()).toEqual([
      { type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 5 },
      { type: 'WAKE', seq: 2, now: 20 },
    ]);
    expect(await s.journal.effects(1)).toEqual([
      { type: 'laneNote', laneId: 'a', note: 'drained', detail: { sessionId: 'a-1' } },
    ]);
    await expect(s.journal.append({ type: 'WAKE', seq: 2, now: 30 })).rejects.toThrow(/UNIQUE/);
    // Replay reads events with what was recorded of them; seq 2 was journaled but never taken.
    expect(await s.journal.entries(1, 10)).toEqual([
      {
        event: { type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 5 },
        effects: ['{"type":"laneNote","laneId":"a","note":"drained","detail":{"sessionId":"a-1"}}'],
        changed: { a: 'idle' },
      },
      { event: { type: 'WAKE', seq: 2, now: 20 }, effects: [], changed: null },
    ]);
    expect(await s.journal.firstSeqSince(15)).toBe(2);
  });

  test('checkpoints: the latest at or before a seq; runs begin at RUNTIME_STARTED', async () => {
    const { s } = store();
    const fleet = { width: 1, lanes: [], arms: [], selection: {} as never };
    await s.journal.append({ type: 'RUNTIME_STARTED', fleet, machines: 'v1', mode: 'service', seq: 1, now: 1 });
    await s.journal.append({ type: 'WAKE', seq: 2, now: 2 });
    await s.journal.append({ type: 'RUNTIME_STARTED', fleet, machines: 'v1', mode: 'once', seq: 3, now: 3 });
    await s.journal.saveCheckpoint({ seq: 2, version: 'v1', state: { fleet, actors: { value: 'x' } } });
    expect(await s.journal.runStart(2)).toBe(1);
    expect(await s.journal.runStart(9)).toBe(3);
    expect(await s.journal.checkpoint(1)).toBeNull();
    expect(await s.journal.checkpoint(5)).toEqual({ seq: 2, version: 'v1', state: { fleet, actors: { value: 'x' } } });
  });

  test('a session row is written at start and completed at exit and grade', async () => {
    const { s } = store();
    await s.sessions.insert({
      id: 'code-1',
      lane: 'code',
      lane_id: 'code',
      arm: 'a:b',
      dispatch: 'tick',
      parent: null,
      started_at: 5,
      log_path: '/l',
    });
    await s.sessions.update('code-1', { ended_at: 9, exit_code: 0, outcome: 'productive' });
    await s.sessions.update('code-1', { grade: 0.8, grade_source: 'session', dimensions: { q: 0.9 } });
    expect(await s.sessions.get('code-1')).toMatchObject({
      started_at: 5,
      ended_at: 9,
      outcome: 'productive',
      grade: 0.8,
      dimensions: { q: 0.9 },
    });
  });
});

describe('SQLite store: journal retention shrinks the file', () => {
  const fleet = { width: 1, lanes: [], arms: [], selection: {} as never };
  const size = (dir: string) => statSync(path.join(dir, DB_FILE)).size;

  /** 20,000 events of about 1 KB with an intent each, a checkpoint every 1,000; pruned below 19,000. */
  async function fillAndPrune(dir: string) {
    const s = openSqliteStore(dir);
    for (let seq = 1; seq <= 20_000; seq++) {
      await s.journal.append({ type: 'WAKE', seq, now: seq, pad: 'x'.repeat(1000) } as never);
      await s.journal.recordEffects(seq, [{ type: 'laneNote', laneId: 'a', note: 'n', detail: {} }] as never, {});
      if (seq % 1000 === 0) await s.journal.saveCheckpoint({ seq, version: 'v', state: { fleet, actors: {} } });
    }
    await s.checkpoint();
    const before = size(dir);
    const floor = await s.journal.pruneFloor(19_500);
    const pruned = await s.journal.pruneBelow(floor!.checkpoint.seq);
    const after = size(dir);
    const left = (await s.journal.read()).map((e) => e.seq);
    await s.close();
    return { before, after, pruned: pruned!, left };
  }

  test('a new store vacuums incrementally: the file gives back what was deleted', async () => {
    const dir = tmpDir();
    const { before, after, pruned, left } = await fillAndPrune(dir);
    expect(pruned).toMatchObject({ events: 18_999, vacuum: 'incremental' });
    expect(left[0]).toBe(19_000);
    expect(before).toBeGreaterThan(20_000_000);
    // What is kept is about a twentieth of it.
    expect(after).toBeLessThan(before / 10);
    expect(pruned.freedBytes).toBeGreaterThan((before - after) * 0.9);
    const db = new Database(path.join(dir, DB_FILE), { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
  }, 60_000);

  test('a store made before retention is rewritten once by its first prune, which switches it to incremental vacuum', async () => {
    const dir = tmpDir();
    // What an older lanekeeper made: WAL mode set before anything else, auto_vacuum off.
    const old = new Database(path.join(dir, DB_FILE));
    old.pragma('journal_mode = WAL');
    old.close();
    const { before, after, pruned } = await fillAndPrune(dir);
    expect(pruned.vacuum).toBe('rewritten');
    expect(after).toBeLessThan(before / 10);
    const db = new Database(path.join(dir, DB_FILE), { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
  }, 60_000);
});
