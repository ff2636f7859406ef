// How a finished session is classified, and the grade it gets when nobody graded it.
// Pure: the process adapter gathers the facts and calls these.

export const OUTCOMES = ['productive', 'noop', 'failed', 'timeout', 'refused', 'unknown'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Exit code an agent uses to say "correctly refused: nothing for me to do here" (lock busy, slot full). */
export const EXIT_REFUSED = 75;

export interface ExitFacts {
  /** The process could not be started at all (command not found, bad working directory). */
  spawnError: string | null;
  exitCode: number | null;
  signal: string | null;
  /** The runner killed it at its time limit. */
  timedOut: boolean;
  /** The runtime stopped it early (shutdown): no verdict on the session itself. */
  stopped?: string | null;
  /** Did the session leave work behind? 'unknown' when the working directory is not a git repository. */
  work: 'yes' | 'no' | 'unknown';
}

export function classifyExit(f: ExitFacts): Outcome {
  if (f.spawnError) return 'failed';
  if (f.timedOut) return 'timeout';
  if (f.stopped) return 'unknown';
  if (f.exitCode === EXIT_REFUSED) return 'refused';
  if (f.exitCode === 0) return f.work === 'yes' ? 'productive' : f.work === 'no' ? 'noop' : 'unknown';
  return 'failed';
}

/**
 * The grade of a session that wrote none. A refusal and an unknown result say nothing about
 * quality, so they stay ungraded rather than pulling a lane's average down.
 */
export const DEFAULT_GRADES: Readonly<Record<Outcome, number | null>> = {
  productive: 0.7,
  noop: 0.3,
  failed: 0.05,
  timeout: 0.1,
  refused: null,
  unknown: null,
};
