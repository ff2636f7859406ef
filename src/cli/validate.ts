// lanekeeper validate [--config F]
import { loadConfig } from '../config/load.js';
import { out } from './io.js';

export function validateCommand(opts: { config?: string }): void {
  loadConfig({ file: opts.config, env: process.env });
  out('ok');
}
