// Test harness: a lane actor whose named actions record intents instead of doing anything.
import { createActor } from 'xstate';
import type { Intent } from '../../src/machines/intents.js';
import type { Outcome } from '../../src/policy/outcome.js';
import { laneMachine, type LaneEvent, type LaneInput } from '../../src/machines/lane.js';

export const laneInput = (over: Partial<LaneInput> = {}): LaneInput => {
  const arms = over.arms ?? ['sim:a', 'sim:b'];
  return {
    laneId: 'code',
    lane: 'code',
    slot: 1,
    concurrency: 1,
    cooldownMs: 1000,
    respawnThreshold: 0.65,
    chainLimit: 1,
    timeoutMs: 60_000,
    arms,
    armInfo: arms.map((id) => ({ id, backend: id.split(':')[0]!, model: id.split(':')[1]!, tier: 1, cost: 0 })),
    bounds: {},
    prefer: null,
    ...over,
  };
};

export function recordingLane() {
  const intents: (Intent | { type: 'tellParentDenied' } | { type: 'askRespawnTask' })[] = [];
  const sink = (_: unknown, p: Intent) => intents.push(p);
  return {
    intents,
    machine: laneMachine.provide({
      actions: {
        requestClaim: sink,
        releaseClaim: sink,
        startSession: sink,
        stopSession: sink,
        laneNote: sink,
        tellParentDenied: () => intents.push({ type: 'tellParentDenied' }),
        askRespawnTask: () => intents.push({ type: 'askRespawnTask' }),
      },
    }),
  };
}

/** A lane event without its stamp (the harness adds seq and now), distributed over the union. */
export type Unstamped<E> = E extends unknown ? Omit<E, 'seq' | 'now'> & { now?: number } : never;

export function startLane(over: Partial<LaneInput> = {}) {
  const { intents, machine } = recordingLane();
  const actor = createActor(machine, { input: laneInput(over) });
  actor.start();
  let seq = 0;
  let now = 1_000_000;
  const send = (e: Unstamped<LaneEvent>) => {
    now = e.now ?? now + 1;
    actor.send({ ...e, seq: ++seq, now } as LaneEvent);
  };
  const ctx = () => actor.getSnapshot().context;
  const value = () => actor.getSnapshot().value;
  const take = () => intents.splice(0);
  // The events of the lane's current session, as the adapters would report them.
  const own = () => ({ laneId: ctx().laneId, sessionId: ctx().sessionId! });
  const grant = (token = 1, seed = 1) =>
    send({ type: 'CLAIM_GRANTED', ...own(), key: `lane:${ctx().lane}`, slot: 0, token, expiresAt: 0, seed });
  const exit = (outcome: Outcome = 'productive') =>
    send({ type: 'SESSION_EXITED', ...own(), exitCode: 0, signal: null, outcome, durationMs: 5, reason: null });
  const grade = (g: number | null) =>
    send({ type: 'SESSION_GRADED', ...own(), grade: g, source: g === null ? 'none' : 'session', dimensions: null });
  return { actor, send, ctx, value, take, grant, exit, grade, clock: () => now, lastSeq: () => seq };
}
