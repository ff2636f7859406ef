// One runtime per host id on a shared store: a session-level advisory lock on the host's name,
// held by a connection of its own for as long as the run lives (it goes with the connection, so a
// runtime killed with -9 leaves no lock behind). The connection names itself in
// pg_stat_activity, so a second runtime can say which process holds the host.
import os from 'node:os';
import type pg from 'pg';
import { InstanceLockedError } from '../../instance/lock.js';

const KEY = `hashtext('lanekeeper host ' || coalesce(current_schema(), '') || ' ' || $1)`;

export async function lockHost(pool: pg.Pool, host: string): Promise<{ release(): Promise<void> }> {
  const client = await pool.connect();
  const me = `lanekeeper host ${host}: pid ${process.pid} on ${os.hostname()}`;
  try {
    await client.query(`SELECT set_config('application_name', $1, false)`, [me]);
    const got = (await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [host])).rows[0]!.ok;
    if (!got) {
      const holder = await pool.query<{ name: string }>(`SELECT application_name AS name FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid() LIMIT 1`, [`lanekeeper host ${host}: %`]);
      const who = holder.rows[0]?.name.replace(`lanekeeper host ${host}: `, '') ?? 'a process that did not say who it is';
      throw new InstanceLockedError(`another lanekeeper (${who}) runs as host ${host} on this store; give this one another host id (LANEKEEPER_HOST or host:) or stop that one first`);
    }
  } catch (err) {
    client.release();
    throw err;
  }
  // A lost connection loses the lock; the next run (or a restart) takes it again.
  client.on('error', () => {});
  return {
    async release() {
      await client.query(`SELECT pg_advisory_unlock(${KEY})`, [host]).catch(() => {});
      client.release();
    },
  };
}
