// One runtime per host id on a shared store: a session-level advisory lock on the host's name,
// held by a connection of its own for as long as the run lives (it goes with the connection, so a
// runtime killed with -9 leaves no lock behind). The connection names itself in
// pg_stat_activity, so a second runtime can say which process holds the host. When the connection
// is lost (a database restart, a killed backend, a network cut), the lock is taken again as soon
// as the database answers; if another runtime took the host id meanwhile, `onLost` says so.
//
// A network cut can leave the lost connection's backend alive on the server (it never heard the
// connection go, and waits for it), still holding the lock; a killed backend holds it for a moment
// while it ends. That backend is this lock's own, known by its pid in the lock table: it is ended,
// and the lock taken again once it is gone, rather than mistaken for another runtime.
import os from 'node:os';
import type pg from 'pg';
import { InstanceLockedError } from '../../instance/lock.js';
import { HOLDER } from './host-held.js';
import { KEY } from './host-key.js';

export interface HostLockOptions {
  /** The lock could not be taken again after its connection was lost: another runtime has the host. */
  onLost?: (reason: string) => void;
}

/** How long a backend of this lock's own lost connection is waited for after it was ended. */
const GHOST_WAIT_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the host's lock on a connection of its own; throws InstanceLockedError naming the holder.
 * `ghost`: the backend pid of this lock's previous connection, lost to us but perhaps not yet to
 * the server. Returns the client and its backend pid.
 */
async function take(
  pool: pg.Pool,
  host: string,
  ghost: number | null,
): Promise<{ client: pg.PoolClient; pid: number }> {
  const client = await pool.connect();
  const prefix = `lanekeeper host ${host}: `;
  try {
    const { pid } = (
      await client.query<{ pid: number }>(`SELECT set_config('application_name', $1, false), pg_backend_pid() AS pid`, [
        `${prefix}pid ${process.pid} on ${os.hostname()}`,
      ])
    ).rows[0]!;
    const until = Date.now() + GHOST_WAIT_MS;
    for (;;) {
      if ((await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [host])).rows[0]!.ok)
        return { client, pid };
      // Who holds it, from the lock table: a backend may still hold it for a moment after
      // pg_stat_activity no longer lists it (it is ending), or have let it go since.
      const holder = (await client.query<{ pid: number; name: string | null }>(HOLDER, [host])).rows[0];
      const ours = holder === undefined || holder.pid === ghost;
      if (!ours) {
        const who = holder.name?.startsWith(prefix)
          ? holder.name.slice(prefix.length)
          : 'a process that did not say who it is';
        throw new InstanceLockedError(
          `another lanekeeper (${who}) runs as host ${host} on this store; give this one another host id (LANEKEEPER_HOST or host:) or stop that one first`,
        );
      }
      if (Date.now() > until)
        throw new Error(`the backend (pid ${ghost}) of the host lock's lost connection does not end`);
      // This lock's own lost backend, still ending (or already gone): end it, and try again.
      if (holder) await client.query('SELECT pg_terminate_backend($1)', [holder.pid]);
      await sleep(100);
    }
  } catch (err) {
    client.release(true);
    throw err;
  }
}

export async function lockHost(
  pool: pg.Pool,
  host: string,
  opts: HostLockOptions = {},
): Promise<{ release(): Promise<void> }> {
  const first = await take(pool, host, null);
  let client: pg.PoolClient | null = first.client;
  let ghost = first.pid;
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
        const got = await take(pool, host, ghost);
        if (released) {
          got.client.release(true);
          return;
        }
        client = got.client;
        ghost = got.pid;
        watch(got.client);
        return;
      } catch (err) {
        if (err instanceof InstanceLockedError) {
          opts.onLost?.(err.message);
          return;
        }
        await sleep(waitMs);
      }
    }
  };
  watch(first.client);
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
