// The store the read-only commands (status, stats, inspect, replay, grade, journal, plan) open:
// where the running lanekeeper keeps it. With --config (or a lanekeeper.yaml here and no --state
// or LANEKEEPER_STATE) the configuration says, through its `store:` key or LANEKEEPER_STORE;
// otherwise the state directory's SQLite file, unless LANEKEEPER_STORE names a PostgreSQL store.
// The configuration is loaded only when it is needed, as for the state directory itself.
import { existsSync } from 'node:fs';
import type { Store } from '../ports/store.js';
import { envStoreUrl, storeUrlProblem } from '../config/store-url.js';
import type { ConfigEnv, ResolvedConfig } from '../config/types.js';
import { UsageError } from '../errors.js';
import { stateDirForReaders } from './state-dir.js';

export interface ReaderStoreOptions {
  state?: string | undefined;
  config?: string | undefined;
}

/**
 * The state directory and the store URL (null: SQLite in the state directory) a reader uses, and
 * the configuration when one was read for them.
 */
export async function storeForReaders(
  opts: ReaderStoreOptions,
  env: ConfigEnv,
): Promise<{ stateDir: string; url: string | null; host?: string; config?: ResolvedConfig }> {
  const named = opts.state !== undefined || env.LANEKEEPER_STATE !== undefined;
  if (opts.config || !named) {
    const { DEFAULT_CONFIG_FILE, loadConfig } = await import('../config/load.js');
    if (opts.config || existsSync(DEFAULT_CONFIG_FILE)) {
      const config = loadConfig({ file: opts.config, stateDir: opts.state, env });
      return { stateDir: config.stateDir, url: config.store, host: config.host, config };
    }
  }
  const url = envStoreUrl(env);
  const problem = url === null ? null : storeUrlProblem(url);
  if (problem) throw new UsageError(`LANEKEEPER_STORE: ${problem}`);
  return {
    stateDir: await stateDirForReaders(opts, env),
    url,
    ...(env.LANEKEEPER_HOST ? { host: env.LANEKEEPER_HOST } : {}),
  };
}

/** Opens the readers' store; it must exist (a reader never creates one). */
export async function openReaderStore(
  opts: ReaderStoreOptions,
  env: ConfigEnv,
): Promise<{ store: Store; dir: string; url: string | null; host?: string; config?: ResolvedConfig }> {
  const { stateDir, url, host, config } = await storeForReaders(opts, env);
  const { openStore } = await import('../adapters/store/open-store.js');
  return {
    store: await openStore({ stateDir, url, host, mustExist: true }),
    dir: stateDir,
    url,
    ...(host ? { host } : {}),
    ...(config ? { config } : {}),
  };
}
