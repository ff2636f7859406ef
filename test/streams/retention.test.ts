// Journal retention (src/streams/retention.ts) on a real journal: the demo's golden journal in a
// SQLite store, with checkpoints written as the runtime writes them (the fleet folded to there).
// A prune keeps the newest checkpoint old enough and everything after it; the archives follow on
// from each other and each replays alone; replay from the start and the start of the next run
// (restoreFleet, crash recovery) go on from the kept checkpoint with what they had before.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { openJournalFile } from '../../src/adapters/journal-file/read.js';
import type { JournalPort, Store } from '../../src/ports/store.js';
import { restoreFleet, type Restored } from '../../src/runtime/recover.js';
import { storeJournalSource } from '../../src/streams/journal-source.js';
import { replayJournal } from '../../src/streams/replay.js';
import { pruneJournal } from '../../src/streams/retention.js';
import { timeOf, writeDemoJournal } from '../helpers/demo-journal.js';
import { tmpDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;

/** The demo's journal in a new store, with a checkpoint after each seq in `checkpoints`. */
async function demoStore(checkpoints: number[]) {
  return writeDemoJournal(tmpDir(), checkpoints);
}

const persisted = (r: Restored | { reason: string }) => {
  if ('reason' in r) throw new Error(r.reason);
  const actors = JSON.parse(JSON.stringify(r.host.persist())) as unknown;
  r.host.stop();
  return { actors, fleet: r.fleet, after: r.after };
};

describe('journal retention', () => {
  test('keeps the newest checkpoint old enough and all after it; archives what goes; replay and recovery go on from the checkpoint', async () => {
    const { store, entries } = await demoStore([10, 20]);
    const last = entries.at(-1)!.event.seq;
    const whole = await replayJournal(storeJournalSource(store.journal, 'demo'), { fromStart: true });
    const restoredBefore = persisted(await restoreFleet(store));
    const archiveDir = path.join(tmpDir(), 'archive');
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`WARN ${m}`) };

    // Seq 21 is younger than the cut-off: the checkpoint at 20 is the newest old enough.
    const report = await pruneJournal({
      store,
      keepMs: HOUR,
      archiveDir,
      now: timeOf(entries, 20) + HOUR,
      log,
    });
    expect(report).toMatchObject({
      status: 'pruned',
      from: 1,
      to: 19,
      checkpoint: { seq: 20, at: timeOf(entries, 20) },
      deleted: { events: 19, transitions: 19, checkpoints: 1, vacuum: 'incremental' },
    });
    if (report.status !== 'pruned') throw new Error('not pruned');
    expect(report.archive).toBe(path.join(archiveDir, 'journal-0000000001-0000000020.jsonl'));
    expect(lines).toEqual([report.message]);
    expect(report.message).toMatch(
      /^journal pruned: seq 1–19 deleted \(19 events, \d+ effects, 19 transitions, 1 checkpoint\), archived to .*journal-0000000001-0000000020\.jsonl; the journal starts at the checkpoint at seq 20 \(.*, the newest older than 1h\)/,
    );
    // Nothing partial is left beside the archive.
    expect(readdirSync(archiveDir)).toEqual(['journal-0000000001-0000000020.jsonl']);

    // The archive is an export from the run's start to the checkpoint's event: it replays alone.
    const archived = await replayJournal(await openJournalFile(report.archive!), { fromStart: true });
    expect(archived).toMatchObject({ events: 20, divergences: 0, begin: { seq: 1, at: 'first' }, end: 20 });

    // Replay from the start begins at the kept checkpoint and says so; it ends where it did.
    const after = await replayJournal(storeJournalSource(store.journal, 'demo'), { fromStart: true });
    expect(after).toMatchObject({ divergences: 0, begin: { seq: 21, at: 'checkpoint' }, end: last, skipped: 0 });
    expect(after.notes).toContain(
      'the journal starts at seq 20 (pruned before); replay begins at the checkpoint at seq 20',
    );
    expect(after.lanes).toEqual(whole.lanes);
    expect(after.events).toBe(last - 20);

    // The next start goes on from the same fleet (the run's start is gone with seq 1).
    expect(await store.journal.runStart(last)).toBeNull();
    expect(persisted(await restoreFleet(store))).toEqual(restoredBefore);
    await store.close();
  });

  test('a second prune archives from where the first stopped: the archives follow on from each other', async () => {
    const { store, entries } = await demoStore([10, 20, 30]);
    const archiveDir = tmpDir();
    const first = await pruneJournal({ store, keepMs: HOUR, archiveDir, now: timeOf(entries, 10) + HOUR });
    expect(first).toMatchObject({ status: 'pruned', from: 1, to: 9 });
    // Nothing more until a newer checkpoint is old enough.
    expect(await pruneJournal({ store, keepMs: HOUR, archiveDir, now: timeOf(entries, 20) - 1 + HOUR })).toMatchObject({
      status: 'nothing',
      why: 'the journal starts at the checkpoint at seq 10 already, the newest older than 1h',
    });
    const second = await pruneJournal({ store, keepMs: HOUR, archiveDir, now: timeOf(entries, 30) + HOUR });
    expect(second).toMatchObject({ status: 'pruned', from: 10, to: 29, checkpoint: { seq: 30 } });
    if (second.status !== 'pruned') throw new Error('not pruned');
    expect(readdirSync(archiveDir).sort()).toEqual([
      'journal-0000000001-0000000010.jsonl',
      'journal-0000000010-0000000030.jsonl',
    ]);
    // The second begins at the checkpoint the first prune kept (seq 10) with the events after it.
    const text = readFileSync(second.archive!, 'utf8').trim().split('\n');
    expect(JSON.parse(text[0]!)).toMatchObject({ first_seq: 11, last_seq: 30 });
    expect(JSON.parse(text[1]!)).toMatchObject({ checkpoint: { seq: 10 } });
    expect(text).toHaveLength(2 + 20);
    const replayed = await replayJournal(await openJournalFile(second.archive!), { fromStart: true });
    expect(replayed).toMatchObject({ events: 20, divergences: 0, begin: { seq: 11, at: 'checkpoint' } });
    expect(replayed.notes).toContain(
      'the journal starts after the checkpoint at seq 10; replay begins at the checkpoint at seq 10',
    );
    await store.close();
  });

  test('no checkpoint old enough, or none of these machines: nothing is deleted', async () => {
    const { store, entries } = await demoStore([20]);
    // A moment before the checkpoint's event (events share times: not the event before it).
    const now = timeOf(entries, 20) - 1 + HOUR;
    expect(await pruneJournal({ store, keepMs: HOUR, archiveDir: null, now })).toEqual({
      status: 'nothing',
      why: 'no checkpoint of these machines is older than 1h yet',
      message: 'journal prune: nothing to delete (no checkpoint of these machines is older than 1h yet)',
    });
    // A checkpoint of other machines could not be resumed from: it is not the one kept.
    const cp = (await store.journal.checkpoint(20))!;
    await store.journal.saveCheckpoint({ ...cp, version: 'other-machines' });
    expect(
      await pruneJournal({ store, keepMs: HOUR, archiveDir: null, now: timeOf(entries, 25) + HOUR }),
    ).toMatchObject({ status: 'nothing' });
    expect((await store.journal.read({ limit: 1 }))[0]!.seq).toBe(1);
    await store.close();
  });

  test('archiving fails: nothing is deleted, and the reason is told', async () => {
    const { store, entries } = await demoStore([20]);
    const notADir = path.join(tmpDir(), 'file');
    writeFileSync(notADir, 'x');
    const warned: string[] = [];
    const report = await pruneJournal({
      store,
      keepMs: HOUR,
      archiveDir: notADir,
      now: timeOf(entries, 20) + HOUR,
      log: { info: () => {}, warn: (m) => warned.push(m) },
    });
    if (report.status !== 'failed') throw new Error(report.message);
    expect(report.why).toMatch(new RegExp(`^archiving seq 1–20 to ${notADir} failed: .*(EEXIST|ENOTDIR)`));
    expect(warned).toEqual([report.message]);
    expect(report.message).toMatch(/^journal prune: nothing deleted, archiving seq 1–20/);
    expect((await store.journal.read({ limit: 1 }))[0]!.seq).toBe(1);
    await store.close();
  });

  test('events missing while the archive is written (another prune deleting): it fails, names no file, deletes nothing', async () => {
    const { store, entries } = await demoStore([20]);
    // The journal as a second prune, deleting meanwhile, would let it read: seq 5 gone.
    const journal: JournalPort = {
      ...store.journal,
      entries: async (from, limit) => (await store.journal.entries(from, limit)).filter((e) => e.event.seq !== 5),
    };
    const archiveDir = tmpDir();
    const report = await pruneJournal({
      store: { ...store, journal } as Store,
      keepMs: HOUR,
      archiveDir,
      now: timeOf(entries, 20) + HOUR,
    });
    if (report.status !== 'failed') throw new Error(report.message);
    expect(report.why).toMatch(/seq 6 came where seq 5 was due: events were deleted while they were read/);
    expect(readdirSync(archiveDir)).toEqual([]);
    expect((await store.journal.read({ limit: 1 }))[0]!.seq).toBe(1);
    await store.close();
  });

  test('an archive of the same range found complete (a prune cut short after archiving) is used, not rewritten', async () => {
    const { store, entries } = await demoStore([20]);
    const archiveDir = tmpDir();
    const name = path.join(archiveDir, 'journal-0000000001-0000000020.jsonl');
    writeFileSync(name, 'written before\n');
    const report = await pruneJournal({ store, keepMs: HOUR, archiveDir, now: timeOf(entries, 20) + HOUR });
    expect(report).toMatchObject({ status: 'pruned', archive: name });
    expect(readFileSync(name, 'utf8')).toBe('written before\n');
    expect(existsSync(name)).toBe(true);
    await store.close();
  });
});
