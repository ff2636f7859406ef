// The PostgreSQL server the claims benchmarks use, and whether it can be used: shared by
// claims-pg.mjs and claims-pgbench.mjs, which skip (exit 0, saying why) without one.
import pg from 'pg';

/** --url, else $LANEKEEPER_BENCH_PG_URL, else $LANEKEEPER_TEST_PG_URL. */
export const benchPgUrl = (flag) => flag ?? process.env.LANEKEEPER_BENCH_PG_URL ?? process.env.LANEKEEPER_TEST_PG_URL;

/** Why the server cannot be used, or null when it answers. */
export async function unreachable(url) {
  if (!url) return 'no PostgreSQL URL (set LANEKEEPER_BENCH_PG_URL or LANEKEEPER_TEST_PG_URL, or pass --url)';
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return null;
  } catch (err) {
    const p = new URL(url);
    return `PostgreSQL at ${p.hostname}:${p.port || 5432} does not answer (${err.message})`;
  } finally {
    await c.end().catch(() => {});
  }
}
