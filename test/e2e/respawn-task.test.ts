// A respawn keeps its task: a productive session on a task is followed by one that continues
// that task (its claim taken again first, the same {task_id} in the prompt) while the task is not
// done, and by one on the lane's next task once it is (the agent completed its claim, or marked
// the task file done).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { CLI, cli, tmpDir } from '../helpers/tmp.js';

function setup(finish: '' | 'claim' | 'file') {
  const dir = tmpDir();
  const tasks = path.join(dir, 'tasks');
  mkdirSync(tasks);
  writeFileSync(path.join(tasks, 'fix-ci-flake.md'), '---\nlane: code\nstate: active\n---\n# Fix the CI flake\n');
  writeFileSync(path.join(tasks, 'next-one.md'), '---\nlane: code\nstate: ready\n---\n# The next one\n');
  return writeConfig(
    {
      width: 1,
      tasks: { dir: 'tasks' },
      lanes: [
        { name: 'code', cooldown: '1s', respawn: { threshold: 0.65, chain_limit: 2 }, prompt: 'Work on {task_id}' },
      ],
      backends: [
        fixtureAgent('task-worker.mjs', { args: ['{prompt}'], env: { AGENT_FINISH: finish, LANEKEEPER_CLI: CLI } }),
      ],
    },
    { dir },
  );
}

interface Session {
  id: string;
  dispatch: string;
  parent: string | null;
  task: string | null;
  started_at: string;
}

async function chain(file: string, state: string): Promise<{ sessions: Session[]; output: string }> {
  const run = await cli(['run', '--config', file, '--state', state, '--for', '7s']);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as { sessions: Session[] };
  return {
    sessions: st.sessions.slice().sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at)),
    output: run.stdout,
  };
}

const prompt = (state: string, id: string) =>
  /prompt=(.*)$/m.exec(readFileSync(path.join(state, 'sessions', id, 'output.log'), 'utf8'))?.[1];

describe('a respawn keeps its task', () => {
  test('while the task is not done, each respawn continues it, with its task id in the prompt', async () => {
    const { file, state } = setup('');
    const { sessions, output } = await chain(file, state);
    expect(sessions.map((s) => [s.dispatch, s.task])).toEqual([
      ['tick', 'fix-ci-flake'],
      ['respawn', 'fix-ci-flake'],
      ['respawn', 'fix-ci-flake'],
    ]);
    expect(sessions[1]!.parent).toBe(sessions[0]!.id);
    for (const s of sessions) expect(prompt(state, s.id)).toBe('Work on fix-ci-flake');
    expect(output).toMatch(
      /respawn: code-\d+ follows code-\d+ back to back \(chain 1\/2\); continues task fix-ci-flake/,
    );
    // Every task claim went back at the end of its session.
    const { claims } = JSON.parse((await cli(['claims', '--json', '--state', state])).stdout) as { claims: unknown[] };
    expect(claims).toEqual([]);
  });

  test('the agent completed its task claim: the respawn takes the lane next task', async () => {
    const { file, state } = setup('claim');
    const { sessions, output } = await chain(file, state);
    expect(sessions.map((s) => [s.dispatch, s.task])).toEqual([
      ['tick', 'fix-ci-flake'],
      ['respawn', 'next-one'],
      // Both done: lane-level work.
      ['respawn', null],
    ]);
    expect(prompt(state, sessions[1]!.id)).toBe('Work on next-one');
    expect(output).toMatch(
      /task fix-ci-flake is done \(its claim was not given back at the end \(completed, or kept by the agent\)\): next task next-one/,
    );
  });

  test('the agent marked the task file done: the respawn takes the lane next task', async () => {
    const { file, state } = setup('file');
    const { sessions, output } = await chain(file, state);
    expect(sessions.map((s) => [s.dispatch, s.task]).slice(0, 2)).toEqual([
      ['tick', 'fix-ci-flake'],
      ['respawn', 'next-one'],
    ]);
    expect(output).toMatch(/task fix-ci-flake is done \(its file says done\): next task next-one/);
  });
});
