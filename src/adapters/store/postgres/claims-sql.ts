// The claim statements of the PostgreSQL store. Each operation is ONE statement (CTEs chained
// together), so it is atomic without a client-side transaction and costs one round trip; times
// come from the database's clock (NOW_MS), tokens from the `claim_fence` sequence.
//
// Acquire first decides on a plain read: when that says "denied" (the rules of claim-rules.ts),
// the answer is true at that instant and nothing is locked or written. Otherwise it locks the
// key's existing rows (FOR UPDATE, in slot order so two acquirers never deadlock) and decides
// again on their latest committed versions: the holder's own live slot is extended with its
// token; a completed key is denied; a free slot (absent, released or expired) is granted with a
// new token; else the soonest-expiring holder is named. Locking every slot of the key, not SKIP
// LOCKED on one, is deliberate: the decision depends on all of them (is one mine? is one
// completed?). A slot row that another acquirer inserted after this statement's snapshot is not
// among the locked rows; the INSERT's ON CONFLICT meets it instead and takes it only if it is
// free (released or expired), so no slot is ever granted twice. When that race leaves nothing to
// report, the caller runs the statement again.
//
// Every statement that changes a row locks it first (FOR UPDATE, or ON CONFLICT's own lock) and
// reads the clock only then, so an event is never dated before an earlier event on the same row
// that it waited for: the lock records' times agree with their order.
//
// The hot path has lean twins (ACQUIRE_ONE, FINISH_ONE): most of a claim's server time goes to
// setting up the executor for the statement's plan, so a small statement is several times cheaper
// than ACQUIRE, whose plan carries every case. They decide the common cases and answer "not
// decided" otherwise; the caller then asks again or runs the full statement, which always decides.
//
// Parameters are cast where first used ($1::text …): PostgreSQL must deduce one type for each.
import { NOW_MS } from './db.js';

