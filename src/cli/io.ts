// Small helpers every command shares: printing, exit codes, duration options.
import { InvalidArgumentError } from 'commander';
import { durationProblem, parseDuration } from '../config/duration.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75, exhausted: 76 } as const;

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A commander argument parser for durations ("30s", "2h"). */
export function durationArg(value: string): number {
  const ms = parseDuration(value);
  if (ms === null) throw new InvalidArgumentError(durationProblem(value));
  return ms;
}

export function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number of at least 1, got ${JSON.stringify(value)}`);
  return n;
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
