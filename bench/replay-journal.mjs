// The journal a replay benchmark works on, from its command line: `--state DIR` (a journal written
// before, left as it is) or a new one of `--events N` in a temporary directory, removed by
// `done()` unless KEEP=1. A journal kept, or given, has its path printed (for `--state` next time).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeSyntheticJournal } from '../scripts/synthetic-journal.mjs';

/** The value after `--name` on the command line, or undefined. */
export const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** The journal's directory, the events asked for, the seconds it took to build (0 when given), and `done`. */
export async function benchJournal(defaultEvents) {
  const events = Number(arg('events') ?? defaultEvents);
  const given = arg('state');
  const dir = given ?? mkdtempSync(path.join(os.tmpdir(), 'lk-bench-replay-'));
  const t0 = performance.now();
  if (!given) await writeSyntheticJournal(dir, events);
  const builtS = (performance.now() - t0) / 1000;
  const done = () => {
    if (given || process.env.KEEP) console.log(dir);
    else rmSync(dir, { recursive: true, force: true });
  };
  return { dir, events, builtS, done };
}
