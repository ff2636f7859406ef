// Claims under real concurrency, checked Jepsen-style: worker processes race on one SQLite store
// (test/fixtures/claims-worker.mjs, against dist/) while some holders are frozen with SIGSTOP for
// longer than the TTL, so they wake up holding tokens that may have been granted again. Every
// worker writes a history of its operations; afterwards a pure checker reads the histories and
// the store's own record (lock_events, orphans, claims) and looks for violations:
//   (i)   at most one accepted completion per (key, token)
//   (ii)  grant tokens of a key strictly increase in grant order (lock_events id order), and
//         never go back in real time either (an acquire that finished before another began)
//   (iii) no two holders at once: replayed in commit order, and as [at, end] time intervals
//   (iv)  no stale completion or release accepted; every refused one is kept in orphans
//   (v)   nothing ended after its lease ran out: a release then is a no-op answered "expired" (no
//         orphan), a completion is refused (an orphan)
// The checker is tested on hand-made bad records first, so a clean run means something.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { tmpDir } from '../helpers/tmp.js';

const WORKER = path.resolve(import.meta.dirname, '../fixtures/claims-worker.mjs');
const DIST_STORE = path.resolve(import.meta.dirname, '../../dist/adapters/store/sqlite/index.js');

// ---------------------------------------------------------------------------------------------
// The checker: a pure function of the histories and the store's tables.

type Op = 'acquire' | 'renew' | 'release' | 'complete' | 'reopen' | 'done';

/** One line of a worker's history. t_*: µs of the machine's monotonic clock; w_*: Date.now() ms. */
interface HistoryOp {
  worker: string;
  op: Op;
  key: string | null;
  token: number | null;
  /** The store's answer; null when the call threw. */
  ok: boolean | null;
  t_invoke: number;
  t_ok: number;
  w_invoke?: number;
  w_ok?: number;
  renewed?: boolean;
  state?: string | null;
  reason?: string;
  /** renew/release/complete: when the claim had expired, if that was the answer. */
  expiredAt?: number;
  error?: string;
}

interface LockEventRow {
  id: number;
  at: number;
  key: string;
  slot: number | null;
  slots: number | null;
  holder: string;
  epoch: number | null;
  event: 'acquired' | 'renewed' | 'released' | 'completed' | 'expired' | 'denied';
}

interface OrphanDbRow {
  id: number;
  at: number;
  op: 'release' | 'complete';
  key: string;
  holder: string;
  token: number;
  result: string | null;
  reason: string;
}

interface ClaimDbRow {
  key: string;
  slot: number;
  holder: string;
  epoch: number;
  state: 'claimed' | 'released' | 'completed';
  expires_at: number;
  result: string | null;
}

interface CheckInput {
  histories: readonly HistoryOp[];
  lockEvents: readonly LockEventRow[];
  orphans?: readonly OrphanDbRow[];
  claims?: readonly ClaimDbRow[];
  /** Slots per key (the workers use 1). */
  slots?: number;
  /** The TTL every grant and renewal used: an expiry must come after it. */
  ttlMs?: number;
  /** The workers complete with result = String(token): check the completed rows carry it. */
  resultIsToken?: boolean;
}

interface CheckStats {
  grants: number;
  denials: number;
  renewals: number;
  completions: number;
  releases: number;
  expiries: number;
  reopens: number;
  /** Completions and releases the store refused, as the workers saw them. */
  refusals: number;
  /** Refused because the key had been granted again since (the pauses' doing). */
  staleRefusals: number;
  orphans: number;
  /** Calls that threw; busyErrors of them with SQLITE_BUSY. */
  errors: number;
  busyErrors: number;
  /** Releases answered with a no-op because the claim had expired; completions refused for it. */
  expiredReleases: number;
  expiredRefusals: number;
  /** Holds past their TTL ended by the next grant without an 'expired' record. */
  implicitExpiries: number;
}

interface CheckResult {
  violations: string[];
  stats: CheckStats;
}

interface Hold {
  holder: string;
  startId: number;
  startAt: number;
  /** When the hold was granted or last renewed: it expires ttl after this. */
  lastAt: number;
}

