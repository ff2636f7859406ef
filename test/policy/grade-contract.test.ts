import { describe, expect, test } from 'vitest';
import { parseGradeText } from '../../src/policy/grade-contract.js';
import { classifyExit } from '../../src/policy/outcome.js';

describe('grade files', () => {
  test('a grade with dimensions; extra fields are ignored', () => {
    expect(parseGradeText('{"grade": 0.8, "dimensions": {"quality": 0.9}, "note": "x"}')).toEqual({
      ok: true,
      grade: 0.8,
      dimensions: { quality: 0.9 },
    });
    expect(parseGradeText('{"grade": 0}')).toEqual({ ok: true, grade: 0, dimensions: null });
  });

  test('a file holding just a number is that grade (what `echo 0.8 > "$LANEKEEPER_GRADE_FILE"` writes)', () => {
    expect(parseGradeText('0.8\n')).toEqual({ ok: true, grade: 0.8, dimensions: null });
    expect(parseGradeText('1')).toEqual({ ok: true, grade: 1, dimensions: null });
  });

  test.each([
    ['not json', /^not JSON/],
    ['', /^not JSON/],
    ['{"grade": 0.8', /^not JSON/],
    ['[0.8]', /^expected a number in \[0, 1\] or an object like \{"grade": 0\.8\}, got \[0\.8\]/],
    ['"0.8"', /^expected a number in \[0, 1\] or an object like \{"grade": 0\.8\}, got "0\.8"/],
    ['1.5', /^"grade" is 1\.5, outside \[0, 1\]$/],
    ['.8', /^not JSON/],
    ['{"grade": "high"}', /^"grade" must be a number in \[0, 1\], got "high"$/],
    ['{"grade": 1.3}', /^"grade" is 1\.3, outside \[0, 1\]$/],
    ['{"grade": -0.1}', /^"grade" is -0\.1, outside \[0, 1\]$/],
    ['{"score": 0.5}', /^"grade" is missing$/],
    ['{"grade": 0.5, "dimensions": {"q": 2}}', /^"dimensions\.q" is 2, outside \[0, 1\]$/],
  ])('%j is rejected with its reason', (text, reason) => {
    const r = parseGradeText(text);
    expect(r.ok).toBe(false);
    expect((r as { reason: string }).reason).toMatch(reason);
  });
});

describe('outcomes', () => {
  const base = { spawnError: null, exitCode: 0, signal: null, timedOut: false, work: 'yes' as const };
  test.each([
    [{}, 'productive'],
    [{ work: 'no' }, 'noop'],
    [{ work: 'unknown' }, 'unknown'],
    [{ exitCode: 75 }, 'refused'],
    [{ exitCode: 3 }, 'failed'],
    [{ exitCode: null, signal: 'SIGTERM', timedOut: true }, 'timeout'],
    [{ exitCode: null, signal: 'SIGKILL' }, 'failed'],
    [{ exitCode: null, spawnError: 'command not found: x' }, 'failed'],
  ])('%j → %s', (facts, outcome) => {
    expect(classifyExit({ ...base, ...facts } as never)).toBe(outcome);
  });
});
