// How the PostgreSQL ports talk to the pool: named prepared statements (each connection parses
// and plans a statement once, which matters for the claims' CTEs on the hot path), and two kinds
// of retry:
// - a statement PostgreSQL aborted as a deadlock victim or a serialization failure runs again at
//   once (a few times);
// - while the database cannot be reached (refused, reset, a restart, pg_terminate_backend), every
//   statement waits and tries again, without end, until it answers or the store is closed. The
//   caller simply waits: the runtime's journal, its ticks and its session records stop where they
//   are and go on, in order, when the database is back. `onAvailability` hears once per change.
// Every statement here is one atomic statement (or a transaction retried whole), but a lost
// connection does not say whether it committed: the answer may be what was lost. Most statements
// are harmless to run again (an upsert, a claim granted to the same holder is extended with its
// token, a grade already folded in changes nothing). The others name a `reconcile` statement:
// after a lost connection it runs first and tells whether the lost try committed; if so its rows
// are the answer and the statement is not run again. So a journal append is neither lost nor
// written twice, and a release that went through is not refused as stale the second time.
import type pg from 'pg';

const RETRYABLE = new Set(['40P01', '40001']);
const TRIES = 5;
/** Connection failures and server shutdowns: worth waiting out. */
const GONE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const GONE_TEXT =
  /Connection terminated|connection error|terminating connection|timeout exceeded when trying to connect|Client was closed|the database system is (starting up|shutting down)/i;

export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return GONE_CODES.has(e.code ?? '') || GONE_TEXT.test(e.message ?? '');
}

export interface DbOptions {
  /** Told when the database stops answering (with why) and when it answers again. */
  onAvailability?: (up: boolean, detail: string) => void;
}

/**
 * For a statement that must not run twice: asked after a lost connection, before the statement
 * runs again. Rows mean the lost try committed, and they are the statement's answer; none, that
 * it did not. Named (a prepared statement), with the statement's values unless given its own.
 */
export interface Reconcile {
  name: string;
  text: string;
  values?: readonly unknown[];
}

export interface Db {
  readonly pool: pg.Pool;
  /** Runs a named statement and returns its rows. */
  rows<R>(name: string, text: string, values?: readonly unknown[], reconcile?: Reconcile): Promise<R[]>;
  /** The first row, or undefined. */
  row<R>(name: string, text: string, values?: readonly unknown[], reconcile?: Reconcile): Promise<R | undefined>;
  /** Runs `fn` in a transaction on one connection, whole again if the connection is lost. */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Stops the waiting: statements still waiting for the database fail. */
  close(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The waiting and the retries every statement goes through, and what they remember between
 * statements: since when the database has not answered (so `onAvailability` hears once per
 * change), and whether the store was closed (then nothing waits any more).
 */
function persistence(opts: DbOptions) {
  let down: { since: number } | null = null;
  let closed = false;
  const answered = () => {
    if (!down) return;
    const secs = Math.round((Date.now() - down.since) / 100) / 10;
    down = null;
    opts.onAvailability?.(true, `after ${secs}s`);
  };
  /**
   * Runs `attempt` until it succeeds, waiting out a database that cannot be reached. `attempt` is
   * told whether an earlier try was cut off by a lost connection (it may have committed).
   */
  const persist = async <T>(attempt: (lost: boolean) => Promise<T>): Promise<T> => {
    let waitMs = 100;
    let lost = false;
    for (let tries = 1; ; tries++) {
      try {
        const r = await attempt(lost);
        answered();
        return r;
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (RETRYABLE.has(code) && tries < TRIES) {
          // Randomized, so two victims of the same deadlock do not collide again.
          await sleep(Math.random() * 5 * tries);
          continue;
        }
        if (!isConnectionLost(err) || closed) throw err;
        lost = true;
        if (!down) {
          down = { since: Date.now() };
          opts.onAvailability?.(false, (err as Error).message);
        }
        await sleep(waitMs);
        waitMs = Math.min(waitMs * 2, 2000);
      }
    }
  };
  return {
    persist,
    close() {
      closed = true;
    },
  };
}

/** The Db over `pool`: every statement named, and run through `persistence` (its retries and waits). */
export function database(pool: pg.Pool, opts: DbOptions = {}): Db {
  const { persist, close } = persistence(opts);
  const query = async <R>(name: string, text: string, values: readonly unknown[]) =>
    (await pool.query({ name, text, values: values as unknown[] })).rows as R[];
  const rows = async <R>(
    name: string,
    text: string,
    values: readonly unknown[] = [],
    reconcile?: Reconcile,
  ): Promise<R[]> =>
    persist(async (lost) => {
      if (lost && reconcile) {
        const done = await query<R>(reconcile.name, reconcile.text, reconcile.values ?? values);
        if (done.length) return done;
      }
      return query<R>(name, text, values);
    });
  return {
    pool,
    rows,
    async row<R>(name: string, text: string, values?: readonly unknown[], reconcile?: Reconcile) {
      return (await rows<R>(name, text, values, reconcile))[0];
    },
    async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
      return persist(async () => {
        const client = await pool.connect();
        let gone: Error | undefined;
        try {
          await client.query('BEGIN');
          const out = await fn(client);
          await client.query('COMMIT');
          return out;
        } catch (err) {
          // A connection that was lost is not given back to the pool, whatever it still says.
          if (isConnectionLost(err)) gone = err as Error;
          else await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          client.release(gone);
        }
      });
    },
    close,
  };
}

/** The database's clock in integer ms since the epoch: claim times never come from a host's clock. */
export const NOW_MS = `floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
