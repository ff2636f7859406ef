// TTL claims with fencing tokens on PostgreSQL: the ClaimsPort over the statements of
// claims-sql.ts. Same contract as the SQLite store (sqlite/claims.ts); what differs is how it is
// kept under concurrency from many hosts: each operation is one statement that takes row locks,
// tokens come from a SEQUENCE (never reissued, even after rows are deleted or a grant rolls back),
// and every time is the database's clock, so hosts with skewed clocks still agree on expiry.
// One-slot acquires, releases and completions run a lean statement first (one round trip, a
// fraction of the server's work); only when it could not decide (a racing writer, a stale token,
// a key with several slots) is it asked again or the full statement run.
import { decideAcquire, LOCK_RECORD_SKEW_MS } from '../claim-rules.js';
import type {
  AcquireResult,
  ClaimRow,
  ClaimState,
  ClaimsPort,
  FencedResult,
  LockRecord,
  OrphanRow,
} from '../../../ports/store.js';
import * as sql from './claims-sql.js';
import type { Db } from './db.js';

interface AcquireRow {
  slot: number | null;
  token: number | null;
  expires_at: number | null;
  renewed: boolean | null;
  done_by: string | null;
  held_by: string | null;
  held_until: number | null;
}

/** A row of ACQUIRE_ONE: the clock, the grant if any, and one of the key's rows (slot null: none). */
interface AcquireOneRow {
  now: number;
  got_slot: number | null;
  token: number | null;
  token_expires: number | null;
  renewed: boolean | null;
  slot: number | null;
  holder: string;
  state: ClaimState;
  expires_at: number;
}

/** How often an acquire that lost the race for a new slot row runs again before giving up. */
const ACQUIRE_TRIES = 5;
/**
 * How often a one-slot acquire asks ACQUIRE_ONE before the full statement: a row being changed
 * right now (a racing grant, mostly) is usually settled by the next ask.
 */
const ONE_TRIES = 3;

/**
 * The port: each operation is a named statement or two, run here; the acquire, which may ask
 * several times, and the fenced release and completion are their own functions below.
 */
export function postgresClaims(db: Db): ClaimsPort {
  return {
    async acquire({ key, holder, ttlMs, slots = 1, keep = false }) {
      return acquire(db, key, holder, ttlMs, slots, keep);
    },
    async renew({ key, holder, token, ttlMs }) {
      const r = (await db.row<{ expires_at: number | null; reason: string | null; expired_at: number | null }>(
        'lk_claims_renew',
        sql.RENEW,
        [key, holder, token, ttlMs === undefined ? null : Math.round(ttlMs)],
      ))!;
      return r.expires_at !== null
        ? { ok: true, expiresAt: r.expires_at }
        : { ok: false, reason: r.reason!, ...expired(r.expired_at) };
    },
    async release({ key, holder, token, result }) {
      return finish(db, key, holder, token, result ?? null, 'release');
    },
    async complete({ key, holder, token, result }) {
      return finish(db, key, holder, token, result ?? null, 'complete');
    },
    async reopen({ key }) {
      const r = (await db.row<{ reopened: number; state: ClaimState | null }>('lk_claims_reopen', sql.REOPEN, [key]))!;
      return r.reopened > 0 ? { reopened: true, state: 'released' } : { reopened: false, state: r.state };
    },
    async renewHolder(holder) {
      const r = (await db.row<{ renewed: number; lost: string[]; held: string[] }>(
        'lk_claims_renew_holder',
        sql.RENEW_HOLDER,
        [holder],
      ))!;
      return { renewed: r.renewed, lost: r.lost, held: r.held };
    },
    async releaseHolder(holder, opts = {}) {
      const rows = await db.rows<{ key: string }>(
        'lk_claims_release_holder',
        sql.RELEASE_HOLDER,
        [holder, [...(opts.except ?? [])]],
        { name: 'lk_claims_released_holder', text: sql.RELEASED_HOLDER },
      );
      return rows.map((r) => r.key);
    },
    async list(opts = {}) {
      const rows = opts.all
        ? await db.rows<ClaimRow>('lk_claims_list_all', sql.LIST_ALL)
        : opts.completed
          ? await db.rows<ClaimRow>('lk_claims_list_blocking', sql.LIST_BLOCKING)
          : await db.rows<ClaimRow>('lk_claims_list_held', sql.LIST_HELD);
      return opts.holder ? rows.filter((r) => r.holder === opts.holder) : rows;
    },
    async sweep() {
      return (await db.row<{ swept: number }>('lk_claims_sweep', sql.SWEEP))!.swept;
    },
    async lockRecords(opts = {}) {
      return db.rows<LockRecord>('lk_claims_lock_records', sql.LOCK_RECORDS, [opts.since ?? 0, LOCK_RECORD_SKEW_MS]);
    },
    async orphans(opts = {}) {
      return db.rows<OrphanRow>('lk_claims_orphans', sql.ORPHANS, [opts.since ?? 0]);
    },
  };
}

