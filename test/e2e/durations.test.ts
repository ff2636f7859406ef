// One rule for every duration, in the file or on the command line. A flag that overrides a key is
// refused exactly where the key would be, with the same words (and exit 2, one line, before
// anything runs); a flag without a key still has bounds (a run "for 0s" or a redraw every 0 s is
// not a setting anyone means).
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, fixtureBackend, tmpDir } from '../helpers/tmp.js';

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

/** A runnable configuration with `schedule` as given. */
function config(dir: string, schedule = '{ interval: 30m, jitter: 0s }'): string {
  const file = path.join(dir, 'lk.yaml');
  writeFileSync(
    file,
    `schedule: ${schedule}\nresources: { enabled: false }\nlanes:\n  - name: solo\nbackends:\n${fixtureBackend('ok.mjs', dir)}\n`,
  );
  return file;
}

describe('duration flags', () => {
  test('--tick is checked by the rule of schedule.interval, the key it overrides: same words, exit 2, nothing run', async () => {
    const dir = tmpDir();
    const state = path.join(dir, 'state');
    for (const value of ['0s', '1ms', '999ms']) {
      const key = await cli(['validate', '--config', config(dir, `{ interval: ${value}, jitter: 0s }`)]);
      expect(key.code).toBe(2);
      const problem = `expected at least 1s, got "${value}"`;
      expect(key.stderr.trim()).toBe(`${path.join(dir, 'lk.yaml')}: line 1: schedule.interval: ${problem}`);

      // --for bounds the run should the flag be taken after all (the build before ticked 15,376 times in 20 s).
      const flag = await cli(['run', '--config', config(dir), '--state', state, '--tick', value, '--for', '3s']);
      expect([flag.code, flag.stdout, flag.stderr]).toEqual([
        2,
        '',
        `lanekeeper: --tick (schedule.interval): ${problem}\n`,
      ]);
      expect(existsSync(path.join(state, 'lanekeeper.db'))).toBe(false);
    }
    const tooLong = await cli(['run', '--config', config(dir), '--state', state, '--tick', '25d']);
    expect([tooLong.code, tooLong.stderr]).toEqual([
      2,
      'lanekeeper: --tick (schedule.interval): expected at most 24 days, got "25d"\n',
    ]);
    const key = await cli(['validate', '--config', config(dir, '{ interval: 25d }')]);
    expect(key.stderr).toContain('schedule.interval: expected at most 24 days, got "25d"');
  });

  test('every other duration flag has bounds too, and says which flag and why in one line', async () => {
    const dir = tmpDir();
    const state = path.join(dir, 'state');
    // A real store for the readers (status, stats, journal export, the claim commands).
    expect((await cli(['run', '--config', config(dir), '--state', state, '--once'])).code).toBe(0);
    const cases: [string[], string][] = [
      [['run', '--config', config(dir), '--state', state, '--for', '0s'], '--for: expected at least 1s, got "0s"'],
      [
        ['run', '--config', config(dir), '--state', state, '--for', '30d'],
        '--for: expected at most 24 days, got "30d"',
      ],
      [['status', '--state', state, '--watch', '--interval', '0s'], '--interval: expected at least 100ms, got "0s"'],
      [['stats', '--state', state, '--since', '0s'], '--since: expected at least 1s, got "0s"'],
      [['stats', '--state', state, '--since', '99999d'], '--since: expected at most 3650d, got "99999d"'],
      [
        ['journal', 'export', '--state', state, '--since', '0ms', '--out', path.join(dir, 'j.jsonl')],
        '--since: expected at least 1s, got "0ms"',
      ],
    ];
    for (const [args, problem] of cases) {
      const r = await cli(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, `lanekeeper: ${problem}\n`]);
      noStack(r.stderr);
    }
    expect(existsSync(path.join(dir, 'j.jsonl'))).toBe(false);
    // A claim's TTL has the bounds of the lane slots' (claims.lane_ttl): both are renewed on one clock.
    for (const [args, problem] of [
      [['claim', 'task:x', '--holder', 'a', '--ttl', '0s'], '--ttl: expected at least 3s, got "0s"'],
      [['renew', 'task:x', '--holder', 'a', '--token', '1', '--ttl', '1s'], '--ttl: expected at least 3s, got "1s"'],
    ] as const) {
      const r = await cli([...args, '--state', state]);
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `lanekeeper ${args[0]}: ${problem}\n`]);
    }
    writeFileSync(
      path.join(dir, 'ttl.yaml'),
      `claims: { lane_ttl: 1s }\nlanes: [{ name: solo }]\nbackends:\n${fixtureBackend('ok.mjs', dir)}\n`,
    );
    expect((await cli(['validate', '--config', path.join(dir, 'ttl.yaml')])).stderr).toContain(
      'claims.lane_ttl: expected at least 3s, got "1s"',
    );
    // Within the bounds, they work.
    expect((await cli(['stats', '--state', state, '--since', '1h'])).code).toBe(0);
    expect((await cli(['claim', 'task:x', '--holder', 'a', '--ttl', '3s', '--state', state])).code).toBe(0);
  });
});
