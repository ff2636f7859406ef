// Whether a runtime holds a host's lock on a shared store, for readers (`status`): the lock table
// (pg_locks) is read, never the lock taken, so a runtime starting at that moment is not refused.
// An advisory lock on a bigint key shows as classid (its high 32 bits) and objid (its low 32 bits).
import type { Db } from './db.js';
import { KEY } from './host-lock.js';

const HELD = `
SELECT EXISTS (
  SELECT 1 FROM pg_locks, (SELECT (${KEY})::bigint AS key) k
  WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid::bigint = ((k.key >> 32) & 4294967295) AND objid::bigint = (k.key & 4294967295)
) AS held`;

export async function hostHeld(db: Db, host: string): Promise<boolean> {
  return (await db.row<{ held: boolean }>('lk_host_held', HELD, [host]))?.held === true;
}