/** $1 key, $2 holder, $3 ttl ms, $4 slots, $5 keep (0/1). */
export const ACQUIRE = `
WITH snap AS MATERIALIZED (SELECT slot, holder, state, expires_at FROM claims WHERE key = $1::text),
clock0 AS MATERIALIZED (SELECT ${NOW_MS} AS now),
snap_live AS (SELECT s.slot, s.holder, s.expires_at FROM snap s, clock0 k WHERE s.state = 'claimed' AND s.expires_at >= k.now),
-- First decided on a plain read: a denial that is true at this instant takes no lock and writes
-- nothing, so losers neither queue behind the holder's commit nor cost a commit of their own.
busy AS MATERIALIZED (
  SELECT NOT EXISTS (SELECT 1 FROM snap_live WHERE holder = $2::text)
    AND (EXISTS (SELECT 1 FROM snap WHERE state = 'completed') OR (SELECT count(*) FROM snap_live) >= $4::int) AS denied
),
-- Otherwise the key's rows are locked and the decision made again on their latest versions.
held AS MATERIALIZED (
  SELECT slot, holder, epoch, state, expires_at FROM claims WHERE key = $1::text AND NOT (SELECT denied FROM busy) ORDER BY slot FOR UPDATE
),
-- Read after the locks are held (it depends on held), so a grant is never dated before the
-- release it waited for.
clock AS MATERIALIZED (SELECT ${NOW_MS} AS now FROM (SELECT count(*) FROM held) AS after_locks),
live AS (SELECT h.slot, h.holder, h.epoch, h.expires_at FROM held h, clock k WHERE h.state = 'claimed' AND h.expires_at >= k.now),
mine AS (SELECT slot, epoch FROM live WHERE holder = $2::text ORDER BY slot LIMIT 1),
done AS (SELECT holder FROM held WHERE state = 'completed' ORDER BY slot LIMIT 1),
pick AS (
  SELECT slot, epoch, true AS renewed FROM mine
  UNION ALL
  (SELECT s, NULL::bigint, false FROM generate_series(0, $4::int - 1) AS s
   WHERE NOT (SELECT denied FROM busy) AND NOT EXISTS (SELECT 1 FROM mine) AND NOT EXISTS (SELECT 1 FROM done)
     AND (SELECT count(*) FROM live) < $4::int AND s NOT IN (SELECT slot FROM live)
   ORDER BY s LIMIT 1)
),
up AS (
  INSERT INTO claims AS c (key, slot, holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result)
  -- COALESCE evaluates nextval only for a new grant: an extension keeps its token.
  SELECT $1::text, p.slot, $2::text, COALESCE(p.epoch, nextval('claim_fence')), 'claimed', k.now, k.now, k.now + $3::bigint, $3::bigint, $5::int, 1, NULL
  FROM pick p, clock k
  -- The conflicting row is locked (perhaps after waiting for its holder's commit) before the WHERE
  -- and the SET are evaluated: the clock read here is never earlier than what it waited for.
  ON CONFLICT (key, slot) DO UPDATE SET
    (holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result) = (
      SELECT excluded.holder, excluded.epoch, 'claimed',
        CASE WHEN c.epoch = excluded.epoch THEN c.acquired_at ELSE t.now END,
        t.now, t.now + excluded.ttl_ms, excluded.ttl_ms,
        CASE WHEN c.epoch = excluded.epoch THEN c.keep ELSE excluded.keep END,
        CASE WHEN c.epoch = excluded.epoch THEN c.attempt ELSE c.attempt + 1 END,
        CASE WHEN c.epoch = excluded.epoch THEN c.result ELSE NULL END
      FROM (SELECT ${NOW_MS} AS now) AS t)
  WHERE c.epoch = excluded.epoch OR c.state = 'released' OR (c.state = 'claimed' AND c.expires_at < ${NOW_MS})
  RETURNING slot, epoch, expires_at, renewed_at AS at
),
ev AS (
  INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event)
  SELECT e.at, $1::text, e.slot, $4::int, e.holder, e.epoch, e.event FROM (
    -- The previous holder of a re-granted slot had let it expire: say so first.
    SELECT 0 AS ord, u.at, h.slot, h.holder, h.epoch, 'expired' AS event FROM held h JOIN up u ON u.slot = h.slot WHERE h.state = 'claimed' AND h.epoch <> u.epoch
    UNION ALL
    SELECT 1, u.at, u.slot, $2::text, u.epoch, CASE WHEN p.renewed THEN 'renewed' ELSE 'acquired' END FROM up u JOIN pick p ON p.slot = u.slot
  ) AS e ORDER BY e.ord
)
SELECT u.slot, u.epoch AS token, u.expires_at, p.renewed,
  CASE WHEN b.denied THEN (SELECT holder FROM snap WHERE state = 'completed' ORDER BY slot LIMIT 1) ELSE (SELECT holder FROM done) END AS done_by,
  l.holder AS held_by, l.expires_at AS held_until
FROM busy b
LEFT JOIN up u ON true
LEFT JOIN pick p ON p.slot = u.slot
LEFT JOIN LATERAL (
  SELECT holder, expires_at, slot FROM snap_live WHERE b.denied
  UNION ALL
  SELECT holder, expires_at, slot FROM live WHERE NOT b.denied
  ORDER BY expires_at, slot LIMIT 1
) AS l ON true`;

/**
 * The one-slot acquire (slots 1), $1 key, $2 holder, $3 ttl ms, $4 keep (0/1). It reads the key's
 * rows (a plain read) and the clock, and decides on them: a live slot 0 of this holder is extended
 * (same token), a released or expired one is granted with a new token, an absent key gets its
 * slot 0 inserted; a denial writes nothing, and neither does a key with rows at other slots (one
 * once used with more slots: the full ACQUIRE decides there).
 *
 * The write is a compare-and-set on the row version it decided on (holder, token, state and expiry
 * unchanged), locked first with SKIP LOCKED: while another statement is changing the row (a grant
 * racing this one, mostly) nothing is waited for or written, and the caller asks again. Waiting
 * instead would end in locking the new version only to find it taken, and would hold up that
 * grant's release until this transaction's commit is on disk. Two inserts of an absent key meet
 * in the unique index; the later one does nothing.
 *
 * It returns the clock, the grant if any, and the rows it read: with no grant the caller applies
 * claim-rules.ts to those rows; a denial is true at that instant, anything else means the row
 * changed meanwhile. A write's clock is read in its SET, after the row is locked, so a grant is
 * never dated before the release it followed.
 */
