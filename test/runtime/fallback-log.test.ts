import { describe, expect, test } from 'vitest';
import type { TickInputs } from '../../src/policy/plan-tick.js';
import { FallbackLog, loggedFallbacks } from '../../src/runtime/fallback-log.js';

const unknown = { step: 'alternatives', reason: 'alternatives[0].category "novelty" is not a configured lane' };
const busy = { step: 'selected', reason: 'selected lane: code cannot run now; next step' };
const payload = (value: string): TickInputs => ({
  external: {
    ok: true,
    order: [{ lane: 'code', step: 'selected', reason: 'selected lane' }],
    task: null,
    ignored: [{ value, step: 'alternatives', reason: `alternatives[0].category "${value}" is not a configured lane` }],
  },
});

describe('the log of fallbacks, once per payload', () => {
  test('a fallback repeated under the same payload is counted, not logged again; another payload is news', () => {
    const log = new FallbackLog();
    const first = log.note(3, [unknown], payload('novelty'));
    expect(first).toEqual({ fresh: [unknown], repeated: 0, since: null, until: null, warn: true });
    expect(loggedFallbacks(first)).toBe(
      'fallbacks: alternatives (alternatives[0].category "novelty" is not a configured lane)',
    );
    // The same payload: the unknown lane is told; the busy lane is new, and the normal course of a tick.
    const second = log.note(7, [unknown, busy], payload('novelty'));
    expect(second).toEqual({ fresh: [busy], repeated: 1, since: 3, until: 3, warn: false });
    expect(loggedFallbacks(second)).toBe(
      'fallbacks: selected (selected lane: code cannot run now; next step); 1 fallback as logged at the tick at event 3 (same selector payload)',
    );
    expect(loggedFallbacks(log.note(9, [unknown, busy], payload('novelty')))).toBe(
      '2 fallbacks as logged at the ticks at events 3–7 (same selector payload)',
    );
    // Another payload, even one that names the same unknown lane again later, starts afresh.
    const oddity = { ...unknown, reason: unknown.reason.replace('novelty', 'oddity') };
    expect(log.note(11, [oddity], payload('oddity')).fresh).toEqual([oddity]);
    expect(log.note(12, [unknown], payload('novelty'))).toMatchObject({ fresh: [unknown], warn: true });
  });

  test('a contract violation, the allowlist and unreadable signals are warnings; fill and busy lanes are not', () => {
    const log = new FallbackLog();
    expect(
      log.note(1, [{ step: 'builtin', reason: 'selector.contract_violation: exited with code 3' }], {
        external: { ok: false, reason: 'exited with code 3' },
      }).warn,
    ).toBe(true);
    expect(log.note(2, [{ step: 'allowlist', reason: 'selector.allowlist stands in: docs' }], payload('x')).warn).toBe(
      true,
    );
    expect(
      log.note(3, [{ step: 'signals', reason: 'external signals ignored this tick: no such file' }], payload('x')).warn,
    ).toBe(true);
    expect(log.note(4, [{ step: 'fill', reason: 'docs: next in the built-in ranking' }, busy], payload('x')).warn).toBe(
      false,
    );
    // Told once, a warning is not repeated as one either.
    expect(
      log.note(5, [{ step: 'allowlist', reason: 'selector.allowlist stands in: docs' }], payload('x')),
    ).toMatchObject({ fresh: [], repeated: 1, warn: false });
  });
});
