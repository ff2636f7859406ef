// What the shell gathers for a tick before the selector decides it: the machine's load and free
// memory, the external signals file, the claim keys held right now, and the external selector's
// verdict. They travel inside the TICK event, so the journal holds them and a replay decides
// exactly the same. Nothing here throws for a bad file or a broken program: each failure becomes
// a reason inside the inputs, and the decision records what it did about it.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import { runSelectorCommand, selectorEnv } from '../adapters/selector/command.js';
import type { Store } from '../ports/store.js';
import { expandTemplate } from '../config/template.js';
import type { ResolvedConfig } from '../config/types.js';
import type { TickInputs } from '../policy/plan-tick.js';
import type { ResourceReading } from '../policy/resource-gate.js';
import { interpretSelectorRun } from '../policy/selector-contract.js';
import { isLaneKey, laneKey } from '../policy/task-tiers.js';

export interface GatherDeps {
  config: ResolvedConfig;
  /** null when there is no store yet (`plan` before the first run): nothing is held. */
  store: Store | null;
  /** Called with the reason when the external selector broke its contract (journal, log). */
  onViolation?: (reason: string, durationMs: number) => void;
  /** /proc/meminfo, replaceable in tests. */
  meminfoPath?: string;
}

export async function gatherTickInputs(deps: GatherDeps): Promise<TickInputs> {
  const { config } = deps;
  const [resources, signals, blocked, external] = await Promise.all([
    config.resources.enabled ? readResources(deps.meminfoPath ?? '/proc/meminfo') : Promise.resolve(null),
    config.selector.signals
      ? readSignals(
          config.selector.signals.file,
          config.lanes.map((l) => l.name),
        )
      : Promise.resolve(null),
    deps.store ? heldKeys(deps.store, config) : Promise.resolve([]),
    config.selector.command ? externalVerdict(deps) : Promise.resolve(null),
  ]);
  return { resources, signals, blocked, external };
}

export async function readResources(meminfoPath: string): Promise<ResourceReading> {
  const [load1] = os.loadavg();
  const cores = os.availableParallelism();
  try {
    const text = await readFile(meminfoPath, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    const total = kb('MemTotal');
    const available = kb('MemAvailable');
    if (!(total > 0) || !Number.isFinite(available))
      return { load1: load1 ?? null, cores, memAvailable: null, error: `${meminfoPath} has no MemTotal/MemAvailable` };
    return { load1: load1 ?? null, cores, memAvailable: Number((available / total).toFixed(4)) };
  } catch (err) {
    return { load1: load1 ?? null, cores, memAvailable: null, error: `${meminfoPath}: ${(err as Error).message}` };
  }
}

const signalsSchema = z.record(z.string(), z.number().min(-1).max(1));

/** The signals file: a JSON object of lane → number in [-1, 1]. Lanes it does not name get 0. */
export async function readSignals(file: string, lanes: readonly string[]): Promise<NonNullable<TickInputs['signals']>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return {
      error: `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { error: `${file}: invalid JSON: ${(err as Error).message}` };
  }
  const parsed = signalsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      error: `${file}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message} (expected {"lane": number from -1 to 1, …})`,
    };
  }
  const unknown = Object.keys(parsed.data).filter((k) => !lanes.includes(k));
  if (unknown.length)
    return {
      error: `${file}: unknown lane${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${lanes.join(', ')})`,
    };
  return { values: parsed.data };
}

/**
 * Keys claimed by anyone (tasks, issues, …) or already completed, and lane keys whose every slot is
 * held. A completed key stays denied until reopened, so offering its task again would only buy a
 * denial on every tick.
 */
async function heldKeys(store: Store, config: ResolvedConfig): Promise<string[]> {
  const rows = await store.claims.list({ completed: true });
  const held = new Map<string, number>();
  for (const c of rows) if (c.state === 'claimed') held.set(c.key, (held.get(c.key) ?? 0) + 1);
  const out: string[] = rows.filter((c) => c.state === 'completed').map((c) => c.key);
  for (const [key, n] of held) {
    if (!isLaneKey(key)) out.push(key);
    else {
      const lane = config.lanes.find((l) => laneKey(l.name) === key);
      if (lane && n >= lane.concurrency) out.push(key);
    }
  }
  return [...new Set(out)].sort();
}

async function externalVerdict(deps: GatherDeps): Promise<NonNullable<TickInputs['external']>> {
  const { config } = deps;
  const lanes = config.lanes.map((l) => l.name);
  const argv = config.selector.command!.map((part) =>
    expandTemplate(part, { node: process.execPath, state: config.stateDir }),
  );
  const run = await runSelectorCommand(argv, {
    timeoutMs: config.selector.timeoutMs,
    env: selectorEnv(lanes, config.width),
  });
  const verdict = interpretSelectorRun(run, lanes, config.selector.allowlist);
  if (!verdict.ok) {
    deps.onViolation?.(verdict.reason, run.durationMs);
    return { ok: false, reason: verdict.reason };
  }
  // Only what the decision uses is journaled: the order with its reasons, and the task.
  return { ok: true, order: verdict.order, task: verdict.task, ignored: verdict.ignored };
}
