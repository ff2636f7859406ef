// The resource gate: before a tick fans out, the machine's load and free memory may narrow the
// tick's width or skip it. Pure: the shell reads /proc and passes the figures in with the tick
// (so the journal holds them and a replay decides the same), this decides.
//
// Thresholds follow the gptme/Bob spawn gate: 1-minute load per core above 0.9, or available
// memory under 20% → skip; load above 0.75 → width 1; above 0.6 → width 2. Figures that could
// not be read do not block (the gate fails open), but the decision says they were missing.

export interface ResourceReading {
  /** 1-minute load average; null when unreadable. */
  load1: number | null;
  cores: number | null;
  /** MemAvailable / MemTotal, 0..1; null when unreadable. */
  memAvailable: number | null;
  /** Why a figure is missing. */
  error?: string;
}

export interface GateThresholds {
  enabled: boolean;
  skipLoad: number;
  width1Load: number;
  width2Load: number;
  minMemory: number;
}

export const DEFAULT_GATE: GateThresholds = {
  enabled: true,
  skipLoad: 0.9,
  width1Load: 0.75,
  width2Load: 0.6,
  minMemory: 0.2,
};

export interface GateResult {
  action: 'proceed' | 'skip';
  width: number;
  /** The gate took width away (skip, or fewer slots than configured). */
  narrowed: boolean;
  reason: string;
  loadRatio: number | null;
  memAvailable: number | null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function resourceGate(reading: ResourceReading | null, t: GateThresholds, width: number): GateResult {
  if (!t.enabled)
    return {
      action: 'proceed',
      width,
      narrowed: false,
      reason: 'resource gate off',
      loadRatio: null,
      memAvailable: null,
    };
  if (!reading)
    return {
      action: 'proceed',
      width,
      narrowed: false,
      reason: 'no resource figures with this tick',
      loadRatio: null,
      memAvailable: null,
    };
  const loadRatio = reading.load1 !== null && reading.cores ? reading.load1 / reading.cores : null;
  const mem = reading.memAvailable;
  const base = { loadRatio, memAvailable: mem };
  const missing = [loadRatio === null ? 'load' : null, mem === null ? 'memory' : null].filter(Boolean);
  const note = missing.length
    ? ` (${missing.join(' and ')} unreadable${reading.error ? `: ${reading.error}` : ''}; not gated on it)`
    : '';
  const load = loadRatio === null ? '' : `load1/core ${loadRatio.toFixed(2)}`;
  if (loadRatio !== null && loadRatio > t.skipLoad)
    return { ...base, action: 'skip', width: 0, narrowed: true, reason: `${load} > ${t.skipLoad}${note}` };
  if (mem !== null && mem < t.minMemory)
    return {
      ...base,
      action: 'skip',
      width: 0,
      narrowed: true,
      reason: `available memory ${pct(mem)} < ${pct(t.minMemory)}${note}`,
    };
  if (loadRatio !== null && loadRatio > t.width1Load)
    return {
      ...base,
      action: 'proceed',
      width: Math.min(width, 1),
      narrowed: width > 1,
      reason: `${load} > ${t.width1Load}: width 1${note}`,
    };
  if (loadRatio !== null && loadRatio > t.width2Load)
    return {
      ...base,
      action: 'proceed',
      width: Math.min(width, 2),
      narrowed: width > 2,
      reason: `${load} > ${t.width2Load}: width 2${note}`,
    };
  return {
    ...base,
    action: 'proceed',
    width,
    narrowed: false,
    reason: `${[load, mem === null ? '' : `memory ${pct(mem)}`].filter(Boolean).join(', ') || 'no figures'}: full width${note}`,
  };
}
