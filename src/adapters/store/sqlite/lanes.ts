// The current state of each lane slot, written by the runtime for `status` to read.
import type Database from 'better-sqlite3';
import { retryBusy, writer } from './busy.js';
import type { LaneStateRow, LanesPort } from '../../../ports/store.js';

export function sqliteLanes(db: Database.Database): LanesPort {
  const upsert = db.prepare(
    `INSERT INTO lanes (lane_id, lane, slot, state, since, session, target_share, deadline)
     VALUES (@lane_id, @lane, @slot, @state, @since, @session, @target_share, @deadline)
     ON CONFLICT (lane_id) DO UPDATE SET lane = excluded.lane, slot = excluded.slot, state = excluded.state,
       since = excluded.since, session = excluded.session, target_share = excluded.target_share, deadline = excluded.deadline`,
  );
  const list = db.prepare(
    'SELECT lane_id, lane, slot, state, since, session, target_share, deadline FROM lanes ORDER BY lane, slot',
  );
  const all = db.prepare('SELECT lane_id FROM lanes').pluck();
  const remove = db.prepare('DELETE FROM lanes WHERE lane_id = ?');
  return {
    async set(row) {
      retryBusy(() => upsert.run({ target_share: null, deadline: null, ...row }));
    },
    async list() {
      return retryBusy(() => list.all() as LaneStateRow[]);
    },
    async retain(laneIds) {
      const keep = new Set(laneIds);
      writer(db, () => {
        for (const id of all.all() as string[]) if (!keep.has(id)) remove.run(id);
      })();
    },
  };
}