function checkHistory(input: CheckInput): CheckResult {
  const slots = input.slots ?? 1;
  const violations: string[] = [];
  const fail = (msg: string) => {
    if (violations.length < 50) violations.push(msg);
  };
  const stats: CheckStats = {
    grants: 0,
    denials: 0,
    renewals: 0,
    completions: 0,
    releases: 0,
    expiries: 0,
    reopens: 0,
    refusals: 0,
    staleRefusals: 0,
    orphans: input.orphans?.length ?? 0,
    errors: 0,
    busyErrors: 0,
    expiredReleases: 0,
    expiredRefusals: 0,
    implicitExpiries: 0,
  };
  const events = [...input.lockEvents].sort((a, b) => a.id - b.id);
  const ek = (key: string, epoch: number | null) => `${key}#${epoch}`;

  // Replay the store's record in commit order.
  const open = new Map<string, Map<number, Hold>>();
  const lastGrant = new Map<string, number>();
  const ended = new Map<string, LockEventRow['event'] | 'reopened'>(); // key#epoch -> how the hold ended
  const completedKey = new Set<string>(); // keys completed and not reopened yet
  const completions = new Map<string, number>(); // key#epoch -> accepted completions
  const intervals = new Map<string, { start: number; end: number; epoch: number }[]>();
  const byKeyEpochEvent = new Map<string, LockEventRow[]>(); // key#epoch#event -> rows
  const seenTokens = new Map<number, string>();
  let lastGlobalToken = -Infinity;
  let lastAt = -Infinity;
  for (const e of events) {
    const tag = `${e.event} ${e.key}#${e.epoch} by ${e.holder} (lock_events id ${e.id})`;
    if (e.at < lastAt) fail(`lock_events go back in time at ${tag}: ${e.at} after ${lastAt}`);
    lastAt = Math.max(lastAt, e.at);
    const list = byKeyEpochEvent.get(`${ek(e.key, e.epoch)}#${e.event}`) ?? [];
    list.push(e);
    byKeyEpochEvent.set(`${ek(e.key, e.epoch)}#${e.event}`, list);
    let held = open.get(e.key);
    if (!held) open.set(e.key, (held = new Map()));
    const hold = e.epoch === null ? undefined : held.get(e.epoch);
    const close = () => {
      held.delete(e.epoch!);
      const iv = intervals.get(e.key) ?? [];
      iv.push({ start: hold!.startAt, end: e.at, epoch: e.epoch! });
      intervals.set(e.key, iv);
      ended.set(ek(e.key, e.epoch), e.event);
    };
    switch (e.event) {
      case 'acquired': {
        stats.grants++;
        if (e.epoch === null) {
          fail(`grant without a token: ${tag}`);
          break;
        }
        // A hold whose TTL had run out ends at the next grant even if no 'expired' was logged.
        for (const [epoch, h] of input.ttlMs === undefined ? [] : [...held]) {
          if (e.at <= h.lastAt + input.ttlMs!) continue;
          held.delete(epoch);
          intervals.set(e.key, [...(intervals.get(e.key) ?? []), { start: h.startAt, end: e.at, epoch }]);
          ended.set(ek(e.key, epoch), 'expired');
          stats.implicitExpiries++;
        }
        if (held.size >= (e.slots ?? slots)) {
          const others = [...held].map(([epoch, h]) => `${epoch} (${h.holder}, since id ${h.startId})`).join(', ');
          fail(`(iii) two holders at once: ${tag} while ${others} still held ${e.key}`);
        }
        if (completedKey.has(e.key)) fail(`granted while completed: ${tag}`);
        const prev = lastGrant.get(e.key);
        if (prev !== undefined && e.epoch <= prev) fail(`(ii) token did not increase: ${tag} after token ${prev}`);
        const other = seenTokens.get(e.epoch);
        if (other !== undefined) fail(`token ${e.epoch} issued twice: ${tag}, and before for ${other}`);
        else if (e.epoch <= lastGlobalToken)
          fail(`(ii) the fence sequence went back: ${tag} after token ${lastGlobalToken}`);
        seenTokens.set(e.epoch, e.key);
        lastGlobalToken = Math.max(lastGlobalToken, e.epoch);
        lastGrant.set(e.key, e.epoch);
        held.set(e.epoch, { holder: e.holder, startId: e.id, startAt: e.at, lastAt: e.at });
        break;
      }
      case 'renewed':
        stats.renewals++;
        if (!hold || hold.holder !== e.holder) fail(`renewal of a claim not held: ${tag}`);
        else hold.lastAt = e.at;
        break;
      case 'completed':
      case 'released':
        if (e.event === 'completed') {
          stats.completions++;
          const n = (completions.get(ek(e.key, e.epoch)) ?? 0) + 1;
          completions.set(ek(e.key, e.epoch), n);
          if (n > 1) fail(`(i) completed twice: ${tag}`);
        }
        if (hold && hold.holder === e.holder) {
          if (slots === 1 && lastGrant.get(e.key) !== e.epoch)
            fail(`(iv) ${e.event} with a token not current: ${tag}, current ${lastGrant.get(e.key)}`);
          if (input.ttlMs !== undefined && e.at > hold.lastAt + input.ttlMs)
            fail(
              `(v) ${e.event} after its lease ran out: ${tag} at ${e.at}, granted/renewed at ${hold.lastAt} with TTL ${input.ttlMs}`,
            );
          if (e.event === 'completed') completedKey.add(e.key);
          else stats.releases++;
          close();
        } else if (e.event === 'released' && ended.get(ek(e.key, e.epoch)) === 'completed') {
          // reopen: a completed key made claimable again
          stats.reopens++;
          completedKey.delete(e.key);
          ended.set(ek(e.key, e.epoch), 'reopened');
        } else {
          fail(
            `(iv) stale ${e.event === 'completed' ? 'completion' : 'release'} accepted: ${tag}, key held by ${[...held.keys()].join(',') || 'nobody'}, last granted ${lastGrant.get(e.key)}`,
          );
        }
        break;
      case 'expired':
        stats.expiries++;
        if (!hold) {
          fail(`expiry of a claim not held: ${tag}`);
          break;
        }
        if (input.ttlMs !== undefined && e.at <= hold.lastAt + input.ttlMs) {
          fail(`expired early: ${tag} at ${e.at}, but granted/renewed at ${hold.lastAt} with TTL ${input.ttlMs}`);
        }
        close();
        break;
      case 'denied':
        stats.denials++;
        if (held.size < (e.slots ?? slots) && !completedKey.has(e.key)) fail(`denied although free: ${tag}`);
        break;
      default:
        fail(`unknown lock event: ${tag}`);
    }
  }
  for (const [key, held] of open) {
    for (const [epoch, h] of held) {
      const iv = intervals.get(key) ?? [];
      iv.push({ start: h.startAt, end: Infinity, epoch });
      intervals.set(key, iv);
    }
  }

  // (iii) in time: the holds' [start, end] intervals never overlap beyond the slots.
  for (const [key, iv] of intervals) {
    const points = iv.flatMap((h) => [
      { t: h.start, d: 1, epoch: h.epoch },
      { t: h.end, d: -1, epoch: h.epoch },
    ]);
    points.sort((a, b) => a.t - b.t || a.d - b.d); // at the same ms, an end before a start
    let n = 0;
    const live = new Set<number>();
    for (const p of points) {
      n += p.d;
      if (p.d > 0) live.add(p.epoch);
      else live.delete(p.epoch);
      if (n > slots) fail(`(iii) ${key} held by ${n} at ${p.t}: tokens ${[...live].join(', ')}`);
    }
  }

  // The histories against the record.
  const matched = new Set<LockEventRow>();
  const claimEvent = (h: HistoryOp, event: LockEventRow['event'], what: string) => {
    const rows = (byKeyEpochEvent.get(`${ek(h.key!, h.token)}#${event}`) ?? []).filter(
      (r) => r.holder === h.worker && !matched.has(r),
    );
    const inWindow = rows.find(
      (r) => h.w_invoke === undefined || h.w_ok === undefined || (r.at >= h.w_invoke && r.at <= h.w_ok),
    );
    if (!inWindow) {
      fail(
        `${what} ${h.op} of ${h.key} token ${h.token} by ${h.worker} has no '${event}' lock event${rows.length ? ' within its call' : ''}`,
      );
      return;
    }
    matched.add(inWindow);
  };
  const orphanPool = new Map<string, number>();
  for (const o of input.orphans ?? []) {
    const k = `${o.op}|${o.key}|${o.holder}|${o.token}`;
    orphanPool.set(k, (orphanPool.get(k) ?? 0) + 1);
  }
  const okCompletions = new Map<string, number>();
  const grantsByKey = new Map<string, HistoryOp[]>();
  for (const h of input.histories) {
    if (h.op === 'done') continue;
    if (h.ok === null) {
      stats.errors++;
      if (h.error?.startsWith('SQLITE_BUSY') || h.error === 'SQLITE_LOCKED') stats.busyErrors++;
      continue;
    }
    switch (h.op) {
      case 'acquire':
        if (h.ok) {
          claimEvent(h, h.renewed ? 'renewed' : 'acquired', 'granted');
          if (!h.renewed) grantsByKey.set(h.key!, [...(grantsByKey.get(h.key!) ?? []), h]);
        }
        break;
      case 'renew':
        if (h.ok) claimEvent(h, 'renewed', 'accepted');
        break;
      case 'complete':
      case 'release':
        if (h.ok && h.expiredAt !== undefined) {
          // A no-op: the claim had expired (its 'expired' record is the sweeper's or this call's).
          stats.expiredReleases++;
          if (h.op !== 'release')
            fail(`(v) ${h.worker}'s ${h.op} of ${h.key} token ${h.token} was accepted as expired`);
          if (h.w_ok !== undefined && h.expiredAt >= h.w_ok)
            fail(
              `(v) ${h.worker}'s release of ${h.key} token ${h.token} answered "expired at ${h.expiredAt}" by ${h.w_ok}`,
            );
        } else if (h.ok) {
          claimEvent(h, h.op === 'complete' ? 'completed' : 'released', 'accepted');
          if (h.op === 'complete') {
            const n = (okCompletions.get(ek(h.key!, h.token)) ?? 0) + 1;
            okCompletions.set(ek(h.key!, h.token), n);
            if (n > 1) fail(`(i) ${h.worker} saw a second accepted completion of ${h.key} token ${h.token}`);
          }
        } else {
          stats.refusals++;
          if (/not current|held by/.test(h.reason ?? '')) stats.staleRefusals++;
          if (h.expiredAt !== undefined) stats.expiredRefusals++;
          const k = `${h.op}|${h.key}|${h.worker}|${h.token}`;
          const left = orphanPool.get(k) ?? 0;
          if (left > 0) orphanPool.set(k, left - 1);
          else fail(`(iv) refused ${h.op} of ${h.key} token ${h.token} by ${h.worker} is not in orphans`);
        }
        break;
      case 'reopen':
        break;
    }
  }
  for (const [k, n] of orphanPool) if (n > 0) fail(`orphan ${k} matches no refused operation in the histories`);
  // Every grant, renewal and end in the record was seen by the worker that made it.
  const workers = new Set(input.histories.map((h) => h.worker));
  for (const e of events) {
    if (e.event === 'denied' || e.event === 'expired' || matched.has(e) || !workers.has(e.holder)) continue;
    if (e.event === 'released' && ended.get(ek(e.key, e.epoch)) === 'reopened') continue; // written by reopen
    fail(`${e.event} ${e.key}#${e.epoch} by ${e.holder} (id ${e.id}) is in lock_events but in no history`);
  }

  // (ii) and (iv) in real time, from the histories alone: once an acquire returned token T, any
  // acquire invoked later gets a larger token, and any completion/release invoked later with a
  // smaller token must be refused.
  const grantedBefore = new Map<string, { t: number; max: number }[]>(); // by t_ok, running max token
  for (const [key, gs] of grantsByKey) {
    const sorted = [...gs].sort((a, b) => a.t_ok - b.t_ok);
    let max = -Infinity;
    grantedBefore.set(
      key,
      sorted.map((g) => ({ t: g.t_ok, max: (max = Math.max(max, g.token!)) })),
    );
  }
  const maxGrantedBefore = (key: string, t: number): number => {
    const list = grantedBefore.get(key) ?? [];
    let lo = 0;
    let hi = list.length; // first index with list[i].t >= t
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.t < t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? -Infinity : list[lo - 1]!.max;
  };
  for (const h of input.histories) {
    if (!h.ok || h.token === null || h.key === null) continue;
    const before = maxGrantedBefore(h.key, h.t_invoke);
    if (h.op === 'acquire' && !h.renewed && before >= h.token) {
      fail(`(ii) ${h.worker} was granted ${h.key} token ${h.token} after token ${before} had been returned to someone`);
    }
    if ((h.op === 'complete' || h.op === 'release') && before > h.token) {
      fail(
        `(iv) stale ${h.op} accepted: ${h.worker} with ${h.key} token ${h.token} after token ${before} had been granted`,
      );
    }
  }

  // The final claims table agrees with the replay.
  for (const c of input.claims ?? []) {
    const tag = `claims row ${c.key}/${c.slot} (${c.state}, token ${c.epoch}, ${c.holder})`;
    if (lastGrant.get(c.key) !== c.epoch && slots === 1)
      fail(`${tag}: the last grant in lock_events is ${lastGrant.get(c.key)}`);
    const isOpen = open.get(c.key)?.has(c.epoch) ?? false;
    if ((c.state === 'claimed') !== isOpen) fail(`${tag}: lock_events say the hold is ${isOpen ? 'open' : 'closed'}`);
    if (c.state === 'completed') {
      if (ended.get(ek(c.key, c.epoch)) !== 'completed')
        fail(`${tag}: lock_events say ${ended.get(ek(c.key, c.epoch))}`);
      if (input.resultIsToken && c.result !== String(c.epoch)) fail(`${tag}: result ${c.result}, not its token`);
    }
  }
  return { violations, stats };
}

