// Reading Prometheus text as a scraper would: parsed by a real parser (prom2javascript, which
// rejects malformed lines), then looked up by metric name and labels.
import { getMetricsFromIterator, type PromData, type PromHistogramData, type PromMetrics } from 'prom2javascript';

export type { PromMetrics };

// prom-client writes NaN as "Nan" (Node's event-loop lag before its first sample): Prometheus
// reads it (Go's ParseFloat takes any case), prom2javascript reads no NaN at all. Those lines are
// left out, but lanekeeper's own metrics must never be NaN.
const NAN_SAMPLE = /^(\w+)(\{.*\})?\s+nan(\s+-?\d+)?\s*$/i;

export function parseMetrics(text: string): Promise<PromMetrics> {
  const lines = text.split('\n').filter((line) => {
    const nan = NAN_SAMPLE.exec(line);
    if (nan && nan[1]!.startsWith('lanekeeper_')) throw new Error(`a lanekeeper metric is NaN: ${line}`);
    return !nan;
  });
  return getMetricsFromIterator(lines[Symbol.iterator]());
}

const matches = (have: Record<string, string>, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => have[k] === v);

/** The series of a counter or gauge whose labels include `labels`. */
export function series(m: PromMetrics, name: string, labels: Record<string, string> = {}): PromData[] {
  return ((m[name]?.data ?? []) as PromData[]).filter((d) => matches(d.labels, labels));
}

/** The one value of a counter or gauge with exactly these labels; undefined when there is none. */
export function valueOf(m: PromMetrics, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = series(m, name, labels).filter((d) => Object.keys(d.labels).length === Object.keys(labels).length);
  if (found.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

/** The one histogram series with exactly these labels. */
export function histogramOf(
  m: PromMetrics,
  name: string,
  labels: Record<string, string>,
): PromHistogramData | undefined {
  const data = (m[name]?.data ?? []) as PromHistogramData[];
  return data.find((d) => matches(d.labels, labels) && Object.keys(d.labels).length === Object.keys(labels).length);
}