export const ACQUIRE_ONE = `
WITH snap AS MATERIALIZED (SELECT slot, holder, epoch, state, expires_at FROM claims WHERE key = $1::text),
clock AS MATERIALIZED (SELECT ${NOW_MS} AS now),
one AS (
  SELECT s.holder, s.epoch, s.state, s.expires_at,
    s.state = 'claimed' AND s.holder = $2::text AND s.expires_at >= k.now AS extend,
    s.state = 'released' OR (s.state = 'claimed' AND s.expires_at < k.now) AS free
  FROM snap s, clock k WHERE s.slot = 0 AND NOT EXISTS (SELECT 1 FROM snap WHERE slot <> 0)
),
-- The row, locked, if it is still the version decided on and nobody else holds its lock.
lk AS MATERIALIZED (
  SELECT c.key FROM claims c, one o
  WHERE c.key = $1::text AND c.slot = 0 AND (o.extend OR o.free)
    AND c.holder = o.holder AND c.epoch = o.epoch AND c.state = o.state AND c.expires_at = o.expires_at
  FOR UPDATE OF c SKIP LOCKED
),
up AS (
  UPDATE claims c SET (holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result) = (
    SELECT $2::text, CASE WHEN o.extend THEN c.epoch ELSE nextval('claim_fence') END, 'claimed',
      CASE WHEN o.extend THEN c.acquired_at ELSE t.now END, t.now, t.now + $3::bigint, $3::bigint,
      CASE WHEN o.extend THEN c.keep ELSE $4::int END,
      CASE WHEN o.extend THEN c.attempt ELSE c.attempt + 1 END,
      CASE WHEN o.extend THEN c.result ELSE NULL END
    FROM (SELECT ${NOW_MS} AS now) AS t)
  FROM one o, lk
  WHERE c.key = $1::text AND c.slot = 0
  RETURNING c.slot, c.epoch, c.expires_at, c.renewed_at AS at, o.extend AS renewed, o.holder AS prev_holder, o.epoch AS prev_epoch, o.state AS prev_state
),
ins AS (
  INSERT INTO claims (key, slot, holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result)
  SELECT $1::text, 0, $2::text, nextval('claim_fence'), 'claimed', t.now, t.now, t.now + $3::bigint, $3::bigint, $4::int, 1, NULL
  FROM (SELECT ${NOW_MS} AS now) AS t WHERE NOT EXISTS (SELECT 1 FROM snap)
  ON CONFLICT (key, slot) DO NOTHING
  RETURNING slot, epoch, expires_at, renewed_at AS at
),
ev AS (
  INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event)
  SELECT e.at, $1::text, e.slot, 1, e.holder, e.epoch, e.event FROM (
    -- The previous holder of a re-granted slot had let it expire: say so first.
    SELECT 0 AS ord, at, slot, prev_holder AS holder, prev_epoch AS epoch, 'expired' AS event FROM up WHERE prev_state = 'claimed' AND NOT renewed
    UNION ALL
    SELECT 1, at, slot, $2::text, epoch, CASE WHEN renewed THEN 'renewed' ELSE 'acquired' END FROM up
    UNION ALL
    SELECT 1, at, slot, $2::text, epoch, 'acquired' FROM ins
  ) AS e ORDER BY e.ord
),
got AS (SELECT slot, epoch, expires_at, renewed FROM up UNION ALL SELECT slot, epoch, expires_at, false FROM ins)
SELECT k.now, g.slot AS got_slot, g.epoch AS token, g.expires_at AS token_expires, g.renewed, s.slot, s.holder, s.state, s.expires_at
FROM clock k LEFT JOIN got g ON true LEFT JOIN snap s ON true`;

/**
 * Whether the claim row `t` ran out of lease by `k.now`, swept or not: claim-rules.ts, lapsed()
 * (a released row changed after its expiry is one that expired).
 */
const LAPSED = `((t.state = 'claimed' AND t.expires_at < k.now) OR (t.state = 'released' AND (t.renewed_at > t.expires_at OR t.result = 'expired')))`;

/**
 * Why a token was refused, in the SQLite store's words. Needs CTEs `clock` (now) and `tok` (the
 * key's row with that token, if any); $1 key, $2 holder, $3 token.
 */
const STALE_REASON = `
CASE
  WHEN t.holder IS NULL THEN format('token %s is not current for %s (re-granted since, or never granted)', $3::bigint, $1::text)
  WHEN t.holder <> $2::text THEN format('%s with token %s is held by %s, not %s', $1::text, $3::bigint, t.holder, $2::text)
  WHEN ${LAPSED} THEN format('%s with token %s has expired', $1::text, $3::bigint)
  WHEN t.state <> 'claimed' THEN format('%s with token %s is already %s', $1::text, $3::bigint, t.state)
  ELSE format('%s with token %s was not changed', $1::text, $3::bigint)
END`;

