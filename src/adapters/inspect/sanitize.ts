// What the inspector feed must never carry: a session's environment (tokens, API keys), lane
// prompts, command lines and task bodies. They reach the actors in a few places — the fleet's
// init event holds the whole lane and arm configuration as its input, and task lists arrive with
// TASKS_CHANGED — so rather than chase each one, every value under one of these keys is replaced,
// wherever it sits, in every context and event the feed sends.
//
// The copy is deep and never touches the original (contexts and events are the actors' own), and
// it never throws: it runs inside the inspector's deferred callback, where a throw would take the
// process down.

/** Keys whose values are replaced, at any depth. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['env', 'prompt', 'command', 'argv', 'args', 'body']);

export const REDACTED = '[redacted]';

/** Deeper than this is cut (no context of ours comes near it; it guards against runaway data). */
const MAX_DEPTH = 32;

/** A deep copy of `value` with every secret key's value replaced by "[redacted]". */
export function redact<T>(value: T): T {
  return copy(value, 0, new Set()) as T;
}

function copy(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  if (ancestors.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  // Actor refs and snapshots say what they are in JSON through toJSON (an actor ref is its id);
  // walking them instead would walk the whole actor system.
  const own = value as { toJSON?: unknown };
  if (typeof own.toJSON === 'function') {
    try {
      return copy((own.toJSON as () => unknown).call(value), depth, ancestors);
    } catch {
      return '[unserializable]';
    }
  }
  if (value instanceof Error) return { name: value.name, message: value.message };
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => copy(v, depth + 1, ancestors));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k) ? REDACTED : copy(v, depth + 1, ancestors);
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/** A JSON.stringify replacer with the same rule: the last net before text leaves the process. */
export function redactingReplacer(key: string, value: unknown): unknown {
  return SECRET_KEYS.has(key) ? REDACTED : value;
}