// ---------------------------------------------------------------------------------------------

describe('the history checker', () => {
  let nextId = 1;
  const ev = (
    event: LockEventRow['event'],
    key: string,
    holder: string,
    epoch: number | null,
    at: number,
  ): LockEventRow => ({
    id: nextId++,
    at,
    key,
    slot: epoch === null ? null : 0,
    slots: event === 'acquired' || event === 'denied' ? 1 : null,
    holder,
    epoch,
    event,
  });
  const op = (
    worker: string,
    o: Op,
    key: string,
    token: number | null,
    ok: boolean,
    t: number,
    extra: Partial<HistoryOp> = {},
  ): HistoryOp => ({
    worker,
    op: o,
    key,
    token,
    ok,
    t_invoke: t * 1000,
    t_ok: t * 1000 + 500,
    w_invoke: t,
    w_ok: t + 1,
    ...extra,
  });

  test('a clean history passes', () => {
    const r = checkHistory({
      ttlMs: 300,
      resultIsToken: true,
      histories: [
        op('a', 'acquire', 'k', 1, true, 100),
        op('a', 'complete', 'k', 1, true, 110),
        op('b', 'acquire', 'k', null, false, 120, { state: 'completed' }),
        op('b', 'reopen', 'k', null, true, 121),
        op('b', 'acquire', 'k', 2, true, 130),
        op('c', 'acquire', 'k', 3, true, 500),
        op('b', 'release', 'k', 2, false, 600, {
          reason: 'token 2 is not current for k (re-granted since, or never granted)',
        }),
        op('c', 'complete', 'k', 3, true, 610),
        op('c', 'acquire', 'k2', 4, true, 700),
        op('c', 'release', 'k2', 4, true, 1100, { expiredAt: 1000 }),
        op('c', 'acquire', 'k3', 5, true, 700),
        op('c', 'complete', 'k3', 5, false, 1100, { reason: 'k3 with token 5 has expired', expiredAt: 1000 }),
      ],
      lockEvents: [
        ev('acquired', 'k', 'a', 1, 100),
        ev('completed', 'k', 'a', 1, 110),
        ev('denied', 'k', 'b', null, 120),
        ev('released', 'k', 'a', 1, 121),
        ev('acquired', 'k', 'b', 2, 130),
        ev('expired', 'k', 'b', 2, 500),
        ev('acquired', 'k', 'c', 3, 500),
        ev('completed', 'k', 'c', 3, 610),
        ev('acquired', 'k2', 'c', 4, 700),
        ev('acquired', 'k3', 'c', 5, 700),
        ev('expired', 'k2', 'c', 4, 1100),
        ev('expired', 'k3', 'c', 5, 1100),
      ],
      orphans: [
        {
          id: 1,
          at: 600,
          op: 'release',
          key: 'k',
          holder: 'b',
          token: 2,
          result: '2',
          reason: 'token 2 is not current for k',
        },
        {
          id: 2,
          at: 1100,
          op: 'complete',
          key: 'k3',
          holder: 'c',
          token: 5,
          result: '5',
          reason: 'k3 with token 5 has expired',
        },
      ],
      claims: [{ key: 'k', slot: 0, holder: 'c', epoch: 3, state: 'completed', expires_at: 800, result: '3' }],
    });
    expect(r.violations).toEqual([]);
    expect(r.stats).toMatchObject({
      grants: 5,
      completions: 2,
      reopens: 1,
      expiries: 3,
      refusals: 2,
      staleRefusals: 1,
      expiredReleases: 1,
      expiredRefusals: 1,
      orphans: 2,
    });
  });

  test('a completion accepted after the lease ran out, and a release answered "expired" while it was live', () => {
    const r = checkHistory({
      ttlMs: 300,
      histories: [
        op('a', 'acquire', 'k', 1, true, 100),
        op('a', 'complete', 'k', 1, true, 500),
        op('b', 'acquire', 'j', 2, true, 100),
        op('b', 'release', 'j', 2, true, 200, { expiredAt: 400 }),
      ],
      lockEvents: [
        ev('acquired', 'k', 'a', 1, 100),
        ev('acquired', 'j', 'b', 2, 100),
        ev('completed', 'k', 'a', 1, 500),
      ],
    });
    expect(r.violations.some((v) => v.startsWith('(v) completed after its lease ran out'))).toBe(true);
    expect(r.violations.some((v) => v.startsWith(`(v) b's release of j token 2 answered "expired at 400"`))).toBe(true);
  });

  test('two overlapping holders', () => {
    const r = checkHistory({
      histories: [],
      lockEvents: [
        ev('acquired', 'k', 'a', 1, 100),
        ev('acquired', 'k', 'b', 2, 150),
        ev('released', 'k', 'b', 2, 160),
        ev('released', 'k', 'a', 1, 200),
      ],
    });
    expect(r.violations.some((v) => v.startsWith('(iii) two holders at once'))).toBe(true);
    expect(r.violations.some((v) => /^\(iii\) k held by 2/.test(v))).toBe(true);
  });

  test('holds that overlap in time although the log order looks fine', () => {
    // The second grant is logged after the first release, but stamped earlier than it.
    const r = checkHistory({
      histories: [],
      lockEvents: [
        ev('acquired', 'k', 'a', 1, 100),
        ev('released', 'k', 'a', 1, 200),
        ev('acquired', 'k', 'b', 2, 150),
        ev('released', 'k', 'b', 2, 250),
      ],
    });
    expect(r.violations.some((v) => /^\(iii\) k held by 2/.test(v))).toBe(true);
  });

  test('a grant after the TTL ran out ends the old hold even without an expiry record; before it, it is a double grant', () => {
    const late = checkHistory({
      ttlMs: 300,
      histories: [],
      lockEvents: [ev('acquired', 'k', 'a', 1, 100), ev('acquired', 'k', 'b', 2, 401)],
    });
    expect(late.violations).toEqual([]);
    expect(late.stats.implicitExpiries).toBe(1);
    const early = checkHistory({
      ttlMs: 300,
      histories: [],
      lockEvents: [ev('acquired', 'k', 'a', 1, 100), ev('acquired', 'k', 'b', 2, 400)],
    });
    expect(early.violations.some((v) => v.startsWith('(iii) two holders at once'))).toBe(true);
  });

  test('an expiry before the TTL ran out', () => {
    const r = checkHistory({
      ttlMs: 300,
      histories: [],
      lockEvents: [ev('acquired', 'k', 'a', 1, 100), ev('expired', 'k', 'a', 1, 350), ev('acquired', 'k', 'b', 2, 350)],
    });
    expect(r.violations.some((v) => v.startsWith('expired early'))).toBe(true);
  });

  test('a token that does not increase', () => {
    const r = checkHistory({
      histories: [op('a', 'acquire', 'k', 5, true, 100), op('b', 'acquire', 'k', 3, true, 200)],
      lockEvents: [
        ev('acquired', 'k', 'a', 5, 100),
        ev('released', 'k', 'a', 5, 150),
        ev('acquired', 'k', 'b', 3, 200),
      ],
    });
    expect(r.violations.some((v) => v.startsWith('(ii) token did not increase'))).toBe(true);
    expect(r.violations.some((v) => v.startsWith('(ii) b was granted k token 3 after token 5'))).toBe(true);
  });

  test('a double completion', () => {
    const r = checkHistory({
      histories: [
        op('a', 'acquire', 'k', 7, true, 100),
        op('a', 'complete', 'k', 7, true, 110),
        op('a', 'complete', 'k', 7, true, 120),
      ],
      lockEvents: [
        ev('acquired', 'k', 'a', 7, 100),
        ev('completed', 'k', 'a', 7, 110),
        ev('completed', 'k', 'a', 7, 120),
      ],
    });
    expect(r.violations.some((v) => v.startsWith('(i) completed twice'))).toBe(true);
    expect(r.violations.some((v) => v.startsWith('(i) a saw a second accepted completion'))).toBe(true);
  });

  test('a stale completion accepted, and a refusal that left no orphan', () => {
    const r = checkHistory({
      histories: [
        op('a', 'acquire', 'k', 1, true, 100),
        op('b', 'acquire', 'k', 2, true, 500),
        op('a', 'complete', 'k', 1, true, 600),
        op('b', 'release', 'k', 2, false, 700, { reason: 'whatever' }),
      ],
      lockEvents: [
        ev('acquired', 'k', 'a', 1, 100),
        ev('expired', 'k', 'a', 1, 500),
        ev('acquired', 'k', 'b', 2, 500),
        ev('completed', 'k', 'a', 1, 600),
      ],
      orphans: [],
    });
    expect(r.violations.some((v) => v.startsWith('(iv) stale completion accepted'))).toBe(true);
    expect(r.violations.some((v) => v.startsWith('(iv) stale complete accepted: a with k token 1 after token 2'))).toBe(
      true,
    );
    expect(r.violations.some((v) => v.startsWith('(iv) refused release of k token 2 by b is not in orphans'))).toBe(
      true,
    );
  });
});

