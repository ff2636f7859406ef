// What a configuration reload may change while lanekeeper runs, and what changed. Most of the
// configuration applies at once to what starts next (lanes, backends, width, schedule, selection,
// grading, hooks, claims); running sessions keep what they started with. Three things are the
// ground the running process stands on and need a restart: the state directory, the store, the
// host id (its journal and its sessions) and the task directory (their watchers and files are open).
import { ConfigError } from '../errors.js';
import type { ResolvedConfig } from './types.js';

/** Why `next` cannot replace `current` without a restart, or null. */
export function reloadProblem(current: ResolvedConfig, next: ResolvedConfig): string | null {
  if (next.stateDir !== current.stateDir)
    return `state_dir changed (${current.stateDir} → ${next.stateDir}); that needs a restart`;
  if (next.store !== current.store) return 'store changed; that needs a restart';
  if (next.host !== current.host) return `host changed (${current.host} → ${next.host}); that needs a restart`;
  if ((next.tasks?.dir ?? null) !== (current.tasks?.dir ?? null)) return 'tasks.dir changed; that needs a restart';
  return null;
}

/** The top-level sections that differ (`lanes`, `schedule`, …), for the log and the journal. */
export function changedSections(current: ResolvedConfig, next: ResolvedConfig): string[] {
  const keys = new Set([...Object.keys(current), ...Object.keys(next)]);
  keys.delete('source');
  return [...keys]
    .filter(
      (k) => JSON.stringify(current[k as keyof ResolvedConfig]) !== JSON.stringify(next[k as keyof ResolvedConfig]),
    )
    .sort();
}

/** A reload's verdict: the new configuration, or why it was refused, in one line. */
export function readReload(
  load: () => ResolvedConfig,
  current: ResolvedConfig,
): { config: ResolvedConfig; changes: string[] } | { reason: string } {
  let next: ResolvedConfig;
  try {
    next = load();
  } catch (err) {
    if (err instanceof ConfigError) return { reason: `${err.file}: ${err.problems.join('; ')}` };
    return { reason: (err as Error).message };
  }
  const problem = reloadProblem(current, next);
  return problem ? { reason: problem } : { config: next, changes: changedSections(current, next) };
}
