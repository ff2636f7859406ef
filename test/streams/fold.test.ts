// The one fold (src/streams/fold.ts): where a fold begins, and that every way of beginning ends in
// the same fleet. A golden journal's events, held in memory with a checkpoint made by folding them
// (as the runtime writes one), stand in for a store.
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { openJournalFile } from '../../src/adapters/journal-file/read.js';
import type { Checkpoint, JournalEntry } from '../../src/ports/store.js';
import { laneMachine } from '../../src/machines/lane.js';
import { FleetHost, MACHINES_VERSION } from '../../src/streams/fleet-host.js';
import { Fold, fold, FoldError, foldStart } from '../../src/streams/fold.js';
import type { JournalSource } from '../../src/streams/journal-source.js';

const JOURNALS = path.resolve(import.meta.dirname, '../fixtures/journals');

async function entriesOf(name: string): Promise<JournalEntry[]> {
  const source = await openJournalFile(path.join(JOURNALS, `${name}.jsonl`));
  const all: JournalEntry[] = [];
  for await (const e of source.entries(1)) all.push(e);
  return all;
}

/** A journal in memory, with the checkpoints given. */
function memory(entries: JournalEntry[], checkpoints: Checkpoint[] = []): JournalSource {
  const runs = entries.filter((e) => e.event.type === 'RUNTIME_STARTED').map((e) => e.event.seq);
  return {
    name: 'memory',
    bounds: async () => ({ first: entries[0]?.event.seq ?? 0, last: entries.at(-1)?.event.seq ?? 0 }),
    runStart: async (seq) => runs.filter((r) => r <= seq).at(-1) ?? null,
    checkpoint: async (seq) => checkpoints.filter((c) => c.seq <= seq).at(-1) ?? null,
    async *entries(from) {
      yield* entries.filter((e) => e.event.seq >= from);
    },
    close: async () => {},
  };
}

/** The fleet folded from the first event to `seq`, as a checkpoint the runtime would write there. */
async function checkpointAt(entries: JournalEntry[], seq: number, version = MACHINES_VERSION): Promise<Checkpoint> {
  const { host, fleet } = await fold(memory(entries), { from: 1, until: seq, start: { host: null, fleet: null } });
  const cp = { seq, version, state: { fleet: fleet!, actors: JSON.parse(JSON.stringify(host!.persist())) as unknown } };
  host!.stop();
  return cp;
}

const persisted = (h: FleetHost | null) => JSON.parse(JSON.stringify(h!.persist())) as unknown;

describe('the one fold', () => {
  test('it begins at the checkpoint, at the run start or at the first event, and ends in the same fleet from each', async () => {
    const entries = await entriesOf('drain-resume');
    const last = entries.at(-1)!.event.seq;
    const cp = await checkpointAt(entries, 7);
    const source = memory(entries, [cp]);

    const fromCheckpoint = await foldStart(source, last);
    expect(fromCheckpoint.begin).toEqual({ seq: 8, at: 'checkpoint' });
    const fromFirst = await foldStart(source, last, { fromStart: true });
    expect(fromFirst).toMatchObject({ host: null, begin: { seq: 1, at: 'first' } });
    // Before the checkpoint, the run's start.
    expect((await foldStart(source, 5)).begin).toEqual({ seq: 1, at: 'run' });

    const a = await fold(source, { from: fromCheckpoint.begin.seq, until: last, start: fromCheckpoint });
    const b = await fold(source, { from: 1, until: last, start: fromFirst });
    expect(persisted(a.host)).toEqual(persisted(b.host));
    expect(a.end).toBe(last);
    // Folded after the start that went on from the drain: the lanes are those of the journal's end.
    expect(a.host!.lanes().map((l) => [l.laneId, l.state])).toEqual(b.host!.lanes().map((l) => [l.laneId, l.state]));
  });

  test('a checkpoint written by other machines is passed over, and the fold says why', async () => {
    const entries = await entriesOf('respawn-chain');
    const source = memory(entries, [await checkpointAt(entries, 6, 'older-machines')]);
    const start = await foldStart(source, entries.at(-1)!.event.seq);
    expect(start.begin).toEqual({ seq: 1, at: 'run' });
    expect(start.notes).toEqual([expect.stringContaining('written by other machines (older-machines;')]);
  });

  test('each step carries what was recorded of it; a CONFIG_RELOADED changes the fleet it ends with', async () => {
    const entries = await entriesOf('config-reload');
    const steps: string[] = [];
    const end = await fold(
      memory(entries),
      { from: 1, until: entries.at(-1)!.event.seq, start: { host: null, fleet: null } },
      {
        onStep: (s) => {
          if (
            s.recorded &&
            JSON.stringify(s.intents) !== JSON.stringify(s.recorded.effects.map((x) => JSON.parse(x) as unknown))
          )
            steps.push(`seq ${s.event.seq}`);
        },
      },
    );
    expect(steps).toEqual([]);
    expect(end.fleet!.lanes.map((l) => l.name)).toEqual(['a', 'c']);
    end.host!.stop();
  });

  test('an event the machines throw at stops the fold with its seq and type', async () => {
    const entries = await entriesOf('respawn-chain');
    const broken = laneMachine.provide({
      guards: {
        forThisSession: () => {
          throw new Error('boom');
        },
      },
    });
    const build = (o: ConstructorParameters<typeof FleetHost>[0]) => new FleetHost({ ...o, laneMachine: broken });
    const err = await fold(
      memory(entries),
      { from: 1, until: 99, start: { host: null, fleet: null } },
      { build },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FoldError);
    expect((err as FoldError).type).toBe('CLAIM_GRANTED');
    expect((err as FoldError).message).toMatch(/^CLAIM_GRANTED #\d+ does not fold through these machines: /);
    expect(String(((err as FoldError).cause as Error).message)).toContain('boom');
  });

  test('a fold of events not yet journaled (the warm-up, the synthetic journal) is the same fold', async () => {
    const entries = await entriesOf('respawn-chain');
    const f = new Fold({ host: null, fleet: null });
    for (const e of entries) f.step(e.event);
    const journal = await fold(memory(entries), {
      from: 1,
      until: entries.at(-1)!.event.seq,
      start: { host: null, fleet: null },
    });
    expect(persisted(f.result.host)).toEqual(persisted(journal.host));
  });
});
