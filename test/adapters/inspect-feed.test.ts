// The inspector feed: a real WebSocket server on loopback, real `ws` clients, a real FleetHost.
// A client sees the fleet's actors and then its events and snapshots as events are delivered; a
// client that connects late is given the live actors first; no secret ever reaches a client.
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { InspectListenError, startInspectFeed, type InspectFeed } from '../../src/adapters/inspect/feed.js';
import type { ArmConfig } from '../../src/config/types.js';
import type { StampedEvent } from '../../src/machines/events.js';
import type { RequestClaimIntent } from '../../src/machines/intents.js';
import type { Task } from '../../src/policy/task.js';
import { FleetHost } from '../../src/streams/fleet-host.js';
import { defaultSelection } from '../../src/runtime/selection.js';
import { laneConfig } from '../helpers/settings.js';
import type { Unstamped } from '../machines/harness.js';

/** Put where a user keeps secrets; must never appear in what a client receives. */
const SECRET = 'sk-live-7f3a9c-do-not-leak';

interface Message {
  type: '@xstate.actor' | '@xstate.event' | '@xstate.snapshot';
  _version: string;
  sessionId: string;
  rootId?: string;
  parentId?: string;
  name?: string;
  definition?: string;
  snapshot?: { status?: string; value?: unknown; context?: Record<string, unknown> };
  event?: { type: string; [k: string]: unknown };
  createdAt: string;
}

