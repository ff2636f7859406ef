// The browser the local view's tests drive: Debian's Chromium (no browser is downloaded), or the
// one LANEKEEPER_TEST_CHROMIUM names. Without it those tests are skipped, visibly (a warning, and
// the reason in each skipped test's name), so `npm test` passes on a fresh clone; with
// LANEKEEPER_REQUIRE_BROWSER=1 (CI: .ci/run) they run and fail instead, as PostgreSQL's do with
// LANEKEEPER_REQUIRE_PG=1.
import { existsSync } from 'node:fs';
import { test } from 'vitest';

export const CHROMIUM = process.env.LANEKEEPER_TEST_CHROMIUM || '/usr/bin/chromium';
const requireBrowser = process.env.LANEKEEPER_REQUIRE_BROWSER === '1';

/** Why the browser tests cannot run here, or null when they can. */
export const browserMissing: string | null = existsSync(CHROMIUM)
  ? null
  : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set LANEKEEPER_TEST_CHROMIUM)`;

if (browserMissing !== null && !requireBrowser) console.warn(`skipping the browser tests: ${browserMissing}`);

/**
 * `test` for a test that needs the browser. Without one: skipped, with the reason in its name; or,
 * with LANEKEEPER_REQUIRE_BROWSER=1, failed at once with the reason (before it starts anything).
 */
export function browserTest(name: string, opts: { timeout: number }, fn: () => Promise<void>): void {
  if (browserMissing === null) test(name, opts, fn);
  else if (requireBrowser) {
    test(name, opts, () => {
      throw new Error(
        `LANEKEEPER_REQUIRE_BROWSER=1, but there is no browser for the local view's tests: ${browserMissing}`,
      );
    });
  } else test.skip(`${name} (skipped: ${browserMissing})`, opts, fn);
}
