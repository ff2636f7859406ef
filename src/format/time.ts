// Times as the command line prints them.

/** An ISO time to the second: 2026-11-23T10:00:00Z. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
