import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseQuotaReport, QUOTA_PROBE_OUTPUT_CAP, resetsAtMs, runQuotaProbe } from '../../src/adapters/quota/probe.js';
import { quotaVerdict } from '../../src/policy/availability.js';
import { running, tmpDir } from '../helpers/tmp.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/quota');
const node = (fixture: string) => [process.execPath, path.join(FIXTURES, fixture)];
const probe = (fixture: string, timeoutMs = 10_000) =>
  runQuotaProbe(node(fixture), { timeoutMs, env: { QUOTA_NOTE: 'from env' } });

describe('quota probe (real programs)', () => {
  test('a good report: extra fields ignored, ISO and epoch-second resets, 1.02 clamped to 1', async () => {
    const r = await probe('good.mjs');
    expect(r).toMatchObject({
      ok: true,
      report: {
        available: true,
        windows: [
          { name: '5h', utilization: 0.42, resetsAt: Date.parse('2026-08-08T17:00:00Z') },
          { name: 'weekly', utilization: 1, resetsAt: 1786300000 * 1000 },
          { name: 'sonnet', utilization: 0.1, resetsAt: null },
        ],
      },
    });
    expect(r.ok && Object.keys(r.report)).toEqual(['available', 'windows']);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  test('an exhausted report reads as such and blocks until its reset (epoch ms)', async () => {
    const r = await probe('exhausted.mjs');
    expect(r).toMatchObject({
      ok: true,
      report: { available: false, windows: [{ name: '5h', utilization: 0.93, resetsAt: 1786210000000 }] },
    });
    const v = r.ok ? quotaVerdict(r.report, 1786200000000) : null;
    expect(v).toEqual({
      eligible: false,
      until: 1786210000000,
      shorten: false,
      reason: expect.stringContaining('window "5h" at 93% until 2026-08-'),
    });
  });

  test('a non-zero exit: the code and the first non-empty stderr line, even with a good report printed', async () => {
    const r = await probe('fail.mjs');
    expect(r).toMatchObject({ ok: false, reason: 'exited with code 2: check-quota: token expired' });
  });

  test('a hang is killed at the time limit with the grandchild holding its stdout', async () => {
    const pidFile = path.join(tmpDir('quota-probe-'), 'pid');
    const r = await runQuotaProbe(node('hang.mjs'), { timeoutMs: 800, env: { QUOTA_PID_FILE: pidFile } });
    expect(r).toMatchObject({ ok: false, reason: 'timed out after 800 ms' });
    expect(r.durationMs).toBeGreaterThanOrEqual(800);
    expect(r.durationMs).toBeLessThan(5000);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(running(grandchild)).toBe(false);
  });

  test('not JSON, and wrong types named by field path', async () => {
    const [a, b] = await Promise.all([probe('not-json.mjs'), probe('wrong-types.mjs')]);
    expect(a.ok).toBe(false);
    expect(!a.ok && a.reason).toMatch(/^stdout is not valid JSON \(/);
    expect(b).toMatchObject({
      ok: false,
      reason:
        'not a quota report: available: expected true or false, got "yes"; windows[0].utilization: expected a number, got "93%"',
    });
  });

  test('output over the 64 KiB cap stops the probe', async () => {
    const r = await runQuotaProbe(
      [process.execPath, '-e', `process.stdout.write('x'.repeat(${2 * QUOTA_PROBE_OUTPUT_CAP}))`],
      { timeoutMs: 10_000 },
    );
    expect(r).toMatchObject({ ok: false, reason: `stdout went over the ${QUOTA_PROBE_OUTPUT_CAP}-character cap` });
  });

  test('a missing program and an empty command never throw', async () => {
    expect(await runQuotaProbe(['/nonexistent/check-quota'], { timeoutMs: 1000 })).toMatchObject({
      ok: false,
      reason: 'could not start: command not found: /nonexistent/check-quota',
    });
    expect(await runQuotaProbe([], { timeoutMs: 1000 })).toMatchObject({
      ok: false,
      reason: 'could not start: the quota probe command is empty',
    });
  });
});

describe('quota report parsing (pure)', () => {
  const bad = (v: unknown) => {
    const r = parseQuotaReport(JSON.stringify(v));
    return r.ok ? 'ok' : r.reason;
  };

  test('empty, non-object and Infinity', () => {
    expect(parseQuotaReport('  \n')).toEqual({
      ok: false,
      reason: 'printed nothing on stdout (expected a JSON object)',
    });
    expect(bad([1])).toBe('stdout JSON is a list, expected an object with "available" and "windows"');
    expect(parseQuotaReport('{"available": true, "windows": [{"name": "5h", "utilization": 1e999}]}')).toEqual({
      ok: false,
      reason: 'not a quota report: windows[0].utilization: expected a finite number, got Infinity',
    });
  });

  test('available is required; windows may be left out', () => {
    expect(bad({ windows: [] })).toBe('not a quota report: available: required true or false is missing');
    expect(parseQuotaReport('{"available": true}')).toEqual({ ok: true, report: { available: true, windows: [] } });
  });

  test('utilization: negative rejected, up to 2 clamped, above 2 rejected as a percentage', () => {
    const w = (u: number) => bad({ available: true, windows: [{ name: 'w', utilization: u }] });
    expect(w(-0.1)).toBe('not a quota report: windows[0].utilization: expected at least 0, got -0.1');
    expect(w(0)).toBe('ok');
    expect(w(2)).toBe('ok');
    expect(
      parseQuotaReport(JSON.stringify({ available: true, windows: [{ name: 'w', utilization: 2 }] })),
    ).toMatchObject({ ok: true, report: { windows: [{ utilization: 1 }] } });
    expect(w(93)).toBe('not a quota report: windows[0].utilization: expected a fraction 0..1, got 93 (a percentage?)');
  });

  test('window name must be a non-empty string', () => {
    expect(bad({ available: true, windows: [{ name: ' ', utilization: 0.1 }] })).toBe(
      'not a quota report: windows[0].name: expected a non-empty string, got " "',
    );
  });

  test('resets_at: ISO with and without offset, epoch seconds below 1e12, milliseconds from 1e12', () => {
    expect(resetsAtMs('2026-08-08T17:00:00Z')).toBe(Date.UTC(2026, 7, 8, 17));
    expect(resetsAtMs('2026-08-08T19:00:00+02:00')).toBe(Date.UTC(2026, 7, 8, 17));
    expect(resetsAtMs('2026-08-08T17:00:00.250')).toBe(Date.UTC(2026, 7, 8, 17) + 250); // no offset: UTC
    expect(resetsAtMs('2026-08-08 17:00:00')).toBe(Date.UTC(2026, 7, 8, 17));
    expect(resetsAtMs(999_999_999_999)).toBe(999_999_999_999_000);
    expect(resetsAtMs(1e12)).toBe(1e12);
    expect(resetsAtMs(1786300000.5)).toBe(1786300000500);
    expect(resetsAtMs('tomorrow')).toBeNull();
    expect(resetsAtMs('1786300000')).toBeNull();
    expect(resetsAtMs(-1)).toBeNull();
    expect(bad({ available: true, windows: [{ name: 'w', utilization: 0.1, resets_at: 'soon' }] })).toBe(
      'not a quota report: windows[0].resets_at: expected an ISO-8601 time or a non-negative epoch number, got "soon"',
    );
    expect(bad({ available: true, windows: [{ name: 'w', utilization: 0.1, resets_at: true }] })).toBe(
      'not a quota report: windows[0].resets_at: expected an ISO-8601 time, epoch seconds or milliseconds, or null, got true',
    );
    expect(
      parseQuotaReport('{"available": true, "windows": [{"name": "w", "utilization": 0.1, "resets_at": null}]}'),
    ).toMatchObject({ ok: true, report: { windows: [{ resetsAt: null }] } });
  });
});
