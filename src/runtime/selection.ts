// The selector's settings, from the resolved configuration: what the config file says about
// learning, shares, plateau, signals and the resource gate, in the shape the machines take.
import type { LaneConfig, ResolvedConfig, SelectorConfig } from '../config/types.js';
import type { SelectionSettings } from '../machines/selector.js';
import { DEFAULT_DETECTOR, DEFAULT_FORGETTING, type Forgetting } from '../policy/posterior.js';
import { DEFAULT_GATE } from '../policy/resource-gate.js';

const DAY = 24 * 3_600_000;

export function selectionFromConfig(config: Pick<ResolvedConfig, 'selector' | 'resources' | 'tasks' | 'lanes'>): SelectionSettings {
  const s = config.selector;
  return {
    model: s.model,
    forgetting: forgettingOf(s.forgetting),
    plan: {
      fairness: {
        targets: targetsOf(config.lanes),
        shareWeight: s.shareWeight,
        monotonyStreak: s.monotony.streak,
        monotonyPenalty: s.monotony.penalty,
        neglectShare: s.neglect.share,
        neglectWindowMs: s.neglect.windowMs,
        neglectMinSessions: s.neglect.minSessions,
        neglectBonus: s.neglect.bonus,
      },
      signalWeight: s.signals?.weight ?? 0,
      gate: { ...config.resources },
      allowlist: s.allowlist,
    },
    tasks: config.tasks !== null,
  };
}

/** The configured forgetting over the tuned defaults (policy/posterior.ts). */
function forgettingOf(f: SelectorConfig['forgetting']): Forgetting {
  const { detector, ...rates } = f;
  const base = { ...DEFAULT_FORGETTING, ...rates };
  if (detector === undefined || detector === true) return base;
  if (detector === false) return { ...base, detector: null };
  return { ...base, detector: { ...DEFAULT_DETECTOR, threshold: detector.threshold } };
}

/** The defaults, for hosts built without a config file (tests, benchmarks). */
export function defaultSelection(lanes: readonly LaneConfig[]): SelectionSettings {
  return {
    model: 'npts',
    forgetting: DEFAULT_FORGETTING,
    plan: {
      fairness: {
        targets: targetsOf(lanes),
        shareWeight: 1,
        monotonyStreak: 3,
        monotonyPenalty: 0,
        neglectShare: 0.05,
        neglectWindowMs: 7 * DAY,
        neglectMinSessions: 20,
        neglectBonus: 0,
      },
      signalWeight: 0.1,
      gate: DEFAULT_GATE,
      allowlist: [],
    },
    tasks: false,
  };
}

function targetsOf(lanes: readonly LaneConfig[]): Record<string, number> {
  return Object.fromEntries(lanes.filter((l) => l.targetShare !== null).map((l) => [l.name, l.targetShare!]));
}
