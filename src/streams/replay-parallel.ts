// Replays a long journal in pieces at once, one per core, and proves the pieces add up to the one
// fold a plain replay makes.
//
// The journal is cut at checkpoints (the runtime writes one every 1,000 events). Each piece runs on
// a worker thread that opens the store itself: the first begins where a plain replay would, every
// other one at its checkpoint. A piece that ends at a seam must end with the fleet equal to the
// checkpoint the next piece began from: then, piece by piece, each began from exactly the fleet
// the one fold would have had there, so what each piece compares is what the one fold would
// compare. When a piece fails, a seam does not hold or a piece diverges, the answer is replayed in
// one piece (the first divergence and the count of them are then those of the one fold).
import { Worker } from 'node:worker_threads';
import { MACHINES_VERSION } from './fleet-host.js';
import type { JournalSource, SourceOrigin } from './journal-source.js';
import { finish, type ReplayResult, type ReplayStart, type SpanResult } from './replay-result.js';

/**
 * Below this many events a piece is not worth its cost: a worker thread's start-up (~0.1 s) and its
 * first few thousand events, which run before V8 has optimized the machines' code. Where cores
 * are shared that cost is higher: on the 2-core development VM, 2 pieces beat 1 only from about
 * 70,000 events (50,000: 4.2 s against 3.8 s; 100,000: 5.0 s against 5.8 s).
 */
export const MIN_PIECE_EVENTS = 10_000;

/**
 * A piece's live memory is the fleet and one batch of journal rows (~20 MB for six lanes); left to
 * itself V8 lets each thread's heap grow far beyond that before collecting, so two threads would
 * pass 300 MB. 64 MB cost a tenth more CPU in collections than 128. A piece that needs more fails
 * alone, and the journal is replayed in one piece.
 */
export const WORKER_HEAP_MB = 128;

/** What a worker is asked to replay: from the checkpoint at `checkpoint` (or from `seq` with no fleet yet) to `until`. */
export interface PieceTask {
  origin: SourceOrigin;
  from: { checkpoint: number } | { seq: number };
  until: number;
  checkAt: number | null;
}

export type PieceAnswer = { ok: true; span: SpanResult } | { ok: false; error: string };

/**
 * The checkpoints to cut a replay at: near each 1/jobs of the way, written by these machines, at
 * least MIN_PIECE_EVENTS apart. Empty: replay in one piece.
 */
export async function cutPoints(source: JournalSource, start: ReplayStart, jobs: number): Promise<number[]> {
  const cuts: number[] = [];
  const first = start.begin.seq;
  let last = first - 1;
  for (let k = 1; k < jobs; k++) {
    const cp = await source.checkpoint(first + Math.floor((k * (start.until - first)) / jobs));
    if (!cp || cp.version !== MACHINES_VERSION) continue;
    if (cp.seq - last < MIN_PIECE_EVENTS || start.until - cp.seq < MIN_PIECE_EVENTS) continue;
    cuts.push(cp.seq);
    last = cp.seq;
  }
  return cuts;
}

/** The replay in pieces, or why it must be replayed in one (null: nothing worth saying). */
export async function replayInPieces(
  source: JournalSource,
  start: ReplayStart,
  cuts: readonly number[],
): Promise<ReplayResult | { why: string | null }> {
  const origin = source.origin!;
  // Every piece on a worker thread with a bounded heap; this thread only waits.
  start.host?.stop();
  const first: PieceTask['from'] =
    start.begin.at === 'checkpoint' ? { checkpoint: start.begin.seq - 1 } : { seq: start.begin.seq };
  const pieces = [first, ...cuts.map((checkpoint) => ({ checkpoint }))].map((from, i) =>
    runPiece({ origin, from, until: cuts[i] ?? start.until, checkAt: cuts[i] ?? null }),
  );
  const answers = await Promise.all(pieces);
  const failed = answers.find((a): a is { ok: false; error: string } => !a.ok);
  if (failed) return { why: `replaying in pieces failed (${failed.error}), so it was replayed in one piece` };
  const spans = answers.map((a) => (a as { ok: true; span: SpanResult }).span);
  // A seam that does not hold first: the pieces after it began from the wrong fleet, and any
  // divergence they found may be its doing.
  const seam = spans.findIndex((s) => s.matches === false);
  if (seam >= 0) {
    return {
      why: `the fleet folded to seq ${cuts[seam]} differs from the checkpoint there (the checkpoint, or what the machines do, changed since it was written), so replay went on in one piece`,
    };
  }
  // A divergence is what one piece reports, so nothing more is said of it.
  if (spans.some((s) => s.divergences > 0)) return { why: null };
  // The pieces in order are the one fold: their counts add up, the end and the lanes are the last's.
  const last = spans.at(-1)!;
  return finish(start, {
    ...last,
    events: sum(spans, (s) => s.events),
    untaken: sum(spans, (s) => s.untaken),
    skipped: spans[0]!.skipped,
    notes: spans.flatMap((s) => s.notes),
  });
}

function runPiece(task: PieceTask): Promise<PieceAnswer> {
  return new Promise((resolve) => {
    // The node flags this process was started with, but --input-type, which a worker refuses.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const worker = new Worker(new URL('./replay-worker.js', import.meta.url), {
      workerData: task,
      execArgv,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    let answered = false;
    worker.once('message', (answer: PieceAnswer) => {
      answered = true;
      resolve(answer);
    });
    worker.once('error', (err) => {
      if (!answered) resolve({ ok: false, error: err.message });
      answered = true;
    });
    worker.once('exit', (code) => {
      if (!answered) resolve({ ok: false, error: `a replay worker exited with code ${code}` });
    });
  });
}

const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
