// Users' mistakes: one clear message and a non-zero exit, or a recorded and survived event.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { STARTER_CONFIG } from '../../src/config/starter.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
/** The line of the starter configuration (`lanekeeper init`) that holds `needle`, not in a comment. */
const starterLine = (needle: string) =>
  STARTER_CONFIG.split('\n').findIndex((l) => l.includes(needle) && !l.trimStart().startsWith('#')) + 1;

describe('bad input', () => {
  test('a missing config file: exit 2, one line naming the file', async () => {
    const dir = tmpDir();
    const r = await cli(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'lanekeeper.yaml: cannot read configuration: no such file (create one with "lanekeeper init", pass --config FILE, or try --demo)',
    );
    const run = await cli(['run', '--config', path.join(dir, 'nope.yaml')], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nope.yaml: cannot read configuration: no such file');
  });

  test('a config with mistakes: exit 2 and every problem with its line, no stack trace', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'lk.yaml');
    writeFileSync(file, 'lanes:\n  - name: code\n    cooldown: soon\nbackends: []\n');
    for (const cmd of [
      ['validate', '--config', file],
      ['run', '--config', file],
    ]) {
      const r = await cli(cmd);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `${file}: 2 problems\n  line 3: lanes[0].cooldown: expected a duration like "180s", got "soon"\n  line 4: backends: needs at least 1 entry\n`,
      );
    }
  });

  test('init writes a starter that validate accepts; it does not overwrite without --force', async () => {
    const dir = tmpDir();
    expect((await cli(['init'], { cwd: dir })).code).toBe(0);
    // Valid; what this machine lacks for it (the claude command, its project directory) is only a warning.
    const starter = await cli(['validate'], { cwd: dir, env: { HOME: dir, PATH: dir } });
    expect(starter).toMatchObject({ code: 0, stderr: '' });
    expect(starter.stdout).toBe(
      'ok (2 warnings)\n' +
        `  line ${starterLine('command:')}: backends[0].command[0]: command not found: claude (not on PATH)\n` +
        `  line ${starterLine('cwd: ~/src/project')}: backends[0].cwd: working directory ${path.join(dir, 'src', 'project')} does not exist\n`,
    );
    const again = await cli(['init'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe('lanekeeper: lanekeeper.yaml already exists; pass --force to overwrite it');
    expect((await cli(['init', '--demo', '--out', 'demo.yaml'], { cwd: dir })).code).toBe(0);
    expect(await cli(['validate', '--config', 'demo.yaml'], { cwd: dir })).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  test('bad command-line arguments: exit 2 with the reason', async () => {
    const r = await cli(['run', '--demo', '--for', '30']);
    expect([r.code, r.stderr]).toEqual([2, 'lanekeeper: --for: expected a duration like "180s", got "30"\n']);
    const u = await cli(['stauts']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain("unknown command 'stauts'");
  });

  test('a state directory that cannot be used: exit 2 naming it', async () => {
    const dir = tmpDir();
    const blocker = path.join(dir, 'file');
    writeFileSync(blocker, 'not a directory');
    const r = await cli(['run', '--demo', '--for', '1s', '--state', path.join(blocker, 'state')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `lanekeeper: cannot use state directory ${path.join(blocker, 'state')}: a file is in the way where the directory should be`,
    );
    noStack(r.stderr);
    const s = await cli(['status', '--state', path.join(dir, 'empty')]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('no lanekeeper database at');
  });

  test('a missing agent command and an invalid grade file are recorded; the lanes go on, a failed backend rests', async () => {
    const { file, state } = writeConfig({
      width: 2,
      schedule: { interval: '1s' },
      sessions: { kill_grace: '1s', drain_grace: '5s' },
      lanes: [
        { name: 'broken', cooldown: '1s', arms: ['ghost:m'] },
        { name: 'badgrade', cooldown: '1s', arms: ['fixture:ok'] },
      ],
      backends: [
        { name: 'ghost', command: ['lanekeeper-no-such-agent-binary', '{prompt}'], models: [{ name: 'm' }] },
        fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '{not json', AGENT_GRADE_RAW: '1', AGENT_SLEEP_MS: '50' } }),
      ],
    });
    const r = await cli(['run', '--config', file, '--state', state, '--for', '6s']);
    expect(r.code, r.stderr).toBe(0);
    noStack(r.stdout + r.stderr);
    const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
      sessions: { lane: string; outcome: string; grade: number | null; reason: string | null }[];
    };
    const broken = st.sessions.filter((s) => s.lane === 'broken');
    const bad = st.sessions.filter((s) => s.lane === 'badgrade');
    // The lane with the bad grade kept being dispatched. The lane whose only backend failed (and
    // has no quota probe) ran once: then that backend rests for 30 minutes and the lane waits.
    expect(bad.length).toBeGreaterThanOrEqual(2);
    expect(broken.length).toBe(1);
    expect(r.stdout + r.stderr).toMatch(
      /no eligible arm \(ghost:m: [^)]*no quota report; last session failed at [^)]*, blocked until /,
    );
    for (const s of broken)
      expect(s).toMatchObject({
        outcome: 'failed',
        reason: 'command not found: lanekeeper-no-such-agent-binary',
        grade: 0.05,
      });
    // Not a git repository: no evidence of work, so the outcome is unknown, and the bad grade leaves it ungraded.
    for (const s of bad) expect(s).toMatchObject({ outcome: 'unknown', grade: null });
    const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
    const rejected = db.prepare("SELECT payload FROM journal WHERE type = 'GRADE_REJECTED'").pluck().all() as string[];
    db.close();
    expect(rejected.length).toBe(bad.length);
    expect(JSON.parse(rejected[0]!).reason).toMatch(/grade\.json: not JSON/);
  });
});
