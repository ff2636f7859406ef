// lanekeeper simulate [--env NAME|FILE] [--policy LIST] [--sessions N] [--seeds K] [--json]
import { readFileSync } from 'node:fs';
import { formatPath } from '../config/problems.js';
import { UsageError } from '../errors.js';
import { plural } from '../format/event.js';
import { renderTable } from '../format/table.js';
import {
  BUILTIN_ENVIRONMENTS,
  builtinEnvironment,
  environmentFileSchema,
  type Environment,
} from '../sim/environments.js';
import { POLICIES, type PolicyId } from '../sim/policies.js';
import { simulate, type SimResult } from '../sim/simulate.js';
import { out } from './io.js';

export interface SimulateOptions {
  env?: string;
  policy?: string;
  sessions: number;
  seeds: number;
  json?: boolean;
}

export function simulateCommand(opts: SimulateOptions): void {
  const policies = (opts.policy ?? POLICIES.join(','))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of policies) {
    if (!(POLICIES as readonly string[]).includes(p))
      throw new UsageError(`--policy: unknown policy "${p}" (known: ${POLICIES.join(', ')})`);
  }
  const envs = opts.env
    ? [loadEnvironment(opts.env, opts.sessions)]
    : BUILTIN_ENVIRONMENTS.map((id) => builtinEnvironment(id, opts.sessions)!);
  const results: SimResult[] = envs.flatMap((env) => simulate(env, policies as PolicyId[], opts.sessions, opts.seeds));
  if (opts.json) {
    out(JSON.stringify({ results }));
    return;
  }
  for (const env of envs) {
    const rows = results.filter((r) => r.env === env.id);
    const change = rows.some((r) => r.t50 !== undefined);
    out(`\n${env.id}: ${env.description} — ${rows[0]!.sessions} sessions × ${opts.seeds} seeds`);
    out(
      renderTable(
        [
          ['policy', 'mean grade', 'regret', '±95%', ...(change ? ['after change', 't50'] : [])],
          ...rows.map((r) => [
            r.policy,
            r.mean_grade.toFixed(3),
            r.regret.toFixed(1),
            r.regret_ci95.toFixed(1),
            ...(change
              ? [
                  String(r.regret_after_change?.toFixed(1)),
                  r.t50 === null || r.t50 === undefined
                    ? 'never'
                    : `${r.t50}${r.t50_reached! < 1 ? ` (${Math.round(r.t50_reached! * 100)}% of seeds)` : ''}`,
                ]
              : []),
          ]),
        ],
        { rule: true },
      ),
    );
  }
}

function loadEnvironment(spec: string, sessions: number): Environment {
  const builtin = builtinEnvironment(spec, Math.ceil(sessions));
  if (builtin) return builtin;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UsageError(
        `--env: "${spec}" is neither a built-in environment (${BUILTIN_ENVIRONMENTS.join(', ')}) nor a file`,
      );
    throw new UsageError(`--env ${spec}: ${code ? (e as Error).message : `not JSON (${(e as Error).message})`}`);
  }
  const parsed = environmentFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--env ${spec}: ${formatPath(issue.path as (string | number)[])}: ${issue.message}`);
  }
  const env = parsed.data;
  const k = env.lanes.length;
  for (const [i, c] of [...env.changes, ...env.droughts].entries()) {
    if (c.lane >= k)
      throw new UsageError(
        `--env ${spec}: change or drought ${i} names lane ${c.lane}, but there ${k === 1 ? 'is only 1 lane (0)' : `are only ${k} lanes (0–${k - 1})`}`,
      );
  }
  if (env.width > k) throw new UsageError(`--env ${spec}: width ${env.width} is more than the ${plural(k, 'lane')}`);
  return {
    id: spec,
    description: env.description ?? 'from a file',
    width: env.width,
    lanes: env.lanes,
    changes: env.changes,
    droughts: env.droughts,
  };
}
