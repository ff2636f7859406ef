// The store contract: the same cases against the SQLite store (a temporary directory) and the
// PostgreSQL store (a fresh schema per case in the database of LANEKEEPER_TEST_PG_URL, e.g.
// postgres://lanekeeper:lanekeeper@127.0.0.1:5432/lanekeeper_test). Whatever one store does, the
// other must do too: every port, claims under contention included.
//
// Without a reachable PostgreSQL the PostgreSQL half is skipped, visibly (a warning, and the
// reason in the skipped suite's name), unless LANEKEEPER_REQUIRE_PG=1, which makes it fail.
import { describe, test } from 'vitest';
import { postgres, probePostgres, sqlite, type Backend } from './contract/backends.js';
import { claimCases } from './contract/claim-cases.js';
import { contentionCases } from './contract/contention-cases.js';
import { journalCases } from './contract/journal-cases.js';
import { recordCases } from './contract/record-cases.js';
import { retentionCases } from './contract/retention-cases.js';

const pg = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
const requirePg = process.env.LANEKEEPER_REQUIRE_PG === '1';
if (!pg.ok && !requirePg) console.warn(`store contract: skipping PostgreSQL: ${pg.why}`);

function cases(b: Backend): void {
  describe('journal', () => journalCases(b));
  describe('journal retention', () => retentionCases(b));
  describe('records and learning', () => recordCases(b));
  describe('claims', () => claimCases(b));
  describe('claims under contention', () => contentionCases(b));
}

const backends: Backend[] = [sqlite, ...(pg.ok ? [postgres(pg.url)] : [])];
describe.each(backends.map((b) => [b.name, b] as const))('store contract: %s', (_name, b) => cases(b));

if (!pg.ok && requirePg) {
  describe('store contract: postgres', () => {
    test('PostgreSQL is reachable (LANEKEEPER_REQUIRE_PG=1)', () => {
      throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${pg.why}`);
    });
  });
} else if (!pg.ok)
  describe.skip(`store contract: postgres (skipped: ${pg.why})`, () => test('needs PostgreSQL', () => {}));
