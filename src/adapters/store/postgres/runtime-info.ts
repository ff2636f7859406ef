// What the running lanekeeper publishes about itself, for `status` to read, on PostgreSQL: one row
// per key in `runtime_info`, replaced on every write (as sqlite/runtime-info.ts).
import type { RuntimeInfoPort } from '../../../ports/store.js';
import type { Db } from './db.js';

/** Per host: each runtime publishes about itself. */
export function postgresRuntimeInfo(db: Db, host: string): RuntimeInfoPort {
  return {
    async set(key, value) {
      if (value === null)
        await db.rows('lk_runtime_info_remove', 'DELETE FROM runtime_info WHERE host = $2 AND key = $1', [key, host]);
      else
        await db.rows(
          'lk_runtime_info_set',
          'INSERT INTO runtime_info (host, key, value) VALUES ($3, $1, $2) ON CONFLICT (host, key) DO UPDATE SET value = excluded.value',
          [key, value, host],
        );
    },
    async get(key) {
      return (
        (
          await db.row<{ value: string }>(
            'lk_runtime_info_get',
            'SELECT value FROM runtime_info WHERE host = $2 AND key = $1',
            [key, host],
          )
        )?.value ?? null
      );
    },
  };
}