/** When the refused claim's lease ran out, if that is why (null otherwise). Same CTEs as STALE_REASON. */
const EXPIRED_AT = `CASE WHEN t.holder = $2::text AND ${LAPSED} THEN t.expires_at END`;

/**
 * The CTE `lapsed`: the claim in `mine` (locked: slot, expires_at), if its lease ran out by the
 * `clock` and nobody swept it yet, settled as the sweeper settles it. A fenced call that meets it
 * does this, so that what it answers does not depend on when the sweeper runs. $1 key.
 */
const SETTLE_LAPSED = `
lapsed AS (
  UPDATE claims c SET state = 'released', result = 'expired', renewed_at = k.now FROM mine m, clock k
  WHERE c.key = $1::text AND c.slot = m.slot AND m.expires_at < k.now
  RETURNING c.slot, k.now AS at
)`;

/** $1 key, $2 holder, $3 token, $4 ttl ms or null (the claim's own TTL). After expiry it is refused. */
export const RENEW = `
WITH mine AS MATERIALIZED (
  SELECT slot, expires_at FROM claims WHERE key = $1::text AND holder = $2::text AND epoch = $3::bigint AND state = 'claimed' FOR UPDATE
),
clock AS MATERIALIZED (SELECT ${NOW_MS} AS now FROM (SELECT count(*) FROM mine) AS after_locks),
r AS (
  UPDATE claims c SET renewed_at = k.now, expires_at = k.now + COALESCE($4::bigint, c.ttl_ms) FROM mine m, clock k
  WHERE c.key = $1::text AND c.slot = m.slot AND m.expires_at >= k.now
  RETURNING c.slot, c.expires_at, k.now AS at
),
${SETTLE_LAPSED},
ev AS (
  INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event)
  SELECT at, $1::text, slot, NULL::int, $2::text, $3::bigint, 'renewed' FROM r
  UNION ALL SELECT at, $1::text, slot, NULL, $2::text, $3::bigint, 'expired' FROM lapsed
),
tok AS (SELECT holder, state, renewed_at, expires_at, result FROM claims WHERE key = $1::text AND epoch = $3::bigint),
why AS MATERIALIZED (SELECT ${STALE_REASON} AS reason, ${EXPIRED_AT} AS expired_at FROM clock k LEFT JOIN tok t ON true WHERE NOT EXISTS (SELECT 1 FROM r))
SELECT (SELECT expires_at FROM r) AS expires_at, (SELECT reason FROM why) AS reason, (SELECT expired_at FROM why) AS expired_at`;

/**
 * Release or complete: $1 key, $2 holder, $3 token, $4 result, $5 'released' | 'completed' (the
 * new state, also the lock record's event), $6 'release' | 'complete' (the orphan's op).
 * A stale token changes nothing and leaves an orphan with the reason. After the claim's expiry
 * (expired_at set) a completion is refused the same way, and a release is a no-op that keeps no
 * orphan.
 */
export const FINISH = `
WITH mine AS MATERIALIZED (
  SELECT slot, expires_at FROM claims WHERE key = $1::text AND holder = $2::text AND epoch = $3::bigint AND state = 'claimed' FOR UPDATE
),
clock AS MATERIALIZED (SELECT ${NOW_MS} AS now FROM (SELECT count(*) FROM mine) AS after_locks),
fin AS (
  UPDATE claims c SET state = $5::text, result = $4::text, renewed_at = k.now FROM mine m, clock k
  WHERE c.key = $1::text AND c.slot = m.slot AND m.expires_at >= k.now
  RETURNING c.slot, k.now AS at
),
${SETTLE_LAPSED},
ev AS (
  INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event)
  SELECT at, $1::text, slot, NULL::int, $2::text, $3::bigint, $5::text FROM fin
  UNION ALL SELECT at, $1::text, slot, NULL, $2::text, $3::bigint, 'expired' FROM lapsed
),
tok AS (SELECT holder, state, renewed_at, expires_at, result FROM claims WHERE key = $1::text AND epoch = $3::bigint),
why AS MATERIALIZED (SELECT k.now, ${STALE_REASON} AS reason, ${EXPIRED_AT} AS expired_at FROM clock k LEFT JOIN tok t ON true WHERE NOT EXISTS (SELECT 1 FROM fin)),
orphan AS (
  INSERT INTO orphans (at, op, key, holder, token, result, reason)
  SELECT now, $6::text, $1::text, $2::text, $3::bigint, $4::text, reason FROM why WHERE NOT ($6::text = 'release' AND expired_at IS NOT NULL)
)
SELECT (SELECT count(*) FROM fin) AS finished, (SELECT reason FROM why) AS reason, (SELECT expired_at FROM why) AS expired_at`;

