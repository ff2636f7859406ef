// TTL claims with fencing tokens. Each operation is one BEGIN IMMEDIATE transaction that reads
// the store's clock inside it. A key may have several slots (lane slots: `lane:code` with
// concurrency 2); every grant draws a new token from the one store-wide fence sequence, so a
// token is never issued twice, even after rows are deleted.
//
//   acquire  absent, released or expired → granted, new token
//            held by the same holder     → TTL extended, same token
//            held by another             → denied with the holder and the expiry
//            completed                   → denied until reopened
//   renew    needs holder and token; fails once re-granted or expired
//   release / complete  need the current token; a stale one is refused and kept as an orphan
//   after expiry (swept or not)  renew and complete are refused (complete keeps an orphan), a
//            release is a no-op; a claim not swept yet is settled as the sweeper would settle it
//
// The store is built in three steps, each its own function: the prepared statements, the writer
// transactions over them (one function per operation's body, so each reads alone), and the port
// object that puts the two together.
import type Database from 'better-sqlite3';
import type { AcquireResult, ClaimRow, ClaimsPort, FencedResult, LockRecord, OrphanRow } from '../../../ports/store.js';
import { decideAcquire, lapsed, LOCK_RECORD_SKEW_MS } from '../claim-rules.js';
import { retryBusy, writer } from './busy.js';

export type Clock = () => number;

export function sqliteClaims(db: Database.Database, clock: Clock): ClaimsPort {
  // Statements prepared and transactions built once, when the store is made: a call only binds
  // and steps.
  const c: Claims = { db, s: statements(db), clock };
  return claimsPort(c, transactions(c));
}

/** What every operation works with: the connection, its prepared statements and the store's clock. */
interface Claims {
  db: Database.Database;
  s: Statements;
  clock: Clock;
}

type Statements = ReturnType<typeof statements>;

