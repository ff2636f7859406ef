// lanekeeper replay [--state DIR | --journal FILE] [--until SEQ] [--from-start] [--jobs N] [--json]
// Folds the journal through the machines as they are now and reports the first divergence from
// what was recorded; exit 1 when there is one.
import os from 'node:os';
import { openJournalFile } from '../adapters/journal-file/read.js';
import { UsageError } from '../errors.js';
import { storeJournalSource } from '../streams/journal-source.js';
import { WORKER_HEAP_MB } from '../streams/replay-parallel.js';
import { replayJournal, type Divergence, type ReplayResult } from '../streams/replay.js';
import { renderTable } from '../format/table.js';
import { EXIT, out } from './io.js';
import { openReaderStore } from './reader-store.js';

export interface ReplayOptions {
  state?: string;
  config?: string;
  journal?: string;
  until?: number;
  fromStart?: boolean;
  json?: boolean;
  /** Pieces replayed at once (default: one per core, at most MAX_JOBS). */
  jobs?: number;
}

/** More threads than this only fight over the store and memory. */
export const MAX_JOBS = 8;

export async function replayCommand(opts: ReplayOptions): Promise<void> {
  if (opts.journal && (opts.state || opts.config))
    throw new UsageError('--journal replays a file; drop --state and --config');
  if (opts.jobs !== undefined && opts.jobs > MAX_JOBS)
    throw new UsageError(
      `--jobs ${opts.jobs}: at most ${MAX_JOBS} (each piece is a thread with up to ${WORKER_HEAP_MB} MB of heap)`,
    );
  let source;
  if (opts.journal) source = await openJournalFile(opts.journal);
  else {
    const { store, dir, url, host } = await openReaderStore(opts, process.env);
    source = storeJournalSource(store.journal, url ? store.location : dir, () => store.close(), {
      stateDir: dir,
      url,
      ...(host ? { host } : {}),
    });
  }
  const jobs = opts.jobs ?? Math.min(os.availableParallelism(), MAX_JOBS);
  const result = await replayJournal(source, { until: opts.until, fromStart: opts.fromStart, jobs });
  if (opts.json) {
    out(
      JSON.stringify({
        events: result.events,
        divergences: result.divergences,
        ...(result.firstDivergence ? { first_divergence: result.firstDivergence } : {}),
        lanes: result.lanes.map((l) => ({ name: l.name, state: l.path })),
        begin: result.begin,
        end: result.end,
        untaken: result.untaken,
        notes: result.notes,
      }),
    );
  } else out(renderReplay(source.name, result, opts.until !== undefined));
  if (result.divergences) process.exitCode = EXIT.failed;
}

function renderReplay(name: string, r: ReplayResult, stopped: boolean): string {
  const from =
    r.begin.at === 'checkpoint'
      ? `the checkpoint at seq ${r.begin.seq - 1}`
      : r.begin.at === 'run'
        ? `the run's start at seq ${r.begin.seq}`
        : 'the first event';
  const lines = [
    `${name}: replayed ${r.events} event${r.events === 1 ? '' : 's'} (to seq ${r.end}, from ${from})${stopped ? `; the state at seq ${r.end}:` : ''}`,
  ];
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.untaken)
    lines.push(
      `note: ${r.untaken} event(s) were journaled but never taken (the runtime stopped in between); replayed, not compared`,
    );
  lines.push(
    '',
    r.lanes.length
      ? renderTable([['LANE', 'STATE'], ...r.lanes.map((l) => [l.name, l.path])])
      : 'no lanes (no run in the replayed events)',
    '',
  );
  lines.push(
    r.divergences === 0
      ? '0 divergences'
      : `${r.divergences} divergence${r.divergences === 1 ? '' : 's'}; the first:\n${divergenceText(r.firstDivergence!)}`,
  );
  return lines.join('\n');
}

function divergenceText(d: Divergence): string {
  const what =
    d.what === 'intents'
      ? 'the intents differ'
      : d.what === 'states'
        ? 'the lane states differ'
        : 'the machines failed';
  return `  seq ${d.seq} (${d.event}): ${what}\n  expected: ${JSON.stringify(d.expected)}\n  got:      ${JSON.stringify(d.got)}`;
}
