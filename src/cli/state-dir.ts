// Where readers (status, and later claims and stats) find the state directory:
// --state, then LANEKEEPER_STATE, then the config's state_dir (when a config is given or
// lanekeeper.yaml exists here), then $XDG_STATE_HOME/lanekeeper.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConfigEnv } from '../config/types.js';

/** The configuration (YAML, zod) is loaded only when neither --state nor LANEKEEPER_STATE says. */
export async function stateDirForReaders(
  opts: { state?: string | undefined; config?: string | undefined },
  env: ConfigEnv,
): Promise<string> {
  if (opts.state) return path.resolve(opts.state);
  if (env.LANEKEEPER_STATE) return path.resolve(env.LANEKEEPER_STATE);
  const { DEFAULT_CONFIG_FILE, loadConfig } = await import('../config/load.js');
  if (opts.config || existsSync(DEFAULT_CONFIG_FILE)) return loadConfig({ file: opts.config, env }).stateDir;
  const { defaultStateDir } = await import('../config/resolve.js');
  return defaultStateDir(env);
}
