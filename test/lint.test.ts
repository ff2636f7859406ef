// The house rule that keeps machines and policy pure holds: each form it forbids has a fixture
// (test/fixtures/lint/) that ESLint, with the project's own configuration, must catch, and a clean
// fixture of what is allowed must pass. A rule weakened or a pattern mistyped fails here.
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
