// Live reload: SIGHUP, or an edit of the configuration file. A valid configuration applies to what
// starts next without touching running sessions; an invalid one is refused with the reason and the
// last good configuration stays in force.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { startCli } from '../helpers/run-process.js';
import { cli, fixtureBackend, tmpDir } from '../helpers/tmp.js';

function config(dir: string, lanes: string[], sleepMs: number): string {
  return `
width: 3
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
sessions: { kill_grace: 1s, drain_grace: 5s }
lanes:
${lanes.map((l) => `  - { name: ${l}, cooldown: 1h, timeout: 1m }`).join('\n')}
backends:
${fixtureBackend('ok.mjs', dir, { AGENT_SLEEP_MS: String(sleepMs), AGENT_GRADE: '0.8' })}
`;
}

function read(state: string) {
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  try {
    return {
      sessions: db.prepare('SELECT id, lane, exit_code, outcome, reason FROM sessions ORDER BY started_at').all() as {
        id: string;
        lane: string;
        exit_code: number | null;
        outcome: string;
        reason: string | null;
      }[],
      journal: (
        db.prepare('SELECT type, payload FROM journal ORDER BY seq').all() as { type: string; payload: string }[]
      ).map((r) => ({ type: r.type, ...(JSON.parse(r.payload) as Record<string, unknown>) })),
    };
  } finally {
    db.close();
  }
}

test('SIGHUP with a broken configuration: refused with the reason, the old one stays, the running session goes on', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'lk.yaml');
  const state = path.join(dir, 'state');
  writeFileSync(file, config(dir, ['a'], 2500));
  const run = startCli(['run', '--config', file, '--state', state]);
  await run.waitFor(/a-\d+ started on fixture:ok/);
  // Written in place and signalled at once: the file watcher may see it first; either refuses it.
  writeFileSync(file, config(dir, ['a'], 2500).replace('cooldown: 1h', 'cooldown: soon'));
  run.child.kill('SIGHUP');
  await run.waitFor(
    /config reload \(SIGHUP\) rejected, the last good configuration stays: .*lk\.yaml: line 7: lanes\[0\]\.cooldown: expected a duration/,
  );
  await run.waitFor(/a-\d+ ended after .*: exit 0/);
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);

  const { sessions, journal } = read(state);
  expect(sessions).toHaveLength(1);
  expect(sessions[0]).toMatchObject({ exit_code: 0, reason: null });
  const rejected = journal.filter((e) => e.type === 'CONFIG_REJECTED') as { source?: string; reason?: string }[];
  expect(rejected.length).toBeGreaterThanOrEqual(1);
  expect(rejected.find((e) => e.source === 'SIGHUP')?.reason).toMatch(/lanes\[0\]\.cooldown/);
  expect(journal.some((e) => e.type === 'CONFIG_RELOADED')).toBe(false);
});

test('an edit of the file adds a lane and removes another: the new lane runs, the removed one finishes its session untouched and starts no more', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'lk.yaml');
  const state = path.join(dir, 'state');
  writeFileSync(file, config(dir, ['a', 'b'], 3000));
  // A tick every second, so the new lane is dispatched soon after the reload.
  const run = startCli(['run', '--config', file, '--state', state, '--tick', '1s']);
  await run.waitFor(/ started on fixture:ok/, { count: 2 });
  // An editor's save: a temporary file renamed over the original.
  writeFileSync(`${file}.tmp`, config(dir, ['a', 'c'], 3000));
  const { renameSync } = await import('node:fs');
  renameSync(`${file}.tmp`, file);
  await run.waitFor(/config reloaded \(file changed\): lanes changed; running sessions keep what they started with/);
  await run.waitFor(/c-\d+ started on fixture:ok/);
  await run.waitFor(/b-\d+ ended after .*: exit 0/);
  const status = await cli(['status', '--state', state, '--json']);
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);

  const { sessions, journal } = read(state);
  const b = sessions.filter((s) => s.lane === 'b');
  expect(b).toHaveLength(1);
  expect(b[0]).toMatchObject({ exit_code: 0, reason: null });
  expect(sessions.filter((s) => s.lane === 'c').length).toBeGreaterThanOrEqual(1);
  const reloaded = journal.find((e) => e.type === 'CONFIG_RELOADED') as
    { source: string; changes: string[] } | undefined;
  expect(reloaded).toMatchObject({ source: 'file changed', changes: ['lanes'] });
  // b left the lanes table once its session was over; c is there.
  const lanes = (JSON.parse(status.stdout) as { lanes: { name: string }[] }).lanes.map((l) => l.name);
  expect(lanes).toContain('c');
  expect(lanes).not.toContain('b');
  // The reload replays like any other event.
  const replay = await cli(['replay', '--state', state, '--json', '--from-start']);
  expect(JSON.parse(replay.stdout)).toMatchObject({ divergences: 0 });
});

test('a reload that adds a lane takes the task files waiting for it at once: its session runs the task', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'lk.yaml');
  const state = path.join(dir, 'state');
  const tasks = path.join(dir, 'tasks');
  mkdirSync(tasks);
  writeFileSync(path.join(tasks, 'write-guide.md'), '---\nlane: docs\nstate: active\n---\n# Write the guide\n');
  const withTasks = (lanes: string[]) => `${config(dir, lanes, 500)}tasks: { dir: tasks }\n`;
  writeFileSync(file, withTasks(['a']));
  const run = startCli(['run', '--config', file, '--state', state, '--tick', '1s']);
  await run.waitFor(/ started on fixture:ok/);
  writeFileSync(`${file}.tmp`, withTasks(['a', 'docs']));
  renameSync(`${file}.tmp`, file);
  await run.waitFor(/config reloaded \(file changed\): lanes changed/);
  await run.waitFor(/docs-\d+ ended after .*: exit 0/);
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);

  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const docs = db.prepare("SELECT id, task FROM sessions WHERE lane = 'docs'").all() as {
    id: string;
    task: string | null;
  }[];
  db.close();
  expect(docs[0]).toMatchObject({ task: 'write-guide' });
  const log = readFileSync(path.join(state, 'sessions', docs[0]!.id, 'output.log'), 'utf8');
  expect(log).toContain(`task=write-guide file=${path.join(tasks, 'write-guide.md')}`);
});
