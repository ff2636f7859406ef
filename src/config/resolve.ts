// Turns parsed YAML into a ResolvedConfig: checks what zod cannot see alone (cross references,
// duplicate names, shares that add up to more than 1), fills defaults and freezes the result.
import os from 'node:os';
import path from 'node:path';
import { configSchema, type RawConfig } from './schema.js';
import type { ArmConfig, ConfigEnv, LaneConfig, ResolvedConfig, ResourceGateConfig, SelectorConfig } from './types.js';
import { formatIssues, type Problem } from './problems.js';
import { resolveStoreUrl } from './store-url.js';

export const DEFAULT_PROMPT =
  'You are an autonomous agent working on the {lane} lane. Pick the most valuable next step, do it, and commit your work.';

export interface ResolveOptions {
  source: string;
  env: ConfigEnv;
  /** --state from the command line: beats LANEKEEPER_STATE, which beats state_dir in the file. */
  stateDir?: string | undefined;
}

export type ResolveResult = { ok: true; config: ResolvedConfig } | { ok: false; problems: Problem[] };

export function resolveConfig(data: unknown, opts: ResolveOptions): ResolveResult {
  const parsed = configSchema.safeParse(data ?? {}, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: formatIssues(parsed.error.issues) };
  const raw = parsed.data;
  const problems = crossCheck(raw);
  const store = resolveStoreUrl(raw.store, opts.env);
  if ('problem' in store) problems.push({ path: ['store'], message: store.problem });
  const host = opts.env.LANEKEEPER_HOST || raw.host || os.hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(host))
    problems.push({
      path: ['host'],
      message: `${opts.env.LANEKEEPER_HOST ? 'LANEKEEPER_HOST (which overrides host)' : 'the host id'} ${JSON.stringify(host)}: letters, digits, '.', '_' and '-' only`,
    });
  if (problems.length) return { ok: false, problems };

  const arms = resolveArms(raw.backends, opts.env);
  const lanes = resolveLanes(raw.lanes, arms, opts.env);
  const config: ResolvedConfig = {
    source: opts.source,
    demo: raw.demo,
    stateDir: resolveStateDir(raw.state_dir, opts),
    store: 'url' in store ? store.url : null,
    host,
    width: raw.width,
    checkpointEvery: raw.checkpoint_every,
    schedule: {
      intervalMs: raw.schedule.interval,
      jitterMs: raw.schedule.jitter,
      tickOnStart: raw.schedule.tick_on_start,
    },
    sessions: {
      killGraceMs: raw.sessions.kill_grace,
      drainGraceMs: raw.sessions.drain_grace,
      onRestart: raw.sessions.on_restart,
    },
    claims: { laneTtlMs: raw.claims.lane_ttl, sweepEveryMs: raw.claims.sweep_every },
    hooks: { beforeSession: raw.hooks.before_session ?? null, timeoutMs: raw.hooks.timeout, waitMs: raw.hooks.wait },
    selector: resolveSelector(raw.selector, opts),
    resources: resolveResources(raw.resources),
    grading: {
      command: raw.grading.command ?? null,
      timeoutMs: raw.grading.timeout,
      weights: raw.grading.weights ?? null,
    },
    tasks: raw.tasks ? { dir: besideConfig(raw.tasks.dir, opts) } : null,
    journal: {
      keepMs: raw.journal.keep,
      archiveDir: raw.journal.archive_dir ? besideConfig(raw.journal.archive_dir, opts) : null,
    },
    lanes,
    arms,
  };
  return { ok: true, config: deepFreeze(config) };
}

/** One arm per model of each backend: `backend:model`, with the backend's settings. */
function resolveArms(backends: RawConfig['backends'], env: ConfigEnv): ArmConfig[] {
  return backends.flatMap((b) =>
    b.models.map((m) => ({
      id: `${b.name}:${m.name}`,
      backend: b.name,
      model: m.name,
      command: b.command,
      env: b.env,
      cwd: b.cwd ? expandHome(b.cwd, env) : null,
      tier: m.tier ?? b.tier,
      cost: m.cost ?? b.cost,
      replaces: m.replaces ? `${b.name}:${m.replaces}` : null,
      quota: b.quota
        ? {
            command: b.quota.command,
            everyMs: b.quota.every,
            timeoutMs: b.quota.timeout,
            shortTimeoutMs: b.quota.short_timeout,
          }
        : null,
      restAfterFailureMs: b.rest_after_failure,
    })),
  );
}