// ---------------------------------------------------------------------------------------------

const WORKERS = 6;
const KEYS = Array.from({ length: 8 }, (_, i) => `task:k${i}`);
const TTL_MS = 300;
const DURATION_MS = 7000;

describe('claims under real concurrency', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    // Even on failure: wake any frozen worker and kill it.
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      try {
        c.kill('SIGCONT');
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  test(`${WORKERS} workers × ${KEYS.length} keys, holders frozen past the TTL: the history checks out`, async () => {
    if (!existsSync(DIST_STORE)) throw new Error(`${DIST_STORE} is missing: run "npm run build" first`);
    const dir = tmpDir('lk-claims-conc-');
    const state = path.join(dir, 'state');
    const seed = Date.now() % 1_000_000;
    const historyFiles: string[] = [];
    const stderr: string[] = [];
    const exits: Promise<number | null>[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const out = path.join(dir, `history-w${i}.jsonl`);
      historyFiles.push(out);
      const c = spawn(
        process.execPath,
        [
          WORKER,
          '--dir',
          state,
          '--id',
          `w${i}`,
          '--keys',
          KEYS.join(','),
          '--seed',
          String(seed + i),
          '--ttl',
          String(TTL_MS),
          '--duration',
          String(DURATION_MS),
          '--out',
          out,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      stderr[i] = '';
      c.stderr!.on('data', (d: Buffer) => (stderr[i] += d.toString()));
      exits.push(new Promise((resolve) => c.on('exit', (code) => resolve(code))));
      children.push(c);
    }
    const workerOf = new Map(children.map((c, i) => [`w${i}`, c]));

    // Freeze holders: every ~300 ms, SIGSTOP one that holds a claim for 1.5–3.5 TTLs, then SIGCONT.
    const dbFile = path.join(state, 'lanekeeper.db');
    const paused = new Set<string>();
    const pauses: { worker: string; ms: number }[] = [];
    const resumes: Promise<void>[] = [];
    const pauseUntil = Date.now() + DURATION_MS - 1200;
    let reader: Database.Database | null = null;
    try {
      while (Date.now() < pauseUntil && children.every((c) => c.exitCode === null)) {
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 200));
        if (!reader) {
          if (!existsSync(dbFile)) continue;
          try {
            reader = new Database(dbFile, { readonly: true, fileMustExist: true, timeout: 2000 });
          } catch {
            continue;
          }
        }
        let holders: string[];
        try {
          holders = reader
            .prepare(`SELECT holder FROM claims WHERE state = 'claimed' AND expires_at >= ?`)
            .pluck()
            .all(Date.now()) as string[];
        } catch {
          continue; // e.g. the schema is not there yet
        }
        const candidates = holders.filter((h) => !paused.has(h) && workerOf.has(h));
        if (paused.size >= 2 || candidates.length === 0) continue;
        const worker = candidates[Math.floor(Math.random() * candidates.length)]!;
        const child = workerOf.get(worker)!;
        const ms = Math.round(TTL_MS * (1.5 + Math.random() * 2));
        child.kill('SIGSTOP');
        paused.add(worker);
        pauses.push({ worker, ms });
        resumes.push(
          new Promise<void>((resolve) =>
            setTimeout(() => {
              child.kill('SIGCONT');
              paused.delete(worker);
              resolve();
            }, ms),
          ),
        );
      }
    } finally {
      reader?.close();
    }
    await Promise.all(resumes);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), DURATION_MS + 15_000)),
    );
    const codes = await Promise.race([Promise.all(exits), timeout]);
    clearTimeout(timer);
    if (codes === 'timeout') throw new Error(`workers did not finish:\n${stderr.join('\n')}`);
    expect(codes, stderr.join('\n')).toEqual(Array(WORKERS).fill(0));

    const histories: HistoryOp[] = [];
    for (const f of historyFiles) {
      const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
      const ops = lines.map((l) => JSON.parse(l) as HistoryOp);
      expect(ops.at(-1)?.op, `${f} ends with done`).toBe('done');
      histories.push(...ops);
    }
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    const lockEvents = db
      .prepare('SELECT id, at, key, slot, slots, holder, epoch, event FROM lock_events ORDER BY id')
      .all() as LockEventRow[];
    const orphans = db
      .prepare('SELECT id, at, op, key, holder, token, result, reason FROM orphans ORDER BY id')
      .all() as OrphanDbRow[];
    const claims = db
      .prepare('SELECT key, slot, holder, epoch, state, expires_at, result FROM claims')
      .all() as ClaimDbRow[];
    db.close();

    const { violations, stats } = checkHistory({
      histories,
      lockEvents,
      orphans,
      claims,
      slots: 1,
      ttlMs: TTL_MS,
      resultIsToken: true,
    });
    const summary = { seed, pauses: pauses.length, ops: histories.length, ...stats };
    console.log(`claims concurrency: ${JSON.stringify(summary)}`);
    if (violations.length)
      throw new Error(
        `${violations.length} violations (${JSON.stringify(summary)}):\n${violations.slice(0, 15).join('\n')}`,
      );
    // Not vacuous: real churn, real pauses, stale tokens refused, completed keys reopened.
    expect(pauses.length).toBeGreaterThan(3);
    expect(stats.grants).toBeGreaterThan(200);
    expect(stats.completions).toBeGreaterThan(10);
    expect(stats.reopens).toBeGreaterThan(0);
    expect(stats.staleRefusals).toBeGreaterThan(0);
    expect(stats.expiries).toBeGreaterThan(0);
    expect(stats.implicitExpiries).toBe(0); // this store records every expiry
    expect(stats.errors).toBe(0);
  });
});
