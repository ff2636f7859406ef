// The end-of-run summary: sessions per lane, their outcomes and mean grade.
import type { SessionRow } from '../ports/store.js';
import { renderTable } from './table.js';
import { OUTCOMES } from '../policy/outcome.js';

export interface LaneSummary {
  lane: string;
  sessions: number;
  outcomes: Partial<Record<(typeof OUTCOMES)[number], number>>;
  /** Rounded to 2 decimals, as grades are shown everywhere: the JSON log line carries it as the table does. */
  meanGrade: number | null;
  respawns: number;
}

export function summarize(sessions: readonly SessionRow[]): LaneSummary[] {
  const byLane = new Map<string, SessionRow[]>();
  for (const s of sessions) byLane.set(s.lane, [...(byLane.get(s.lane) ?? []), s]);
  return [...byLane.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([lane, rows]) => {
      const outcomes: LaneSummary['outcomes'] = {};
      for (const r of rows) if (r.outcome) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      const grades = rows.map((r) => r.grade).filter((g): g is number => g !== null);
      return {
        lane,
        sessions: rows.length,
        outcomes,
        meanGrade: grades.length ? Math.round((grades.reduce((a, b) => a + b, 0) / grades.length) * 100) / 100 : null,
        respawns: rows.filter((r) => r.dispatch === 'respawn').length,
      };
    });
}

export function formatSummary(rows: readonly LaneSummary[]): string {
  if (!rows.length) return 'No sessions ran.';
  const header = ['lane', 'sessions', 'respawns', 'mean grade', 'outcomes'];
  const body = rows.map((r) => [
    r.lane,
    String(r.sessions),
    String(r.respawns),
    r.meanGrade === null ? '–' : r.meanGrade.toFixed(2),
    OUTCOMES.filter((o) => r.outcomes[o])
      .map((o) => `${o} ${r.outcomes[o]}`)
      .join(', '),
  ]);
  const total = rows.reduce((a, r) => a + r.sessions, 0);
  return `${renderTable([header, ...body], { rule: true })}\n${total} session${total === 1 ? '' : 's'} in ${rows.length} lane${rows.length === 1 ? '' : 's'}.`;
}
