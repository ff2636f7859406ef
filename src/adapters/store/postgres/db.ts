// How the PostgreSQL ports talk to the pool: named prepared statements (each connection parses
// and plans a statement once, which matters for the claims' CTEs on the hot path), and a retry
// when PostgreSQL aborts a statement as a deadlock victim or a serialization failure. Every
// statement here is one atomic statement (or a transaction retried whole), so running it again
// is safe.
import type pg from 'pg';

const RETRYABLE = new Set(['40P01', '40001']);
const TRIES = 5;

export interface Db {
  readonly pool: pg.Pool;
  /** Runs a named statement and returns its rows. */
  rows<R>(name: string, text: string, values?: readonly unknown[]): Promise<R[]>;
  /** The first row, or undefined. */
  row<R>(name: string, text: string, values?: readonly unknown[]): Promise<R | undefined>;
}

export function database(pool: pg.Pool): Db {
  const rows = async <R>(name: string, text: string, values: readonly unknown[] = []): Promise<R[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await pool.query({ name, text, values: values as unknown[] });
        return r.rows as R[];
      } catch (err) {
        if (attempt >= TRIES || !RETRYABLE.has((err as { code?: string }).code ?? '')) throw err;
        // Randomized, so two victims of the same deadlock do not collide again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  };
  return {
    pool,
    rows,
    async row<R>(name: string, text: string, values?: readonly unknown[]) {
      return (await rows<R>(name, text, values))[0];
    },
  };
}

/** The database's clock in integer ms since the epoch: claim times never come from a host's clock. */
export const NOW_MS = `floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