/** The lanes, each on every arm unless it names its own. */
function resolveLanes(lanes: RawConfig['lanes'], arms: readonly ArmConfig[], env: ConfigEnv): LaneConfig[] {
  return lanes.map((l) => ({
    name: l.name,
    enabled: l.enabled,
    concurrency: l.concurrency,
    cooldownMs: l.cooldown,
    respawnThreshold: l.respawn.threshold,
    chainLimit: l.respawn.chain_limit,
    timeoutMs: l.timeout,
    targetShare: l.target_share ?? null,
    parallel: l.parallel,
    arms: l.arms ?? arms.map((a) => a.id),
    minTier: l.min_tier ?? null,
    maxTier: l.max_tier ?? null,
    prefer: l.prefer ?? null,
    prompt: l.prompt ?? DEFAULT_PROMPT,
    cwd: l.cwd ? expandHome(l.cwd, env) : null,
    lockFile: l.lock_file ? expandHome(l.lock_file, env) : null,
  }));
}

export function resolveSelector(
  s: RawConfig['selector'],
  opts: Pick<ResolveOptions, 'source' | 'env'>,
): SelectorConfig {
  return {
    model: s.model,
    forgetting: {
      ...(s.forgetting.per_pull === undefined ? {} : { pullDecay: s.forgetting.per_pull }),
      ...(s.forgetting.idle === undefined ? {} : { idleDecay: s.forgetting.idle }),
      ...(s.forgetting.stale_after === undefined
        ? {}
        : { staleAfter: s.forgetting.stale_after === 'never' ? null : s.forgetting.stale_after }),
      ...(s.forgetting.detector === undefined ? {} : { detector: s.forgetting.detector }),
    },
    shareWeight: s.share_weight,
    monotony: s.monotony,
    neglect: {
      share: s.neglect.share,
      windowMs: s.neglect.window,
      minSessions: s.neglect.min_sessions,
      bonus: s.neglect.bonus,
    },
    signals: s.signals ? { file: besideConfig(s.signals.file, opts), weight: s.signals.weight } : null,
    command: s.command ?? null,
    timeoutMs: s.timeout,
    allowlist: s.allowlist,
    fill: s.fill,
  };
}

export function resolveResources(r: RawConfig['resources']): ResourceGateConfig {
  return {
    enabled: r.enabled,
    skipLoad: r.skip_load,
    width1Load: r.width1_load,
    width2Load: r.width2_load,
    minMemory: r.min_memory,
  };
}

function crossCheck(raw: RawConfig): Problem[] {
  return [...duplicateNames(raw), ...laneProblems(raw), ...fleetProblems(raw)];
}

/** Lanes, backends and a backend's models are named once each; a model does not replace itself. */
function duplicateNames(raw: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  raw.lanes.forEach((l, i) => {
    const first = seen.get(l.name);
    if (first !== undefined)
      problems.push({ path: ['lanes', i, 'name'], message: `duplicate lane "${l.name}" (also lanes[${first}])` });
    else seen.set(l.name, i);
  });
  const backends = new Map<string, number>();
  raw.backends.forEach((b, i) => {
    const first = backends.get(b.name);
    if (first !== undefined)
      problems.push({
        path: ['backends', i, 'name'],
        message: `duplicate backend "${b.name}" (also backends[${first}])`,
      });
    else backends.set(b.name, i);
    const models = new Set<string>();
    b.models.forEach((m, j) => {
      if (m.replaces === m.name)
        problems.push({
          path: ['backends', i, 'models', j, 'replaces'],
          message: `a model cannot replace itself ("${m.name}")`,
        });
      if (models.has(m.name))
        problems.push({
          path: ['backends', i, 'models', j, 'name'],
          message: `duplicate model "${m.name}" in backend "${b.name}"`,
        });
      models.add(m.name);
    });
  });
  return problems;
}

/** Each lane's arms exist, its tier bounds leave it an arm, and a lock file goes with one slot. */
function laneProblems(raw: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const armIds = raw.backends.flatMap((b) => b.models.map((m) => `${b.name}:${m.name}`));
  raw.lanes.forEach((l, i) =>
    l.arms?.forEach((a, j) => {
      if (!armIds.includes(a)) {
        problems.push({ path: ['lanes', i, 'arms', j], message: `unknown arm "${a}" (known: ${armIds.join(', ')})` });
      }
    }),
  );
  raw.lanes.forEach((l, i) => {
    if (l.min_tier !== undefined && l.max_tier !== undefined && l.min_tier > l.max_tier) {
      problems.push({
        path: ['lanes', i, 'min_tier'],
        message: `min_tier ${l.min_tier} is above max_tier ${l.max_tier}: no arm could run this lane`,
      });
    }
    // flock is exclusive: a second slot could never take the file the first one holds.
    if (l.lock_file && l.concurrency > 1)
      problems.push({
        path: ['lanes', i, 'lock_file'],
        message: `a lock_file allows one session at a time; this lane has concurrency ${l.concurrency}`,
      });
    const noArm = tierProblem(l, raw.backends);
    if (noArm)
      problems.push({ path: ['lanes', i, l.min_tier !== undefined ? 'min_tier' : 'max_tier'], message: noArm });
  });
  return problems;
}

