// The selector's settings, from the resolved configuration: what the config file says about
// learning, shares, plateau, signals and the resource gate, in the shape the machines take.
import type { LaneConfig, ResolvedConfig, SelectorConfig } from '../config/types.js';
import type { FleetInput } from '../machines/fleet.js';
import type { SelectionSettings } from '../machines/selector.js';
import { resolveResources, resolveSelector } from '../config/resolve.js';
import { configSchema } from '../config/schema.js';
import { DEFAULT_DETECTOR, DEFAULT_FORGETTING, type Forgetting } from '../policy/posterior.js';

type LaneShare = Pick<LaneConfig, 'name' | 'targetShare'>;

export function selectionFromConfig(
  config: Pick<ResolvedConfig, 'selector' | 'resources' | 'tasks'> & { lanes: readonly LaneShare[] },
): SelectionSettings {
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
      fill: s.fill,
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

/**
 * The defaults, for hosts built without a config file (tests, benchmarks): the configuration's own
 * defaults (config/schema.ts), so there is one place that says what they are.
 */
export function defaultSelection(lanes: readonly LaneShare[]): SelectionSettings {
  const selector = resolveSelector(configSchema.shape.selector.parse(undefined), { source: '<defaults>', env: {} });
  const resources = resolveResources(configSchema.shape.resources.parse(undefined));
  return selectionFromConfig({ lanes, selector, resources, tasks: null });
}

function targetsOf(lanes: readonly LaneShare[]): Record<string, number> {
  return Object.fromEntries(lanes.filter((l) => l.targetShare !== null).map((l) => [l.name, l.targetShare!]));
}

/** The fleet as the machines see it: what RUNTIME_STARTED journals and replay rebuilds. */
export function fleetSpec(config: ResolvedConfig): FleetInput {
  return {
    width: config.width,
    lanes: config.lanes.map((l) => ({
      name: l.name,
      enabled: l.enabled,
      concurrency: l.concurrency,
      cooldownMs: l.cooldownMs,
      respawnThreshold: l.respawnThreshold,
      chainLimit: l.chainLimit,
      timeoutMs: l.timeoutMs,
      targetShare: l.targetShare,
      parallel: l.parallel,
      arms: l.arms,
      minTier: l.minTier,
      maxTier: l.maxTier,
      prefer: l.prefer,
    })),
    arms: config.arms.map((a) => ({ id: a.id, backend: a.backend, model: a.model, tier: a.tier, cost: a.cost })),
    selection: selectionFromConfig(config),
    // Only with a shared store: a single host's session ids stay as they always were.
    ...(config.store ? { host: config.host } : {}),
  };
}
