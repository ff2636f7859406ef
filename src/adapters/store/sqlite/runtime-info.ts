// What the running lanekeeper publishes about itself (when the next tick is due), for `status`
// to read: one row per key in `runtime_info`, replaced on every write.
import type Database from 'better-sqlite3';
import { retryBusy } from './busy.js';
import type { RuntimeInfoPort } from '../../../ports/store.js';

export function sqliteRuntimeInfo(db: Database.Database): RuntimeInfoPort {
  const upsert = db.prepare(
    'INSERT INTO runtime_info (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const remove = db.prepare('DELETE FROM runtime_info WHERE key = ?');
  const get = db.prepare('SELECT value FROM runtime_info WHERE key = ?').pluck();
  return {
    async set(key, value) {
      retryBusy(() => (value === null ? remove.run(key) : upsert.run(key, value)));
    },
    async get(key) {
      return (retryBusy(() => get.get(key)) as string | undefined) ?? null;
    },
  };
}
