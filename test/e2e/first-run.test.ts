// What a new user reads on a first run, read back as they would: help texts that say what a flag
// defaults to and what each claim command takes; a run's log that counts lanes, arms and skipped
// task files right, names a tick by the journal event it is (not as if ticks had been skipped),
// and rounds the summary's means; and a log format to choose (--log-format, LANEKEEPER_LOG_FORMAT)
// instead of one guessed from whether stdout is a terminal.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

describe('help', () => {
  test('stats --help shows its default window as a duration', async () => {
    const r = await cli(['stats', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--since <duration> +the window, e\.g\. 2h \(default: 24h\)/);
    expect(r.stdout).not.toContain('86400000');
  });

  test('each claim command has full help: usage, the key, every option with what it does', async () => {
    const common = [/--state <dir> +state directory/, /--json +print JSON/, /-h, --help +display help/];
    const own: Record<string, RegExp[]> = {
      claim: [
        /--holder <id> +who holds the claim/,
        /--ttl <duration> +how long it lasts unless renewed[^]*\(default: 60m\)/,
        /--keep +when the session ends, leave the claim to expire/,
      ],
      renew: [/--token <n> +the fencing token/, /--holder <id>/, /--ttl <duration> +the new lease from now/],
      release: [/--token <n>/, /--holder <id>/, /--result <text> +what came of the work/],
      complete: [/--token <n>/, /--holder <id>/, /--result <text>/],
      reopen: [],
      claims: [/--all +released and completed claims too/],
    };
    for (const [name, patterns] of Object.entries(own)) {
      const r = await cli([name, '--help']);
      expect([r.code, r.stderr], name).toEqual([0, '']);
      expect(r.stdout, name).toMatch(
        new RegExp(`^Usage: lanekeeper ${name} \\[options\\]${name === 'claims' ? '' : ' <key>'}\\n`),
      );
      if (name !== 'claims') expect(r.stdout, name).toMatch(/Arguments:\n +key +lane:NAME, task:SLUG/);
      for (const p of [...common, ...patterns]) expect(r.stdout, name).toMatch(p);
    }
    // The same commands, with their options, in the command list and in `lanekeeper help claim`.
    expect((await cli(['--help'])).stdout).toMatch(/claim \[options\] <key> +take a claim/);
    expect((await cli(['help', 'claim'])).stdout).toMatch(/--ttl <duration>/);
  });
});

/** One lane on one arm (the fixture agent grades itself 0.123456), ticking every second. */
function setUp(): { dir: string; file: string } {
  const dir = tmpDir();
  const tasks = path.join(dir, 'tasks');
  mkdirSync(tasks);
  writeFileSync(path.join(tasks, 'good.md'), '---\nlane: solo\nstate: ready\n---\n# Fine\n');
  // Five files that cannot be used; the last has two problems, and is one file skipped.
  writeFileSync(path.join(tasks, 'a.md'), 'no front matter\n');
  writeFileSync(path.join(tasks, 'b.md'), '---\nlane: solo\nstate: ready\n');
  writeFileSync(path.join(tasks, 'c.md'), '---\nlane: elsewhere\nstate: ready\n---\n');
  writeFileSync(path.join(tasks, 'd.md'), '---\nlane: [solo\n---\n');
  writeFileSync(path.join(tasks, 'e.md'), '---\nstate: someday\n---\n');
  const { file } = writeConfig(
    {
      schedule: { interval: '1s' },
      sessions: { kill_grace: '1s', drain_grace: '5s' },
      tasks: { dir: 'tasks' },
      lanes: [{ name: 'solo', cooldown: '1s' }],
      backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.123456', AGENT_SLEEP_MS: '50' } })],
    },
    { dir },
  );
  return { dir, file };
}

describe("a run's log", () => {
  test('counts right, names each tick by its journal event, and rounds the mean grade', async () => {
    const { dir, file } = setUp();
    const state = path.join(dir, 'state');
    const r = await cli(['run', '--config', file, '--state', state, '--for', '4s']);
    expect(r.code, r.stderr).toBe(0);
    // Not a terminal: JSON lines.
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; summary?: { meanGrade: number | null }[] });
    const msgs = lines.map((l) => l.msg);
    expect(msgs[0]).toMatch(/^lanekeeper: 1 lane, 1 arm, width 3, a tick every 1s, for 4s; state in /);
    expect(msgs).toContain('task files: 1 task, 5 files skipped');

    const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
    const tickSeqs = db.prepare("SELECT seq FROM journal WHERE type = 'TICK'").pluck().all() as number[];
    db.close();
    const ticks = msgs.filter((m) => m.startsWith('tick'));
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    for (const t of ticks) {
      const seq = /^tick at event (\d+)[: ]/.exec(t)?.[1];
      expect(seq, t).toBeDefined();
      expect(tickSeqs, t).toContain(Number(seq));
    }

    const summary = lines.find((l) => l.msg === 'summary')!.summary!;
    expect(summary).toHaveLength(1);
    expect(summary[0]!.meanGrade).toBe(0.12);
  });
});

describe('--log-format and LANEKEEPER_LOG_FORMAT', () => {
  test('pretty into a pipe: timed lines without colour codes, then the summary table; the flag beats the variable', async () => {
    const { dir, file } = setUp();
    // A state directory each: a run goes on from the last one's lanes, and solo would be cooling down.
    for (const [i, [args, env]] of (
      [
        [['--log-format', 'pretty'], {}],
        [[], { LANEKEEPER_LOG_FORMAT: 'pretty' }],
        [['--log-format', 'pretty'], { LANEKEEPER_LOG_FORMAT: 'json' }],
      ] as const
    ).entries()) {
      const r = await cli(['run', '--config', file, '--state', path.join(dir, `state-${i}`), '--once', ...args], {
        env,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: lanekeeper: 1 lane, 1 arm, /);
      expect(r.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: tick at event \d+: → solo \[good\] /m);
      expect(r.stdout).not.toContain('{"level"');
      expect(r.stdout).not.toContain('\x1b[');
      expect(r.stdout).toMatch(/mean grade[^]*solo +\d+ +\d+ +0\.12 /);
    }
    const json = await cli(
      ['run', '--config', file, '--state', path.join(dir, 'state-json'), '--once', '--log-format', 'json'],
      { env: { LANEKEEPER_LOG_FORMAT: 'pretty' } },
    );
    expect(json.code, json.stderr).toBe(0);
    for (const line of json.stdout.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
  });

  test('a format that is neither: one line naming the flag or the variable, exit 2, nothing started', async () => {
    const { dir, file } = setUp();
    const state = path.join(dir, 'state');
    const flag = await cli(['run', '--config', file, '--state', state, '--once', '--log-format', 'xml']);
    expect([flag.code, flag.stdout, flag.stderr]).toEqual([
      2,
      '',
      'lanekeeper: --log-format: expected pretty or json, got "xml"\n',
    ]);
    const env = await cli(['run', '--config', file, '--state', state, '--once'], {
      env: { LANEKEEPER_LOG_FORMAT: 'text' },
    });
    expect([env.code, env.stdout, env.stderr]).toEqual([
      2,
      '',
      'lanekeeper: LANEKEEPER_LOG_FORMAT: expected pretty or json, got "text"\n',
    ]);
    expect(existsSync(path.join(state, 'lanekeeper.db'))).toBe(false);
  });
});
