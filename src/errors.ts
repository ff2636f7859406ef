// Error classes the runtime and the CLI tell apart. Each says what happens when it is seen.

/** A user's configuration is wrong. The CLI prints every problem and exits 2; a reload keeps the old config. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems`}`);
  }
}

/** Bad command-line usage (an unknown flag, a malformed value). The CLI prints it and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The state directory or its database cannot be used. The CLI prints the path and the cause and exits 2. */
export class StateDirError extends Error {
  override name = 'StateDirError';
  constructor(
    readonly dir: string,
    readonly cause_: string,
  ) {
    super(`cannot use state directory ${dir}: ${cause_}`);
  }
}

/**
 * The configured store cannot be used: a store URL that is not a PostgreSQL URL, a PostgreSQL
 * server that cannot be reached or refuses the login, or (for readers) a database lanekeeper has
 * not set up yet. The CLI prints where (host and port, never the password) and why, and exits 2.
 */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    message: string,
    /** missing: reachable, but no lanekeeper schema there yet (readers treat it like an absent SQLite file). */
    readonly kind: 'url' | 'unreachable' | 'missing' = 'unreachable',
  ) {
    super(message);
  }
}

/**
 * The SQLite store stayed locked past the busy timeout: another process holds its lock and does not
 * let go (a writer frozen mid-transaction, a long recovery). Nothing is wrong with the state
 * directory, and nothing was decided. The CLI prints the message, one line ending "(try again)",
 * and exits 75 (busy), never 1, which a claim command keeps for DENIED, STALE and EXPIRED; only
 * `run` exits 1, because systemd takes 75 for success and would not restart the service. Inside
 * the runtime it is a failed store call like any other (a claim request that fails is a denial).
 */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
  constructor(
    readonly file: string,
    readonly waitedMs: number,
    /** The SQLite code of the last try, e.g. SQLITE_BUSY or SQLITE_BUSY_RECOVERY. */
    readonly code: string,
  ) {
    super(`store busy: ${file} is still locked by another process after ${waitedMs / 1000} s (${code}) (try again)`);
  }
}

/** A journal file (an export) that is not one, or is damaged. The CLI names the file and line and exits 2. */
export class JournalFileError extends Error {
  override name = 'JournalFileError';
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${file}${line ? `, line ${line}` : ''}: ${problem}`);
  }
}

/** Messages of errors a user caused; anything else is a bug and keeps its stack trace. */
export function isUserError(
  err: unknown,
): err is ConfigError | UsageError | StateDirError | JournalFileError | StoreError {
  return (
    err instanceof ConfigError ||
    err instanceof UsageError ||
    err instanceof StateDirError ||
    err instanceof JournalFileError ||
    err instanceof StoreError
  );
}
