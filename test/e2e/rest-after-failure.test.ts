// `backends[].rest_after_failure` end to end: a backend without a quota probe whose session failed
// is blocked for the configured time, and `0s` lets the lane go on at once.
import { expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';

function setup(rest: string) {
  return writeConfig({
    width: 1,
    lanes: [{ name: 'code', cooldown: '0s' }],
    backends: [fixtureAgent('crash.mjs', { rest_after_failure: rest })],
  });
}

type Status = { sessions: { outcome: string }[] };

test('rest_after_failure: 0s keeps a failing backend in use; a set rest blocks it that long', async () => {
  const none = setup('0s');
  const run = await cli([
    'run',
    '--operator',
    '--sessions',
    '3',
    '--for',
    '60s',
    '--config',
    none.file,
    '--state',
    none.state,
  ]);
  expect(run.code, run.stderr).toBe(0);
  const st = JSON.parse((await cli(['status', '--json', '--state', none.state])).stdout) as Status;
  expect(st.sessions.map((s) => s.outcome)).toEqual(['failed', 'failed', 'failed']);
  expect(run.stdout + run.stderr).not.toContain('no eligible arm');

  // With a rest, the failure blocks the backend for exactly that long (the lane then waits).
  const rest = setup('45s');
  const run2 = await cli([
    'run',
    '--operator',
    '--sessions',
    '2',
    '--for',
    '4s',
    '--config',
    rest.file,
    '--state',
    rest.state,
  ]);
  expect(run2.code, run2.stderr).toBe(0);
  const m =
    /no eligible arm \(fixture:ok: [^)]*no quota report; last session failed at (\S+), blocked until ([^)]+)\)/.exec(
      run2.stdout + run2.stderr,
    );
  expect(m, run2.stdout).not.toBeNull();
  expect(Date.parse(m![2]!) - Date.parse(m![1]!)).toBe(45_000);
  const st2 = JSON.parse((await cli(['status', '--json', '--state', rest.state])).stdout) as Status;
  expect(st2.sessions.map((s) => s.outcome)).toEqual(['failed']);
});