/**
 * Release or complete with the current token of a live claim, the usual case: $1 key, $2 holder,
 * $3 token, $4 result, $5 'released' | 'completed'. Finishes nothing for a stale token (the row's
 * latest version fails the re-check) or an expired claim; the caller then runs FINISH, which
 * decides those.
 */
export const FINISH_ONE = `
WITH fin AS (
  UPDATE claims c SET state = $5::text, result = $4::text, renewed_at = ${NOW_MS}
  WHERE c.key = $1::text AND c.holder = $2::text AND c.epoch = $3::bigint AND c.state = 'claimed' AND c.expires_at >= ${NOW_MS}
  RETURNING c.slot, c.renewed_at AS at
),
ev AS (INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event) SELECT at, $1::text, slot, NULL, $2::text, $3::bigint, $5::text FROM fin)
SELECT count(*)::int AS finished FROM fin`;

/**
 * After a lost connection, whether FINISH_ONE's lost try went through (same parameters): the row
 * with that token is this holder's, in the new state, with this result. Then it counts as
 * finished, not as a stale second try.
 */
export const FINISHED = `
SELECT 1 AS finished FROM claims
WHERE key = $1::text AND holder = $2::text AND epoch = $3::bigint AND result IS NOT DISTINCT FROM $4::text AND state = $5::text`;

/** $1 key: completed → released, with a 'released' record per slot. */
export const REOPEN = `
WITH done AS MATERIALIZED (SELECT slot FROM claims WHERE key = $1::text AND state = 'completed' ORDER BY slot FOR UPDATE),
clock AS MATERIALIZED (SELECT ${NOW_MS} AS now FROM (SELECT count(*) FROM done) AS after_locks),
r AS (UPDATE claims c SET state = 'released', result = NULL FROM done d WHERE c.key = $1::text AND c.slot = d.slot RETURNING c.slot, c.holder, c.epoch),
ev AS (INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event) SELECT k.now, $1::text, r.slot, NULL, r.holder, r.epoch, 'released' FROM r, clock k ORDER BY r.slot)
SELECT (SELECT count(*) FROM r) AS reopened, (SELECT state FROM claims WHERE key = $1::text ORDER BY slot LIMIT 1) AS state`;

/**
 * $1 holder: its expired claims are released now (and reported lost); live ones that have used a
 * third of their TTL are renewed by their own TTL. Rows are locked in (key, slot) order.
 */
export const RENEW_HOLDER = `
WITH mine AS MATERIALIZED (
  SELECT key, slot, epoch, expires_at, ttl_ms FROM claims WHERE holder = $1::text AND state = 'claimed' ORDER BY key, slot FOR UPDATE
),
clock AS MATERIALIZED (SELECT ${NOW_MS} AS now FROM (SELECT count(*) FROM mine) AS after_locks),
lost AS (
  UPDATE claims c SET state = 'released', result = 'expired', renewed_at = k.now FROM mine m, clock k
  WHERE c.key = m.key AND c.slot = m.slot AND c.epoch = m.epoch AND m.expires_at < k.now
  RETURNING c.key, c.slot, c.epoch
),
renewed AS (
  UPDATE claims c SET renewed_at = k.now, expires_at = k.now + c.ttl_ms FROM mine m, clock k
  WHERE c.key = m.key AND c.slot = m.slot AND c.epoch = m.epoch AND m.expires_at >= k.now
    AND (m.expires_at - k.now) * 3 <= m.ttl_ms * 2
  RETURNING c.key, c.slot, c.epoch
),
ev AS (
  INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event)
  SELECT k.now, e.key, e.slot, NULL, $1::text, e.epoch, e.event FROM clock k, (
    SELECT key, slot, epoch, 'expired' AS event FROM lost UNION ALL SELECT key, slot, epoch, 'renewed' FROM renewed
  ) AS e ORDER BY e.key, e.slot
)
SELECT (SELECT count(*) FROM renewed) AS renewed, ARRAY(SELECT key FROM lost ORDER BY key, slot) AS lost,
  ARRAY(SELECT m.key FROM mine m, clock k WHERE m.expires_at >= k.now ORDER BY m.key, m.slot) AS held`;