/**
 * An acquire: for one slot, the lean ACQUIRE_ONE first (a few asks); then the full statement,
 * again while a racing insert took the slot it chose.
 */
async function acquire(
  db: Db,
  key: string,
  holder: string,
  ttlMs: number,
  slots: number,
  keep: boolean,
): Promise<AcquireResult> {
  for (let i = 0; slots === 1 && i < ONE_TRIES; i++) {
    const r = await acquireOne(db, key, holder, ttlMs, keep);
    if (r === 'other slots') break;
    if (r) return r;
  }
  for (let i = 0; i < ACQUIRE_TRIES; i++) {
    const r = (await db.row<AcquireRow>('lk_claims_acquire', sql.ACQUIRE, [
      key,
      holder,
      Math.round(ttlMs),
      slots,
      keep ? 1 : 0,
    ]))!;
    if (r.token !== null)
      return {
        granted: true,
        key,
        slot: r.slot!,
        token: r.token,
        expiresAt: r.expires_at!,
        renewed: r.renewed === true,
      };
    if (r.done_by !== null) return { granted: false, key, holder: r.done_by, expiresAt: null, state: 'completed' };
    if (r.held_by !== null)
      return { granted: false, key, holder: r.held_by, expiresAt: r.held_until, state: 'claimed' };
    // The slot was taken by a row inserted after this statement's snapshot: look again.
  }
  throw new Error(`claim on ${key}: lost the race for a new slot ${ACQUIRE_TRIES} times in a row`);
}

/**
 * One ACQUIRE_ONE: the answer, or null when its rows changed meanwhile (ask again), or 'other
 * slots' when the key has rows beyond slot 0 (the full statement decides).
 */
async function acquireOne(
  db: Db,
  key: string,
  holder: string,
  ttlMs: number,
  keep: boolean,
): Promise<AcquireResult | null | 'other slots'> {
  const rows = await db.rows<AcquireOneRow>('lk_claims_acquire_one', sql.ACQUIRE_ONE, [
    key,
    holder,
    Math.round(ttlMs),
    keep ? 1 : 0,
  ]);
  const r = rows[0]!;
  if (r.token !== null)
    return {
      granted: true,
      key,
      slot: r.got_slot!,
      token: r.token,
      expiresAt: r.token_expires!,
      renewed: r.renewed === true,
    };
  const seen = rows.filter((x): x is AcquireOneRow & { slot: number } => x.slot !== null);
  // A denial on these rows is true at that instant.
  const d = decideAcquire(key, seen, holder, 1, r.now);
  if (d.kind === 'deny') return d.result;
  return seen.some((x) => x.slot !== 0) ? 'other slots' : null;
}

async function finish(
  db: Db,
  key: string,
  holder: string,
  token: number,
  result: string | null,
  op: 'release' | 'complete',
): Promise<FencedResult> {
  const state = op === 'release' ? 'released' : 'completed';
  const one = (await db.row<{ finished: number }>(
    'lk_claims_finish_one',
    sql.FINISH_ONE,
    [key, holder, token, result, state],
    { name: 'lk_claims_finished', text: sql.FINISHED },
  ))!;
  if (one.finished > 0) return { ok: true };
  // A stale token or an expired claim: the full statement decides, and keeps the orphan if refused.
  const r = (await db.row<{ finished: number; reason: string | null; expired_at: number | null }>(
    'lk_claims_finish',
    sql.FINISH,
    [key, holder, token, result, state, op],
    {
      name: 'lk_claims_finished',
      text: sql.FINISHED,
      values: [key, holder, token, result, state],
    },
  ))!;
  if (r.finished > 0) return { ok: true };
  // An expired claim has nothing left to give back: its release is a no-op.
  if (op === 'release' && r.expired_at != null) return { ok: true, expiredAt: r.expired_at };
  return { ok: false, reason: r.reason!, ...expired(r.expired_at ?? null) };
}

/** `expiredAt` for a refusal, when the claim's lease ran out. */
function expired(at: number | null): { expiredAt?: number } {
  return at === null ? {} : { expiredAt: at };
}