/** Every statement the claims run, prepared on `db`. */
function statements(db: Database.Database) {
  return {
    rowsOf: db.prepare('SELECT * FROM claims WHERE key = ? ORDER BY slot'),
    nextToken: db.prepare('UPDATE fence SET n = n + 1 RETURNING n').pluck(),
    upsert: db.prepare(
      `INSERT INTO claims (key, slot, holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result)
     VALUES (@key, @slot, @holder, @epoch, 'claimed', @now, @now, @expires, @ttl, @keep, 1, NULL)
     ON CONFLICT (key, slot) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, state = 'claimed',
       acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at,
       ttl_ms = excluded.ttl_ms, keep = excluded.keep, attempt = claims.attempt + 1, result = NULL`,
    ),
    extend: db.prepare('UPDATE claims SET renewed_at = ?, expires_at = ?, ttl_ms = ? WHERE key = ? AND slot = ?'),
    renewRow: db.prepare(
      `UPDATE claims SET renewed_at = @now, expires_at = @now + COALESCE(@ttl, ttl_ms)
     WHERE key = @key AND holder = @holder AND epoch = @token AND state = 'claimed' AND expires_at >= @now
     RETURNING slot, expires_at`,
    ),
    finish: db
      .prepare(
        `UPDATE claims SET state = @state, result = @result, renewed_at = @now
       WHERE key = @key AND holder = @holder AND epoch = @token AND state = 'claimed' AND expires_at >= @now RETURNING slot`,
      )
      .pluck(),
    byToken: db.prepare(
      'SELECT slot, holder, state, renewed_at, expires_at, result FROM claims WHERE key = ? AND epoch = ?',
    ),
    reopenRow: db.prepare(
      `UPDATE claims SET state = 'released', result = NULL WHERE key = ? AND state = 'completed' RETURNING slot, holder, epoch`,
    ),
    stateOf: db.prepare('SELECT state FROM claims WHERE key = ? ORDER BY slot LIMIT 1').pluck(),
    heldBy: db.prepare(
      `SELECT key, slot, epoch, ttl_ms, keep, expires_at FROM claims WHERE holder = ? AND state = 'claimed'`,
    ),
    expired: db.prepare(`SELECT key, slot, holder, epoch FROM claims WHERE state = 'claimed' AND expires_at < ?`),
    // renewed_at: when the row changed, past its expiry (claim-rules.ts, lapsed).
    markExpired: db.prepare(
      `UPDATE claims SET state = 'released', result = 'expired', renewed_at = ? WHERE key = ? AND slot = ? AND epoch = ?`,
    ),
    listAll: db.prepare('SELECT * FROM claims ORDER BY key, slot'),
    listHeld: db.prepare(`SELECT * FROM claims WHERE state = 'claimed' AND expires_at >= ? ORDER BY key, slot`),
    listBlocking: db.prepare(
      `SELECT * FROM claims WHERE (state = 'claimed' AND expires_at >= ?) OR state = 'completed' ORDER BY key, slot`,
    ),
    lockEvent: db.prepare(
      'INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    orphan: db.prepare('INSERT INTO orphans (at, op, key, holder, token, result, reason) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    // A window's records read back from the newest (ids grow with time, give or take the skew),
    // instead of scanning every record for `at`.
    records: db.prepare(
      `SELECT at, key, slot, slots, holder, epoch, event FROM lock_events
       WHERE id > COALESCE((SELECT id FROM lock_events WHERE at < @before ORDER BY id DESC LIMIT 1), 0) AND at >= @since
       ORDER BY id`,
    ),
    allRecords: db.prepare('SELECT at, key, slot, slots, holder, epoch, event FROM lock_events ORDER BY id'),
    orphanRows: db.prepare('SELECT at, op, key, holder, token, result, reason FROM orphans WHERE at >= ? ORDER BY id'),
  };
}

type Transactions = ReturnType<typeof transactions>;

/** Each write operation as its own BEGIN IMMEDIATE transaction, retried while the database is busy. */
function transactions(c: Claims) {
  return {
    acquire: writer(c.db, acquireTx(c)),
    renew: writer(c.db, renewTx(c)),
    release: writer(c.db, endTx(c, 'release')),
    complete: writer(c.db, endTx(c, 'complete')),
    reopen: writer(c.db, reopenTx(c)),
    renewHolder: writer(c.db, renewHolderTx(c)),
    releaseHolder: writer(c.db, releaseHolderTx(c)),
    sweep: writer(c.db, sweepTx(c)),
  };
}

/** The port: reads outside the write lock, retried while busy; writes through the transactions. */
function claimsPort(c: Claims, tx: Transactions): ClaimsPort {
  const { db, s, clock } = c;
  return {
    async acquire({ key, holder, ttlMs, slots = 1, keep = false }) {
      return deniedByRead(c, key, holder, slots) ?? tx.acquire(key, holder, ttlMs, slots, keep);
    },
    async renew({ key, holder, token, ttlMs }) {
      return tx.renew(key, holder, token, ttlMs ?? null);
    },
    async release({ key, holder, token, result }) {
      return tx.release(key, holder, token, result ?? null);
    },
    async complete({ key, holder, token, result }) {
      return tx.complete(key, holder, token, result ?? null);
    },
    async reopen({ key }) {
      return tx.reopen(key);
    },
    async renewHolder(holder) {
      return tx.renewHolder(holder);
    },
    async releaseHolder(holder, opts = {}) {
      return tx.releaseHolder(holder, opts.except ?? []);
    },
    async list(opts = {}) {
      const rows = retryBusy(
        () =>
          (opts.all
            ? s.listAll.all()
            : opts.completed
              ? s.listBlocking.all(clock())
              : s.listHeld.all(clock())) as ClaimRow[],
        db.name,
      );
      return opts.holder ? rows.filter((r) => r.holder === opts.holder) : rows;
    },
    async sweep() {
      return tx.sweep();
    },
    async lockRecords(opts = {}) {
      const since = opts.since ?? 0;
      return retryBusy(
        () =>
          (since > 0
            ? s.records.all({ since, before: since - LOCK_RECORD_SKEW_MS })
            : s.allRecords.all()) as LockRecord[],
        db.name,
      );
    },
    async orphans(opts = {}) {
      return retryBusy(() => s.orphanRows.all(opts.since ?? 0) as OrphanRow[], db.name);
    },
  };
}

/**
 * A denial decided from one consistent read, without the write lock: true at that instant,
 * and it keeps losers from queueing behind the writer. Anything else goes to the transaction,
 * which decides again under the lock.
 */
function deniedByRead(c: Claims, key: string, holder: string, slots: number): AcquireResult | null {
  const d = decideAcquire(
    key,
    retryBusy(() => c.s.rowsOf.all(key) as ClaimRow[], c.db.name),
    holder,
    slots,
    c.clock(),
  );
  return d.kind === 'deny' ? d.result : null;
}

function acquireTx({ s, clock }: Claims) {
  return (key: string, holder: string, ttlMs: number, slots: number, keep: boolean): AcquireResult => {
    const now = clock();
    const d = decideAcquire(key, s.rowsOf.all(key) as ClaimRow[], holder, slots, now);
    if (d.kind === 'deny') return d.result;
    if (d.kind === 'extend') {
      s.extend.run(now, now + ttlMs, ttlMs, key, d.row.slot);
      s.lockEvent.run(now, key, d.row.slot, slots, holder, d.row.epoch, 'renewed');
      return { granted: true, key, slot: d.row.slot, token: d.row.epoch, expiresAt: now + ttlMs, renewed: true };
    }
    const { slot, previous } = d;
    if (previous?.state === 'claimed')
      s.lockEvent.run(now, key, slot, slots, previous.holder, previous.epoch, 'expired');
    const token = s.nextToken.get() as number;
    s.upsert.run({ key, slot, holder, epoch: token, now, expires: now + ttlMs, ttl: ttlMs, keep: keep ? 1 : 0 });
    s.lockEvent.run(now, key, slot, slots, holder, token, 'acquired');
    return { granted: true, key, slot, token, expiresAt: now + ttlMs, renewed: false };
  };
}

function renewTx(c: Claims) {
  const { s, clock } = c;
  return (key: string, holder: string, token: number, ttlMs: number | null): FencedResult => {
    const now = clock();
    const row = s.renewRow.get({ key, holder, token, now, ttl: ttlMs }) as
      { slot: number; expires_at: number } | undefined;
    if (!row) return { ok: false, ...refusal(c, key, holder, token, now) };
    s.lockEvent.run(now, key, row.slot, null, holder, token, 'renewed');
    return { ok: true, expiresAt: row.expires_at };
  };
}

/** A release or a completion: the same fenced update, told apart by the state it leaves. */
function endTx(c: Claims, op: 'release' | 'complete') {
  const { s, clock } = c;
  return (key: string, holder: string, token: number, result: string | null): FencedResult => {
    const now = clock();
    const slot = s.finish.get({
      key,
      holder,
      token,
      now,
      result,
      state: op === 'release' ? 'released' : 'completed',
    }) as number | undefined;
    if (slot === undefined) {
      const refused = refusal(c, key, holder, token, now);
      // An expired claim has nothing left to give back: not a failure, and no result to keep.
      if (op === 'release' && refused.expiredAt !== undefined) return { ok: true, expiredAt: refused.expiredAt };
      s.orphan.run(now, op, key, holder, token, result, refused.reason);
      return { ok: false, ...refused };
    }
    s.lockEvent.run(now, key, slot, null, holder, token, op === 'release' ? 'released' : 'completed');
    return { ok: true };
  };
}

/** A lapsed claim, settled as the sweeper settles it: released, result 'expired', recorded. */
function expire({ s }: Claims, key: string, slot: number, holder: string, epoch: number, now: number): void {
  s.markExpired.run(now, key, slot, epoch);
  s.lockEvent.run(now, key, slot, null, holder, epoch, 'expired');
}

/**
 * Why a token was refused, in words a user can act on; `expiredAt` when the claim's lease ran out.
 * A lapsed claim the sweeper has not reached yet is settled now, so that what follows does not
 * depend on when it runs.
 */
function refusal(
  c: Claims,
  key: string,
  holder: string,
  token: number,
  now: number,
): { reason: string; expiredAt?: number } {
  const row = c.s.byToken.get(key, token) as
    Pick<ClaimRow, 'slot' | 'holder' | 'state' | 'renewed_at' | 'expires_at' | 'result'> | undefined;
  if (!row) return { reason: `token ${token} is not current for ${key} (re-granted since, or never granted)` };
  if (row.holder !== holder) return { reason: `${key} with token ${token} is held by ${row.holder}, not ${holder}` };
  if (lapsed(row, now)) {
    if (row.state === 'claimed') expire(c, key, row.slot, holder, token, now);
    return { reason: `${key} with token ${token} has expired`, expiredAt: row.expires_at };
  }
  if (row.state !== 'claimed') return { reason: `${key} with token ${token} is already ${row.state}` };
  return { reason: `${key} with token ${token} was not changed` };
}

function reopenTx({ s, clock }: Claims) {
  return (key: string) => {
    const now = clock();
    const rows = s.reopenRow.all(key) as { slot: number; holder: string; epoch: number }[];
    for (const r of rows) s.lockEvent.run(now, key, r.slot, null, r.holder, r.epoch, 'released');
    return {
      reopened: rows.length > 0,
      state: rows.length ? ('released' as const) : ((s.stateOf.get(key) as ClaimRow['state'] | undefined) ?? null),
    };
  };
}

function renewHolderTx(c: Claims) {
  const { s, clock } = c;
  return (holder: string) => {
    const now = clock();
    const lost: string[] = [];
    const held: string[] = [];
    let renewed = 0;
    for (const r of s.heldBy.all(holder) as {
      key: string;
      slot: number;
      epoch: number;
      expires_at: number;
      ttl_ms: number;
    }[]) {
      if (r.expires_at < now) {
        // Lost: say so once, and release it now rather than at the next sweep.
        expire(c, r.key, r.slot, holder, r.epoch, now);
        lost.push(r.key);
        continue;
      }
      held.push(r.key);
      // Renewed once a third of its TTL is used (the etcd rule), so frequent calls stay cheap.
      if (r.expires_at - now > (r.ttl_ms * 2) / 3) continue;
      s.renewRow.get({ key: r.key, holder, token: r.epoch, now, ttl: null });
      s.lockEvent.run(now, r.key, r.slot, null, holder, r.epoch, 'renewed');
      renewed++;
    }
    return { renewed, lost, held };
  };
}

function releaseHolderTx(c: Claims) {
  const { s, clock } = c;
  return (holder: string, except: readonly string[]) => {
    const now = clock();
    const released: string[] = [];
    for (const r of s.heldBy.all(holder) as {
      key: string;
      slot: number;
      epoch: number;
      keep: number;
      expires_at: number;
    }[]) {
      if (r.keep || except.includes(r.key)) continue;
      // Expired meanwhile: nothing to release; settled as the sweeper would.
      if (r.expires_at < now) {
        expire(c, r.key, r.slot, holder, r.epoch, now);
        continue;
      }
      s.finish.get({ key: r.key, holder, token: r.epoch, now, result: 'session ended', state: 'released' });
      s.lockEvent.run(now, r.key, r.slot, null, holder, r.epoch, 'released');
      released.push(r.key);
    }
    return released;
  };
}

function sweepTx(c: Claims) {
  const { s, clock } = c;
  return (): number => {
    const now = clock();
    const rows = s.expired.all(now) as { key: string; slot: number; holder: string; epoch: number }[];
    for (const r of rows) expire(c, r.key, r.slot, r.holder, r.epoch, now);
    return rows.length;
  };
}
