// lanekeeper inspect [--state DIR] [--journal FILE] [--port 4180] [--host 127.0.0.1]
// Serves the local view (adapters/view) until Ctrl-C: each lane's state chart with its current
// state lit, the event timeline, running sessions, decisions, posteriors and claims, read live from
// the state directory; and a stepper through a journal (the state directory's own, or an exported
// file) that lights each lane's state at each event.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { laneChartDot, renderSvg } from '../adapters/view/chart.js';
import { openViewData, type ViewData } from '../adapters/view/data.js';
import { isLoopback, startViewServer, type ViewServer } from '../adapters/view/server.js';
import { journalSteps } from '../adapters/view/steps.js';
import { openJournalFile } from '../adapters/journal-file/read.js';
import { openStore } from '../adapters/store/open-store.js';
import { DB_FILE } from '../adapters/store/sqlite/open.js';
import { UsageError } from '../errors.js';
import { storeJournalSource } from '../streams/journal-source.js';
import { err, out } from './io.js';
import { storeForReaders } from './reader-store.js';

export interface InspectOptions {
  state?: string;
  config?: string;
  journal?: string;
  port: number;
  host: string;
}

export async function inspectCommand(opts: InspectOptions): Promise<void> {
  const { stateDir: dir, url, host } = await storeForReaders(opts, process.env);
  const journalFile = opts.journal ? path.resolve(opts.journal) : null;
  // A journal file can be viewed on its own (a bug report's attachment, no state directory here);
  // a state directory asked for by name must exist.
  const named = opts.state !== undefined || process.env.LANEKEEPER_STATE !== undefined;
  const withState = !journalFile || named || url !== null || existsSync(path.join(dir, DB_FILE));
  let data: ViewData | null = null;
  let server: ViewServer | null = null;
  try {
    data = withState ? await openViewData(dir, url, host) : null;
    if (journalFile) await (await openJournalFile(journalFile)).close(); // checks the whole file now: a damaged one is named at once
    const journal = journalSteps(async () => {
      if (journalFile) return openJournalFile(journalFile);
      const store = await openStore({ stateDir: dir, url, host, mustExist: true });
      return storeJournalSource(store.journal, url ? store.location : dir, () => store.close());
    });
    const chartSvg = await renderSvg(laneChartDot());
    server = await startViewServer({
      host: opts.host,
      port: opts.port,
      data,
      journal,
      journalName: journalFile ?? dir,
      chartSvg,
      onError: (e) => err(`lanekeeper inspect: ${e instanceof Error ? e.message : String(e)}`),
    }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE')
        throw new UsageError(
          `--port ${opts.port}: ${opts.host}:${opts.port} is in use (pick another port, or 0 for any free one)`,
        );
      if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
        throw new UsageError(`--host ${opts.host}: cannot listen there (${e.code})`);
      if (e.code === 'EACCES')
        throw new UsageError(`--port ${opts.port}: not allowed to listen on it (ports below 1024 need privileges)`);
      throw e;
    });
    if (!isLoopback(opts.host))
      err(
        `lanekeeper inspect: listening on ${opts.host}: anyone who can reach it sees lanes, sessions, decisions and claims`,
      );
    // Ready to be stopped before it says it is up: whoever reads the address may stop it at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    // One write, so a reader of the first line has the rest too.
    out(
      [
        `lanekeeper inspect: ${server.url}`,
        `  ${data ? `state: ${dir}` : 'no state directory: journal only'}; journal: ${journalFile ?? 'the state directory’s own'}`,
        '  Ctrl-C stops it',
      ].join('\n'),
    );
    await stopped;
  } finally {
    await server?.close();
    await data?.close();
  }
}
