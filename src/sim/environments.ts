// Synthetic lanes for `lanekeeper simulate`: each lane yields grades around a mean that may
// change at given points. Grades for a (seed, session, lane) are fixed by the seed, so every
// policy sees the same draws (common random numbers).
import { z } from 'zod';

export interface Environment {
  id: string;
  description: string;
  /** Lanes chosen per decision (multiple plays). */
  width: number;
  lanes: { mean: number; sd: number }[];
  /** At decision `at`, lane `lane` switches to `mean`. */
  changes: { at: number; lane: number; mean: number }[];
  /** Lanes that yield grade 0 between `from` and `to` (supply ran dry). */
  droughts: { lane: number; from: number; to: number }[];
}

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

/** Six graded lanes, the first the best: the stage of the change-point environments. */
const SIX = [0.72, 0.62, 0.58, 0.55, 0.5, 0.45].map((mean) => ({ mean, sd: 0.15 }));

/** Built-in environments; `sessions` places their change points. */
export function builtinEnvironment(id: string, sessions: number): Environment | null {
  const half = Math.floor(sessions / 2);
  const six = (description: string, change: Pick<Environment, 'changes' | 'droughts'>): Environment => ({
    id,
    description,
    width: 1,
    lanes: SIX,
    ...change,
  });
  switch (id) {
    case 'stationary':
      return {
        id,
        description: 'K=10 graded lanes with close means (0.40–0.62), sd 0.2',
        width: 1,
        lanes: linspace(0.4, 0.62, 10).map((mean) => ({ mean, sd: 0.2 })),
        changes: [],
        droughts: [],
      };
    case 'degrade':
      return six('K=6; the best lane degrades 0.72 → 0.40 half way', {
        changes: [{ at: half, lane: 0, mean: 0.4 }],
        droughts: [],
      });
    case 'improve':
      return six('K=6; a neglected lane improves 0.45 → 0.85 half way', {
        changes: [{ at: half, lane: 5, mean: 0.85 }],
        droughts: [],
      });
    case 'drought':
      return six('K=6; the best lane yields nothing for the second quarter, then recovers', {
        changes: [],
        droughts: [{ lane: 0, from: Math.floor(sessions / 4), to: half }],
      });
    case 'top4':
      return {
        id,
        description: 'N=4 of K=10 lanes per decision, means 0.35–0.62',
        width: 4,
        lanes: linspace(0.35, 0.62, 10).map((mean) => ({ mean, sd: 0.2 })),
        changes: [],
        droughts: [],
      };
    default:
      return null;
  }
}

export const BUILTIN_ENVIRONMENTS = ['stationary', 'degrade', 'improve', 'drought', 'top4'] as const;

/** An environment from a JSON file: {"width": 1, "lanes": [{"mean": 0.5, "sd": 0.2}], "changes": [...], "droughts": [...]}. */
export const environmentFileSchema = z.strictObject({
  description: z.string().optional(),
  width: z.number().int().min(1).default(1),
  lanes: z.array(z.strictObject({ mean: z.number().min(0).max(1), sd: z.number().min(0).max(1).default(0.2) })).min(2),
  changes: z
    .array(
      z.strictObject({ at: z.number().int().min(0), lane: z.number().int().min(0), mean: z.number().min(0).max(1) }),
    )
    .default([]),
  droughts: z
    .array(
      z.strictObject({ lane: z.number().int().min(0), from: z.number().int().min(0), to: z.number().int().min(0) }),
    )
    .default([]),
});

/** The true mean of each lane at decision t. */
export function meansAt(env: Environment, t: number): number[] {
  const means = env.lanes.map((l) => l.mean);
  for (const c of env.changes) if (t >= c.at) means[c.lane] = c.mean;
  for (const d of env.droughts) if (t >= d.from && t < d.to) means[d.lane] = 0;
  return means;
}
