import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runGrader } from '../../src/adapters/grader/command.js';
import { running, tmpDir } from '../helpers/tmp.js';

const GRADERS = path.resolve(import.meta.dirname, '../fixtures/graders');
const node = (fixture: string) => [process.execPath, path.join(GRADERS, fixture)];
const RECORD = { id: 'code-1', lane: 'code', arm: 'fixture:ok', outcome: 'noop', exit_code: 0, head_before: null };
const run = (fixture: string, timeoutMs = 10_000, record: object = RECORD) =>
  runGrader(node(fixture), record, { timeoutMs });

describe('grader command', () => {
  test('a good grader reads the record on stdin; its grade and dimensions come back, unknown fields ignored', async () => {
    expect(await run('good.mjs')).toEqual({ ok: true, grade: 0.42, dimensions: { quality: 0.9, tests: 0.3 } });
    expect(await run('good.mjs', 10_000, { ...RECORD, lane: 'docs' })).toMatchObject({ ok: true, grade: 0.6 });
  });

  test('output that is not JSON is rejected with the parse error (the grader never read its stdin)', async () => {
    const r = await run('bad-json.mjs');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^not JSON \(/);
  });

  test('a dimension outside [0, 1] is rejected with its path', async () => {
    expect(await run('out-of-range.mjs')).toEqual({ ok: false, reason: '"dimensions.quality" is 1.5, outside [0, 1]' });
  });

  test('a non-zero exit: the code and the first stderr line, even with a good grade printed', async () => {
    expect(await run('exit1.mjs')).toEqual({
      ok: false,
      reason: 'exited with code 1: grader: no rubric for this lane',
    });
  });

  test('empty output is rejected', async () => {
    expect(await run('silent.mjs')).toEqual({ ok: false, reason: 'printed nothing (expected {"grade": x})' });
  });

  test('a grader that cannot start, or a missing working directory, is a reason, not a throw', async () => {
    expect(await runGrader(['lanekeeper-no-such-grader'], RECORD, { timeoutMs: 5000 })).toEqual({
      ok: false,
      reason: 'could not start: command not found: lanekeeper-no-such-grader',
    });
    expect(await runGrader([], RECORD, { timeoutMs: 5000 })).toEqual({
      ok: false,
      reason: 'could not start: grading.command is empty',
    });
    const r = await runGrader(node('good.mjs'), RECORD, { timeoutMs: 5000, cwd: path.join(tmpDir(), 'gone') });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^could not start: /);
  });

  test('a hang is killed at the time limit with the grandchild that holds its stdout', async () => {
    const pidFile = path.join(tmpDir(), 'grandchild.pid');
    const started = Date.now();
    const r = await runGrader(node('hang.mjs'), RECORD, { timeoutMs: 1500, env: { GRADER_PID_FILE: pidFile } });
    const took = Date.now() - started;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^timed out after \d+ ms$/);
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(6000);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(running(grandchild)).toBe(false);
  });
});
