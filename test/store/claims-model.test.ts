// Model-based test of the SQLite claims store: fast-check generates sequences of acquire, renew,
// release, complete, reopen, sweep and clock steps; each step runs against a real store (fresh
// SQLite file, injected clock) and against a small in-memory model that predicts every result
// exactly: who is granted or denied (with the denying holder and expiry), which tokens renew,
// release and complete accept, what the sweeper frees, and how many orphans are recorded. After a
// claim's expiry, swept or not, a release is a no-op and a renewal or completion is refused, each
// saying when it expired.
//
// The model also carries deliberate mutants (one wrong rule each); the last tests prove the
// checker is not vacuous by showing that each mutant is caught.
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { AcquireResult, ClaimRow, ClaimState, FencedResult, Store } from '../../src/ports/store.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { tmpDir } from '../helpers/tmp.js';

const TTL = 1000;
const START = 1_000_000;
/** Slots per key, fixed for the whole run. */
const SLOTS = { 'lane:x': 2, 'task:a': 1, 'task:b': 1 } as const;
type Key = keyof typeof SLOTS;
const KEYS = Object.keys(SLOTS) as Key[];
const HOLDERS = ['h0', 'h1', 'h2'] as const;

/** One wrong rule each, to show the checker notices. 'none' is the specification. */
const MUTANTS = [
  'expired-at-expiry', // a claim is already expired at exactly expires_at
  'sweep-at-expiry', // the sweeper frees claims at exactly expires_at
  'end-ignores-expiry', // release/complete accept an expired claim the sweeper has not reached
  'expiry-forgotten', // once swept, an expired claim's token is refused as merely stale
  'deny-latest', // a denial names the claim expiring last, not soonest
  'renew-sets-ttl', // renew with ttlMs changes the TTL later renewals default to
  'reacquire-new-token', // the holder acquiring again gets a fresh grant, not a renewal
  'complete-as-release', // a completed key stays claimable
  'reopen-noop', // reopen leaves a completed key completed
  'no-orphan', // a refused release/complete leaves no orphan
] as const;
type Mutant = 'none' | (typeof MUTANTS)[number];

// ---------------------------------------------------------------------------------------------
// The model

interface MRow {
  key: Key;
  slot: number;
  holder: string;
  epoch: number;
  state: ClaimState;
  acquired_at: number;
  renewed_at: number;
  expires_at: number;
  ttl_ms: number;
  attempt: number;
  result: string | null;
}

class Model {
  now = START;
  rows: MRow[] = [];
  /** Every token the store has granted, in order. */
  issued: { key: Key; holder: string; token: number }[] = [];
  maxToken = 0;
  orphans = 0;
  /** Tokens whose claim ended by expiry (swept, or settled by a call that found it lapsed). */
  expired = new Set<number>();
  constructor(readonly mut: Mutant) {}

  rowsOf(key: Key): MRow[] {
    return this.rows.filter((r) => r.key === key).sort((a, b) => a.slot - b.slot);
  }

  /** Held and not expired: at exactly expires_at a claim is still live. */
  live(r: MRow): boolean {
    if (r.state !== 'claimed') return false;
    return this.mut === 'expired-at-expiry' ? r.expires_at > this.now : r.expires_at >= this.now;
  }

  /** Its lease ran out: still claimed past its expiry, or ended by expiry. */
  lapsed(r: MRow): boolean {
    if (r.state === 'claimed') return !this.live(r);
    return r.state === 'released' && this.expired.has(r.epoch) && this.mut !== 'expiry-forgotten';
  }

  /** A lapsed claim, settled as the sweeper settles it. */
  expire(r: MRow): void {
    Object.assign(r, { state: 'released', result: 'expired', renewed_at: this.now });
    this.expired.add(r.epoch);
  }
}

interface Real {
  store: Store;
  clock: { now: number };
  /** Every port result, in order, for the hand-written example. */
  log: unknown[];
}

