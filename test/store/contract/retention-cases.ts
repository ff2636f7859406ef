// Contract cases for journal retention (JournalPort.pruneFloor, pruneBelow): the checkpoint a prune
// keeps is the newest one old enough; everything below it goes, the checkpoint and what comes
// after it stay exactly as they were, so a fold from it needs nothing that went.
import { expect, test } from 'vitest';
import type { Backend } from './backends.js';
import type { Store } from '../../../src/ports/store.js';

const fleet = { width: 1, lanes: [], arms: [], selection: {} as never };
const T = 1_700_000_000_000;

/** Events 1..n a minute apart (1 and 61 start runs), each taken with an intent; checkpoints at `at`. */
async function journal(s: Store, n: number, checkpoints: [seq: number, version: string][]): Promise<void> {
  for (let seq = 1; seq <= n; seq++) {
    const now = T + seq * 60_000;
    if (seq === 1 || seq === 61)
      await s.journal.append({ type: 'RUNTIME_STARTED', fleet, machines: 'v1', mode: 'service', seq, now });
    else await s.journal.append({ type: 'WAKE', seq, now });
    await s.journal.recordEffects(seq, [{ type: 'laneNote', laneId: 'a', note: `n${seq}`, detail: {} }] as never, {
      a: `s${seq}`,
    });
  }
  for (const [seq, version] of checkpoints)
    await s.journal.saveCheckpoint({ seq, version, state: { fleet, actors: { at: seq } } });
}

const minute = (seq: number) => T + seq * 60_000;

export function retentionCases(b: Backend): void {
  test('the checkpoint kept is the newest whose event is at or before the cut-off (of the machines asked for)', async () => {
    const { store: s } = await b.fresh();
    expect(await s.journal.pruneFloor(minute(100))).toBeNull();
    await journal(s, 100, [
      [20, 'v1'],
      [40, 'v1'],
      [50, 'v0'],
      [80, 'v1'],
    ]);
    // No checkpoint that old: nothing may go.
    expect(await s.journal.pruneFloor(minute(19))).toBeNull();
    expect(await s.journal.pruneFloor(minute(20))).toEqual({ first: 1, checkpoint: { seq: 20, at: minute(20) } });
    expect(await s.journal.pruneFloor(minute(79) + 59_999)).toEqual({
      first: 1,
      checkpoint: { seq: 50, at: minute(50) },
    });
    // Only checkpoints these machines can resume from count.
    expect(await s.journal.pruneFloor(minute(79), { version: 'v1' })).toEqual({
      first: 1,
      checkpoint: { seq: 40, at: minute(40) },
    });
    expect(await s.journal.pruneFloor(minute(999), { version: 'v1' })).toMatchObject({ checkpoint: { seq: 80 } });
    expect(await s.journal.pruneFloor(minute(999), { version: 'v9' })).toBeNull();
  });

  test('a prune deletes every event, effect, transition and checkpoint below the kept checkpoint, and nothing else', async () => {
    const { store: s } = await b.fresh();
    await journal(s, 100, [
      [20, 'v1'],
      [40, 'v1'],
      [80, 'v1'],
    ]);
    const after = await s.journal.entries(40, 1000);
    const pruned = await s.journal.pruneBelow(40);
    expect(pruned).toMatchObject({ events: 39, effects: 39, transitions: 39, checkpoints: 1 });
    // The checkpoint and everything from its seq on are as they were.
    expect(await s.journal.entries(1, 1000)).toEqual(after);
    expect((await s.journal.read({ limit: 1 }))[0]!.seq).toBe(40);
    expect(await s.journal.lastSeq()).toBe(100);
    expect(await s.journal.checkpoint(40)).toMatchObject({ seq: 40, state: { actors: { at: 40 } } });
    expect(await s.journal.checkpoint(39)).toBeNull();
    expect(await s.journal.effects(39)).toEqual([]);
    expect(await s.journal.effects(40)).toHaveLength(1);
    // The run that began before the cut is gone with its RUNTIME_STARTED; a later one is found.
    expect(await s.journal.runStart(50)).toBeNull();
    expect(await s.journal.runStart(70)).toBe(61);
    expect(await s.journal.pruneFloor(minute(45))).toEqual({ first: 40, checkpoint: { seq: 40, at: minute(40) } });
    // Again: nothing more to delete.
    expect(await s.journal.pruneBelow(40)).toMatchObject({ events: 0, effects: 0, transitions: 0, checkpoints: 0 });
    // The journal goes on as before.
    await s.journal.append({ type: 'WAKE', seq: 101, now: minute(101) });
    expect(await s.journal.lastSeq()).toBe(101);
  });

  test('no checkpoint at the seq: nothing is deleted', async () => {
    const { store: s } = await b.fresh();
    await journal(s, 30, [[20, 'v1']]);
    expect(await s.journal.pruneBelow(25)).toBeNull();
    expect(await s.journal.pruneBelow(1_000)).toBeNull();
    expect((await s.journal.read()).length).toBe(30);
    expect(await s.journal.checkpoint(30)).toMatchObject({ seq: 20 });
  });

  test('a prune in many batches leaves no hole, and another client sees the journal start later', async () => {
    const f = await b.fresh();
    const s = f.store;
    // Several of either store's batches (SQLite 2,000 seqs, PostgreSQL 5,000).
    await f.fillJournal(1, 12_050, T);
    await s.journal.saveCheckpoint({ seq: 12_001, version: 'v1', state: { fleet, actors: {} } });
    const pruned = await s.journal.pruneBelow(12_001);
    expect(pruned).toMatchObject({ events: 12_000, checkpoints: 0 });
    const other = await f.another();
    const left = await other.journal.read();
    expect(left.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 12_001 + i));
    expect(left[0]).toEqual({ type: 'WAKE', seq: 12_001, now: minute(12_001) });
  });
}
