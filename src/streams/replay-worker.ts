// One piece of a replay in pieces (replay-parallel.ts), on a worker thread: opens the store the
// main thread reads, begins where it was told (a checkpoint, or a seq with no fleet yet) and
// folds to the end of its piece.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../adapters/store/open-store.js';
import type { FleetHost } from './fleet-host.js';
import { storeJournalSource } from './journal-source.js';
import type { PieceAnswer, PieceTask } from './replay-parallel.js';
import { fleetAt } from './fold.js';
import { foldSpan } from './replay.js';

const task = workerData as PieceTask;
let answer: PieceAnswer;
try {
  const store = await openStore({ ...task.origin, mustExist: true });
  const source = storeJournalSource(store.journal, task.origin.stateDir, () => store.close());
  try {
    let host: FleetHost | null = null;
    let from: number;
    if ('checkpoint' in task.from) {
      const cp = await source.checkpoint(task.from.checkpoint);
      if (!cp || cp.seq !== task.from.checkpoint) throw new Error(`no checkpoint at seq ${task.from.checkpoint}`);
      host = fleetAt(cp);
      from = cp.seq + 1;
    } else from = task.from.seq;
    answer = { ok: true, span: await foldSpan(source, { from, until: task.until, host, checkAt: task.checkAt }) };
  } finally {
    await source.close();
  }
} catch (err) {
  answer = { ok: false, error: (err as Error).message };
}
parentPort!.postMessage(answer);
