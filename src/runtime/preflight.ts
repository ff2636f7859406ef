// What would fail at run time on this machine, found before a run (`lanekeeper validate`): a
// command that is not there, a working directory that is missing, a lock_file another process
// holds now, task files that cannot be used. These depend on the machine and the moment, not on
// the file, so they are warnings; what can never work is a configuration error (config/resolve.ts).
// Each check looks the way the run would: the same paths (state directory, placeholders), the
// runner's words, readTasks' problems, the kernel's lock table. Nothing is started, locked or written.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { flockHeld } from '../adapters/flock/held.js';
import { checkCwd } from '../adapters/process/runner.js';
import { commandProblem } from '../adapters/process/which.js';
import { readTasks } from '../adapters/tasks/read.js';
import { expandTemplate, type TemplateVars } from '../config/template.js';
import type { ArmConfig, LaneConfig, ResolvedConfig } from '../config/types.js';
import { demoRepoDir } from '../demo/prepare.js';

/** A warning about a key of the configuration (placed by its path), or about a task file. */
export type PreflightWarning = { path: (string | number)[]; message: string } | { file: string; message: string };

export interface PreflightOptions {
  /** The PATH sessions inherit (a backend's env may set its own). */
  PATH: string | undefined;
}

/** A placeholder left after expansion: known only once a session starts ({session_id}, {task_id}, …). */
const UNKNOWN = /\{[a-z_]+\}/;

export async function preflight(config: ResolvedConfig, opts: PreflightOptions): Promise<PreflightWarning[]> {
  const warnings: PreflightWarning[] = [];
  const add = (w: PreflightWarning) => {
    // One line per key and problem, however many lanes share the backend.
    if (!warnings.some((x) => JSON.stringify(x) === JSON.stringify(w))) warnings.push(w);
  };
  const backendIndex = new Map<string, number>();
  for (const a of config.arms) if (!backendIndex.has(a.backend)) backendIndex.set(a.backend, backendIndex.size);

  // Helper programs (argv with {node} and {state}): a bare name on PATH, or an absolute path.
  const helper = (argv: readonly string[] | null, where: (string | number)[]) => {
    if (!argv?.length) return;
    const file = expandTemplate(argv[0]!, { node: process.execPath, state: config.stateDir });
    if (UNKNOWN.test(file) || (file.includes('/') && !path.isAbsolute(file))) return;
    const problem = commandProblem(file, config.stateDir, opts.PATH);
    if (problem) add({ path: where, message: problem });
  };
  helper(config.selector.command, ['selector', 'command', 0]);
  helper(config.grading.command, ['grading', 'command', 0]);
  helper(config.hooks.beforeSession, ['hooks', 'before_session', 0]);
  for (const a of config.arms)
    helper(a.quota?.command ?? null, ['backends', backendIndex.get(a.backend)!, 'quota', 'command', 0]);

  // Each lane on each arm it may run on: where its sessions would start, and with what.
  config.lanes.forEach((lane, li) => {
    if (!lane.enabled) return;
    for (const arm of config.arms.filter((a) => lane.arms.includes(a.id) && withinTiers(lane, a)))
      checkSession(config, lane, li, arm, backendIndex.get(arm.backend)!, opts, add);
  });

  for (const [li, lane] of config.lanes.entries()) {
    if (!lane.enabled || !lane.lockFile) continue;
    // As the run resolves it (runtime/effects.ts): {lane} and {state}, relative to the state directory.
    const file = path.resolve(
      config.stateDir,
      expandTemplate(lane.lockFile, { lane: lane.name, state: config.stateDir }),
    );
    const where = ['lanes', li, 'lock_file'];
    if (!existsSync(file)) {
      // flock makes the file, but not its directory.
      if (!existsSync(path.dirname(file)))
        add({
          path: where,
          message: `the directory of ${file} does not exist, so flock cannot make the lock file there`,
        });
      continue;
    }
    // Read from the kernel's lock table, not by taking the lock: a legacy `flock -n` loop that
    // wanted it at that moment would give up.
    const held = flockHeld(file);
    if (held.held)
      add({
        path: where,
        message: `${file} is held by another process now (flock): this lane cannot start while it is`,
      });
    else if (held.held === null) add({ path: where, message: `cannot tell whether ${file} is held: ${held.reason}` });
  }

  if (config.tasks) {
    const dir = config.tasks.dir;
    const snapshot = await readTasks(
      dir,
      config.lanes.map((l) => l.name),
    );
    for (const p of snapshot.problems) {
      // readTasks says "tasks.dir does not exist"; here the key is named by the path, and the directory by the message.
      if (p.file === dir) add({ path: ['tasks', 'dir'], message: p.message.replace(/^tasks\.dir\b/, dir) });
      else add({ file: p.file, message: p.message });
    }
  }
  return warnings;
}

function withinTiers(lane: LaneConfig, arm: ArmConfig): boolean {
  return (lane.minTier === null || arm.tier >= lane.minTier) && (lane.maxTier === null || arm.tier <= lane.maxTier);
}

/** The working directory (the lane's, else the backend's) and the agent command of one lane on one arm. */
function checkSession(
  config: ResolvedConfig,
  lane: LaneConfig,
  li: number,
  arm: ArmConfig,
  bi: number,
  opts: PreflightOptions,
  add: (w: PreflightWarning) => void,
): void {
  const vars: TemplateVars = {
    lane: lane.name,
    model: arm.model,
    backend: arm.backend,
    arm: arm.id,
    node: process.execPath,
    state: config.stateDir,
  };
  // No cwd: the state directory, which the run makes.
  let cwd = config.stateDir;
  let cwdKnown = true;
  const cwdText = lane.cwd ?? arm.cwd;
  if (cwdText !== null) {
    const expanded = expandTemplate(cwdText, vars);
    cwd = path.resolve(config.stateDir, expanded);
    if (UNKNOWN.test(expanded)) cwdKnown = false;
    // The demo's run makes its lanes' scratch repositories.
    else if (!(config.demo && cwd === demoRepoDir(config.stateDir, lane.name))) {
      const problem = checkCwd(cwd);
      if (problem) {
        add({ path: lane.cwd !== null ? ['lanes', li, 'cwd'] : ['backends', bi, 'cwd'], message: problem });
        cwdKnown = false;
      }
    }
  }
  const file = expandTemplate(arm.command[0]!, vars);
  // A relative path with a "/" is found from the working directory: only checked when that is known.
  if (UNKNOWN.test(file) || (file.includes('/') && !path.isAbsolute(file) && !cwdKnown)) return;
  const pathVar = arm.env.PATH !== undefined ? expandTemplate(arm.env.PATH, vars) : opts.PATH;
  const problem = commandProblem(file, cwd, pathVar);
  if (problem) add({ path: ['backends', bi, 'command', 0], message: problem });
}
