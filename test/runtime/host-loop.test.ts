// The host loop (src/runtime/host-loop.ts) on its own: a real SQLite store in a temporary
// directory, a real fleet, and fake adapters that only record what they are asked to do. Per
// event: folded, its intents recorded in the journal and handed to the adapters, the lane rows,
// the checkpoint and the next wake-up kept in step, the observers and the mode told.
import { describe, expect, test } from 'vitest';
import pino from 'pino';
import { Subject } from 'rxjs';
import { parseConfigText } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { BusEvent, StampedEvent } from '../../src/machines/events.js';
import type { Intent, RequestClaimIntent } from '../../src/machines/intents.js';
import type { LaneStatus } from '../../src/machines/types.js';
import { FleetHost } from '../../src/streams/fleet-host.js';
import { HostLoop } from '../../src/runtime/host-loop.js';
import { LaneRows } from '../../src/runtime/lane-rows.js';
import { LiveConfig } from '../../src/runtime/live-config.js';
import type { RunStrategy } from '../../src/runtime/modes/mode.js';
import { tmpDir } from '../helpers/tmp.js';

const YAML = (lanes: string) => `
lanes: [${lanes}]
backends: [{ name: b, command: ["true"], models: [{ name: m }] }]
checkpoint_every: 10
`;

function setUp(lanes = '{ name: code, cooldown: 10m }') {
  const stateDir = tmpDir();
  const parse = (text: string) => parseConfigText(text, 'lk.yaml', { env: {}, stateDir });
  const live = new LiveConfig(parse(YAML(lanes)), 'service');
  const store = openSqliteStore(stateDir);
  const log = pino({ level: 'silent' });
  const host = new FleetHost(live.fleet);
  const ran: Intent[] = [];
  const wakes: (number | null)[] = [];
  const observed: string[] = [];
  const told: { type: string; becameIdle: boolean }[] = [];
  const strategy: RunStrategy = {
    ticks: () => new Subject(),
    tickRoom: () => undefined,
    observe: (event, _i, _l, becameIdle) => told.push({ type: event.type, becameIdle }),
    stopping: false,
    firstTick: () => ({ started: 0, unstarted: [], noArm: 0, reason: null }),
  };
  // The broken one first: the one after it is still told.
  const observers = [
    {
      event: () => {
        throw new Error('a broken observer');
      },
    },
    { event: (e: StampedEvent) => observed.push(e.type) },
  ];
  const loop = new HostLoop({
    host,
    store,
    live,
    log,
    effects: { run: (intent) => ran.push(intent) },
    armHealth: { observe: () => {} },
    rows: new LaneRows(store, live, log),
    wake: { setDeadline: (at) => wakes.push(at) },
    strategy,
    observers,
    widths: null,
    lateInFlight: new Set(),
  });
  let seq = 0;
  let now = 1_000_000;
  /** Stamps, journals (as the bus does) and hands one event to the loop. */
  const feed = async (event: BusEvent, seed = 7) => {
    const stamped = { ...event, seq: ++seq, now: (now += 1000), seed } as StampedEvent;
    await store.journal.append(stamped);
    await loop.take(stamped);
    return stamped;
  };
  return { store, live, host, loop, ran, wakes, observed, told, feed, parse, now: () => now };
}

/** The request for the lane's slot, and the session started once it was granted. */
async function startSession(t: ReturnType<typeof setUp>) {
  await t.feed({ type: 'TICK', reason: 'timer' });
  const claim = t.ran.find((i): i is RequestClaimIntent => i.type === 'requestClaim')!;
  await t.feed({
    type: 'CLAIM_GRANTED',
    laneId: claim.laneId,
    sessionId: claim.sessionId,
    key: claim.key,
    slot: 0,
    token: 1,
    expiresAt: t.now() + 60_000,
  });
  return claim;
}

