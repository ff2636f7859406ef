// Configuration pieces the machine and policy tests build again and again: a lane's resolved
// configuration, and the selector's fairness settings with the plateau nudges switched on (so a
// test of them can see them move the score).
import type { LaneConfig } from '../../src/config/types.js';
import type { FairnessSettings } from '../../src/policy/fairness.js';

export const DAY = 24 * 3_600_000;

export const laneConfig = (name: string, over: Partial<LaneConfig> = {}): LaneConfig => ({
  name,
  enabled: true,
  concurrency: 1,
  cooldownMs: 1000,
  respawnThreshold: 0.65,
  chainLimit: 1,
  timeoutMs: 60_000,
  targetShare: null,
  parallel: true,
  arms: ['sim:a'],
  prompt: '',
  cwd: null,
  lockFile: null,
  minTier: null,
  maxTier: null,
  prefer: null,
  ...over,
});

export const fairnessSettings = (over: Partial<FairnessSettings> = {}): FairnessSettings => ({
  targets: {},
  shareWeight: 1,
  monotonyStreak: 3,
  monotonyPenalty: 0.1,
  neglectShare: 0.05,
  neglectWindowMs: 7 * DAY,
  neglectMinSessions: 20,
  neglectBonus: 0.1,
  ...over,
});