/** What holds across lanes: shares, one lane enabled, the allowlist, grade weights, load thresholds. */
function fleetProblems(raw: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const shares = raw.lanes.reduce((sum, l) => sum + (l.target_share ?? 0), 0);
  if (shares > 1 + 1e-9) {
    problems.push({
      path: ['lanes'],
      message: `target shares add up to ${Number(shares.toFixed(3))}; together they must not exceed 1`,
    });
  }
  if (!raw.lanes.some((l) => l.enabled ?? true))
    problems.push({ path: ['lanes'], message: 'every lane is disabled; enable at least one' });
  const laneNames = raw.lanes.map((l) => l.name);
  raw.selector.allowlist.forEach((a, i) => {
    if (!laneNames.includes(a))
      problems.push({
        path: ['selector', 'allowlist', i],
        message: `unknown lane "${a}" (known: ${laneNames.join(', ')})`,
      });
    else if (raw.selector.allowlist.indexOf(a) !== i)
      problems.push({ path: ['selector', 'allowlist', i], message: `"${a}" is listed twice` });
  });
  const weights = raw.grading.weights;
  if (weights && Object.keys(weights).length > 0 && !Object.values(weights).some((w) => w > 0)) {
    problems.push({ path: ['grading', 'weights'], message: 'every weight is 0: at least one dimension must count' });
  }
  const r = raw.resources;
  if (!(r.width2_load <= r.width1_load && r.width1_load <= r.skip_load)) {
    problems.push({
      path: ['resources'],
      message: `load thresholds must rise: width2_load (${r.width2_load}) ≤ width1_load (${r.width1_load}) ≤ skip_load (${r.skip_load})`,
    });
  }
  return problems;
}

/**
 * A lane whose tier bounds leave none of its arms: no session of it could ever start, whatever
 * quotas say later (policy/arms.ts applies the same bounds before anything that may change).
 * null when some arm fits, or when another problem already explains the lane (bounds the wrong
 * way round, only unknown arms).
 */
function tierProblem(l: RawConfig['lanes'][number], backends: RawConfig['backends']): string | null {
  if (l.min_tier === undefined && l.max_tier === undefined) return null;
  if (l.min_tier !== undefined && l.max_tier !== undefined && l.min_tier > l.max_tier) return null;
  const all = backends.flatMap((b) => b.models.map((m) => ({ id: `${b.name}:${m.name}`, tier: m.tier ?? b.tier })));
  const mine = l.arms ? all.filter((a) => l.arms!.includes(a.id)) : all;
  if (!mine.length) return null;
  const fits = (tier: number) =>
    (l.min_tier === undefined || tier >= l.min_tier) && (l.max_tier === undefined || tier <= l.max_tier);
  if (mine.some((a) => fits(a.tier))) return null;
  const bounds = [
    l.min_tier !== undefined ? `min_tier ${l.min_tier}` : '',
    l.max_tier !== undefined ? `max_tier ${l.max_tier}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return `no arm meets ${bounds} (${l.arms ? 'its arms' : 'the arms'}: ${mine.map((a) => `${a.id} tier ${a.tier}`).join(', ')}): no session of this lane could ever start`;
}

/** A path from the file, relative to the file's own directory (the working directory for the demo). */
function besideConfig(p: string, opts: Pick<ResolveOptions, 'source' | 'env'>): string {
  const expanded = expandHome(p, opts.env);
  return opts.source.startsWith('<')
    ? path.resolve(expanded)
    : path.resolve(path.dirname(path.resolve(opts.source)), expanded);
}

function resolveStateDir(fromFile: string | undefined, opts: ResolveOptions): string {
  const chosen = opts.stateDir ?? opts.env.LANEKEEPER_STATE ?? (fromFile ? expandHome(fromFile, opts.env) : undefined);
  return chosen ? path.resolve(chosen) : defaultStateDir(opts.env);
}

/** $XDG_STATE_HOME/lanekeeper, or ~/.local/state/lanekeeper. */
export function defaultStateDir(env: ConfigEnv): string {
  return path.join(env.XDG_STATE_HOME || path.join(env.HOME ?? '/tmp', '.local', 'state'), 'lanekeeper');
}

export function expandHome(p: string, env: ConfigEnv): string {
  if (p === '~' || p.startsWith('~/')) return path.join(env.HOME ?? '/', p.slice(1));
  return p;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
