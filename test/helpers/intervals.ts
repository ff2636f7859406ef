// Overlaps of time intervals, for the tests that prove no lane or claim was held twice at once.

/** The most intervals open at once ([start, end], an end before a start at the same instant). */
export function peak(intervals: [number, number][]): number {
  const points = intervals.flatMap(([s, e]): [number, number][] => [
    [s, 1],
    [e, -1],
  ]);
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of points) most = Math.max(most, (open += d));
  return most;
}

/** A PostgreSQL URL whose connections use `schema` (each test its own). */
export const inSchema = (url: string, schema: string): string =>
  `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
