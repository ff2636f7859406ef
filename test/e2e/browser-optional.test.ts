// `npm test` passes on a fresh clone without Chromium: the local view's browser tests are skipped,
// each with the reason in its name, and say so once; with LANEKEEPER_REQUIRE_BROWSER=1 (as CI sets
// it) they fail instead, naming what is missing. Run as a user runs the suite: vitest itself, on
// the view's test file, with no browser where it would look.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { tmpDir } from '../helpers/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const NO_BROWSER = '/nonexistent/chromium';
const REASON = `no Chromium at ${NO_BROWSER} (apt-get install chromium, or set LANEKEEPER_TEST_CHROMIUM)`;

interface Report {
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

/** vitest on the view's browser tests (the ones named "local view"), with `env` over a clean environment. */
function viewTests(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string; tests: Report['testResults'][number]['assertionResults'] }> {
  const report = path.join(tmpDir(), 'report.json');
  // This run's own vitest settings are not the child's.
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'LANEKEEPER_REQUIRE_BROWSER'),
  );
  const child = spawn(
    process.execPath,
    [
      VITEST,
      'run',
      'test/e2e/view.test.ts',
      '-t',
      'local view',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
    {
      cwd: ROOT,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) =>
      resolve({
        code,
        output,
        tests: (JSON.parse(readFileSync(report, 'utf8')) as Report).testResults.flatMap((r) => r.assertionResults),
      }),
    ),
  );
}

describe('without a browser', () => {
  test(
    'the browser tests are skipped with the reason in their names, and the run passes',
    { timeout: 120_000 },
    async () => {
      const r = await viewTests({ LANEKEEPER_TEST_CHROMIUM: NO_BROWSER });
      expect(r.code, r.output).toBe(0);
      const browser = r.tests.filter((t) => t.title.includes('local view'));
      expect(browser).toHaveLength(2);
      for (const t of browser) {
        expect(t.status, t.title).toBe('skipped');
        expect(t.title.endsWith(`(skipped: ${REASON})`), t.title).toBe(true);
      }
      expect(r.output).toContain(`skipping the browser tests: ${REASON}`);
    },
  );

  test('with LANEKEEPER_REQUIRE_BROWSER=1 they fail, saying what is missing', { timeout: 120_000 }, async () => {
    const r = await viewTests({ LANEKEEPER_TEST_CHROMIUM: NO_BROWSER, LANEKEEPER_REQUIRE_BROWSER: '1' });
    expect(r.code, r.output).toBe(1);
    const browser = r.tests.filter((t) => t.title.includes('local view'));
    expect(browser).toHaveLength(2);
    for (const t of browser) {
      expect(t.status, t.title).toBe('failed');
      expect(t.failureMessages.join('\n')).toContain(
        `LANEKEEPER_REQUIRE_BROWSER=1, but there is no browser for the local view's tests: ${REASON}`,
      );
    }
  });
});
