// Contract cases for the journal port: events come back exactly as appended (payload, seed,
// order), with what the runtime recorded of each; checkpoints and run starts are found by seq.
import { expect, test } from 'vitest';
import type { Backend } from './backends.js';
import type { StampedEvent } from '../../../src/machines/events.js';

const fleet = { width: 1, lanes: [], arms: [], selection: {} as never };

export function journalCases(b: Backend): void {
  test('events come back in seq order with their stamps; a seq is taken once', async () => {
    const { store: s } = await b.fresh();
    expect(await s.journal.lastSeq()).toBe(0);
    expect(await s.journal.read()).toEqual([]);
    await s.journal.append({ type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 4_000_000_000 });
    await s.journal.append({ type: 'WAKE', seq: 2, now: 20 });
    await s.journal.append({ type: 'WAKE', seq: 3, now: 30 });
    expect(await s.journal.lastSeq()).toBe(3);
    expect(await s.journal.read()).toEqual([
      { type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 4_000_000_000 },
      { type: 'WAKE', seq: 2, now: 20 },
      { type: 'WAKE', seq: 3, now: 30 },
    ]);
    expect(await s.journal.read({ fromSeq: 2, limit: 1 })).toEqual([{ type: 'WAKE', seq: 2, now: 20 }]);
    expect(await s.journal.read({ fromSeq: 2, limit: -1 })).toHaveLength(2);
    // Two writers stamping the same seq: the second append fails instead of interleaving.
    await expect(s.journal.append({ type: 'WAKE', seq: 2, now: 99 })).rejects.toThrow(/unique/i);
    expect(await s.journal.read({ fromSeq: 2, limit: 1 })).toEqual([{ type: 'WAKE', seq: 2, now: 20 }]);
  });

  test('effects and changed lanes per event; an event never taken reads as changed: null', async () => {
    const { store: s } = await b.fresh();
    await s.journal.append({ type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 5 });
    await s.journal.append({ type: 'WAKE', seq: 2, now: 20 });
    await s.journal.append({ type: 'WAKE', seq: 3, now: 30 });
    const intents = [
      { type: 'laneNote', laneId: 'a', note: 'drained', detail: { ünïcode: '→ ✓', n: 1.5 } },
      { type: 'laneNote', laneId: 'b', note: 'second', detail: {} },
    ] as const;
    await s.journal.recordEffects(1, intents as never, { a: 'idle', b: 'running.waiting' });
    await s.journal.recordEffects(3, [], {});
    expect(await s.journal.effects(1)).toEqual(intents);
    expect(await s.journal.effects(2)).toEqual([]);
    // Replay compares the recorded JSON as text: it must come back byte for byte.
    expect(await s.journal.entries(1, 10)).toEqual([
      {
        event: { type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 5 },
        effects: intents.map((i) => JSON.stringify(i)),
        changed: { a: 'idle', b: 'running.waiting' },
      },
      { event: { type: 'WAKE', seq: 2, now: 20 }, effects: [], changed: null },
      { event: { type: 'WAKE', seq: 3, now: 30 }, effects: [], changed: {} },
    ]);
    expect(await s.journal.entries(2, 1)).toEqual([
      { event: { type: 'WAKE', seq: 2, now: 20 }, effects: [], changed: null },
    ]);
    expect(await s.journal.entries(9, 10)).toEqual([]);
  });

  test('firstSeqSince finds the first event at or after a time', async () => {
    const { store: s } = await b.fresh();
    expect(await s.journal.firstSeqSince(0)).toBeNull();
    const t = 1_700_000_000_000;
    for (let i = 1; i <= 5; i++) await s.journal.append({ type: 'WAKE', seq: i, now: t + i * 1000 } as StampedEvent);
    expect(await s.journal.firstSeqSince(t + 2500)).toBe(3);
    expect(await s.journal.firstSeqSince(t + 3000)).toBe(3);
    expect(await s.journal.firstSeqSince(t + 9000)).toBeNull();
  });

  test('checkpoints: the latest at or before a seq; runs begin at RUNTIME_STARTED', async () => {
    const { store: s } = await b.fresh();
    expect(await s.journal.runStart(5)).toBeNull();
    await s.journal.append({ type: 'RUNTIME_STARTED', fleet, machines: 'v1', mode: 'service', seq: 1, now: 1 });
    await s.journal.append({ type: 'WAKE', seq: 2, now: 2 });
    await s.journal.append({ type: 'RUNTIME_STARTED', fleet, machines: 'v1', mode: 'once', seq: 3, now: 3 });
    await s.journal.saveCheckpoint({ seq: 2, version: 'v1', state: { fleet, actors: { value: 'x' } } });
    await s.journal.saveCheckpoint({ seq: 3, version: 'v1', state: { fleet, actors: { value: 'y' } } });
    // Saved again at the same seq: the newer one counts.
    await s.journal.saveCheckpoint({ seq: 3, version: 'v2', state: { fleet, actors: { value: 'z' } } });
    expect(await s.journal.runStart(2)).toBe(1);
    expect(await s.journal.runStart(9)).toBe(3);
    expect(await s.journal.checkpoint(1)).toBeNull();
    expect(await s.journal.checkpoint(2)).toEqual({ seq: 2, version: 'v1', state: { fleet, actors: { value: 'x' } } });
    expect(await s.journal.checkpoint(5)).toEqual({ seq: 3, version: 'v2', state: { fleet, actors: { value: 'z' } } });
  });

  test('a store written before the run-start index gets it when opened, and finds the same run starts', async () => {
    const f = await b.fresh();
    await f.store.journal.append({ type: 'RUNTIME_STARTED', fleet, machines: 'v1', mode: 'service', seq: 1, now: 1 });
    for (let seq = 2; seq <= 4; seq++) await f.store.journal.append({ type: 'WAKE', seq, now: seq });
    await f.store.journal.append({ type: 'RUNTIME_STARTED', fleet, machines: 'v1', mode: 'service', seq: 5, now: 5 });
    await f.store.journal.append({ type: 'WAKE', seq: 6, now: 6 });
    await f.store.close();
    await f.withoutRunIndex();
    expect(await f.hasRunIndex()).toBe(false);
    const s = await f.another();
    expect([await s.journal.runStart(4), await s.journal.runStart(6), await s.journal.lastSeq()]).toEqual([1, 5, 6]);
    expect(await f.hasRunIndex()).toBe(true);
    // And the journal port's question is answered from it, not by reading the journal back.
    expect(await f.runStartPlan(6)).toMatch(/journal_runs/);
    // The lanes' deadlines came with the upgrade too: a cooling down lane says until when.
    await s.lanes.set({
      lane_id: 'code',
      lane: 'code',
      slot: 1,
      state: 'cooldown',
      since: 7,
      session: null,
      deadline: 7207,
    });
    expect((await s.lanes.list()).map((l) => [l.state, Number(l.deadline)])).toEqual([['cooldown', 7207]]);
  });

  test('a second client reads what the first appended', async () => {
    const f = await b.fresh();
    await f.store.journal.append({ type: 'WAKE', seq: 1, now: 7 });
    const other = await f.another();
    expect(await other.journal.lastSeq()).toBe(1);
    await other.journal.append({ type: 'WAKE', seq: 2, now: 8 });
    expect((await f.store.journal.read()).map((e) => e.seq)).toEqual([1, 2]);
  });
}
