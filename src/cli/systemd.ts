// lanekeeper systemd print [--out DIR] [--config F] [--state DIR]
// lanekeeper systemd install [--user] [--config F] [--state DIR] [--force]
// Renders the units of src/adapters/systemd/units.ts with this installation's real paths: the node
// running this command, this package's dist/cli/main.js, the configuration file (which must load:
// a bad one is exit 2 with its problems, as in validate) and the state directory it resolves to.
// install writes them where the user manager looks and says what to run next; it does not run
// systemctl itself (there may be no user bus here, e.g. over sudo or in a container).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  renderUnits,
  SERVICE_UNIT,
  TICK_TIMER_UNIT,
  unitPathProblems,
  type RenderedUnit,
  type UnitOptions,
} from '../adapters/systemd/units.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { out } from './io.js';

export interface SystemdOptions {
  config?: string;
  state?: string;
}

/** This installation's units; throws ConfigError for a configuration that does not load. */
function installedUnits(opts: SystemdOptions): RenderedUnit[] {
  const config = loadConfig({ file: opts.config, stateDir: opts.state, env: process.env });
  const unit: UnitOptions = {
    node: process.execPath,
    // This file is dist/cli/systemd.js; the entry point sits beside it.
    cli: fileURLToPath(new URL('./main.js', import.meta.url)),
    config: path.resolve(opts.config ?? DEFAULT_CONFIG_FILE),
    stateDir: config.stateDir,
    drainGraceMs: config.sessions.drainGraceMs,
    killGraceMs: config.sessions.killGraceMs,
  };
  const problems = unitPathProblems(unit);
  if (problems.length) throw new UsageError(`cannot write systemd units: ${problems.join('; ')}`);
  return renderUnits(unit);
}

export function systemdPrintCommand(opts: SystemdOptions & { out?: string }): void {
  const units = installedUnits(opts);
  if (opts.out === undefined) {
    process.stdout.write(units.map((u) => `# ===== ${u.name} =====\n${u.text}`).join('\n'));
    return;
  }
  const dir = path.resolve(opts.out);
  for (const u of units) out(`wrote ${writeUnit(dir, u)}`);
}

export function systemdInstallCommand(opts: SystemdOptions & { user?: boolean; force?: boolean }): void {
  const units = installedUnits(opts);
  const dir = userUnitDir(process.env);
  const changed = units.filter((u) => {
    const file = path.join(dir, u.name);
    return existsSync(file) && readFileSync(file, 'utf8') !== u.text;
  });
  if (changed.length && !opts.force) {
    throw new UsageError(
      `${changed.map((u) => path.join(dir, u.name)).join(', ')} already exist${changed.length === 1 ? 's' : ''} with other content; pass --force to overwrite (compare with "lanekeeper systemd print")`,
    );
  }
  for (const u of units) {
    const file = path.join(dir, u.name);
    if (existsSync(file) && readFileSync(file, 'utf8') === u.text) out(`unchanged ${file}`);
    else out(`wrote ${writeUnit(dir, u)}`);
  }
  out(
    [
      'Next, reload the user manager and enable one of the two (they share the state directory):',
      '  systemctl --user daemon-reload',
      `  systemctl --user enable --now ${SERVICE_UNIT}      # the long-running scheduler, or`,
      `  systemctl --user enable --now ${TICK_TIMER_UNIT}  # a tick every 30 minutes instead`,
      'To keep it running while you are logged out:',
      '  loginctl enable-linger "$USER"',
    ].join('\n'),
  );
}

/** $XDG_CONFIG_HOME/systemd/user (an absolute XDG_CONFIG_HOME only, as the spec says), else ~/.config/systemd/user. */
export function userUnitDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'systemd', 'user');
  if (!env.HOME)
    throw new UsageError('neither XDG_CONFIG_HOME nor HOME is set, so there is no user unit directory to install into');
  return path.join(env.HOME, '.config', 'systemd', 'user');
}

/** Writes through a temporary file and a rename, so the manager never reads half a unit. */
function writeUnit(dir: string, u: RenderedUnit): string {
  const file = path.join(dir, u.name);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.tmp`, u.text);
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    throw new UsageError(`cannot write ${file}: ${(e as Error).message}`);
  }
  return file;
}
