// Contract cases under concurrency: several clients of one store (each its own connection, or
// its own SQLite handle) race claim+release cycles on a few hot keys, and several clients open a
// brand-new store at once. Double grants are looked for twice: live, by marking a key held
// between a grant and the release call (a grant while the key's slots are all marked is a double
// grant), and afterwards in the store's own lock records, replayed in order.
import { expect, test } from 'vitest';
import type { LockRecord, Store } from '../../../src/ports/store.js';
import type { Backend } from './backends.js';
import { emptyFairness } from '../../../src/policy/fairness.js';
import { emptyLearning, learn } from '../../../src/policy/learning.js';

const KEYS = [
  { key: 'task:hot-1', slots: 1 },
  { key: 'task:hot-2', slots: 1 },
  { key: 'lane:pair', slots: 2 },
];
const CLIENTS = 6;
const CYCLES = 120;

/**
 * Grants while all of a key's slots were already held, replaying the records in order; and
 * records of a key dated before the one written before them (a grant dated before the release it
 * waited for makes stats that cut a window by time see two holders).
 */
function doubleGrants(records: readonly LockRecord[]): string[] {
  const open = new Map<string, Set<number>>();
  const last = new Map<string, LockRecord>();
  const found: string[] = [];
  for (const r of records) {
    const held = open.get(r.key) ?? new Set<number>();
    open.set(r.key, held);
    // Time order holds per slot: two slots of one key are different rows, so their records may
    // commit in either order around the clock reads.
    const slot = `${r.key}#${r.slot}`;
    const before = last.get(slot);
    if (before && r.at < before.at)
      found.push(
        `${r.key}: ${r.event} of token ${r.epoch} at ${r.at}, after ${before.event} of token ${before.epoch} at ${before.at}`,
      );
    last.set(slot, r);
    if (r.event === 'acquired') {
      if (held.size >= (r.slots ?? 1))
        found.push(`${r.key}: token ${r.epoch} granted to ${r.holder} while ${[...held].join(', ')} held it`);
      held.add(r.epoch!);
    } else if (r.event === 'released' || r.event === 'completed' || r.event === 'expired') {
      held.delete(r.epoch!);
    }
  }
  return found;
}

