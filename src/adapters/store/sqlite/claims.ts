// TTL claims with fencing tokens. Each operation is one BEGIN IMMEDIATE transaction that reads
// the store's clock inside it. A key may have several slots (lane slots: `lane:code` with
// concurrency 2); every grant draws a new token from the one store-wide fence sequence.
import type Database from 'better-sqlite3';
import type { AcquireResult, ClaimRow, ClaimsPort, FencedResult } from '../ports.js';

export type Clock = () => number;

export function sqliteClaims(db: Database.Database, clock: Clock): ClaimsPort {
  const rowsOf = db.prepare('SELECT * FROM claims WHERE key = ? ORDER BY slot');
  const nextToken = db.prepare('UPDATE fence SET n = n + 1 RETURNING n').pluck();
  const upsert = db.prepare(
    `INSERT INTO claims (key, slot, holder, epoch, state, acquired_at, renewed_at, expires_at, attempt, result)
     VALUES (@key, @slot, @holder, @epoch, 'claimed', @now, @now, @expires, 1, NULL)
     ON CONFLICT (key, slot) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, state = 'claimed',
       acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at,
       attempt = claims.attempt + 1, result = NULL`,
  );
  const extend = db.prepare('UPDATE claims SET renewed_at = ?, expires_at = ? WHERE key = ? AND slot = ?');
  const renew = db.prepare(
    `UPDATE claims SET renewed_at = @now, expires_at = @expires
     WHERE key = @key AND holder = @holder AND epoch = @token AND state = 'claimed' AND expires_at >= @now RETURNING slot`,
  );
  const release = db.prepare(
    `UPDATE claims SET state = 'released', result = @result, renewed_at = @now
     WHERE key = @key AND holder = @holder AND epoch = @token AND state = 'claimed' RETURNING slot`,
  );
  const current = db.prepare('SELECT holder, epoch, state FROM claims WHERE key = ? AND epoch = ?');
  const expired = db.prepare(`SELECT key, slot, holder, epoch FROM claims WHERE state = 'claimed' AND expires_at < ?`);
  const markReleased = db.prepare(`UPDATE claims SET state = 'released', result = 'expired' WHERE key = ? AND slot = ? AND epoch = ?`);
  const listAll = db.prepare('SELECT * FROM claims ORDER BY key, slot');
  const listHeld = db.prepare(`SELECT * FROM claims WHERE state = 'claimed' AND expires_at >= ? ORDER BY key, slot`);
  const lockEvent = db.prepare('INSERT INTO lock_events (at, key, slot, holder, epoch, event) VALUES (?, ?, ?, ?, ?, ?)');

  const acquire = db.transaction((key: string, holder: string, ttlMs: number, slots: number): AcquireResult => {
    const now = clock();
    const rows = rowsOf.all(key) as ClaimRow[];
    const live = rows.filter((r) => r.state === 'claimed' && r.expires_at >= now);
    const mine = live.find((r) => r.holder === holder);
    if (mine) {
      extend.run(now, now + ttlMs, key, mine.slot);
      lockEvent.run(now, key, mine.slot, holder, mine.epoch, 'renewed');
      return { granted: true, key, slot: mine.slot, token: mine.epoch, expiresAt: now + ttlMs, renewed: true };
    }
    const completed = rows.find((r) => r.state === 'completed');
    if (completed && slots === 1) {
      lockEvent.run(now, key, completed.slot, holder, null, 'denied');
      return { granted: false, key, holder: completed.holder, expiresAt: null, state: 'completed' };
    }
    if (live.length < slots) {
      const taken = new Set(live.map((r) => r.slot));
      let slot = 0;
      while (taken.has(slot)) slot++;
      const previous = rows.find((r) => r.slot === slot);
      if (previous?.state === 'claimed') lockEvent.run(now, key, slot, previous.holder, previous.epoch, 'expired');
      const token = nextToken.get() as number;
      upsert.run({ key, slot, holder, epoch: token, now, expires: now + ttlMs });
      lockEvent.run(now, key, slot, holder, token, 'acquired');
      return { granted: true, key, slot, token, expiresAt: now + ttlMs, renewed: false };
    }
    const soonest = live.reduce((a, b) => (b.expires_at < a.expires_at ? b : a));
    lockEvent.run(now, key, null, holder, null, 'denied');
    return { granted: false, key, holder: soonest.holder, expiresAt: soonest.expires_at, state: 'claimed' };
  });

  const renewTx = db.transaction((key: string, holder: string, token: number, ttlMs: number): FencedResult => {
    const now = clock();
    const slot = renew.pluck().get({ key, holder, token, now, expires: now + ttlMs }) as number | undefined;
    if (slot === undefined) return { ok: false, reason: staleReason(key, holder, token) };
    lockEvent.run(now, key, slot, holder, token, 'renewed');
    return { ok: true, expiresAt: now + ttlMs };
  });

  const releaseTx = db.transaction((key: string, holder: string, token: number, result: string | null): FencedResult => {
    const now = clock();
    const slot = release.pluck().get({ key, holder, token, now, result }) as number | undefined;
    if (slot === undefined) return { ok: false, reason: staleReason(key, holder, token) };
    lockEvent.run(now, key, slot, holder, token, 'released');
    return { ok: true };
  });

  function staleReason(key: string, holder: string, token: number): string {
    const row = current.get(key, token) as { holder: string; epoch: number; state: string } | undefined;
    if (!row) return `token ${token} is not current for ${key} (re-granted, or never granted)`;
    if (row.holder !== holder) return `${key} with token ${token} is held by ${row.holder}, not ${holder}`;
    if (row.state !== 'claimed') return `${key} with token ${token} is already ${row.state}`;
    return `${key} with token ${token} has expired`;
  }

  const sweepTx = db.transaction((): number => {
    const now = clock();
    const rows = expired.all(now) as { key: string; slot: number; holder: string; epoch: number }[];
    for (const r of rows) {
      markReleased.run(r.key, r.slot, r.epoch);
      lockEvent.run(now, r.key, r.slot, r.holder, r.epoch, 'expired');
    }
    return rows.length;
  });

  return {
    async acquire({ key, holder, ttlMs, slots = 1 }) {
      return acquire.immediate(key, holder, ttlMs, slots);
    },
    async renew({ key, holder, token, ttlMs }) {
      return renewTx.immediate(key, holder, token, ttlMs);
    },
    async release({ key, holder, token, result }) {
      return releaseTx.immediate(key, holder, token, result ?? null);
    },
    async list(opts = {}) {
      return (opts.all ? listAll.all() : listHeld.all(clock())) as ClaimRow[];
    },
    async sweep() {
      return sweepTx.immediate();
    },
  };
}
