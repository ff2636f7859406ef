// Records the golden journals under test/fixtures/journals: each scenario is a short real run of
// the built CLI with the fake agents, exported with `lanekeeper journal export`. Run it on purpose,
// after a machine change that is meant to alter recorded behaviour:
//
//   npm run journals:record          (all; or: node scripts/record-journals.mjs NAME … after a build)
//
// then look at the diff and commit the new journals with the change.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { holdFlock } from '../dist/adapters/flock/hold.js';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist/cli/main.js');
const fixtures = path.join(root, 'test/fixtures');
const out = path.join(fixtures, 'journals');
const node = JSON.stringify(process.execPath);

const backend = (agent, env = {}, extra = '') => `
backends:
  - name: fixture
    command: [${node}, ${JSON.stringify(path.join(fixtures, 'agents', agent))}]
    env: ${JSON.stringify(env)}
    models: [{ name: ok }]${extra}
`;

/** A run of the CLI whose output a scenario's steps can wait for. */
function start(args) {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LANEKEEPER_STATE: '' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const waitFor = async (pattern, count) => {
    const until = Date.now() + 30_000;
    while ((out.match(new RegExp(pattern.source, 'g')) ?? []).length < count) {
      if (Date.now() > until || child.exitCode !== null)
        throw new Error(`no ${pattern} (${count}×) from lanekeeper ${args.join(' ')}:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, waitFor };
}

const scenarios = {
  // The demo as `npm run demo` runs it, shortened: six lanes, two simulated backends, respawns.
  demo: { args: ['--demo', '--for', '25s', '--tick', '4s'] },
  // A productive lane followed back to back twice (chain limit 2), with no cooldown.
  'respawn-chain': {
    yaml: `width: 1
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
  - { name: code, cooldown: 0s, respawn: { threshold: 0.65, chain_limit: 2 } }
${backend('ok.mjs', { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '200' })}`,
    args: ['--for', '6s'],
  },
  // Lane code's lock file is held by a legacy flock script: the claim is denied at claiming and
  // the slot pivots to the next lane, docs.
  'claim-denied-pivot': {
    yaml: (dir) => `width: 1
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
  - { name: code, target_share: 0.9, lock_file: ${JSON.stringify(path.join(dir, 'code.lock'))} }
  - { name: docs }
${backend('ok.mjs', { AGENT_GRADE: '0.5', AGENT_SLEEP_MS: '200' })}`,
    lock: 'code.lock',
    args: ['--once'],
    // The tick's draw may rank docs first, and then nothing is denied: record again until code is.
    shows: /"type":"CLAIM_DENIED"/,
  },
  // The only backend's quota probe says it is exhausted: no arm can run any lane (exit 76).
  'backends-exhausted': {
    yaml: `width: 2
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
  - { name: code }
  - { name: docs }
${backend('ok.mjs', {}, `\n    quota: { command: [${node}, ${JSON.stringify(path.join(fixtures, 'quota/exhausted.mjs'))}] }`)}`,
    args: ['--once'],
  },
  // lanekeeper killed with SIGKILL while two sessions run; the next start restores the lanes from
  // the journal (RUNTIME_RECOVERED) and adopts both agents, still alive (SESSION_ADOPTED).
  'crash-recovery': {
    yaml: `width: 2
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
  - { name: a, cooldown: 1h }
  - { name: b, cooldown: 1h }
${backend('ok.mjs', { AGENT_GRADE: '0.8', AGENT_SLEEP_MS: '2500' })}`,
    args: [],
    steps: async ({ args }) => {
      const first = start(args);
      await first.waitFor(/ started on fixture:ok/, 2);
      first.child.kill('SIGKILL');
      await first.exited;
      const again = start([...args, '--for', '5s']);
      await again.exited;
    },
  },
  // The configuration file is edited while sessions run: lane b is removed (its session ends
  // untouched, then it starts no more) and lane c added (CONFIG_RELOADED), then a drain.
  'config-reload': {
    yaml: (dir, lanes = ['a', 'b']) => `width: 2
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
${lanes.map((l) => `  - { name: ${l}, cooldown: 1h }`).join('\n')}
${backend('ok.mjs', { AGENT_GRADE: '0.8', AGENT_SLEEP_MS: '1500' })}`,
    args: ['--tick', '1s'],
    steps: async ({ args, dir, file, yaml }) => {
      const run = start(args);
      await run.waitFor(/ started on fixture:ok/, 2);
      writeFileSync(`${file}.tmp`, yaml(dir, ['a', 'c']));
      renameSync(`${file}.tmp`, file);
      await run.waitFor(/config reloaded \(file changed\)/, 1);
      await run.waitFor(/c-\d+ started on fixture:ok/, 1);
      run.child.kill('SIGTERM');
      await run.exited;
    },
  },
  // A drain while a productive session's lane cools down, then a start that goes on from the
  // journal (RUNTIME_RECOVERED, stop: drain): the respawn it earned follows once the cooldown ends.
  'drain-resume': {
    yaml: `width: 1
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
  - { name: code, cooldown: 2s, respawn: { threshold: 0.65, chain_limit: 1 } }
${backend('ok.mjs', { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '200' })}`,
    args: [],
    steps: async ({ args }) => {
      const first = start(args);
      await first.waitFor(/cooling down for 2s/, 1);
      first.child.kill('SIGTERM');
      await first.exited;
      const again = start(args);
      await again.waitFor(/ graded 0\.90/, 1);
      again.child.kill('SIGTERM');
      await again.exited;
    },
  },
  // A task-backed session respawns twice: the first respawn continues its task (not done), the
  // agent then marks the task file done, and the second respawn takes the lane's next task.
  'respawn-task': {
    yaml: (dir) => `width: 1
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
tasks: { dir: ${JSON.stringify(path.join(dir, 'tasks'))} }
lanes:
  - { name: code, cooldown: 1s, respawn: { threshold: 0.65, chain_limit: 2 } }
backends:
  - name: fixture
    command: [${node}, ${JSON.stringify(path.join(fixtures, 'agents', 'task-worker.mjs'))}, "{task_id}"]
    cwd: ${JSON.stringify(dir)}
    env: { AGENT_FINISH_AFTER: "2" }
    models: [{ name: ok }]
`,
    tasks: { 'fix-ci-flake': 'lane: code\nstate: active', 'next-one': 'lane: code\nstate: ready' },
    args: ['--for', '6s'],
  },
  // The external selector exits 3: the violation is journaled and the built-in selector decides.
  'selector-violation': {
    yaml: `width: 1
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
selector: { command: [${node}, ${JSON.stringify(path.join(fixtures, 'selectors/crash.mjs'))}] }
lanes:
  - { name: code }
${backend('ok.mjs', { AGENT_GRADE: '0.8', AGENT_SLEEP_MS: '100' })}`,
    args: ['--once'],
  },
};

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(scenarios)) {
  const s = scenarios[name];
  if (!s) throw new Error(`no scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  for (let attempt = 1; ; attempt++) {
    const file = await record(name, s);
    if (!s.shows || s.shows.test(readFileSync(file, 'utf8'))) break;
    if (attempt === 10) throw new Error(`${name}: 10 recordings, none shows ${s.shows}`);
  }
}

/** One run of a scenario, exported to test/fixtures/journals/<name>.jsonl. */
async function record(name, s) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `lk-journal-${name}-`));
  const state = path.join(dir, 'state');
  const args = ['run', ...s.args, '--state', state];
  if (s.yaml) {
    writeFileSync(path.join(dir, 'lk.yaml'), typeof s.yaml === 'function' ? s.yaml(dir) : s.yaml);
    args.push('--config', path.join(dir, 'lk.yaml'));
  }
  for (const [id, front] of Object.entries(s.tasks ?? {})) {
    mkdirSync(path.join(dir, 'tasks'), { recursive: true });
    writeFileSync(path.join(dir, 'tasks', `${id}.md`), `---\n${front}\n---\n# ${id}\n`);
  }
  // A legacy flock script holding the lane's lock file, held (not merely started) before the run.
  const holder = s.lock ? await holdFlock(path.join(dir, s.lock)) : null;
  if (holder && !holder.ok) throw new Error(`could not hold ${s.lock}: ${holder.reason}`);
  try {
    if (s.steps) await s.steps({ args, dir, file: path.join(dir, 'lk.yaml'), yaml: s.yaml });
    else
      execFileSync(process.execPath, [cli, ...args], {
        cwd: dir,
        stdio: 'ignore',
        env: { ...process.env, LANEKEEPER_LOG_LEVEL: 'warn', LANEKEEPER_STATE: '' },
      });
  } catch (err) {
    // --once exits 75 or 76 in some scenarios on purpose.
    if (![75, 76].includes(err.status)) throw err;
  } finally {
    await holder?.release();
  }
  const file = path.join(out, `${name}.jsonl`);
  execFileSync(process.execPath, [cli, 'journal', 'export', '--state', state, '--out', file], { stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
  return file;
}
