// The composite grade: a weighted mean of a grade's dimensions under the operator's weights
// (`grading.weights`). When weights are configured and a grade comes with dimensions, the composite
// replaces the grade the session or the grader reported: the operator's weights define what quality
// means for this fleet, so every graded session is measured on the same scale, whoever graded it.
// Pure.

/**
 * Σ wᵢ·dᵢ / Σ wᵢ over the dimensions present in both `dimensions` and `weights`; null when none
 * applies (no shared dimension, or their weights add up to 0), so the reported grade stands.
 */
export function composite(
  dimensions: Readonly<Record<string, number>>,
  weights: Readonly<Record<string, number>>,
): number | null {
  let sum = 0;
  let total = 0;
  for (const [name, value] of Object.entries(dimensions)) {
    const w = Object.hasOwn(weights, name) ? weights[name]! : 0;
    if (!(w > 0) || !Number.isFinite(value)) continue;
    sum += w * value;
    total += w;
  }
  if (total === 0) return null;
  // Rounding can push a mean of values in [0, 1] a hair outside it.
  return Math.min(1, Math.max(0, sum / total));
}

/** The grade to record: the composite when weights exist and apply, else the grade as given. */
export function applyComposite(
  grade: number,
  dimensions: Readonly<Record<string, number>> | null,
  weights: Readonly<Record<string, number>> | null,
): number {
  if (!weights || !dimensions) return grade;
  return composite(dimensions, weights) ?? grade;
}
