// `lanekeeper run --inspect`: the built CLI, a real agent process, a `ws` client on loopback. The
// client attaches once the feed's address is logged, is shown the fleet, follows it live through a
// drain, and is told when the run is over; no secret from the configuration reaches it. A port
// that is taken is one line and exit 2.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { CLI, cli } from '../helpers/tmp.js';

const SECRET = 'sk-live-e2e-0b1c2d-do-not-leak';

interface Message {
  type: string;
  name?: string;
  sessionId: string;
  snapshot?: { value?: unknown };
  event?: { type: string };
}

const topState = (value: unknown) => (typeof value === 'string' ? value : Object.keys((value ?? {}) as object)[0]);

function setup() {
  return writeConfig({
    width: 1,
    sessions: { kill_grace: '1s', drain_grace: '1s' },
    lanes: [{ name: 'a', timeout: '10m', prompt: `Deploy with key ${SECRET}` }],
    backends: [fixtureAgent('hang.mjs', { model: 'hang', env: { AGENT_TOKEN: SECRET } })],
  });
}

/** Resolves once `found` holds; a guard against a hung test, not a timing assertion. */
async function until(found: () => boolean, what: string, seen: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!found()) {
    if (Date.now() > deadline) throw new Error(`never saw ${what}:\n${seen().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('run --inspect 0: a client is shown the fleet, follows it live, and is told when the run ends', async () => {
  const { file, state } = setup();
  const child = spawn(process.execPath, [CLI, 'run', '--inspect', '0', '--config', file, '--state', state], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until(
      () => /inspector feed: ws:\/\/127\.0\.0\.1:\d+ /.test(stdout),
      'the feed address in the log',
      () => stdout,
    );
    const url = /inspector feed: (ws:\/\/127\.0\.0\.1:\d+) /.exec(stdout)![1]!;
    expect(stdout).toContain(`open ${url.replace('ws:', 'http:')}/ in a browser`);

    const socket = new WebSocket(url);
    const texts: string[] = [];
    let closeCode: number | null = null;
    socket.on('message', (d) => texts.push(d.toString()));
    socket.on('close', (code) => (closeCode = code));
    const messages = () => texts.map((t) => JSON.parse(t) as Message);
    const seen = () => `${texts.join('\n')}\n--- stdout:\n${stdout}`;

    // Shown at once, however late it came: the fleet, the selector and the lane.
    await until(() => messages().filter((m) => m.type === '@xstate.actor').length >= 3, 'the actors', seen);
    const actors = messages().filter((m) => m.type === '@xstate.actor');
    expect(actors.map((m) => m.name)).toEqual(['fleet', 'selector', 'a']);
    const lane = actors[2]!.sessionId;
    const laneState = () => {
      const last = messages()
        .filter((m) => m.sessionId === lane && m.snapshot)
        .at(-1);
      return topState(last?.snapshot?.value);
    };
    await until(() => laneState() === 'running', 'lane a running', seen);

    // Live from here: the drain, the session's exit, the lane back to idle, then the close.
    child.kill('SIGTERM');
    await until(() => closeCode !== null, 'the feed close', seen);
    expect(await exited).toBe(0);
    const events = messages()
      .filter((m) => m.type === '@xstate.event')
      .map((m) => m.event!.type);
    expect(events).toEqual(expect.arrayContaining(['DRAIN', 'SESSION_EXITED', 'SESSION_GRADED']));
    expect(
      messages()
        .filter((m) => m.sessionId === lane && m.snapshot)
        .map((m) => topState(m.snapshot!.value)),
    ).toContain('cooldown');
    expect(closeCode).toBe(1001);
    expect(texts.join('\n')).not.toContain(SECRET);
  } finally {
    child.kill('SIGKILL');
  }
});

test('run --inspect on a port that is taken: one line, exit 2, nothing started', async () => {
  const { file, state } = setup();
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  try {
    const run = await cli(['run', '--inspect', String(port), '--config', file, '--state', state]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `lanekeeper: --inspect: port ${port} on 127.0.0.1 is already in use; pick another with --inspect PORT (0 takes any free port)`,
    );
    expect(run.stdout).not.toContain('started on');
  } finally {
    taken.close();
  }
});
