// The current state of each lane slot on PostgreSQL, written by the runtime for `status` to read
// (as sqlite/lanes.ts).
import type { LaneStateRow, LanesPort } from '../../../ports/store.js';
import type { Db } from './db.js';

const UPSERT = `
INSERT INTO lanes (lane_id, lane, slot, state, since, session, target_share, host, deadline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (host, lane_id) DO UPDATE SET lane = excluded.lane, slot = excluded.slot, state = excluded.state,
  since = excluded.since, session = excluded.session, target_share = excluded.target_share, deadline = excluded.deadline`;

/** Each host writes its own lane rows; readers see every host's (status aggregates them). */
export function postgresLanes(db: Db, host: string): LanesPort {
  return {
    async set(row) {
      await db.rows('lk_lanes_set', UPSERT, [
        row.lane_id,
        row.lane,
        row.slot,
        row.state,
        row.since,
        row.session,
        row.target_share ?? null,
        host,
        row.deadline ?? null,
      ]);
    },
    async list() {
      return db.rows<LaneStateRow>(
        'lk_lanes_list',
        'SELECT lane_id, lane, slot, state, since, session, target_share, host, deadline FROM lanes ORDER BY lane, slot, host',
      );
    },
    async retain(laneIds) {
      await db.rows('lk_lanes_retain', 'DELETE FROM lanes WHERE host = $2 AND NOT (lane_id = ANY($1::text[]))', [
        [...laneIds],
        host,
      ]);
    },
  };
}