export function contentionCases(b: Backend): void {
  test(`${CLIENTS} clients racing claim+release on hot keys: never two holders at once`, async () => {
    const f = await b.fresh();
    const clients: Store[] = [f.store];
    for (let i = 1; i < CLIENTS; i++) clients.push(await f.another());
    const holding = new Map<string, Set<string>>(KEYS.map((k) => [k.key, new Set()]));
    const violations: string[] = [];
    const tokens: number[] = [];
    let grants = 0;
    let denials = 0;
    await Promise.all(
      clients.map(async (s, c) => {
        const holder = `client-${c}`;
        for (let i = 0; i < CYCLES; i++) {
          const { key, slots } = KEYS[(i + c) % KEYS.length]!;
          const r = await s.claims.acquire({ key, holder, ttlMs: 60_000, slots });
          if (!r.granted) {
            denials++;
            continue;
          }
          grants++;
          tokens.push(r.token);
          const held = holding.get(key)!;
          if (held.size >= slots) violations.push(`${key} granted to ${holder} while ${[...held].join(', ')} held it`);
          held.add(holder);
          // Let the other clients run while this one holds the key.
          await new Promise((resolve) => setImmediate(resolve));
          // Unmarked before the release is sent: nobody can be granted the slot before it commits.
          held.delete(holder);
          const rel = await s.claims.release({ key, holder, token: r.token });
          if (!rel.ok) violations.push(`release of ${key} by ${holder} refused: ${rel.reason}`);
        }
      }),
    );
    expect(violations).toEqual([]);
    expect(grants).toBeGreaterThan(0);
    expect(grants + denials).toBe(CLIENTS * CYCLES);
    expect(new Set(tokens).size).toBe(tokens.length);
    const records = await f.store.claims.lockRecords();
    expect(records.filter((r) => r.event === 'acquired')).toHaveLength(grants);
    expect(records.filter((r) => r.event === 'released')).toHaveLength(grants);
    expect(doubleGrants(records)).toEqual([]);
    expect(await f.store.claims.list()).toEqual([]);
    expect(await f.store.claims.orphans()).toEqual([]);
  });

  test('the replay of lock records does find a double grant, and a record dated back (the check above can fail)', () => {
    const rec = (epoch: number, holder: string, event: LockRecord['event']): LockRecord => ({
      at: epoch,
      key: 'k',
      slot: 0,
      slots: 1,
      holder,
      epoch,
      event,
    });
    expect(doubleGrants([rec(1, 'a', 'acquired'), rec(1, 'a', 'released'), rec(2, 'b', 'acquired')])).toEqual([]);
    expect(doubleGrants([rec(1, 'a', 'acquired'), rec(2, 'b', 'acquired')])).toHaveLength(1);
    expect(
      doubleGrants([
        rec(5, 'a', 'acquired'),
        { ...rec(5, 'a', 'released'), at: 7 },
        { ...rec(6, 'b', 'acquired'), at: 6 },
      ]),
    ).toHaveLength(1);
  });

  test('grades applied by several clients at once: none lost, none counted twice, a regrade replaces', async () => {
    const f = await b.fresh();
    const clients: Store[] = [f.store];
    for (let i = 1; i < 4; i++) clients.push(await f.another());
    const fresh = { learning: emptyLearning(), arms: emptyLearning(), fairness: emptyFairness(), graded: [] };
    const grade = (c: number, i: number) => ((c * 7 + i * 3) % 10) / 10;
    await Promise.all(
      clients.map(async (s, c) => {
        for (let i = 0; i < 15; i++)
          await s.claims
            .list()
            .then(() =>
              s.learning.applyGrade(
                { session: `s-${c}-${i}`, lane: `lane${c % 2}`, arm: 'x:y', grade: grade(c, i) },
                fresh,
                i,
              ),
            );
        // The same grade again (a retry after a lost answer) changes nothing.
        await s.learning.applyGrade({ session: `s-${c}-0`, lane: `lane${c % 2}`, arm: 'x:y', grade: 0.99 }, fresh, 99);
      }),
    );
    const memory = (await f.store.learning.load())!;
    expect(memory.learning.clock).toBe(60);
    expect(memory.graded).toHaveLength(60);
    expect(new Set([...memory.graded!].map(([id]) => id)).size).toBe(60);
    // What was stored is exactly the fold of the grades in the order they were applied.
    let expected = emptyLearning();
    for (const [id, g] of memory.graded!) expected = learn(expected, `lane${Number(id.split('-')[1]) % 2}`, g);
    expect(memory.learning).toEqual(expected);
    await f.store.learning.applyGrade(
      { session: 's-0-1', lane: 'lane0', arm: 'x:y', grade: 0.5, regrade: true },
      fresh,
      100,
    );
    const after = (await f.store.learning.load())!;
    expect(after.graded).toHaveLength(60);
    expect([...after.graded!].find(([id]) => id === 's-0-1')).toEqual(['s-0-1', 0.5]);
  });

  test('several clients setting up a new store at once all get the same working store', async () => {
    const stores = await b.openManyNew(4);
    await Promise.all(stores.map((s, i) => s.journal.append({ type: 'WAKE', seq: i + 1, now: i })));
    for (const s of stores) expect(await s.journal.lastSeq()).toBe(4);
  });

  test('a reader finds a store another client created, and refuses to create one', async () => {
    const f = await b.fresh();
    await f.store.sessions.insert({
      id: 's-1',
      lane: 'code',
      lane_id: 'code',
      arm: 'x:y',
      dispatch: 'tick',
      parent: null,
      started_at: 1,
      log_path: null,
    });
    const reader = await f.reader();
    expect((await reader.sessions.get('s-1'))?.lane).toBe('code');
    await expect(b.openMissing()).rejects.toThrow(/no lanekeeper (database|store)/);
  });
}