/** Which token a renew/release/complete presents, resolved against the model when it runs. */
type TokenRef =
  | { kind: 'held'; i: number } // a token of a row this holder has on this key (current or expired)
  | { kind: 'key'; i: number } // any token ever granted on this key (often stale, or another holder's)
  | { kind: 'any'; i: number } // any token ever granted (possibly for another key)
  | { kind: 'bogus'; i: number }; // a token never granted

function pick(xs: number[], i: number): number | undefined {
  return xs.length ? xs[i % xs.length] : undefined;
}

function resolveToken(m: Model, key: Key, holder: string, ref: TokenRef): number {
  const { kind, i } = ref;
  let t: number | undefined;
  if (kind === 'held')
    t = pick(
      m
        .rowsOf(key)
        .filter((r) => r.holder === holder)
        .map((r) => r.epoch),
      i,
    );
  if (t === undefined && (kind === 'held' || kind === 'key'))
    t = pick(
      m.issued.filter((x) => x.key === key).map((x) => x.token),
      i,
    );
  if (t === undefined && kind !== 'bogus')
    t = pick(
      m.issued.map((x) => x.token),
      i,
    );
  return t ?? m.maxToken + 1 + i;
}

/**
 * Whom a renew/release/complete speaks for: a given key, holder and token reference, or (so that
 * sequences of successful calls are common) the holder and token of the model's i-th claimed row.
 */
type Target = { from: 'given'; key: Key; holder: string; ref: TokenRef } | { from: 'claimed'; i: number };
type Resolved = { key: Key; holder: string; token: number };

function resolveTarget(m: Model, t: Target): Resolved {
  if (t.from === 'claimed') {
    const claimed = m.rows.filter((r) => r.state === 'claimed').sort((a, b) => a.epoch - b.epoch);
    const row = claimed.length ? claimed[t.i % claimed.length] : undefined;
    if (row) return { key: row.key, holder: row.holder, token: row.epoch };
    return { key: 'task:a', holder: 'h0', token: m.maxToken + 1 };
  }
  return { key: t.key, holder: t.holder, token: resolveToken(m, t.key, t.holder, t.ref) };
}

function targetString(t: Target, r: Resolved | undefined): string {
  const was = r ? ` = ${r.key}, ${r.holder}, token ${r.token}` : '';
  return t.from === 'claimed' ? `claimed#${t.i}${was}` : `${t.key}, ${t.holder}, ${t.ref.kind}#${t.ref.i}${was}`;
}

async function expectOrphans(m: Model, r: Real): Promise<void> {
  expect((await r.store.claims.orphans()).length, 'orphans recorded').toBe(m.orphans);
}

// ---------------------------------------------------------------------------------------------
// The commands

type Cmd = fc.AsyncCommand<Model, Real>;

