// Model version bumps (`replaces:` in the config) applied to restored arm evidence.
import type { Logger } from 'pino';
import type { SelectorMemory } from '../ports/store.js';
import type { ResolvedConfig } from '../config/types.js';
import { globalArmKey, warmStart } from '../policy/arms.js';

/**
 * A model version bump (`replaces` in the config) is a new arm: when it has no evidence yet, it
 * starts from the old arm's, cut to 5 sessions' worth, so it is neither trusted blindly nor
 * explored from nothing. Done before the restored state is journaled, so a replay sees the result.
 */
export function withModelBumps(memory: SelectorMemory, config: ResolvedConfig, log: Logger): SelectorMemory {
  let arms = memory.arms;
  if (!arms) return memory;
  for (const a of config.arms) {
    if (!a.replaces || arms.beliefs[globalArmKey(a.id)] || !arms.beliefs[globalArmKey(a.replaces)]) continue;
    arms = warmStart(arms, a.replaces, a.id);
    log.info(`${a.id} replaces ${a.replaces}: it starts from the older model's evidence, cut to 5 sessions' worth`);
  }
  return { ...memory, arms };
}
