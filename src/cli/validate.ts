// lanekeeper validate [--config F] [--state DIR] [--strict]
// What can never work is an error (exit 2, every problem with its line, as every command reports
// an invalid file). What would fail on this machine now (runtime/preflight.ts: commands, working
// directories, lock files, task files) is a warning: "ok (2 warnings)" and a line each, exit 0;
// --strict refuses those too, with exit 2.
import { loadPlacedConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { plural } from '../format/event.js';
import { preflight } from '../runtime/preflight.js';
import { out } from './io.js';

export async function validateCommand(opts: { config?: string; state?: string; strict?: boolean }): Promise<void> {
  const { config, place } = loadPlacedConfig({ file: opts.config, stateDir: opts.state, env: process.env });
  const warnings = await preflight(config, { PATH: process.env.PATH });
  const lines = warnings.map((w) => ('path' in w ? place(w) : `task file ${w.file}: ${w.message}`));
  // In the file's order; task files (no line of the configuration) last.
  const line = (text: string) => Number(/^line (\d+):/.exec(text)?.[1] ?? Infinity);
  lines.sort((a, b) => line(a) - line(b));
  if (!lines.length) out('ok');
  else if (opts.strict) throw new ConfigError(config.source, lines);
  else out(`ok (${plural(lines.length, 'warning')})\n${lines.map((l) => `  ${l}`).join('\n')}`);
}
