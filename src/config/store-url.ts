// Where the store lives: null for the SQLite file in the state directory, or a PostgreSQL URL
// (postgres:// or postgresql://) from the config's top-level `store:` key, which LANEKEEPER_STORE
// overrides. Messages never repeat the URL itself: it may carry a password.
import type { ConfigEnv } from './types.js';

const EXAMPLE = 'postgres://lanekeeper@db.example:5432/lanekeeper';

/** What is wrong with a store URL, or null when it is a PostgreSQL URL. */
export function storeUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `expected a PostgreSQL URL such as ${EXAMPLE}, got something that is not a URL`;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return `expected a postgres:// or postgresql:// URL such as ${EXAMPLE}, got a "${parsed.protocol}//" URL`;
  }
  return null;
}

/** LANEKEEPER_STORE, or null when unset or empty (an empty value falls back to the config). */
export function envStoreUrl(env: ConfigEnv): string | null {
  return env.LANEKEEPER_STORE ? env.LANEKEEPER_STORE : null;
}

/** The store URL in force (LANEKEEPER_STORE beats the file's `store:`), or the problem with it. */
export function resolveStoreUrl(
  fromFile: string | undefined,
  env: ConfigEnv,
): { url: string | null } | { problem: string } {
  const fromEnv = envStoreUrl(env);
  const url = fromEnv ?? fromFile ?? null;
  if (url === null) return { url };
  const problem = storeUrlProblem(url);
  if (!problem) return { url };
  return { problem: fromEnv ? `LANEKEEPER_STORE (which overrides store): ${problem}` : problem };
}
