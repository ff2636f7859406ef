// Zod issues rewritten as the one-line problems a user reads: `lanes[2].cooldown: expected …`.
import type { z } from 'zod';

export interface Problem {
  path: readonly (string | number)[];
  message: string;
}

/** `lanes[2].cooldown` from ['lanes', 2, 'cooldown']; "(top level)" for the root. */
export function formatPath(p: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const part of p) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const input = (issue as { input?: unknown }).input;
    const path = issue.path as (string | number)[];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown key' });
        break;
      case 'invalid_type':
        out.push({
          path,
          message:
            input === undefined
              ? `required ${expected(issue.expected)} is missing`
              : `expected ${expected(issue.expected)}, got ${describeValue(input)}`,
        });
        break;
      case 'too_small':
        out.push({
          path,
          message:
            issue.origin === 'array'
              ? `needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}`
              : `expected at least ${issue.minimum}, got ${describeValue(input)}`,
        });
        break;
      case 'too_big':
        out.push({ path, message: `expected at most ${issue.maximum}, got ${describeValue(input)}` });
        break;
      case 'invalid_format':
        out.push({ path, message: `${issue.message}, got ${describeValue(input)}` });
        break;
      case 'invalid_union':
        // A union given its own message (what it expects) says it; others only what they got.
        out.push({
          path,
          message:
            issue.message && issue.message !== 'Invalid input'
              ? `${issue.message}, got ${describeValue(input)}`
              : `unexpected value ${describeValue(input)}`,
        });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

function expected(t: string): string {
  switch (t) {
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string';
    default:
      return t;
  }
}
