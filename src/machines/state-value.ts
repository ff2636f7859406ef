// Reading an actor's state value, for the machines and for whoever shows them.

/** The top-level state name of a lane snapshot: running.grading → running. */
export function topState(value: unknown): string {
  return typeof value === 'string' ? value : (Object.keys(value as object)[0] ?? 'unknown');
}
