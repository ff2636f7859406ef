// The grade file watcher on real files in a temporary directory: grades written by atomic rename
// are seen as they land and the latest valid one is kept; a file written in place in two quick
// halves is read whole; a bad write is reported once with its reason and a later valid write still
// counts; the final read at exit catches a write the watcher had no time to see.
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  watchGradeFile,
  type GradeWatch,
  type GradeWatchOptions,
  type WatchedGradeValue,
} from '../../src/adapters/watch/grade-watch.js';
import { tmpDir } from '../helpers/tmp.js';

const open: GradeWatch[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});

/** A watcher on a fresh grade file, recording what it reports. */
function setup(opts: GradeWatchOptions = {}) {
  const dir = tmpDir();
  const file = path.join(dir, 'grade.json');
  const grades: WatchedGradeValue[] = [];
  const rejected: string[] = [];
  const errors: Error[] = [];
  const watch = watchGradeFile(file, {
    onGrade: (g) => grades.push(g),
    onRejected: (r) => rejected.push(r),
    onError: (e) => errors.push(e),
    ...opts,
  });
  open.push(watch);
  let n = 0;
  /** Writes a temporary file and renames it over the grade file, as sessions are asked to. */
  const atomic = (text: string) => {
    const tmp = path.join(dir, `grade.json.tmp-${++n}`);
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  };
  return { dir, file, watch, grades, rejected, errors, atomic };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const start = Date.now(); !ok(); await sleep(10)) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('grade file watcher', () => {
  test('grades renamed into place are seen as they land; the latest is the one kept', async () => {
    const w = setup();
    await w.watch.ready;
    w.atomic('{"grade": 0.4}');
    await until('the first grade', () => w.grades.length === 1);
    expect(w.grades[0]).toEqual({ grade: 0.4, dimensions: null });
    w.atomic('{"grade": 0.9, "dimensions": {"quality": 0.8}}');
    await until('the rewrite', () => w.grades.length === 2);
    expect(w.grades[1]).toEqual({ grade: 0.9, dimensions: { quality: 0.8 } });
    expect(await w.watch.finish()).toEqual({ ok: true, grade: 0.9, dimensions: { quality: 0.8 } });
    expect(w.rejected).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  test('a file written in place in two quick halves is read whole, never half-way', async () => {
    const w = setup({ settleMs: 1000 });
    await w.watch.ready;
    writeFileSync(w.file, '{"grade": 0.');
    await sleep(20);
    appendFileSync(w.file, '6, "dimensions": {"tests": 1}}');
    await until('the grade', () => w.grades.length === 1);
    expect(w.grades).toEqual([{ grade: 0.6, dimensions: { tests: 1 } }]);
    expect(w.rejected).toEqual([]);
    expect(await w.watch.finish()).toEqual({ ok: true, grade: 0.6, dimensions: { tests: 1 } });
  });

  test('a half that stays is reported and never taken; the completed write counts', async () => {
    const w = setup({ settleMs: 50 });
    await w.watch.ready;
    writeFileSync(w.file, '{"grade": 0.');
    await until('the rejection', () => w.rejected.length === 1);
    expect(w.rejected[0]).toMatch(/^.*grade\.json: not JSON \(/);
    expect(w.grades).toEqual([]);
    appendFileSync(w.file, '55}');
    await until('the grade', () => w.grades.length === 1);
    expect(await w.watch.finish()).toEqual({ ok: true, grade: 0.55, dimensions: null });
  });

  test('an invalid write is reported once with its reason; a later valid write still counts', async () => {
    const w = setup();
    await w.watch.ready;
    w.atomic('{"grade": 2}');
    await until('the rejection', () => w.rejected.length === 1);
    expect(w.rejected).toEqual([`${w.file}: "grade" is 2, outside [0, 1]`]);
    w.atomic('{"grade": 0.7}');
    await until('the valid grade', () => w.grades.length === 1);
    expect(await w.watch.finish()).toEqual({ ok: true, grade: 0.7, dimensions: null });
    expect(w.rejected).toHaveLength(1);
  });

  test('a bad write after a valid one is reported but does not replace it', async () => {
    const w = setup();
    await w.watch.ready;
    w.atomic('{"grade": 0.8}');
    await until('the grade', () => w.grades.length === 1);
    w.atomic('{"grade": "high"}');
    await until('the rejection', () => w.rejected.length === 1);
    expect(w.rejected[0]).toBe(`${w.file}: "grade" must be a number in [0, 1], got "high"`);
    expect(await w.watch.finish()).toEqual({ ok: true, grade: 0.8, dimensions: null });
  });

  test('only bad writes: the latest reason comes back, each reported once (the final read of the same text is not reported again)', async () => {
    const w = setup();
    await w.watch.ready;
    w.atomic('not json');
    await until('the rejection', () => w.rejected.length === 1);
    expect(await w.watch.finish()).toEqual({ ok: false, reason: w.rejected[0] });
    expect(w.rejected).toHaveLength(1);
    expect(w.rejected[0]).toMatch(/grade\.json: not JSON/);
  });

  test('the final read catches a write just before the exit, and a file there before watching began', async () => {
    const late = setup();
    late.atomic('{"grade": 0.3}');
    expect(await late.watch.finish()).toEqual({ ok: true, grade: 0.3, dimensions: null });

    const dir = tmpDir();
    const file = path.join(dir, 'grade.json');
    writeFileSync(file, '{"grade": 0.45}');
    const grades: WatchedGradeValue[] = [];
    const early = watchGradeFile(file, { onGrade: (g) => grades.push(g) });
    open.push(early);
    await until('the grade already there', () => grades.length === 1);
    expect(await early.finish()).toEqual({ ok: true, grade: 0.45, dimensions: null });
  });

  test('no file: missing; an empty file at the exit is rejected; other files beside it are ignored', async () => {
    const none = setup();
    writeFileSync(path.join(none.dir, 'output.log'), 'agent output');
    expect(await none.watch.finish()).toEqual({ ok: 'missing' });
    expect(none.rejected).toEqual([]);

    const empty = setup();
    writeFileSync(empty.file, '');
    expect(await empty.watch.finish()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/grade\.json: not JSON/),
    });
    expect(empty.rejected).toHaveLength(1);
  });

  test('after finish, writes are no longer followed', async () => {
    const w = setup({ settleMs: 10 });
    await w.watch.ready;
    expect(await w.watch.finish()).toEqual({ ok: 'missing' });
    w.atomic('{"grade": 0.5}');
    await sleep(200);
    expect(w.grades).toEqual([]);
    expect(w.rejected).toEqual([]);
  });
});
