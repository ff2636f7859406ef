// One runtime per host id on a shared store: a session-level advisory lock on the host's name,
// held by a connection of its own for as long as the run lives (it goes with the connection, so a
// runtime killed with -9 leaves no lock behind). The connection names itself in
// pg_stat_activity, so a second runtime can say which process holds the host. When the connection
// is lost (a database restart, a killed backend), the lock is taken again as soon as the database
// answers; if another runtime took the host id meanwhile, `onLost` says so.
import os from 'node:os';
import type pg from 'pg';
import { InstanceLockedError } from '../../instance/lock.js';

/** The advisory lock's key for host $1 in this schema (host-held.ts reads it in pg_locks). */
export const KEY = `hashtext('lanekeeper host ' || coalesce(current_schema(), '') || ' ' || $1)`;

export interface HostLockOptions {
  /** The lock could not be taken again after its connection was lost: another runtime has the host. */
  onLost?: (reason: string) => void;
}

/** Takes the host's lock on a connection of its own; throws InstanceLockedError naming the holder. */
async function take(pool: pg.Pool, host: string): Promise<pg.PoolClient> {
  const client = await pool.connect();
  try {
    await client.query(`SELECT set_config('application_name', $1, false)`, [`lanekeeper host ${host}: pid ${process.pid} on ${os.hostname()}`]);
    const got = (await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [host])).rows[0]!.ok;
    if (!got) {
      const holder = await pool.query<{ name: string }>(`SELECT application_name AS name FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid() LIMIT 1`, [`lanekeeper host ${host}: %`]);
      const who = holder.rows[0]?.name.replace(`lanekeeper host ${host}: `, '') ?? 'a process that did not say who it is';
      throw new InstanceLockedError(`another lanekeeper (${who}) runs as host ${host} on this store; give this one another host id (LANEKEEPER_HOST or host:) or stop that one first`);
    }
    return client;
  } catch (err) {
    client.release(true);
    throw err;
  }
}

export async function lockHost(pool: pg.Pool, host: string, opts: HostLockOptions = {}): Promise<{ release(): Promise<void> }> {
  let client: pg.PoolClient | null = await take(pool, host);
  let released = false;
  const watch = (c: pg.PoolClient) =>
    c.on('error', () => {
      if (released || client !== c) return;
      client = null;
      c.release(true);
      void retake();
    });
  const retake = async () => {
    for (let waitMs = 200; !released; waitMs = Math.min(waitMs * 2, 5000)) {
      try {
        const c = await take(pool, host);
        if (released) {
          c.release(true);
          return;
        }
        client = c;
        watch(c);
        return;
      } catch (err) {
        if (err instanceof InstanceLockedError) {
          opts.onLost?.(err.message);
          return;
        }
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  };
  watch(client);
  return {
    async release() {
      released = true;
      const c = client;
      client = null;
      if (!c) return;
      await c.query(`SELECT pg_advisory_unlock(${KEY})`, [host]).catch(() => {});
      c.release();
    },
  };
}