/**
 * $1 holder, $2 keys to leave held: the session's end releases the rest, except those it keeps.
 * One that expired meanwhile is not released but settled as expired, as the sweeper would.
 */
export const RELEASE_HOLDER = `
WITH mine AS MATERIALIZED (
  SELECT key, slot, epoch, expires_at FROM claims
  WHERE holder = $1::text AND state = 'claimed' AND keep = 0 AND NOT (key = ANY($2::text[]))
  ORDER BY key, slot FOR UPDATE
),
clock AS MATERIALIZED (SELECT ${NOW_MS} AS now FROM (SELECT count(*) FROM mine) AS after_locks),
fin AS (
  UPDATE claims c SET state = 'released', result = 'session ended', renewed_at = k.now FROM mine m, clock k
  WHERE c.key = m.key AND c.slot = m.slot AND c.epoch = m.epoch AND m.expires_at >= k.now
  RETURNING c.key, c.slot, c.epoch
),
lapsed AS (
  UPDATE claims c SET state = 'released', result = 'expired', renewed_at = k.now FROM mine m, clock k
  WHERE c.key = m.key AND c.slot = m.slot AND c.epoch = m.epoch AND m.expires_at < k.now
  RETURNING c.key, c.slot, c.epoch
),
ev AS (
  INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event)
  SELECT k.now, e.key, e.slot, NULL, $1::text, e.epoch, e.event FROM clock k, (
    SELECT key, slot, epoch, 'released' AS event FROM fin UNION ALL SELECT key, slot, epoch, 'expired' FROM lapsed
  ) AS e ORDER BY e.key, e.slot
)
SELECT key FROM fin ORDER BY key, slot`;

/**
 * After a lost connection, what RELEASE_HOLDER's lost try released (same parameters): the keys
 * the holder no longer holds because its session ended. Empty means nothing was, or it did not
 * go through; either way the statement runs again.
 */
export const RELEASED_HOLDER = `
SELECT key FROM claims
WHERE holder = $1::text AND state = 'released' AND result = 'session ended' AND keep = 0 AND NOT (key = ANY($2::text[]))
ORDER BY key, slot`;

/** Claims past their expiry are released. SKIP LOCKED: a row someone is working on is theirs to settle. */
export const SWEEP = `
WITH clock AS MATERIALIZED (SELECT ${NOW_MS} AS now),
gone AS MATERIALIZED (
  SELECT c.key, c.slot, c.holder, c.epoch FROM claims c
  WHERE c.state = 'claimed' AND c.expires_at < (SELECT now FROM clock)
  ORDER BY c.key, c.slot FOR UPDATE SKIP LOCKED
),
swept AS (
  UPDATE claims c SET state = 'released', result = 'expired', renewed_at = k.now FROM gone g, clock k
  WHERE c.key = g.key AND c.slot = g.slot AND c.epoch = g.epoch
  RETURNING c.key, c.slot, c.holder, c.epoch
),
ev AS (INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event) SELECT k.now, s.key, s.slot, NULL, s.holder, s.epoch, 'expired' FROM swept s, clock k ORDER BY s.key, s.slot)
SELECT count(*) AS swept FROM swept`;

const COLUMNS = 'key, slot, holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result';
export const LIST_ALL = `SELECT ${COLUMNS} FROM claims ORDER BY key, slot`;
export const LIST_HELD = `SELECT ${COLUMNS} FROM claims WHERE state = 'claimed' AND expires_at >= ${NOW_MS} ORDER BY key, slot`;
export const LIST_BLOCKING = `SELECT ${COLUMNS} FROM claims WHERE (state = 'claimed' AND expires_at >= ${NOW_MS}) OR state = 'completed' ORDER BY key, slot`;
/** Those since $1: after the last record $2 ms older than that (claim-rules.ts, LOCK_RECORD_SKEW_MS). */
export const LOCK_RECORDS = `SELECT at, key, slot, slots, holder, epoch, event FROM lock_events
WHERE id > COALESCE((SELECT id FROM lock_events WHERE at < $1::bigint - $2::bigint ORDER BY id DESC LIMIT 1), 0)
  AND at >= $1::bigint ORDER BY id`;
export const ORPHANS =
  'SELECT at, op, key, holder, token, result, reason FROM orphans WHERE at >= $1::bigint ORDER BY id';
