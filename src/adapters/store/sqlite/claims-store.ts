// Only the claims of the store, for the claim commands agents run often: opening it loads
// neither the journal nor the session modules.
import { retryBusy } from './busy.js';
import { sqliteClaims, type Clock } from './claims.js';
import { openDatabase } from './open.js';
import type { ClaimsPort } from '../../../ports/store.js';

export function openClaimsStore(
  stateDir: string,
  opts: { clock?: Clock } = {},
): { claims: ClaimsPort; close(): Promise<void> } {
  const db = openDatabase(stateDir, { mustExist: true });
  return {
    claims: sqliteClaims(db, opts.clock ?? Date.now),
    async close() {
      if (db.open) retryBusy(() => db.close(), db.name);
    },
  };
}