class Acquire implements Cmd {
  constructor(
    readonly key: Key,
    readonly holder: string,
    readonly ttl: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { key, holder, ttl } = this;
    const now = m.now;
    const slots = SLOTS[key];
    const actual: AcquireResult = await r.store.claims.acquire({ key, holder, ttlMs: ttl, slots });
    r.log.push(actual);
    const rows = m.rowsOf(key);
    const live = rows.filter((x) => m.live(x));

    // Held live by the same holder: renewed in place, same token, expiry now + ttl.
    const mine = live.find((x) => x.holder === holder);
    if (mine && m.mut !== 'reacquire-new-token') {
      expect(actual).toEqual({
        granted: true,
        key,
        slot: mine.slot,
        token: mine.epoch,
        expiresAt: now + ttl,
        renewed: true,
      });
      Object.assign(mine, { renewed_at: now, expires_at: now + ttl, ttl_ms: ttl });
      return;
    }
    // Completed: denied to everyone until reopened, naming the completing holder.
    const completed = m.mut === 'complete-as-release' ? undefined : rows.find((x) => x.state === 'completed');
    if (completed) {
      expect(actual).toEqual({ granted: false, key, holder: completed.holder, expiresAt: null, state: 'completed' });
      return;
    }
    // A free slot (absent, released or expired): the lowest one, with a new, larger token.
    if (live.length < slots) {
      let slot = 0;
      while (live.some((x) => x.slot === slot)) slot++;
      expect(actual).toMatchObject({ granted: true, key, slot, expiresAt: now + ttl, renewed: false });
      const token = (actual as { token: number }).token;
      expect(Number.isInteger(token)).toBe(true);
      expect(token, 'a new token is larger than every token before it').toBeGreaterThan(m.maxToken);
      expect(actual).toEqual({ granted: true, key, slot, token, expiresAt: now + ttl, renewed: false });
      const previous = rows.find((x) => x.slot === slot);
      const row: MRow = {
        key,
        slot,
        holder,
        epoch: token,
        state: 'claimed',
        acquired_at: now,
        renewed_at: now,
        expires_at: now + ttl,
        ttl_ms: ttl,
        attempt: (previous?.attempt ?? 0) + 1,
        result: null,
      };
      m.rows = m.rows.filter((x) => x !== previous).concat(row);
      m.issued.push({ key, holder, token });
      m.maxToken = token;
      return;
    }
    // Every slot held by others: denied, naming the claim that expires soonest (ties: lowest slot).
    const byExpiry = [...live].sort((a, b) => a.expires_at - b.expires_at || a.slot - b.slot);
    const soonest = m.mut === 'deny-latest' ? byExpiry[byExpiry.length - 1]! : byExpiry[0]!;
    expect(actual).toEqual({
      granted: false,
      key,
      holder: soonest.holder,
      expiresAt: soonest.expires_at,
      state: 'claimed',
    });
  }
  toString(): string {
    return `acquire(${this.key}, ${this.holder}, ttl ${this.ttl})`;
  }
}

class Renew implements Cmd {
  private resolved: Resolved | undefined;
  constructor(
    readonly target: Target,
    readonly ttl: number | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { ttl } = this;
    const { key, holder, token } = (this.resolved = resolveTarget(m, this.target));
    const actual: FencedResult = await r.store.claims.renew({ key, holder, token, ttlMs: ttl });
    r.log.push(actual);
    const row = m.rowsOf(key).find((x) => x.holder === holder && x.epoch === token);
    if (row && row.state === 'claimed' && m.live(row)) {
      const expiresAt = m.now + (ttl ?? row.ttl_ms);
      expect(actual).toEqual({ ok: true, expiresAt });
      Object.assign(row, { renewed_at: m.now, expires_at: expiresAt });
      if (m.mut === 'renew-sets-ttl' && ttl !== undefined) row.ttl_ms = ttl;
    } else if (row && m.lapsed(row)) {
      expect(actual).toEqual({ ok: false, reason: expect.any(String), expiredAt: row.expires_at });
      if (row.state === 'claimed') m.expire(row);
    } else {
      expect(actual).toEqual({ ok: false, reason: expect.any(String) });
    }
    await expectOrphans(m, r);
  }
  toString(): string {
    return `renew(${targetString(this.target, this.resolved)}, ttl ${this.ttl ?? 'default'})`;
  }
}

