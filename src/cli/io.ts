// Small helpers every command shares: printing, exit codes, duration options.

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75, exhausted: 76 } as const;

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
