// TTL claims with fencing tokens on PostgreSQL: the ClaimsPort over the statements of
// claims-sql.ts. Same contract as the SQLite store (sqlite/claims.ts); what differs is how it is
// kept under concurrency from many hosts: each operation is one statement that takes row locks,
// tokens come from a SEQUENCE (never reissued, even after rows are deleted or a grant rolls back),
// and every time is the database's clock, so hosts with skewed clocks still agree on expiry.
import type { AcquireResult, ClaimRow, ClaimState, ClaimsPort, LockRecord, OrphanRow } from '../ports.js';
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

/** How often an acquire that lost the race for a new slot row runs again before giving up. */
const ACQUIRE_TRIES = 5;

export function postgresClaims(db: Db): ClaimsPort {
  return {
    async acquire({ key, holder, ttlMs, slots = 1, keep = false }): Promise<AcquireResult> {
      for (let i = 0; i < ACQUIRE_TRIES; i++) {
        const r = (await db.row<AcquireRow>('lk_claims_acquire', sql.ACQUIRE, [key, holder, Math.round(ttlMs), slots, keep ? 1 : 0]))!;
        if (r.token !== null) return { granted: true, key, slot: r.slot!, token: r.token, expiresAt: r.expires_at!, renewed: r.renewed === true };
        if (r.done_by !== null) return { granted: false, key, holder: r.done_by, expiresAt: null, state: 'completed' };
        if (r.held_by !== null) return { granted: false, key, holder: r.held_by, expiresAt: r.held_until, state: 'claimed' };
        // The slot was taken by a row inserted after this statement's snapshot: look again.
      }
      throw new Error(`claim on ${key}: lost the race for a new slot ${ACQUIRE_TRIES} times in a row`);
    },
    async renew({ key, holder, token, ttlMs }) {
      const r = (await db.row<{ expires_at: number | null; reason: string | null }>('lk_claims_renew', sql.RENEW, [key, holder, token, ttlMs === undefined ? null : Math.round(ttlMs)]))!;
      return r.expires_at !== null ? { ok: true, expiresAt: r.expires_at } : { ok: false, reason: r.reason! };
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
      const r = (await db.row<{ renewed: number; lost: string[]; held: string[] }>('lk_claims_renew_holder', sql.RENEW_HOLDER, [holder]))!;
      return { renewed: r.renewed, lost: r.lost, held: r.held };
    },
    async releaseHolder(holder, opts = {}) {
      const rows = await db.rows<{ key: string }>('lk_claims_release_holder', sql.RELEASE_HOLDER, [holder, [...(opts.except ?? [])]]);
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
      return db.rows<LockRecord>('lk_claims_lock_records', sql.LOCK_RECORDS, [opts.since ?? 0]);
    },
    async orphans(opts = {}) {
      return db.rows<OrphanRow>('lk_claims_orphans', sql.ORPHANS, [opts.since ?? 0]);
    },
  };
}

async function finish(db: Db, key: string, holder: string, token: number, result: string | null, op: 'release' | 'complete') {
  const state = op === 'release' ? 'released' : 'completed';
  const r = (await db.row<{ finished: number; reason: string | null }>('lk_claims_finish', sql.FINISH, [key, holder, token, result, state, op]))!;
  return r.finished > 0 ? ({ ok: true } as const) : ({ ok: false, reason: r.reason! } as const);
}