class End implements Cmd {
  private resolved: Resolved | undefined;
  constructor(
    readonly op: 'release' | 'complete',
    readonly target: Target,
    readonly result: string | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { op, result } = this;
    const now = m.now;
    const { key, holder, token } = (this.resolved = resolveTarget(m, this.target));
    const actual: FencedResult = await r.store.claims[op]({ key, holder, token, result });
    r.log.push(actual);
    const row = m.rowsOf(key).find((x) => x.holder === holder && x.epoch === token);
    if (row && row.state === 'claimed' && (m.live(row) || m.mut === 'end-ignores-expiry')) {
      expect(actual).toEqual({ ok: true });
      const state = op === 'release' || m.mut === 'complete-as-release' ? 'released' : 'completed';
      Object.assign(row, { state, result: result ?? null, renewed_at: now });
      await expectOrphans(m, r);
    } else if (row && m.lapsed(row) && op === 'release') {
      // Nothing left to give back: a no-op, and no orphan.
      expect(actual).toEqual({ ok: true, expiredAt: row.expires_at });
      if (row.state === 'claimed') m.expire(row);
      await expectOrphans(m, r);
    } else {
      const lapsed = row !== undefined && m.lapsed(row);
      expect(actual).toEqual(
        lapsed
          ? { ok: false, reason: expect.any(String), expiredAt: row.expires_at }
          : { ok: false, reason: expect.any(String) },
      );
      if (lapsed && row.state === 'claimed') m.expire(row);
      if (m.mut !== 'no-orphan') m.orphans++;
      const orphans = await r.store.claims.orphans();
      expect(orphans.length, 'a refused release/complete is kept as an orphan').toBe(m.orphans);
      expect(orphans[orphans.length - 1]).toEqual({
        at: now,
        op,
        key,
        holder,
        token,
        result: result ?? null,
        reason: (actual as { reason: string }).reason,
      });
    }
  }
  toString(): string {
    return `${this.op}(${targetString(this.target, this.resolved)}${this.result === undefined ? '' : `, result ${this.result}`})`;
  }
}

class Reopen implements Cmd {
  constructor(readonly key: Key) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const actual = await r.store.claims.reopen({ key: this.key });
    r.log.push(actual);
    const rows = m.rowsOf(this.key);
    const completed = m.mut === 'reopen-noop' ? [] : rows.filter((x) => x.state === 'completed');
    for (const row of completed) Object.assign(row, { state: 'released', result: null });
    const reopened = completed.length > 0;
    expect(actual).toEqual({ reopened, state: reopened ? 'released' : (rows[0]?.state ?? null) });
  }
  toString(): string {
    return `reopen(${this.key})`;
  }
}

class Sweep implements Cmd {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const actual = await r.store.claims.sweep();
    r.log.push(actual);
    const due = m.rows.filter(
      (x) => x.state === 'claimed' && (m.mut === 'sweep-at-expiry' ? x.expires_at <= m.now : x.expires_at < m.now),
    );
    for (const row of due) m.expire(row);
    expect(actual, 'claims swept').toBe(due.length);
  }
  toString(): string {
    return 'sweep()';
  }
}

/**
 * Moves the clock forward: by a fixed step, or (to land on the boundaries often) to one ms before,
 * exactly at, or one ms after the expiry of the model's i-th claimed row, if that is still ahead.
 */
type Step = { by: number } | { toExpiryOf: number; delta: -1 | 0 | 1 };

class Advance implements Cmd {
  private ms: number | undefined;
  constructor(readonly step: Step) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const step = this.step;
    let ms = 0;
    if ('by' in step) ms = step.by;
    else {
      const claimed = m.rows.filter((x) => x.state === 'claimed').sort((a, b) => a.epoch - b.epoch);
      const row = claimed.length ? claimed[step.toExpiryOf % claimed.length] : undefined;
      if (row) ms = Math.max(0, row.expires_at + step.delta - m.now);
    }
    this.ms = ms;
    m.now += ms;
    r.clock.now += ms;
    expect(r.clock.now).toBe(m.now);
  }
  toString(): string {
    const s = this.step;
    const how =
      'by' in s ? `${s.by}` : `to expiry of claimed#${s.toExpiryOf}${s.delta ? (s.delta > 0 ? ' +1' : ' -1') : ''}`;
    return `advance(${how}${'by' in s || this.ms === undefined ? '' : ` = ${this.ms}`})`;
  }
}

/** Compares every row the store holds, and the live list, with the model. */
class Inspect implements Cmd {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const all = await r.store.claims.list({ all: true });
    const want: ClaimRow[] = [...m.rows]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.slot - b.slot))
      .map((x) => ({ ...x, keep: 0 }));
    expect(all).toEqual(want);
    const held = await r.store.claims.list();
    expect(held).toEqual(want.filter((x) => x.state === 'claimed' && x.expires_at >= m.now));
    await expectOrphans(m, r);
  }
  toString(): string {
    return 'inspect()';
  }
}

