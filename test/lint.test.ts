// The house rules hold: machines and policy stay pure, and no file in src/ runs over 400 lines nor
// any function over 80. Each form they forbid has a fixture (test/fixtures/lint/) that ESLint, with
// the project's own configuration, must catch, and a fixture of what is allowed (for the sizes:
// exactly at the limit) must pass. A rule weakened, a limit moved or a pattern mistyped fails here.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/lint');
// The fixtures are ignored by `npm run lint` (they break the rules on purpose); here they are not.
const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, '..'), ignore: false });

async function messages(file: string): Promise<{ rule: string | null; message: string }[]> {
  const [result] = await eslint.lintFiles([path.join(FIXTURES, file)]);
  return result!.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

describe('machines and policy stay pure (eslint.config.js)', () => {
  test.each([
    ['timer.ts', 'no-restricted-globals', /no timers/],
    ['interval.ts', 'no-restricted-globals', /no timers/],
    ['process-env.ts', 'no-restricted-globals', /read nothing of the process/],
    ['performance-now.ts', 'no-restricted-globals', /read time from the event/],
    ['crypto-uuid.ts', 'no-restricted-globals', /stamped with the event/],
    ['date-now.ts', 'no-restricted-properties', /read time from the event/],
    ['new-date.ts', 'no-restricted-syntax', /read time from the event/],
    ['math-random.ts', 'no-restricted-properties', /stamped seed/],
    ['node-import.ts', 'no-restricted-imports', /do no I\/O/],
    ['after-delay.ts', 'no-restricted-syntax', /no XState after: delays/],
    ['invoke.ts', 'no-restricted-syntax', /no invoked actors/],
  ])('%s is caught (%s)', async (file, rule, message) => {
    expect(await messages(file)).toContainEqual({ rule, message: expect.stringMatching(message) });
  });

  test('what is allowed passes: time from the event, a Date of it, a machine without delays', async () => {
    expect(await messages('clean.ts')).toEqual([]);
  });

  test('the real machines and policy pass', async () => {
    const results = await eslint.lintFiles(['src/machines', 'src/policy']);
    expect(
      results.flatMap((r) => r.messages.map((m) => `${path.relative('.', r.filePath)}:${m.line} ${m.message}`)),
    ).toEqual([]);
  });
});

describe('no file over 400 lines, no function over 80 (eslint.config.js)', () => {
  // The fixtures' extra lines are comments and blank lines: they count, as `wc -l` counts them.
  test.each([
    ['long-file.ts', 'max-lines', /too many lines \(401\)\. Maximum allowed is 400/],
    ['long-function.ts', 'max-lines-per-function', /'tooLong' has too many lines \(81\)\. Maximum allowed is 80/],
  ])('%s is caught (%s)', async (file, rule, message) => {
    expect(await messages(file)).toContainEqual({ rule, message: expect.stringMatching(message) });
  });

  test('a file of 400 lines and a function of 80 pass', async () => {
    expect(await messages('file-at-limit.ts')).toEqual([]);
    expect(await messages('function-at-limit.ts')).toEqual([]);
  });
});
