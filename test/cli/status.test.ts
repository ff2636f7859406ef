// `lanekeeper status` against a real running lanekeeper: six lanes, one of them working through a
// chain of sessions (productive, noop, failed), one running a session that never ends, four that
// did quick noop sessions. The view must show the lanes, the running session with its elapsed
// time, the next tick, the claims held and each lane's last outcomes and grades within 100
// columns; --watch must redraw until Ctrl-C; --json must keep its keys.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENTS, CLI, cli, tmpDir } from '../helpers/tmp.js';

interface StatusJson {
  state_dir: string;
  lanes: { name: string; slot: number; lane_id: string; state: string; since: string; session: string | null }[];
  sessions: { id: string; lane: string; ended_at: string | null; outcome: string | null; grade: number | null }[];
  decisions: { kind: string }[];
  next_tick: string | null;
  running: boolean | null;
  last_stop: { at: string; clean: boolean } | null;
  claims: { key: string; slot: number; holder: string; token: number; acquired_at: string; expires_at: string }[];
}

const backend = (name: string, agent: string, cwd: string, env: Record<string, string> = {}) =>
  [
    `  - name: ${name}`,
    `    command: ["{node}", ${JSON.stringify(path.join(AGENTS, agent))}]`,
    `    cwd: ${JSON.stringify(cwd)}`,
    `    env: ${JSON.stringify(env)}`,
    '    models: [{ name: m }]',
  ].join('\n');