// ---------------------------------------------------------------------------------------------
// Generators and the runner

const keyArb = fc.constantFrom(...KEYS);
// Acquisitions lean to the 2-slot key, so that both its slots are often full when a third holder asks.
const acquireKeyArb = fc.oneof({ arbitrary: fc.constant<Key>('lane:x'), weight: 2 }, { arbitrary: keyArb, weight: 2 });
const holderArb = fc.constantFrom(...HOLDERS);
const ttlArb = fc.oneof(
  { arbitrary: fc.constant(TTL), weight: 3 },
  { arbitrary: fc.constantFrom(TTL / 2, 2 * TTL), weight: 1 },
);
const indexArb = fc.nat({ max: 7 });
const tokenArb: fc.Arbitrary<TokenRef> = fc.oneof(
  { arbitrary: indexArb.map((i) => ({ kind: 'held' as const, i })), weight: 6 },
  { arbitrary: indexArb.map((i) => ({ kind: 'key' as const, i })), weight: 2 },
  { arbitrary: indexArb.map((i) => ({ kind: 'any' as const, i })), weight: 1 },
  { arbitrary: indexArb.map((i) => ({ kind: 'bogus' as const, i })), weight: 1 },
);
const targetArb: fc.Arbitrary<Target> = fc.oneof(
  {
    arbitrary: fc
      .tuple(keyArb, holderArb, tokenArb)
      .map(([key, holder, ref]) => ({ from: 'given' as const, key, holder, ref })),
    weight: 2,
  },
  { arbitrary: indexArb.map((i) => ({ from: 'claimed' as const, i })), weight: 2 },
);
const resultArb = fc.option(fc.constantFrom('done', 'partial'), { nil: undefined });
// Steps of 0..3×TTL, biased to land exactly on (and one either side of) expiry times.
const advanceArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.constantFrom(0, 1, TTL / 2 - 1, TTL / 2, TTL - 1, TTL, TTL + 1, 2 * TTL).map((by) => ({ by })),
    weight: 1,
  },
  { arbitrary: fc.integer({ min: 0, max: 3 * TTL }).map((by) => ({ by })), weight: 1 },
  {
    arbitrary: fc
      .tuple(indexArb, fc.constantFrom(-1 as const, 0 as const, 0 as const, 1 as const))
      .map(([toExpiryOf, delta]) => ({ toExpiryOf, delta })),
    weight: 2,
  },
);

function commandsArb(inspect: boolean): fc.Arbitrary<Iterable<Cmd>> {
  const acquire = fc.tuple(acquireKeyArb, holderArb, ttlArb).map(([k, h, t]) => new Acquire(k, h, t));
  const renew = fc
    .tuple(targetArb, fc.option(fc.constantFrom(TTL / 2, 2 * TTL), { nil: undefined, freq: 2 }))
    .map(([t, ttl]) => new Renew(t, ttl));
  const arbs: fc.Arbitrary<Cmd>[] = [
    acquire,
    acquire,
    acquire,
    renew,
    renew,
    fc.tuple(targetArb, resultArb).map(([t, res]) => new End('release', t, res)),
    fc.tuple(targetArb, resultArb).map(([t, res]) => new End('complete', t, res)),
    keyArb.map((k) => new Reopen(k)),
    fc.constant(new Sweep()),
    advanceArb.map((step) => new Advance(step)),
    advanceArb.map((step) => new Advance(step)),
  ];
  if (inspect) arbs.push(fc.constant(new Inspect()));
  return fc.commands(arbs, { maxCommands: 40, size: 'max' });
}

