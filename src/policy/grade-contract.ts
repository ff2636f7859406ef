// The contract of a grade file a session writes to $LANEKEEPER_GRADE_FILE:
//   {"grade": 0.8, "dimensions": {"quality": 0.9}}
// or just the number (`0.8`), the easiest thing for a shell script to write. Extra fields are
// allowed and ignored. Anything else is rejected with the reason.
import { z } from 'zod';

const unit = z.number().min(0).max(1);

const gradeSchema = z.looseObject({
  grade: unit,
  dimensions: z.record(z.string(), unit).optional(),
});

export type GradeParse =
  { ok: true; grade: number; dimensions: Record<string, number> | null } | { ok: false; reason: string };

export function parseGradeText(text: string): GradeParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` };
  }
  // A bare number is the grade, held to the same bounds.
  if (typeof data === 'number') data = { grade: data };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return {
      ok: false,
      reason: `expected a number in [0, 1] or an object like {"grade": 0.8}, got ${JSON.stringify(data)?.slice(0, 60)}`,
    };
  }
  const parsed = gradeSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join('.') || 'grade';
    const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], data);
    if (value === undefined) return { ok: false, reason: `"${where}" is missing` };
    if (typeof value !== 'number' || !Number.isFinite(value))
      return { ok: false, reason: `"${where}" must be a number in [0, 1], got ${JSON.stringify(value)}` };
    return { ok: false, reason: `"${where}" is ${value}, outside [0, 1]` };
  }
  return { ok: true, grade: parsed.data.grade, dimensions: parsed.data.dimensions ?? null };
}