describe('the host loop', () => {
  test('a tick: its intents are recorded with the event and handed to the adapters, the lane row follows', async () => {
    const t = setUp();
    const tick = await t.feed({ type: 'TICK', reason: 'timer' });
    const types = t.ran.map((i) => i.type);
    expect(types).toEqual(expect.arrayContaining(['recordDecision', 'requestClaim']));
    // What replay compares against: the intents in the order the adapters got them.
    expect((await t.store.journal.effects(tick.seq)).map((i) => i.type)).toEqual(types);
    const [row] = await t.store.lanes.list();
    expect(row).toMatchObject({ lane_id: 'code', state: 'claiming', since: tick.now });
    expect(t.told).toEqual([{ type: 'TICK', becameIdle: false }]);
  });

  test('a granted slot starts the session on the configured arm; the row names the session', async () => {
    const t = setUp();
    const claim = await startSession(t);
    const start = t.ran.find((i) => i.type === 'startSession');
    expect(start).toMatchObject({ sessionId: claim.sessionId, arm: 'b:m' });
    expect((await t.store.lanes.list())[0]).toMatchObject({ state: 'running', session: claim.sessionId });
  });

  test('a graded session cools the lane down: the wake-up is set to its deadline, and the row keeps it', async () => {
    const t = setUp();
    const claim = await startSession(t);
    const own = { laneId: claim.laneId, sessionId: claim.sessionId };
    await t.feed({
      type: 'SESSION_EXITED',
      ...own,
      exitCode: 0,
      signal: null,
      outcome: 'productive',
      durationMs: 5,
      reason: null,
    });
    const graded = await t.feed({ type: 'SESSION_GRADED', ...own, grade: 0.2, source: 'session', dimensions: null });
    const [row] = await t.store.lanes.list();
    expect(row).toMatchObject({ state: 'cooldown', deadline: graded.now + 600_000 });
    expect(t.wakes.at(-1)).toBe(graded.now + 600_000);
  });

  test('a checkpoint every `checkpoint_every` events, and a final one at the drain that the next start folds from', async () => {
    const t = setUp();
    await startSession(t);
    for (let i = 0; i < 7; i++) await t.feed({ type: 'WAKE' });
    expect(await t.store.journal.checkpoint(9)).toBeNull();
    await t.feed({ type: 'WAKE' });
    expect((await t.store.journal.checkpoint(10))?.seq).toBe(10);
    await t.feed({ type: 'WAKE' });
    await t.loop.finalCheckpoint();
    const last = await t.store.journal.checkpoint(11);
    expect(last?.seq).toBe(11);
    // The checkpoint restores the same fleet.
    const state = last!.state as { actors: unknown };
    const again = new FleetHost({ ...t.live.fleet, snapshot: state.actors });
    expect(again.lanes().map((l: LaneStatus) => [l.laneId, l.state])).toEqual(
      t.host.lanes().map((l) => [l.laneId, l.state]),
    );
  });

  test('a reload is taken by the shell as its CONFIG_RELOADED is handled: the new lane gets its row at once', async () => {
    const t = setUp();
    await t.feed({ type: 'WAKE' });
    const event = t.live.offer(
      'SIGHUP',
      () => t.parse(YAML('{ name: code }, { name: docs }')),
      pino({ level: 'silent' }),
    );
    expect(event?.type).toBe('CONFIG_RELOADED');
    // Not before the event is taken: what was decided before it keeps the configuration it was decided under.
    expect(t.live.current.lanes.map((l) => l.name)).toEqual(['code']);
    await t.feed(event!);
    expect(t.live.current.lanes.map((l) => l.name)).toEqual(['code', 'docs']);
    expect((await t.store.lanes.list()).map((r) => r.lane_id).sort()).toEqual(['code', 'docs']);
  });

  test('an observer that throws is logged, and the others and the mode are still told', async () => {
    const t = setUp();
    await t.feed({ type: 'WAKE' });
    await t.feed({ type: 'WAKE' });
    expect(t.observed).toEqual(['WAKE', 'WAKE']);
    expect(t.told.map((x) => x.type)).toEqual(['WAKE', 'WAKE']);
  });

  test('a store that fails ends the loop with the failure, after telling the run to stop', async () => {
    const t = setUp();
    const events$ = new Subject<StampedEvent>();
    let stopped = 0;
    const done = t.loop.run(events$, () => stopped++);
    t.store.close();
    events$.next({ type: 'WAKE', seq: 1, now: 1 } as StampedEvent);
    const failure = await done;
    expect(failure).toBeInstanceOf(Error);
    expect(stopped).toBe(1);
  });
});