/** Runs one command sequence against a fresh store in a fresh directory; returns the port results. */
async function runModel(cmds: Iterable<Cmd>, mut: Mutant = 'none', log: unknown[] = []): Promise<unknown[]> {
  const dir = tmpDir('lk-claims-model-');
  const clock = { now: START };
  const store = openSqliteStore(dir, { clock: () => clock.now });
  const real: Real = { store, clock, log };
  const model = new Model(mut);
  try {
    await fc.asyncModelRun(() => ({ model, real }), cmds);
    // The whole state at the end, for the specification only: mutants must be caught by port results.
    if (mut === 'none') await new Inspect().run(model, real);
    return real.log;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

describe('SQLite claims store against a model', () => {
  test('every grant, denial, renewal, release, completion, reopen and sweep matches the model', async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb(true), async (cmds) => {
        await runModel(cmds);
      }),
      { numRuns: 200 },
    );
  });

  test('a hand-written sequence: the store denies at exactly the expiry, grants one ms later, orphans the stale token', async () => {
    const seq: Cmd[] = [
      new Acquire('task:a', 'h0', TTL), // 0: granted, token t0, expires START + TTL
      new Advance({ by: TTL }), // now === expires_at
      new Acquire('task:a', 'h1', TTL), // 1: the model predicts a denial naming h0
      new Advance({ by: 1 }), // now past expiry
      new Acquire('task:a', 'h1', TTL), // 2: granted, new token
      new End('release', { from: 'given', key: 'task:a', holder: 'h0', ref: { kind: 'key', i: 0 } }, 'late'), // 3: h0's stale token: refused, orphaned
      new Sweep(), // 4: h1's claim is live: nothing swept
      new End('complete', { from: 'given', key: 'task:a', holder: 'h1', ref: { kind: 'held', i: 0 } }, undefined), // 5: ok
      new Acquire('task:a', 'h2', TTL), // 6: denied: completed by h1
      new Inspect(),
    ];
    const log = await runModel(seq);
    const t0 = (log[0] as { token: number }).token;
    expect(log[0]).toEqual({
      granted: true,
      key: 'task:a',
      slot: 0,
      token: t0,
      expiresAt: START + TTL,
      renewed: false,
    });
    expect(log[1]).toEqual({ granted: false, key: 'task:a', holder: 'h0', expiresAt: START + TTL, state: 'claimed' });
    expect(log[2]).toMatchObject({ granted: true, slot: 0, renewed: false, expiresAt: START + 2 * TTL + 1 });
    expect((log[2] as { token: number }).token).toBeGreaterThan(t0);
    expect(log[3]).toMatchObject({ ok: false });
    expect(log[4]).toBe(0);
    expect(log[5]).toEqual({ ok: true });
    expect(log[6]).toEqual({ granted: false, key: 'task:a', holder: 'h1', expiresAt: null, state: 'completed' });

    // The same sequence against a model that is wrong about the boundary fails at call 1: it
    // predicts a grant at exactly expires_at, where the store denies.
    const boundaryLog: unknown[] = [];
    await expect(runModel(seq, 'expired-at-expiry', boundaryLog)).rejects.toThrow();
    expect(boundaryLog).toHaveLength(2);
    expect(boundaryLog[1]).toMatchObject({ granted: false, holder: 'h0' });
    // ... and against one that forgets orphans, at call 3, the refused release.
    const orphanLog: unknown[] = [];
    await expect(runModel(seq, 'no-orphan', orphanLog)).rejects.toThrow(/orphan/);
    expect(orphanLog).toHaveLength(4);
  });

  test.each(MUTANTS)('the generated sequences catch a model that is wrong in one rule: %s', async (mut) => {
    // Without the whole-state Inspect step: the predicted port results alone must expose the mutant.
    const out = await fc.check(
      fc.asyncProperty(commandsArb(false), async (cmds) => {
        await runModel(cmds, mut);
      }),
      { numRuns: 300, endOnFailure: true },
    );
    expect(out.failed, `mutant ${mut} survived ${out.numRuns} runs`).toBe(true);
  });
});
