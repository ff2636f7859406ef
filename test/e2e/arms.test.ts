// Arms end to end: an arm whose agent cannot start rests after 3 failed starts in a row, its
// failures never count against its reward, and the lane goes on with the arms that work; a
// backend whose quota probe says it is spent is not used, and without another the lane waits.
import path from 'node:path';
import { expect, test } from 'vitest';
import { CONFIG_DIR, fixtureAgent, writeConfig, type BackendConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

test('a crash-looping arm rests; failed starts are not learned; the lane runs on the other arm', async () => {
  const { file, state } = writeConfig({
    width: 1,
    schedule: { interval: '1s' },
    lanes: [{ name: 'code', cooldown: '0s', respawn: { chain_limit: 0 } }],
    backends: [
      {
        name: 'broken',
        command: ['lanekeeper-test-no-such-agent'],
        cwd: CONFIG_DIR,
        models: [{ name: 'x' }],
        // With a quota probe, a failed session does not block the backend for 30 min (the no-probe
        // rule); only the crash loop can stop it.
        quota: { command: ['{node}', path.resolve(import.meta.dirname, '../fixtures/quota/good.mjs')] },
      },
      fixtureAgent('ok.mjs', { name: 'good', env: { AGENT_GRADE: '0.6' } }),
    ],
  });
  expect(
    (await cli(['run', '--operator', '--sessions', '12', '--for', '40s', '--config', file, '--state', state])).code,
  ).toBe(0);
  const st = JSON.parse((await cli(['status', '--json', '--state', state, '--limit', '50'])).stdout) as {
    sessions: { arm: string; outcome: string; started_at: string }[];
  };
  const byTime = st.sessions.slice().sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  const broken = byTime.filter((s) => s.arm === 'broken:x');
  expect(broken.length).toBe(3);
  expect(broken.every((s) => s.outcome === 'failed')).toBe(true);
  // After the third failed start, only the good arm runs.
  const third = byTime.indexOf(broken[2]!);
  expect(byTime.slice(third + 1).every((s) => s.arm === 'good:ok')).toBe(true);
  expect(byTime.length).toBe(12);
  // Failed starts taught nothing: only the good arm has evidence.
  const plan = JSON.parse(
    (await cli(['plan', '--json', '--config', file, '--state', state, '--seed', '1'])).stdout,
  ) as { ranked: { components: { evidence: number } }[] };
  expect(plan.ranked[0]!.components.evidence).toBeCloseTo(12 - 3, 0);
});

test('a backend whose quota probe says it is exhausted is not used; with no other, run --once exits 76', async () => {
  const dir = tmpDir();
  const quota = path.resolve(import.meta.dirname, '../fixtures/quota');
  const backend = (name: string, probe: string) =>
    fixtureAgent('ok.mjs', {
      name,
      model: 'm',
      env: { AGENT_GRADE: '0.6' },
      quota: { command: ['{node}', path.join(quota, probe)] },
    });
  const config = (name: string, backends: BackendConfig[]) =>
    writeConfig({ width: 2, lanes: [{ name: 'code' }, { name: 'docs' }], backends }, { dir, name: `${name}.yaml` })
      .file;
  // One exhausted backend beside a healthy one: every session runs on the healthy one.
  const mixed = path.join(dir, 'mixed');
  expect(
    (
      await cli([
        'run',
        '--once',
        '--config',
        config('mixed', [backend('spent', 'exhausted.mjs'), backend('fresh', 'good.mjs')]),
        '--state',
        mixed,
      ])
    ).code,
  ).toBe(0);
  const st = JSON.parse((await cli(['status', '--json', '--state', mixed])).stdout) as { sessions: { arm: string }[] };
  expect(st.sessions.map((s) => s.arm)).toEqual(['fresh:m', 'fresh:m']);

  // Only the exhausted backend: nothing can run, the lanes wait, and --once says so with 76.
  const spent = path.join(dir, 'spent');
  const run = await cli([
    'run',
    '--once',
    '--config',
    config('spent', [backend('spent', 'exhausted.mjs')]),
    '--state',
    spent,
  ]);
  expect(run.code).toBe(76);
  expect(run.stdout + run.stderr).toContain(
    'no eligible arm (spent:m: arm blocked: quota exhausted: probe reports unavailable',
  );
  const lanes = JSON.parse((await cli(['status', '--json', '--state', spent])).stdout) as {
    lanes: { state: string }[];
    sessions: unknown[];
  };
  expect(lanes.sessions).toEqual([]);
});
