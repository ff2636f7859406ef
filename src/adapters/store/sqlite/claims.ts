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
import type Database from 'better-sqlite3';
import type { AcquireResult, ClaimRow, ClaimsPort, FencedResult, LockRecord, OrphanRow } from '../../../ports/store.js';
import { decideAcquire, lapsed, LOCK_RECORD_SKEW_MS } from '../claim-rules.js';
import { retryBusy, writer } from './busy.js';

export type Clock = () => number;

export function sqliteClaims(db: Database.Database, clock: Clock): ClaimsPort {
  const rowsOf = db.prepare('SELECT * FROM claims WHERE key = ? ORDER BY slot');
  const nextToken = db.prepare('UPDATE fence SET n = n + 1 RETURNING n').pluck();
  const upsert = db.prepare(
    `INSERT INTO claims (key, slot, holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result)
     VALUES (@key, @slot, @holder, @epoch, 'claimed', @now, @now, @expires, @ttl, @keep, 1, NULL)
     ON CONFLICT (key, slot) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, state = 'claimed',
       acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at,
       ttl_ms = excluded.ttl_ms, keep = excluded.keep, attempt = claims.attempt + 1, result = NULL`,
  );
  const extend = db.prepare('UPDATE claims SET renewed_at = ?, expires_at = ?, ttl_ms = ? WHERE key = ? AND slot = ?');
  const renewRow = db.prepare(
    `UPDATE claims SET renewed_at = @now, expires_at = @now + COALESCE(@ttl, ttl_ms)
     WHERE key = @key AND holder = @holder AND epoch = @token AND state = 'claimed' AND expires_at >= @now
     RETURNING slot, expires_at`,
  );
  const finish = db
    .prepare(
      `UPDATE claims SET state = @state, result = @result, renewed_at = @now
       WHERE key = @key AND holder = @holder AND epoch = @token AND state = 'claimed' AND expires_at >= @now RETURNING slot`,
    )
    .pluck();
  const byToken = db.prepare(
    'SELECT slot, holder, state, renewed_at, expires_at, result FROM claims WHERE key = ? AND epoch = ?',
  );
  const reopenRow = db.prepare(
    `UPDATE claims SET state = 'released', result = NULL WHERE key = ? AND state = 'completed' RETURNING slot, holder, epoch`,
  );
  const stateOf = db.prepare('SELECT state FROM claims WHERE key = ? ORDER BY slot LIMIT 1').pluck();
  const heldBy = db.prepare(
    `SELECT key, slot, epoch, ttl_ms, keep, expires_at FROM claims WHERE holder = ? AND state = 'claimed'`,
  );
  const expired = db.prepare(`SELECT key, slot, holder, epoch FROM claims WHERE state = 'claimed' AND expires_at < ?`);
  // renewed_at: when the row changed, past its expiry (claim-rules.ts, lapsed).
  const markExpired = db.prepare(
    `UPDATE claims SET state = 'released', result = 'expired', renewed_at = ? WHERE key = ? AND slot = ? AND epoch = ?`,
  );
  const listAll = db.prepare('SELECT * FROM claims ORDER BY key, slot');
  const listHeld = db.prepare(`SELECT * FROM claims WHERE state = 'claimed' AND expires_at >= ? ORDER BY key, slot`);
  const listBlocking = db.prepare(
    `SELECT * FROM claims WHERE (state = 'claimed' AND expires_at >= ?) OR state = 'completed' ORDER BY key, slot`,
  );
  const lockEvent = db.prepare(
    'INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const orphan = db.prepare(
    'INSERT INTO orphans (at, op, key, holder, token, result, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const records = db.prepare(
    `SELECT at, key, slot, slots, holder, epoch, event FROM lock_events
     WHERE id > COALESCE((SELECT id FROM lock_events WHERE at < @before ORDER BY id DESC LIMIT 1), 0) AND at >= @since
     ORDER BY id`,
  );
  const allRecords = db.prepare('SELECT at, key, slot, slots, holder, epoch, event FROM lock_events ORDER BY id');
  const orphanRows = db.prepare(
    'SELECT at, op, key, holder, token, result, reason FROM orphans WHERE at >= ? ORDER BY id',
  );

  /**
   * A denial decided from one consistent read, without the write lock: true at that instant,
   * and it keeps losers from queueing behind the writer. Anything else goes to the transaction,
   * which decides again under the lock.
   */
  const deniedByRead = (key: string, holder: string, slots: number): AcquireResult | null => {
    const d = decideAcquire(
      key,
      retryBusy(() => rowsOf.all(key) as ClaimRow[], db.name),
      holder,
      slots,
      clock(),
    );
    return d.kind === 'deny' ? d.result : null;
  };

  const acquire = writer(
    db,
    (key: string, holder: string, ttlMs: number, slots: number, keep: boolean): AcquireResult => {
      const now = clock();
      const d = decideAcquire(key, rowsOf.all(key) as ClaimRow[], holder, slots, now);
      if (d.kind === 'deny') return d.result;
      if (d.kind === 'extend') {
        extend.run(now, now + ttlMs, ttlMs, key, d.row.slot);
        lockEvent.run(now, key, d.row.slot, slots, holder, d.row.epoch, 'renewed');
        return { granted: true, key, slot: d.row.slot, token: d.row.epoch, expiresAt: now + ttlMs, renewed: true };
      }
      const { slot, previous } = d;
      if (previous?.state === 'claimed')
        lockEvent.run(now, key, slot, slots, previous.holder, previous.epoch, 'expired');
      const token = nextToken.get() as number;
      upsert.run({ key, slot, holder, epoch: token, now, expires: now + ttlMs, ttl: ttlMs, keep: keep ? 1 : 0 });
      lockEvent.run(now, key, slot, slots, holder, token, 'acquired');
      return { granted: true, key, slot, token, expiresAt: now + ttlMs, renewed: false };
    },
  );

  const renew = writer(db, (key: string, holder: string, token: number, ttlMs: number | null): FencedResult => {
    const now = clock();
    const row = renewRow.get({ key, holder, token, now, ttl: ttlMs }) as
      { slot: number; expires_at: number } | undefined;
    if (!row) return { ok: false, ...refusal(key, holder, token, now) };
    lockEvent.run(now, key, row.slot, null, holder, token, 'renewed');
    return { ok: true, expiresAt: row.expires_at };
  });

  const end = (op: 'release' | 'complete') =>
    writer(db, (key: string, holder: string, token: number, result: string | null): FencedResult => {
      const now = clock();
      const slot = finish.get({
        key,
        holder,
        token,
        now,
        result,
        state: op === 'release' ? 'released' : 'completed',
      }) as number | undefined;
      if (slot === undefined) {
        const refused = refusal(key, holder, token, now);
        // An expired claim has nothing left to give back: not a failure, and no result to keep.
        if (op === 'release' && refused.expiredAt !== undefined) return { ok: true, expiredAt: refused.expiredAt };
        orphan.run(now, op, key, holder, token, result, refused.reason);
        return { ok: false, ...refused };
      }
      lockEvent.run(now, key, slot, null, holder, token, op === 'release' ? 'released' : 'completed');
      return { ok: true };
    });
  const release = end('release');
  const complete = end('complete');

  /** A lapsed claim, settled as the sweeper settles it: released, result 'expired', recorded. */
  function expire(key: string, slot: number, holder: string, epoch: number, now: number): void {
    markExpired.run(now, key, slot, epoch);
    lockEvent.run(now, key, slot, null, holder, epoch, 'expired');
  }

  /**
   * Why a token was refused, in words a user can act on; `expiredAt` when the claim's lease ran out.
   * A lapsed claim the sweeper has not reached yet is settled now, so that what follows does not
   * depend on when it runs.
   */
  function refusal(key: string, holder: string, token: number, now: number): { reason: string; expiredAt?: number } {
    const row = byToken.get(key, token) as
      Pick<ClaimRow, 'slot' | 'holder' | 'state' | 'renewed_at' | 'expires_at' | 'result'> | undefined;
    if (!row) return { reason: `token ${token} is not current for ${key} (re-granted since, or never granted)` };
    if (row.holder !== holder) return { reason: `${key} with token ${token} is held by ${row.holder}, not ${holder}` };
    if (lapsed(row, now)) {
      if (row.state === 'claimed') expire(key, row.slot, holder, token, now);
      return { reason: `${key} with token ${token} has expired`, expiredAt: row.expires_at };
    }
    if (row.state !== 'claimed') return { reason: `${key} with token ${token} is already ${row.state}` };
    return { reason: `${key} with token ${token} was not changed` };
  }

  const reopen = writer(db, (key: string) => {
    const now = clock();
    const rows = reopenRow.all(key) as { slot: number; holder: string; epoch: number }[];
    for (const r of rows) lockEvent.run(now, key, r.slot, null, r.holder, r.epoch, 'released');
    return {
      reopened: rows.length > 0,
      state: rows.length ? ('released' as const) : ((stateOf.get(key) as ClaimRow['state'] | undefined) ?? null),
    };
  });

  const renewHolder = writer(db, (holder: string) => {
    const now = clock();
    const lost: string[] = [];
    const held: string[] = [];
    let renewed = 0;
    for (const r of heldBy.all(holder) as {
      key: string;
      slot: number;
      epoch: number;
      expires_at: number;
      ttl_ms: number;
    }[]) {
      if (r.expires_at < now) {
        // Lost: say so once, and release it now rather than at the next sweep.
        expire(r.key, r.slot, holder, r.epoch, now);
        lost.push(r.key);
        continue;
      }
      held.push(r.key);
      // Renewed once a third of its TTL is used (the etcd rule), so frequent calls stay cheap.
      if (r.expires_at - now > (r.ttl_ms * 2) / 3) continue;
      renewRow.get({ key: r.key, holder, token: r.epoch, now, ttl: null });
      lockEvent.run(now, r.key, r.slot, null, holder, r.epoch, 'renewed');
      renewed++;
    }
    return { renewed, lost, held };
  });

  const releaseHolder = writer(db, (holder: string, except: readonly string[]) => {
    const now = clock();
    const released: string[] = [];
    for (const r of heldBy.all(holder) as {
      key: string;
      slot: number;
      epoch: number;
      keep: number;
      expires_at: number;
    }[]) {
      if (r.keep || except.includes(r.key)) continue;
      // Expired meanwhile: nothing to release; settled as the sweeper would.
      if (r.expires_at < now) {
        expire(r.key, r.slot, holder, r.epoch, now);
        continue;
      }
      finish.get({ key: r.key, holder, token: r.epoch, now, result: 'session ended', state: 'released' });
      lockEvent.run(now, r.key, r.slot, null, holder, r.epoch, 'released');
      released.push(r.key);
    }
    return released;
  });

  const sweep = writer(db, (): number => {
    const now = clock();
    const rows = expired.all(now) as { key: string; slot: number; holder: string; epoch: number }[];
    for (const r of rows) expire(r.key, r.slot, r.holder, r.epoch, now);
    return rows.length;
  });

  return {
    async acquire({ key, holder, ttlMs, slots = 1, keep = false }) {
      return deniedByRead(key, holder, slots) ?? acquire(key, holder, ttlMs, slots, keep);
    },
    async renew({ key, holder, token, ttlMs }) {
      return renew(key, holder, token, ttlMs ?? null);
    },
    async release({ key, holder, token, result }) {
      return release(key, holder, token, result ?? null);
    },
    async complete({ key, holder, token, result }) {
      return complete(key, holder, token, result ?? null);
    },
    async reopen({ key }) {
      return reopen(key);
    },
    async renewHolder(holder) {
      return renewHolder(holder);
    },
    async releaseHolder(holder, opts = {}) {
      return releaseHolder(holder, opts.except ?? []);
    },
    async list(opts = {}) {
      const rows = retryBusy(
        () =>
          (opts.all ? listAll.all() : opts.completed ? listBlocking.all(clock()) : listHeld.all(clock())) as ClaimRow[],
        db.name,
      );
      return opts.holder ? rows.filter((r) => r.holder === opts.holder) : rows;
    },
    async sweep() {
      return sweep();
    },
    async lockRecords(opts = {}) {
      const since = opts.since ?? 0;
      return retryBusy(
        () =>
          (since > 0 ? records.all({ since, before: since - LOCK_RECORD_SKEW_MS }) : allRecords.all()) as LockRecord[],
        db.name,
      );
    },
    async orphans(opts = {}) {
      return retryBusy(() => orphanRows.all(opts.since ?? 0) as OrphanRow[], db.name);
    },
  };
}
