// Which store to open: the SQLite file in the state directory when no URL is configured, the
// PostgreSQL store when the URL is postgres:// or postgresql:// (the config's `store:`, or
// LANEKEEPER_STORE). Both implementations are imported only when chosen, so `lanekeeper claim`
// on SQLite never loads pg, and on PostgreSQL never loads better-sqlite3.
import { StoreError } from '../../errors.js';
import { storeUrlProblem } from '../../config/store-url.js';
import type { ClaimsPort, Store } from '../../ports/store.js';

export interface OpenStoreOptions {
  stateDir: string;
  /** A PostgreSQL URL, or null/undefined for SQLite in stateDir. */
  url?: string | null;
  /** For readers: fail rather than create an empty store. */
  mustExist?: boolean;
  /** The host this store reads and writes for (PostgreSQL; the machine's host name by default). */
  host?: string;
  /** PostgreSQL: told when the database stops answering and when it answers again. */
  onAvailability?: (up: boolean, detail: string) => void;
}

function checkedUrl(url: string): string {
  const problem = storeUrlProblem(url);
  if (problem) throw new StoreError(`store: ${problem}`, 'url');
  return url;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (!opts.url) {
    const { openSqliteStore } = await import('./sqlite/index.js');
    return openSqliteStore(opts.stateDir, { mustExist: opts.mustExist });
  }
  const url = checkedUrl(opts.url);
  const { openPostgresStore } = await import('./postgres/index.js');
  return openPostgresStore(url, { mustExist: opts.mustExist, host: opts.host, onAvailability: opts.onAvailability });
}

/** Only the claims, for the claim commands agents run often; the store must exist already. */
export async function openClaimsOnly(opts: {
  stateDir: string;
  url?: string | null;
}): Promise<{ claims: ClaimsPort; close(): Promise<void> }> {
  if (!opts.url) {
    const { openClaimsStore } = await import('./sqlite/claims-store.js');
    return openClaimsStore(opts.stateDir);
  }
  const url = checkedUrl(opts.url);
  const { openPostgresStore } = await import('./postgres/index.js');
  // One connection is all a claim command needs.
  const store = await openPostgresStore(url, { mustExist: true, max: 1 });
  return { claims: store.claims, close: () => store.close() };
}
