// lanekeeper init [--demo] [--out FILE] [--force]
import { existsSync, writeFileSync } from 'node:fs';
import { demoConfigYaml } from '../config/demo.js';
import { STARTER_CONFIG } from '../config/starter.js';
import { UsageError } from '../errors.js';
import { out } from './io.js';

export function initCommand(opts: { demo?: boolean; out: string; force?: boolean }): void {
  const text = opts.demo ? demoConfigYaml() : STARTER_CONFIG;
  if (opts.out === '-') {
    process.stdout.write(text);
    return;
  }
  if (existsSync(opts.out) && !opts.force)
    throw new UsageError(`${opts.out} already exists; pass --force to overwrite it`);
  try {
    writeFileSync(opts.out, text);
  } catch (e) {
    throw new UsageError(`cannot write ${opts.out}: ${(e as Error).message}`);
  }
  out(`wrote ${opts.out}; check it with: lanekeeper validate --config ${opts.out}`);
}
