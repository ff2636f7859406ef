// `run --once` tells a timer the truth: when no session of its tick started (the agent command is
// missing, its working directory is missing, the before-session hook failed) it exits 1 with one
// line per session saying why, logged as warnings where the session could not start; 75 stays
// for "everything was busy", 76 for "no backend". --operator judges its first tick the same way.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { fixtureAgent, writeConfig, type BackendConfig, type TestConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

const GHOST: BackendConfig = {
  name: 'ghost',
  command: ['lanekeeper-no-such-agent-binary', '{prompt}'],
  models: [{ name: 'm' }],
};

/** Lanes code and docs (unless `more` says otherwise), width 2, on `backends`. */
function setup(backends: BackendConfig[], more: Partial<TestConfig> = {}) {
  return writeConfig({ width: 2, lanes: [{ name: 'code' }, { name: 'docs' }], ...more, backends });
}

/** Log lines (JSON, since stdout is not a terminal) at `level` and above. */
const lines = (out: string, min = 40) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level >= min)
    .map((l) => l.msg);

describe('run --once exit codes', () => {
  test('the agent command is missing: exit 1, one line per session naming the command; its start is a warning', async () => {
    const { file, state } = setup([GHOST]);
    const r = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const warned = lines(r.stdout);
    expect(
      warned.filter((m) =>
        /^--once: (code|docs)-\d+ \((code|docs)\) did not start: command not found: lanekeeper-no-such-agent-binary$/.test(
          m,
        ),
      ),
    ).toHaveLength(2);
    expect(warned).toContain('--once: no session of the tick started; exit 1');
    // The session's own end is logged as a warning, not as news.
    expect(warned.filter((m) => /^(code|docs)-\d+ ended after .*command not found/.test(m))).toHaveLength(2);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  test('the working directory is missing: exit 1 with the directory named', async () => {
    const { file, state } = setup([fixtureAgent('ok.mjs', { cwd: '/nonexistent/lanekeeper-work' })]);
    const r = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(
      lines(r.stdout).filter((m) => /^--once: .* did not start: .*\/nonexistent\/lanekeeper-work/.test(m)),
    ).toHaveLength(2);
  });

  test('the before-session hook fails: exit 1 with the hook named', async () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, 'work'));
    const { file, state } = setup([fixtureAgent('ok.mjs', { cwd: path.join(dir, 'work') })], {
      hooks: { before_session: ['sh', '-c', 'echo pull failed >&2; exit 3'] },
    });
    const r = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(
      lines(r.stdout).filter((m) =>
        /^--once: (code|docs)-\d+ \((code|docs)\) did not start: before_session hook failed \(exit 3\): pull failed$/.test(
          m,
        ),
      ),
    ).toHaveLength(2);
  });

  test('one session starts and another cannot: exit 0, the one that could not is still a warning', async () => {
    // code runs on the agent that works, docs on the missing one.
    const { file, state } = setup([GHOST, fixtureAgent('ok.mjs', { cwd: tmpDir(), env: { AGENT_GRADE: '0.5' } })], {
      lanes: [
        { name: 'code', arms: ['fixture:ok'] },
        { name: 'docs', arms: ['ghost:m'] },
      ],
    });
    const r = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(
      lines(r.stdout).filter((m) => /^--once: docs-\d+ \(docs\) did not start: command not found/.test(m)),
    ).toHaveLength(1);
  });

  test('--operator whose first tick can start no agent ends there with exit 1, not after its sessions or a timer', async () => {
    const { file, state } = setup([GHOST]);
    const r = await cli(['run', '--operator', '--sessions', '10', '--config', file, '--state', state], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(lines(r.stdout)).toContain('--operator: no session of the tick started; exit 1');
  });
});
