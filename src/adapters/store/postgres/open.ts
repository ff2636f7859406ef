// Opens a pg Pool on a PostgreSQL URL and checks the first connection, so a database that cannot
// be reached is reported once, at open, as a StoreError naming the host and port (never the
// password). Every connection is started with a statement timeout and an idle-in-transaction
// timeout, so a claim stuck behind a lock, or a client that died inside a transaction, cannot
// hold rows for long. int8 (bigint) columns come back as numbers: the store keeps times in ms
// and tokens as bigint, well inside Number's safe range.
import pg from 'pg';
import { StoreError } from '../../../errors.js';

export interface PoolOptions {
  /** Connections in the pool (the claim CLI needs 1; the runtime a few). */
  max?: number;
  /** Tables live in this schema (it must exist): tests use a fresh one each. */
  schema?: string;
  statementTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  connectTimeoutMs?: number;
  applicationName?: string;
}

const INT8 = 20;

// Per pool, not pg.types.setTypeParser: a global parser would change pg for every other user in
// the process.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** host:port, database and user of a URL, for messages and `Store.location`; never the password. */
export function describeUrl(url: string): {
  host: string;
  port: string;
  database: string;
  user: string;
  where: string;
} {
  const u = new URL(url);
  // A socket directory may be given as ?host=/run/postgresql instead of in the authority.
  const host = decodeURIComponent(u.hostname) || u.searchParams.get('host') || 'localhost';
  const port = u.port || u.searchParams.get('port') || '5432';
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  const user = decodeURIComponent(u.username) || '(default user)';
  return { host, port, database, user, where: `${host}:${port}` };
}

/** The URL without its password, for `Store.location`. */
export function redactUrl(url: string, schema?: string): string {
  const u = new URL(url);
  u.password = '';
  const base = u.toString();
  return schema ? `${base}${u.search ? '&' : '?'}schema=${encodeURIComponent(schema)}` : base;
}

export async function openPool(url: string, opts: PoolOptions = {}): Promise<pg.Pool> {
  const d = describeUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 4,
    statement_timeout: opts.statementTimeoutMs ?? 15_000,
    idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? 60_000,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    application_name: opts.applicationName ?? 'lanekeeper',
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    types,
  });
  // A connection that is lost (a server restart, pg_terminate_backend) makes its client emit
  // 'error', and an 'error' without a listener ends the process. The pool listens only while a
  // client is idle (and re-emits it here); a checked-out client (a transaction, the host lock,
  // the moment between a statement's answer and the client's return) is nobody's. So every client
  // gets a listener of its own as it is made, for its whole life. Nothing is lost by ignoring the
  // event: the statement in flight, or the next one on that client, fails with the connection
  // error, which the caller retries (db.ts) or acts on (host-lock.ts); the pool then drops the
  // client, and the next statement opens a new connection.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new StoreError(
      `cannot use the PostgreSQL store at ${d.where} (database ${d.database}, user ${d.user}): ${connectProblem(err, opts.connectTimeoutMs ?? 10_000)}`,
    );
  }
  return pool;
}

/** Why a connection failed, in words a user can act on. */
export function connectProblem(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running and listening there?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host cannot be reached';
    case '28P01':
      return 'password authentication failed (check the password in the URL, PGPASSWORD or ~/.pgpass)';
    case '28000':
      return `the server refused the login: ${e.message ?? ''}`;
    case '3D000':
      return `${e.message ?? 'the database does not exist'} (create it first)`;
    default:
      if (/timeout/i.test(e.message ?? '')) return `no answer within ${Math.round(timeoutMs / 1000)} s`;
      return e.message ?? String(err);
  }
}
