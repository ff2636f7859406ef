// A checkpoint written by the machines before issue 17's rewrite (version 5762bd374621, when the
// lane read the selector's snapshot and the selector the lanes'), with the 46 events after it, as
// `lanekeeper journal export` writes them (fixtures/checkpoint-5762bd374621.jsonl: made with the
// build of commit 49a6afa and a simulated shell). The rewritten machines go on that version
// (SAME_MACHINES in src/streams/fleet-host.ts), so such a checkpoint is resumed, not passed over,
// and from it they take every event as those machines did. When the machines next change what
// they do, their version changes, and this test goes with the SAME_MACHINES entry it backs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { openJournalFile } from '../../src/adapters/journal-file/read.js';
import { MACHINES_VERSION } from '../../src/streams/fleet-host.js';
import { replayJournal } from '../../src/streams/replay.js';

const FILE = path.resolve(import.meta.dirname, 'fixtures/checkpoint-5762bd374621.jsonl');

describe('a checkpoint of the machines before the rewrite (5762bd374621)', () => {
  test('these machines go on its version, so the fold does not pass it over', () => {
    expect(MACHINES_VERSION).toBe('5762bd374621');
  });

  test('replay begins at it and reproduces every recorded intent and lane state', async () => {
    const result = await replayJournal(await openJournalFile(FILE));
    expect(result.begin).toEqual({ seq: 46, at: 'checkpoint' });
    expect(result.notes).toEqual([]);
    expect(result.firstDivergence).toBeNull();
    expect(result.events).toBe(46);
  });

  test('the events after it take every hand-over between the machines', () => {
    const lines = readFileSync(FILE, 'utf8').trim().split('\n').slice(2);
    const effects = lines.flatMap(
      (l) => (JSON.parse(l) as { effects: { type: string; kind?: string; note?: string }[] }).effects,
    );
    const kinds = new Set(effects.map((e) => [e.type, e.kind ?? e.note].filter(Boolean).join(':')));
    // A grant's arm choice, a tick's plan, a pivot after a denial, a task-backed respawn's task.
    for (const kind of ['laneNote:arm', 'recordDecision:tick', 'recordDecision:pivot', 'laneNote:respawn'])
      expect(kinds).toContain(kind);
    expect(lines.some((l) => l.includes('"why":'))).toBe(true);
  });
});
