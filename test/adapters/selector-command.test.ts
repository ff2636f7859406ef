import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runSelectorCommand, selectorEnv, SELECTOR_OUTPUT_CAP } from '../../src/adapters/selector/command.js';
import { interpretSelectorRun } from '../../src/policy/selector-contract.js';
import { running } from '../helpers/tmp.js';

const SELECTORS = path.resolve(import.meta.dirname, '../fixtures/selectors');
const LANES = ['code', 'triage', 'content'];
const node = (fixture: string) => [process.execPath, path.join(SELECTORS, fixture)];
const run = (fixture: string, timeoutMs = 10_000) =>
  runSelectorCommand(node(fixture), { timeoutMs, env: selectorEnv(LANES, 2) });

describe('selector command', () => {
  test('a scores selector sees the lanes and width; its ranking becomes the order', async () => {
    const r = await run('scores.mjs');
    expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false, stderr: '' });
    expect(r.error).toBeUndefined();
    expect(JSON.parse(r.stdout)).toMatchObject({ width: 2, note: 'extra field' });
    const v = interpretSelectorRun(r, LANES, []);
    expect(v).toMatchObject({ ok: true, shape: 'scores' });
    expect(v.ok && v.order.map((o) => `${o.lane}: ${o.reason}`)).toEqual([
      'content: all_scores rank 1 (0.3)',
      'triage: all_scores rank 2 (0.2)',
      'code: all_scores rank 3 (0.1)',
    ]);
  });

  test('a tiered selector without all_scores: the selected lane first, task-backed', async () => {
    const r = await run('tiered.mjs');
    const v = interpretSelectorRun(r, LANES, []);
    expect(v).toMatchObject({
      ok: true,
      shape: 'tiered',
      tier: 1,
      task: { id: 'session-grading', lane: 'code', claim: 'task:session-grading' },
    });
    expect(v.ok && v.order.map((o) => o.lane)).toEqual(['code', 'content', 'triage']);
    expect(v.ok && v.ignored.map((g) => g.value)).toEqual(['novelty']);
  });

  test('a non-zero exit: the code and first stderr line are the reason, even with a good payload printed', async () => {
    const r = await run('crash.mjs');
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false });
    expect(r.stdout).toContain('all_scores');
    expect(interpretSelectorRun(r, LANES, [])).toEqual({
      ok: false,
      reason: 'exited with code 3: cascade: task index is locked',
    });
  });

  test('a hang is killed at the time limit with the grandchild that holds its stdout', async () => {
    const r = await run('hang.mjs', 1000);
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.durationMs).toBeGreaterThanOrEqual(1000);
    expect(r.durationMs).toBeLessThan(5000);
    expect(interpretSelectorRun(r, LANES, ['code'])).toEqual({
      ok: false,
      reason: `timed out after ${r.durationMs} ms`,
    });
    const grandchild = Number(/grandchild (\d+)/.exec(r.stderr)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(running(grandchild)).toBe(false);
  });

  test('truncated JSON and an empty stdout with exit 0 are violations', async () => {
    const [truncated, silent] = await Promise.all([run('truncated.mjs'), run('silent.mjs')]);
    expect(truncated).toMatchObject({ exitCode: 0, stdout: '{"tier": 3, "selected": {"category": "co' });
    expect(interpretSelectorRun(truncated, LANES, ['code'])).toEqual({
      ok: false,
      reason: expect.stringMatching(/^stdout is not valid JSON \(Unterminated string in JSON/),
    });
    expect(silent).toMatchObject({ exitCode: 0, stdout: '' });
    expect(interpretSelectorRun(silent, LANES, ['code'])).toEqual({
      ok: false,
      reason: 'printed nothing on stdout (expected a JSON object)',
    });
  });

  test('output over the cap is stopped and reported', async () => {
    const r = await run('flood.mjs');
    expect(r.error).toBe(`stdout went over the ${SELECTOR_OUTPUT_CAP}-character cap`);
    expect(interpretSelectorRun(r, LANES, ['code'])).toEqual({ ok: false, reason: r.error });
  });

  test('a program that cannot start is a run with the reason, never a throw', async () => {
    const missing = await runSelectorCommand(['/nonexistent/cascade-selector', '--json'], { timeoutMs: 1000 });
    expect(missing).toMatchObject({
      exitCode: null,
      signal: null,
      timedOut: false,
      stdout: '',
      error: 'could not start: command not found: /nonexistent/cascade-selector',
    });
    expect(interpretSelectorRun(missing, LANES, ['code'])).toEqual({ ok: false, reason: missing.error });

    // The fixture files are not executable: the program exists but cannot be run.
    const notExecutable = await runSelectorCommand([path.join(SELECTORS, 'silent.mjs')], { timeoutMs: 1000 });
    expect(notExecutable.error).toBe(`could not start: command not executable: ${path.join(SELECTORS, 'silent.mjs')}`);

    expect((await runSelectorCommand([], { timeoutMs: 1000 })).error).toBe(
      'could not start: selector.command is empty',
    );
    expect((await runSelectorCommand(node('scores.mjs'), { timeoutMs: 1000, cwd: '/nonexistent/dir' })).error).toBe(
      'could not start: working directory /nonexistent/dir does not exist',
    );
  });
});
