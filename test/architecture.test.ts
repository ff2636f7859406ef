// The layers hold: dependency-cruiser, with the project's rules (.dependency-cruiser.cjs), finds no
// import cycle in src/ and no import that runs up the layers; and on a small fixture tree that
// breaks each rule (test/fixtures/deps/) it catches every break, so a rule weakened fails here.
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise, type IReporterOutput } from 'dependency-cruiser';
import { describe, expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const rules = createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: unknown[];
  options: Record<string, unknown>;
};

async function violations(baseDir: string): Promise<string[]> {
  const result: IReporterOutput = await cruise(
    ['src'],
    { ...rules.options, baseDir, ruleSet: { forbidden: rules.forbidden } as never, validate: true },
    undefined,
    { tsConfig: { fileName: path.join(ROOT, 'tsconfig.json') } } as never,
  );
  const summary = (result.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } })
    .summary;
  return summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('one-way layers and no cycles (.dependency-cruiser.cjs)', () => {
  test('src/ has no import cycle and no import that runs up', async () => {
    expect(await violations(ROOT)).toEqual([]);
  }, 60_000);

  test('each break of the rules is caught: an import up, a type-only import up, a cycle', async () => {
    const found = await violations(path.join(ROOT, 'test/fixtures/deps'));
    expect(found).toEqual(
      expect.arrayContaining([
        'policy-imports-up: src/policy/up.ts → src/runtime/host.ts',
        'config-imports-up: src/config/type-up.ts → src/machines/a.ts',
        expect.stringMatching(/^no-circular: src\/machines\/(a|b)\.ts → src\/machines\/(a|b)\.ts$/),
      ]),
    );
    // Importing down is allowed.
    expect(found.some((v) => v.includes('down.ts'))).toBe(false);
  }, 60_000);
});