function repo(dir: string): string {
  mkdirSync(dir);
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

let state = '';
let runtime: ChildProcess;
let runtimeExit: Promise<number | null>;
let runtimeOut = '';

async function status(...args: string[]) {
  return cli(['status', '--state', state, ...args]);
}

async function statusJson(): Promise<StatusJson> {
  const r = await status('--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

beforeAll(async () => {
  const dir = tmpDir();
  state = path.join(dir, 'state');
  const file = path.join(dir, 'lk.yaml');
  const quick = ['triage', 'content', 'research', 'cleanup'];
  writeFileSync(
    file,
    `
width: 6
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
sessions: { kill_grace: 1s, drain_grace: 1s }
lanes:
  - { name: code, arms: [seq:m], cooldown: 0s, respawn: { chain_limit: 2 } }
  - { name: infrastructure, arms: [hang:m], cooldown: 0s }
${quick.map((l) => `  - { name: ${l}, arms: [quick:m], cooldown: 0s }`).join('\n')}
backends:
${backend('seq', 'sequence.mjs', repo(path.join(dir, 'code-repo')), { AGENT_SEQUENCE: 'productive:0.82,noop:0.7,fail', AGENT_COUNTER: path.join(dir, 'code-runs') })}
${backend('hang', 'hang.mjs', dir)}
${backend('quick', 'ok.mjs', repo(path.join(dir, 'quick-repo')), { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '50' })}
`,
  );
  runtime = spawn(process.execPath, [CLI, 'run', '--config', file, '--state', state], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runtime.stdout!.on('data', (d: Buffer) => (runtimeOut += d.toString()));
  runtime.stderr!.on('data', (d: Buffer) => (runtimeOut += d.toString()));
  runtimeExit = new Promise((resolve) => runtime.on('exit', (code) => resolve(code)));
  // An agent's own claim, to be listed with the lanes' slots.
  const settled = (st: StatusJson) => {
    const ended = (lane: string) => st.sessions.filter((s) => s.lane === lane && s.ended_at !== null).length;
    const lane = (id: string) => st.lanes.find((l) => l.lane_id === id)?.state;
    return (
      ended('code') === 3 &&
      lane('code') === 'idle' &&
      lane('infrastructure') === 'running' &&
      quick.every((l) => ended(l) === 2 && lane(l) === 'idle')
    );
  };
  const started = Date.now();
  for (;;) {
    const r = await cli(['status', '--json', '--state', state]);
    if (r.code === 0 && settled(JSON.parse(r.stdout) as StatusJson)) break;
    if (Date.now() - started > 60_000) throw new Error(`the lanes did not settle:\n${r.stdout}\n${runtimeOut}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const claim = await cli(['claim', 'task:fix-login', '--holder', 'someone-else', '--ttl', '30m', '--state', state]);
  expect(claim.code, claim.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  if (runtime.exitCode === null) {
    runtime.kill('SIGTERM');
    await runtimeExit;
  }
});

describe('status while lanekeeper runs', () => {
  test('shows lanes, the running session with its elapsed time, the next tick, claims held and last outcomes, within 100 columns', async () => {
    const r = await status();
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout;
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(text).toContain(`state: ${state}`);
    // One timer tick an hour: the next one is about an hour away.
    expect(text).toMatch(/^next tick (\d{4}-\d\d-\d\d \d\d:\d\d|\d\d:\d\d:\d\d) \(in (59m \d+s|1h)\)$/m);
    expect(text).not.toContain('not running');
    expect(text).toMatch(/^LANE\s+STATE\s+FOR\s+SESSION\s+LAST \(newest first\)$/m);
    expect(text).toMatch(/^infrastructure\s+running\s+\d+(m \d+)?s\s+infrastructure-\d+ \(\d+(m \d+)?s\)\s+–$/m);
    // The code lane's chain, newest first, with the grades (a failure takes the default 0.05).
    expect(text).toMatch(/^code\s+idle\s+\d+(m \d+)?s\s+failed 0\.05, noop 0\.70, productive 0\.82$/m);
    for (const lane of ['triage', 'content', 'research', 'cleanup'])
      expect(text).toMatch(new RegExp(`^${lane}\\s+idle\\s+\\d+(m \\d+)?s\\s+noop 0\\.90, noop 0\\.90$`, 'm'));
    // Claims held: the running session's lane slot and the agent's own claim, with time left.
    expect(text).toContain('claims held: 2');
    expect(text).toMatch(/^KEY\s+HOLDER\s+EXPIRES IN$/m);
    expect(text).toMatch(/^lane:infrastructure\s+infrastructure-\d+\s+1m \d+s$/m);
    expect(text).toMatch(/^task:fix-login\s+someone-else\s+29m \d+s$/m);
    // The recent sessions and decisions are still there.
    expect(text).toMatch(/^SESSION\s+ARM\s+DISPATCH\s+STARTED\s+TOOK\s+OUTCOME\s+GRADE$/m);
    expect(text).toMatch(/^infrastructure-\d+\s+hang:m\s+tick\s+\d\d:\d\d:\d\d\s+running \d+(m \d+)?s$/m);
    expect(text).toContain('recent decisions (newest first):');
  });

  test('--json keeps its keys and adds next_tick and claims', async () => {
    const st = await statusJson();
    expect(Object.keys(st)).toEqual(
      expect.arrayContaining([
        'state_dir',
        'running',
        'last_stop',
        'lanes',
        'sessions',
        'decisions',
        'next_tick',
        'claims',
      ]),
    );
    expect([st.running, st.last_stop]).toEqual([true, null]);
    expect(Object.keys(st.lanes[0]!).sort()).toEqual(['lane_id', 'name', 'session', 'since', 'slot', 'state', 'until']);
    expect(Object.keys(st.sessions[0]!).sort()).toEqual([
      'arm',
      'dispatch',
      'ended_at',
      'exit_code',
      'grade',
      'grade_source',
      'id',
      'lane',
      'outcome',
      'parent',
      'reason',
      'started_at',
      'task',
    ]);
    expect(st.decisions.some((d) => d.kind === 'tick')).toBe(true);
    const inMs = Date.parse(st.next_tick!) - Date.now();
    expect(inMs).toBeGreaterThan(50 * 60_000);
    expect(inMs).toBeLessThanOrEqual(60 * 60_000);
    expect(st.claims.map((c) => [c.key, c.holder])).toEqual([
      ['lane:infrastructure', st.lanes.find((l) => l.lane_id === 'infrastructure')!.session],
      ['task:fix-login', 'someone-else'],
    ]);
    expect(st.claims[1]).toMatchObject({ slot: 0, token: expect.any(Number) as number });
  });

  test('--watch redraws into a pipe with a rule between frames until Ctrl-C, then exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'status', '--watch', '--interval', '200ms', '--state', state], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const frames = () => out.split(/^─{100}$/m);
    const started = Date.now();
    while (frames().length < 3) {
      if (Date.now() - started > 30_000) throw new Error(`no frames:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const shown = frames().filter((f) => f.trim());
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const f of shown) {
      expect(f).toMatch(/^lanekeeper at \d\d:\d\d:\d\d · state: /m);
      expect(f).toMatch(/^infrastructure\s+running\s/m);
    }
    // Not a terminal: no escape sequences.
    expect(out).not.toContain('\x1b[');
  });

  test('--watch --json prints one JSON document per line', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'status', '--watch', '--json', '--interval', '100ms', '--state', state],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (out.split('\n').length < 3) {
      if (Date.now() - started > 30_000) throw new Error(`no frames:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const docs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StatusJson);
    expect(docs.length).toBeGreaterThanOrEqual(2);
    for (const d of docs) expect(d.lanes.find((l) => l.lane_id === 'infrastructure')?.state).toBe('running');
  });
});

describe('status misuse', () => {
  test('--interval needs --watch and a positive duration; a missing state dir is exit 2 with the same message', async () => {
    const alone = await status('--interval', '2s');
    expect([alone.code, alone.stderr.trim()]).toEqual([
      2,
      'lanekeeper: --interval goes with --watch (how often to redraw)',
    ]);
    const zero = await status('--watch', '--interval', '0s');
    expect([zero.code, zero.stderr.trim()]).toEqual([2, 'lanekeeper: --interval: expected at least 100ms, got "0s"']);
    const bad = await status('--watch', '--interval', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a duration like "180s", got "soon"');
    const missing = path.join(tmpDir(), 'nothing-here');
    for (const args of [[], ['--watch']]) {
      const r = await cli(['status', '--state', missing, ...args]);
      expect([r.code, r.stderr.trim()]).toEqual([
        2,
        `lanekeeper: cannot use state directory ${missing}: no lanekeeper database at ${path.join(missing, 'lanekeeper.db')} (has "lanekeeper run" used this state directory?)`,
      ]);
    }
  });
});

describe('status after lanekeeper stopped', () => {
  test('says it is not running and shows no next tick', async () => {
    runtime.kill('SIGTERM');
    expect(await runtimeExit).toBe(0);
    const r = await status();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^lanekeeper is not running \(stopped cleanly at \d\d:\d\d:\d\d, \d+s ago\)$/m);
    expect(r.stdout).not.toContain('next tick');
    // The lanes as the drain left them, which the next start goes on from: the session the drain
    // stopped has ended, and its lane's (zero) cooldown ends when lanekeeper starts again.
    expect(r.stdout).toMatch(/^infrastructure\s+cooldown \(due now\)\s+\d+s\s+unknown –$/m);
    expect(r.stdout).not.toMatch(/was running/);
    // The lane slot was given back; the agent's own claim is still held.
    expect(r.stdout).toContain('claims held: 1');
    const st = await statusJson();
    expect(st.next_tick).toBeNull();
    expect([st.running, st.last_stop?.clean, Date.parse(st.last_stop!.at) <= Date.now()]).toEqual([false, true, true]);
    expect(st.claims.map((c) => c.key)).toEqual(['task:fix-login']);
  });
});
