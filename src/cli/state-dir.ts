// Where readers (status, and later claims and stats) find the state directory:
// --state, then LANEKEEPER_STATE, then the config's state_dir (when a config is given or
// lanekeeper.yaml exists here), then $XDG_STATE_HOME/lanekeeper.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config/load.js';
import { defaultStateDir } from '../config/resolve.js';
import type { ConfigEnv } from '../config/types.js';

export function stateDirForReaders(opts: { state?: string | undefined; config?: string | undefined }, env: ConfigEnv): string {
  if (opts.state) return path.resolve(opts.state);
  if (env.LANEKEEPER_STATE) return path.resolve(env.LANEKEEPER_STATE);
  if (opts.config || existsSync(DEFAULT_CONFIG_FILE)) return loadConfig({ file: opts.config, env }).stateDir;
  return defaultStateDir(env);
}
