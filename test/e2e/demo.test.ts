// End to end: the real CLI runs the demo with real agent processes, a real SQLite file and real
// git repositories; `status --json` and the journal are then read back as a user would.
import Database from 'better-sqlite3';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { cli, tmpDir, type CliResult } from '../helpers/tmp.js';

interface StatusJson {
  running: boolean | null;
  last_stop: { at: string; clean: boolean } | null;
  lanes: { name: string; state: string; since: string }[];
  sessions: {
    id: string;
    lane: string;
    arm: string;
    dispatch: string;
    parent: string | null;
    started_at: string;
    ended_at: string | null;
    exit_code: number | null;
    outcome: string | null;
    grade: number | null;
  }[];
}

describe('lanekeeper run --demo', () => {
  let state: string;
  let run: CliResult;
  let status: StatusJson;

  beforeAll(async () => {
    state = tmpDir('lk-demo-');
    run = await cli(['run', '--demo', '--for', '30s', '--tick', '3s', '--state', state], {
      env: { DEMO_AGENT_WORK: '1s-3s', DEMO_AGENT_FAIL_RATE: '0' },
    });
    const s = await cli(['status', '--json', '--state', state]);
    expect(s.code, s.stderr).toBe(0);
    status = JSON.parse(s.stdout) as StatusJson;
  }, 120_000);

  test('exits 0 and logs ticks, starts, exits and the summary', () => {
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    const msgs = lines.map((l) => l.msg);
    expect(msgs.some((m) => /^tick at event \d+: → \S+ \d\.\d\d/.test(m))).toBe(true);
    expect(msgs.some((m) => / started on sim-(fast|deep):(small|large) \(pid \d+\)$/.test(m))).toBe(true);
    expect(msgs.some((m) => / ended after .*: exit 0 → (productive|noop)$/.test(m))).toBe(true);
    expect(msgs).toContain('summary');
  });

  test('status --json shows sessions in at least three lanes, each with an outcome and a grade', () => {
    const lanes = new Set(status.sessions.map((s) => s.lane));
    expect(lanes.size).toBeGreaterThanOrEqual(3);
    for (const s of status.sessions) {
      expect(s.outcome, s.id).toMatch(/^(productive|noop)$/);
      expect(s.grade, s.id).toBeGreaterThanOrEqual(0);
      expect(s.ended_at, s.id).not.toBeNull();
      expect(Date.parse(s.started_at)).toBeLessThanOrEqual(Date.parse(s.ended_at!));
    }
    expect(status.lanes.map((l) => l.name).sort()).toEqual([
      'cleanup',
      'code',
      'content',
      'infrastructure',
      'research',
      'triage',
    ]);
    // The demo drained: nothing runs, and the lanes are as it left them for the next start.
    expect([status.running, status.last_stop?.clean]).toEqual([false, true]);
    expect(status.lanes.some((l) => ['claiming', 'running', 'respawn'].includes(l.state))).toBe(false);
  });

  test('never more sessions of one lane at once than its concurrency (1 in the demo)', () => {
    const byLane = new Map<string, { start: number; end: number }[]>();
    for (const s of status.sessions) {
      byLane.set(s.lane, [
        ...(byLane.get(s.lane) ?? []),
        { start: Date.parse(s.started_at), end: Date.parse(s.ended_at!) },
      ]);
    }
    for (const [lane, spans] of byLane) {
      spans.sort((a, b) => a.start - b.start);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.start, lane).toBeGreaterThanOrEqual(spans[i - 1]!.end);
    }
  });

  test('the journal holds every event in order with no gap in seq', () => {
    const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
    const rows = db.prepare('SELECT seq, type FROM journal ORDER BY seq').all() as { seq: number; type: string }[];
    db.close();
    expect(rows.length).toBeGreaterThan(10);
    rows.forEach((r, i) => expect(r.seq).toBe(i + 1));
    const types = new Set(rows.map((r) => r.type));
    for (const t of ['TICK', 'CLAIM_GRANTED', 'SESSION_STARTED', 'SESSION_EXITED', 'SESSION_GRADED', 'DRAIN'])
      expect(types).toContain(t);
    // Every session that started also exited and was graded.
    const count = (t: string) => rows.filter((r) => r.type === t).length;
    expect(count('SESSION_EXITED')).toBe(count('SESSION_STARTED'));
    expect(count('SESSION_GRADED')).toBe(count('SESSION_EXITED'));
    expect(count('SESSION_STARTED')).toBe(status.sessions.length);
  });

  test('status in text form is readable', async () => {
    const s = await cli(['status', '--state', state]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/LANE\s+STATE\s+FOR\s+SESSION/);
    expect(s.stdout).toMatch(/SESSION\s+ARM\s+DISPATCH\s+STARTED\s+TOOK\s+OUTCOME\s+GRADE/);
  });
});