/** A client of the feed that keeps every message it received, raw and parsed. */
async function connect(url: string) {
  const socket = new WebSocket(url);
  const texts: string[] = [];
  const messages: Message[] = [];
  const waiters: (() => void)[] = [];
  let closeCode: number | null = null;
  socket.on('message', (data) => {
    texts.push(data.toString());
    messages.push(JSON.parse(data.toString()) as Message);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('close', (code) => {
    closeCode = code;
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  /** Resolves once `found` holds; a guard against a hung test, not a timing assertion. */
  const until = async (found: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!found()) {
      if (Date.now() > deadline) throw new Error(`never received ${what}; got:\n${texts.join('\n').slice(0, 4000)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { socket, texts, messages, until, closeCode: () => closeCode };
}

// As the config resolves a backend: its command line and env are where API keys live.
const arm = (): ArmConfig =>
  ({
    id: 'sim:a',
    backend: 'sim',
    model: 'a',
    command: ['agent', '--api-key', SECRET, '{prompt}'],
    env: { AGENT_TOKEN: SECRET },
    cwd: null,
    tier: 1,
    cost: 0,
    replaces: null,
    quota: null,
    restAfterFailureMs: 0,
  }) as ArmConfig;

const task = (id: string, body: string): Task =>
  // Task bodies are not part of Task today; a body that reaches an event some day must still not leak.
  ({
    id,
    lane: 'a',
    state: 'ready',
    priority: 2,
    waitingFor: null,
    path: `/tasks/${id}.md`,
    title: `Task ${id}`,
    body,
  }) as Task;

let feed: InspectFeed | null = null;
const hosts: FleetHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) h.stop();
  await feed?.close();
  feed = null;
});

/** A fleet of lanes a (with a secret prompt) and b, width 1, reporting to a fresh feed. */
async function fleetWithFeed() {
  feed = await startInspectFeed({ port: 0, host: '127.0.0.1' });
  const lanes = [laneConfig('a', { prompt: `Fix the bug. Use the key ${SECRET}.` }), laneConfig('b')];
  const early = await connect(feed.url);
  const host = new FleetHost({
    width: 1,
    lanes,
    arms: [arm()],
    selection: defaultSelection(lanes),
    inspect: feed.inspect,
  });
  hosts.push(host);
  let seq = 0;
  const deliver = (e: Unstamped<StampedEvent>) =>
    host.deliver({ ...e, seq: ++seq, now: 1_000_000 + seq } as StampedEvent);
  return { feed, lanes, host, deliver, early };
}

const actorsIn = (messages: Message[]) => messages.filter((m) => m.type === '@xstate.actor');
const topState = (value: unknown) => (typeof value === 'string' ? value : Object.keys(value as object)[0]);

describe('inspector feed', () => {
  test('a client sees the fleet, the selector and each lane, then events and snapshots as they are delivered', async () => {
    const { deliver, early } = await fleetWithFeed();
    await early.until(() => actorsIn(early.messages).length === 4, 'four actors');
    const actors = actorsIn(early.messages);
    expect(actors.map((a) => a.name)).toEqual(['fleet', 'selector', 'a', 'b']);
    const [fleet, ...children] = actors;
    for (const child of children) expect(child.parentId).toBe(fleet!.sessionId);
    // Each comes with its machine's definition, so the inspector can draw it.
    expect(actors.map((a) => (JSON.parse(a.definition!) as { id: string }).id)).toEqual([
      'fleet',
      'selector',
      'lane',
      'lane',
    ]);
    for (const a of actors)
      expect(a).toMatchObject({
        _version: expect.any(String),
        rootId: fleet!.sessionId,
        createdAt: expect.any(String),
      });
    const laneSession = Object.fromEntries(children.map((a) => [a.name!, a.sessionId]));

    const intents = deliver({ type: 'TICK', reason: 'start', seed: 7 });
    const dispatched = intents.find((i): i is RequestClaimIntent => i.type === 'requestClaim')!.laneId;
    const snapshotsOf = (name: string) =>
      early.messages.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === laneSession[name]);
    await early.until(
      () => snapshotsOf(dispatched).some((m) => topState(m.snapshot!.value) === 'claiming'),
      `a claiming snapshot of lane ${dispatched}`,
    );

    // The fleet received the TICK; the dispatched lane went from idle to claiming on its DISPATCH
    // (an idle lane waits for no deadline, so the TICK itself is not sent to it).
    expect(early.messages).toContainEqual(
      expect.objectContaining({
        type: '@xstate.event',
        sessionId: fleet!.sessionId,
        event: expect.objectContaining({ type: 'TICK', seed: 7 }),
      }),
    );
    const values = snapshotsOf(dispatched).map((m) => [m.event!.type, topState(m.snapshot!.value)]);
    expect(values).toEqual([
      ['xstate.init', 'idle'],
      ['DISPATCH', 'claiming'],
    ]);
    expect(snapshotsOf(dispatched).at(-1)!.snapshot!.context).toMatchObject({
      laneId: dispatched,
      sessionId: expect.stringContaining(dispatched),
    });
  });

  test('a client that connects late gets every live actor with its latest snapshot first, then live events', async () => {
    const { feed, deliver, early } = await fleetWithFeed();
    const [claim] = deliver({ type: 'TICK', reason: 'start', seed: 7 }).filter(
      (i): i is RequestClaimIntent => i.type === 'requestClaim',
    );
    await early.until(
      () => early.messages.some((m) => m.type === '@xstate.snapshot' && topState(m.snapshot!.value) === 'claiming'),
      'the claim',
    );

    const late = await connect(feed.url);
    await late.until(() => late.messages.length >= 4, 'the actors');
    const first = late.messages.slice(0, 4);
    expect(first.map((m) => [m.type, m.name])).toEqual([
      ['@xstate.actor', 'fleet'],
      ['@xstate.actor', 'selector'],
      ['@xstate.actor', 'a'],
      ['@xstate.actor', 'b'],
    ]);
    const states = Object.fromEntries(first.map((m) => [m.name, topState(m.snapshot!.value)]));
    expect(states[claim!.laneId]).toBe('claiming');
    expect(states[claim!.laneId === 'a' ? 'b' : 'a']).toBe('idle');
    // Only what was live: nothing from before it connected.
    expect(late.messages.filter((m) => m.type !== '@xstate.actor')).toEqual([]);

    deliver({
      type: 'CLAIM_GRANTED',
      laneId: claim!.laneId,
      sessionId: claim!.sessionId,
      key: claim!.key,
      slot: 1,
      token: 1,
      expiresAt: 2_000_000,
      seed: 5,
    });
    await late.until(
      () => late.messages.some((m) => m.type === '@xstate.snapshot' && topState(m.snapshot!.value) === 'running'),
      'the lane running',
    );
    expect(late.messages).toContainEqual(
      expect.objectContaining({
        type: '@xstate.event',
        event: expect.objectContaining({ type: 'CLAIM_GRANTED', laneId: claim!.laneId }),
      }),
    );
  });

  test('no secret reaches a client: prompts, env, commands and task bodies are redacted, and the runtime keeps its own', async () => {
    const { feed, lanes, deliver, early } = await fleetWithFeed();
    deliver({ type: 'TASKS_CHANGED', tasks: [task('fix-login', `Steps: export TOKEN=${SECRET}`)], problems: [] });
    deliver({ type: 'TICK', reason: 'start', seed: 7 });
    const late = await connect(feed.url);
    await early.until(() => early.messages.some((m) => m.event?.type === 'DISPATCH'), 'the dispatch');
    await late.until(() => late.messages.length >= 4, 'the actors');
    await feed.close();
    await early.until(() => early.closeCode() !== null, 'the close');

    const everything = [...early.texts, ...late.texts].join('\n');
    expect(everything).not.toContain(SECRET);
    // They were there to leak: the fleet's init event carries the lane and arm configuration, and
    // the selector's context the tasks; what stands in their place says so.
    const init = early.messages.find(
      (m) => m.event?.type === 'xstate.init' && m.sessionId === actorsIn(early.messages)[0]!.sessionId,
    )!;
    const input = init.event!.input as { lanes: { prompt: string }[]; arms: { command: string; env: string }[] };
    expect(input.lanes[0]!.prompt).toBe('[redacted]');
    expect(input.arms[0]).toMatchObject({ command: '[redacted]', env: '[redacted]' });
    expect(everything).toContain('"body":"[redacted]"');
    // The feed works on copies: the fleet's own configuration still has its prompt.
    expect(lanes[0]!.prompt).toContain(SECRET);
  });

  test('closing the feed tells clients the run is over (1001) and stops listening', async () => {
    const { feed, early } = await fleetWithFeed();
    await feed.close();
    await early.until(() => early.closeCode() !== null, 'the close');
    expect(early.closeCode()).toBe(1001);
    await expect(connect(feed.url)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('GET / serves the page that relays the feed into the Stately inspector', async () => {
    feed = await startInspectFeed({ port: 0, host: '127.0.0.1' });
    const page = await fetch(feed.pageUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<iframe id="inspector" src="https://stately.ai/inspect">');
    expect(html).toContain("new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host)");
    expect((await fetch(new URL('/other', feed.pageUrl))).status).toBe(404);
  });

  test('a port already in use: one error that names the port and what to do', async () => {
    feed = await startInspectFeed({ port: 0, host: '127.0.0.1' });
    const second = startInspectFeed({ port: feed.port, host: '127.0.0.1' });
    await expect(second).rejects.toThrow(InspectListenError);
    await expect(second).rejects.toThrow(
      `port ${feed.port} on 127.0.0.1 is already in use; pick another with --inspect PORT (0 takes any free port)`,
    );
  });
});
