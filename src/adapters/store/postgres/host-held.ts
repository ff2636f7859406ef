// Who holds a host's lock on a shared store, read from the lock table (pg_locks), never by taking
// the lock: for readers (`status`: does a runtime run as this host?) and for a runtime taking the
// lock again after its connection was lost (is the holder its own old backend, or another runtime?).
// An advisory lock on a bigint key shows as classid (its high 32 bits) and objid (its low 32 bits).
import type { Db } from './db.js';
import { KEY } from './host-key.js';

/** $1 the host: the backend pid holding its lock in this schema, and the name it gave (none: no rows). */
export const HOLDER = `
SELECT l.pid, a.application_name AS name
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid, (SELECT (${KEY})::bigint AS key) k
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = ((k.key >> 32) & 4294967295) AND l.objid::bigint = (k.key & 4294967295)
LIMIT 1`;

export async function hostHeld(db: Db, host: string): Promise<boolean> {
  return (await db.rows('lk_host_holder', HOLDER, [host])).length > 0;
}
