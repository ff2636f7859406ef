// What the running lanekeeper publishes about itself, for `status` to read, on PostgreSQL: one row
// per key in `runtime_info`, replaced on every write (as sqlite/runtime-info.ts).
import type { RuntimeInfoPort } from '../ports.js';
import type { Db } from './db.js';

export function postgresRuntimeInfo(db: Db): RuntimeInfoPort {
  return {
    async set(key, value) {
      if (value === null) await db.rows('lk_runtime_info_remove', 'DELETE FROM runtime_info WHERE key = $1', [key]);
      else await db.rows('lk_runtime_info_set', 'INSERT INTO runtime_info (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
    },
    async get(key) {
      return (await db.row<{ value: string }>('lk_runtime_info_get', 'SELECT value FROM runtime_info WHERE key = $1', [key]))?.value ?? null;
    },
  };
}
