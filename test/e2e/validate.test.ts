// `lanekeeper validate` finds what would fail at run time. A configuration that can never work (a
// lane no arm may run) is an error: exit 2, as for any invalid file. What depends on the machine
// and the moment (a command not on PATH, a missing working directory, a lock_file another process
// holds, task files that cannot be used) is a warning: "ok (N warnings)" and one line each, exit 0;
// --strict makes those exit 2 too.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { cli, fixtureBackend, tmpDir } from '../helpers/tmp.js';

const holders: ChildProcess[] = [];
afterAll(() => {
  for (const h of holders) stop(h);
});

/**
 * A real process holding `file` with flock(1), as a legacy shell loop would; resolves once it holds
 * it. flock's command (a sleep) holds the lock too, so it runs in a process group of its own.
 */
function holdLock(file: string): Promise<ChildProcess> {
  const child = spawn('flock', ['--nonblock', file, 'sh', '-c', 'echo held; exec sleep 600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  holders.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve(child));
    child.on('exit', (code) => reject(new Error(`flock exited ${code} before holding ${file}`)));
  });
}

function stop(holder: ChildProcess): void {
  try {
    process.kill(-holder.pid!, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** The 1-based line of the first line of `text` that contains `needle`. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('validate: errors, what can never work', () => {
  test('a lane whose tier range no arm meets: exit 2, the line, the arms and their tiers', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'lk.yaml');
    writeFileSync(
      file,
      `lanes:
  - name: code
  - name: deep
    min_tier: 3
  - name: cheap
    arms: [other:big]
    max_tier: 1
backends:
${fixtureBackend('ok.mjs', dir)}
  - name: other
    command: ["{node}", "-e", ""]
    models: [{ name: big, tier: 2 }]
`,
    );
    for (const command of ['validate', 'run']) {
      const r = await cli([command, '--config', file, '--state', path.join(dir, 'state')]);
      expect([r.code, r.stdout], command).toEqual([2, '']);
      expect(r.stderr).toBe(
        `${file}: 2 problems\n` +
          '  line 4: lanes[1].min_tier: no arm meets min_tier 3 (the arms: fixture:ok tier 1, other:big tier 2): no session of this lane could ever start\n' +
          '  line 7: lanes[2].max_tier: no arm meets max_tier 1 (its arms: other:big tier 2): no session of this lane could ever start\n',
      );
    }
  });
});

describe('validate: warnings, what would fail on this machine now', () => {
  test('a command not on PATH, a missing working directory, a held lock_file and bad task files: "ok (8 warnings)", one line each; --strict: exit 2', async () => {
    const dir = tmpDir();
    const tasks = path.join(dir, 'tasks');
    mkdirSync(tasks);
    writeFileSync(path.join(tasks, 'good.md'), '---\nlane: code\nstate: ready\n---\n# Fine\n');
    writeFileSync(path.join(tasks, 'broken.md'), '# no front matter at all\n');
    writeFileSync(path.join(tasks, 'wrong-lane.md'), '---\nlane: cod\nstate: ready\n---\n');
    writeFileSync(path.join(tasks, 'twice.md'), '---\nstate: someday\n---\n');
    const lock = path.join(dir, 'code.lock');
    writeFileSync(lock, '');
    const nowhere = path.join(dir, 'nowhere');
    const file = path.join(dir, 'lk.yaml');
    const text = `tasks: { dir: tasks }
selector: { command: [lanekeeper-no-such-selector, --json] }
lanes:
  - name: code
    arms: [fixture:ok]
    lock_file: ${lock}
  - name: triage
    arms: [fixture:ok]
    cwd: ${nowhere}
  - name: ghostly
    arms: [ghost:m]
backends:
${fixtureBackend('ok.mjs', dir)}
  - name: ghost
    command: [lanekeeper-no-such-agent, "{prompt}"]
    models: [{ name: m }]
`;
    writeFileSync(file, text);
    const state = path.join(dir, 'state');
    const holder = await holdLock(lock);

    const warnings = [
      `line 2: selector.command[0]: command not found: lanekeeper-no-such-selector (not on PATH)`,
      `line ${lineOf(text, 'lock_file:')}: lanes[0].lock_file: ${lock} is held by another process now (flock): this lane cannot start while it is`,
      `line ${lineOf(text, 'cwd: ' + nowhere)}: lanes[1].cwd: working directory ${nowhere} does not exist`,
      `line ${lineOf(text, 'lanekeeper-no-such-agent')}: backends[1].command[0]: command not found: lanekeeper-no-such-agent (not on PATH)`,
      `task file ${path.join(tasks, 'broken.md')}: no front matter (the file must start with a --- line, then lane: and state:, then another --- line)`,
      `task file ${path.join(tasks, 'twice.md')}: lane: missing (one of the lanes: code, triage, ghostly)`,
      `task file ${path.join(tasks, 'twice.md')}: line 2: state: expected one of active, ready, backlog, waiting, done, got "someday"`,
      `task file ${path.join(tasks, 'wrong-lane.md')}: line 2: lane: "cod" is not a configured lane (lanes: code, triage, ghostly)`,
    ];
    const r = await cli(['validate', '--config', file, '--state', state]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`ok (8 warnings)\n${warnings.map((w) => `  ${w}\n`).join('')}`);

    const strict = await cli(['validate', '--strict', '--config', file, '--state', state]);
    expect([strict.code, strict.stdout]).toEqual([2, '']);
    expect(strict.stderr).toBe(`${file}: 8 problems\n${warnings.map((w) => `  ${w}\n`).join('')}`);

    // The lock is looked at as it is now: once its holder is gone, no warning about it.
    const gone = new Promise((resolve) => holder.once('exit', resolve));
    stop(holder);
    await gone;
    const free = await cli(['validate', '--config', file, '--state', state]);
    expect(free.stdout).toBe(
      `ok (7 warnings)\n${warnings
        .filter((w) => !w.includes('lock_file'))
        .map((w) => `  ${w}\n`)
        .join('')}`,
    );
  });

  test('a configuration this machine can run: "ok", and nothing is created by looking', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'lk.yaml');
    const lock = path.join(dir, 'never-made.lock');
    writeFileSync(
      file,
      `lanes:\n  - name: code\n    lock_file: ${lock}\nbackends:\n${fixtureBackend('ok.mjs', dir)}\n`,
    );
    expect(await cli(['validate', '--config', file, '--state', path.join(dir, 'state')])).toMatchObject({
      code: 0,
      stdout: 'ok\n',
      stderr: '',
    });
    expect(await cli(['validate', '--strict', '--config', file, '--state', path.join(dir, 'state')])).toMatchObject({
      code: 0,
      stdout: 'ok\n',
    });
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(path.join(dir, 'state'))).toBe(false);
  });
});
