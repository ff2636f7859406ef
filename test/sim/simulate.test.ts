import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { builtinEnvironment } from '../../src/sim/environments.js';
import { simulate } from '../../src/sim/simulate.js';
import { cli, tmpDir } from '../helpers/tmp.js';

describe('simulate', () => {
  test('learning policies beat uniform and the silent allowlist; the same seeds give the same results', () => {
    const env = builtinEnvironment('degrade', 1000)!;
    const r = simulate(env, ['lanekeeper', 'uniform', 'allowlist'], 1000, 5);
    const by = Object.fromEntries(r.map((x) => [x.policy, x]));
    expect(by.lanekeeper!.regret).toBeLessThan(by.uniform!.regret);
    expect(by.lanekeeper!.regret).toBeLessThan(by.allowlist!.regret);
    expect(by.lanekeeper!.t50).not.toBeNull();
    expect(by.allowlist!.t50).toBeNull();
    expect(simulate(env, ['lanekeeper'], 1000, 5)).toEqual([by.lanekeeper]);
  });

  test('lanekeeper forgets on evidence of change: cheaper than the constant two-rate discount when nothing changes, and it finds a neglected lane that improved', () => {
    const by = (env: string) =>
      Object.fromEntries(
        simulate(builtinEnvironment(env, 2000)!, ['lanekeeper', 'npts-static', 'npts-two-rate'], 2000, 6).map((x) => [
          x.policy,
          x,
        ]),
      );
    const stationary = by('stationary');
    expect(stationary.lanekeeper!.regret).toBeLessThan(stationary['npts-two-rate']!.regret);
    const improve = by('improve');
    expect(improve.lanekeeper!.t50_reached).toBe(1);
    expect(improve.lanekeeper!.t50).toBeLessThan(150);
    expect(improve.lanekeeper!.regret_after_change!).toBeLessThan(0.25 * improve['npts-static']!.regret_after_change!);
  });

  test('--json prints the documented shape for every environment and policy asked for', async () => {
    const r = await cli(['simulate', '--policy', 'lanekeeper,ts-beta', '--sessions', '400', '--seeds', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout) as { results: Record<string, unknown>[] };
    expect(results.map((x) => `${x.env}/${x.policy}`)).toEqual(
      ['stationary', 'degrade', 'improve', 'drought', 'top4'].flatMap((e) => [`${e}/lanekeeper`, `${e}/ts-beta`]),
    );
    for (const x of results) {
      expect(x).toMatchObject({ sessions: 400, seeds: 3 });
      for (const k of ['mean_grade', 'regret', 'regret_ci95']) expect(typeof x[k]).toBe('number');
      if (['degrade', 'improve', 'drought'].includes(x.env as string)) expect('t50' in x).toBe(true);
    }
  });

  test('an environment from a file; bad input is exit 2 with the reason', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'env.json');
    writeFileSync(
      file,
      JSON.stringify({ lanes: [{ mean: 0.3 }, { mean: 0.7 }], changes: [{ at: 100, lane: 0, mean: 0.9 }] }),
    );
    const ok = await cli([
      'simulate',
      '--env',
      file,
      '--policy',
      'lanekeeper',
      '--sessions',
      '300',
      '--seeds',
      '2',
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).results[0]).toMatchObject({ env: file, policy: 'lanekeeper', sessions: 300 });
    expect((await cli(['simulate', '--policy', 'thompson'])).stderr).toContain(
      '--policy: unknown policy "thompson" (known: lanekeeper, uniform, round-robin',
    );
    expect((await cli(['simulate', '--env', 'nowhere'])).stderr).toContain(
      '"nowhere" is neither a built-in environment',
    );
    writeFileSync(file, JSON.stringify({ lanes: [{ mean: 0.3 }, { mean: 1.7 }] }));
    const bad = await cli(['simulate', '--env', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lanes\[1\]\.mean: /);
  });
});
