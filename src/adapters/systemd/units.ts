// lanekeeper's systemd user units as pure functions of an options object: the long-running
// lanekeeper.service, and lanekeeper-tick.timer + lanekeeper-tick.service as the timer-driven
// alternative (`run --once` every 30 minutes). `lanekeeper systemd print|install` renders them with
// the real paths of this installation; the files committed in systemd/ are the same templates
// rendered with DEFAULT_UNIT_OPTIONS (a test keeps them equal).
//
// Quoting follows systemd's own rules (systemd.service(5) "Command lines", systemd.exec(5)
// Environment=): a word with anything but plain path characters goes in double quotes, with `\` and
// `"` backslash-escaped; `%` is doubled everywhere (specifiers); `$` is doubled in arguments
// (variable expansion) but not in the executable's path, which systemd neither expands nor lets
// contain quotes, backslashes or control characters.

/**
 * A path as a unit names it: an absolute path, or `{ home: 'rel/path' }` for a path under the
 * user's home, written with the `%h` specifier (portable across users; used by the defaults).
 */
export type UnitPath = string | { readonly home: string };

export interface UnitOptions {
  /** The node binary (process.execPath when installing). */
  readonly node: UnitPath;
  /** lanekeeper's dist/cli/main.js. */
  readonly cli: UnitPath;
  /** The configuration file, absolute. */
  readonly config: UnitPath;
  /** The state directory, absolute; given to the units as LANEKEEPER_STATE. */
  readonly stateDir: UnitPath;
  /** sessions.drain_grace and sessions.kill_grace of the configuration, in ms. */
  readonly drainGraceMs: number;
  readonly killGraceMs: number;
}

export const SERVICE_UNIT = 'lanekeeper.service';
export const TICK_SERVICE_UNIT = 'lanekeeper-tick.service';
export const TICK_TIMER_UNIT = 'lanekeeper-tick.timer';

/** After the drain and the kill grace, time to release claims and close the journal and database. */
export const STOP_MARGIN_MS = 30_000;

/**
 * A typical per-user setup with npm's global prefix at /usr (Debian/NodeSource node), the
 * configuration in ~/.config/lanekeeper and the default state directory; the graces are the
 * schema's defaults. These render the files committed in systemd/.
 */
export const DEFAULT_UNIT_OPTIONS: UnitOptions = {
  node: '/usr/bin/node',
  cli: '/usr/lib/node_modules/lanekeeper/dist/cli/main.js',
  config: { home: '.config/lanekeeper/lanekeeper.yaml' },
  stateDir: { home: '.local/state/lanekeeper' },
  drainGraceMs: 5 * 60_000,
  killGraceMs: 30_000,
};

export interface RenderedUnit {
  readonly name: string;
  readonly text: string;
}

/** The three units, in the order they are printed and installed. */
export function renderUnits(opts: UnitOptions): RenderedUnit[] {
  const problems = unitPathProblems(opts);
  if (problems.length) throw new Error(`cannot write systemd units: ${problems.join('; ')}`);
  return [
    { name: SERVICE_UNIT, text: serviceUnit(opts) },
    { name: TICK_SERVICE_UNIT, text: tickServiceUnit(opts) },
    { name: TICK_TIMER_UNIT, text: tickTimerUnit() },
  ];
}

/** Paths that no unit file can hold, each with the reason; empty when all can be written. */
export function unitPathProblems(opts: UnitOptions): string[] {
  const problems: string[] = [];
  const check = (what: string, p: UnitPath, executable: boolean) => {
    const text = typeof p === 'string' ? p : p.home;
    if (typeof p === 'string' && !p.startsWith('/'))
      problems.push(`${what} must be an absolute path, got ${JSON.stringify(p)}`);
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(text))
      problems.push(
        `${what} ${JSON.stringify(text)} contains a control character (a newline?), which a unit file cannot hold`,
      );
    else if (executable && /["'\\]/.test(text))
      problems.push(
        `${what} ${JSON.stringify(text)} contains a quote or a backslash, which systemd does not allow in an executable's path (link it from a plain path)`,
      );
  };
  check('the node binary', opts.node, true);
  check("lanekeeper's CLI", opts.cli, false);
  check('the configuration file', opts.config, false);
  check('the state directory', opts.stateDir, false);
  return problems;
}

function serviceUnit(o: UnitOptions): string {
  return `# lanekeeper as a long-running systemd user service. Start it with
#   systemctl --user daemon-reload && systemctl --user enable --now lanekeeper.service
# Run this or lanekeeper-tick.timer, not both: they share one state directory.
[Unit]
Description=lanekeeper: scheduler for autonomous agent sessions

[Service]
Type=exec
ExecStart=${execLine(o, ['run', '--config', o.config])}
# systemctl --user reload lanekeeper: the config is read again (an edit of the file does the same);
# a valid one applies without touching running sessions, an invalid one is refused with the reason.
ExecReload=/bin/kill -HUP $MAINPID
${stateEnvironment(o)}
# Agents' commands are looked up on the user manager's PATH; widen it if they live elsewhere.
# Environment=PATH=%h/.local/bin:/usr/local/bin:/usr/bin:/bin
# Environment=LANEKEEPER_LOG_LEVEL=debug
${stopSettings(o)}
Restart=on-failure
RestartSec=30s
# 75: nothing could start (a correct refusal, not a failure).
SuccessExitStatus=75
# 2: bad usage or configuration; restarting will not help. Fix it, then restart the unit.
RestartPreventExitStatus=2
# Caps for lanekeeper and every agent it starts (they share this unit's control group):
# MemoryMax=8G
# CPUQuota=80%

[Install]
WantedBy=default.target
`;
}

function tickServiceUnit(o: UnitOptions): string {
  return `# One lanekeeper tick (run --once), started by lanekeeper-tick.timer: the timer-driven
# alternative to lanekeeper.service. It ends when the sessions it started have ended; a timer
# event that comes while it still runs starts nothing new.
[Unit]
Description=lanekeeper: one scheduling tick

[Service]
# A oneshot has no start timeout, so sessions may run for as long as their lanes allow.
Type=oneshot
ExecStart=${execLine(o, ['run', '--once', '--config', o.config])}
${stateEnvironment(o)}
# Environment=PATH=%h/.local/bin:/usr/local/bin:/usr/bin:/bin
${stopSettings(o)}
# 75: every lane it picked was busy; 76: every backend exhausted. Correct refusals, not failures.
SuccessExitStatus=75 76
# MemoryMax=8G
# CPUQuota=80%
`;
}

function tickTimerUnit(): string {
  return `# Starts lanekeeper-tick.service every 30 minutes, at a random moment within 5 minutes of the
# hour and the half hour; a tick missed while the machine was off runs at the next boot.
#   systemctl --user daemon-reload && systemctl --user enable --now lanekeeper-tick.timer
[Unit]
Description=lanekeeper: a scheduling tick every 30 minutes

[Timer]
OnCalendar=*-*-* *:00/30:00
RandomizedDelaySec=5min
Persistent=true

[Install]
WantedBy=timers.target
`;
}

function stopSettings(o: UnitOptions): string {
  return `# On stop, systemd sends SIGTERM to lanekeeper and to every agent in this unit (control-group).
# lanekeeper drains: no new sessions; agents still running get drain_grace (${timespan(o.drainGraceMs)}), then
# SIGTERM to their process groups and, kill_grace (${timespan(o.killGraceMs)}) later, SIGKILL. The stop timeout
# covers both and ${timespan(STOP_MARGIN_MS)} to release claims and close the database; then SIGKILL to all.
KillMode=control-group
KillSignal=SIGTERM
TimeoutStopSec=${timespan(stopTimeoutMs(o))}`;
}

/** drain_grace + kill_grace + the margin. */
export function stopTimeoutMs(o: Pick<UnitOptions, 'drainGraceMs' | 'killGraceMs'>): number {
  return o.drainGraceMs + o.killGraceMs + STOP_MARGIN_MS;
}

function stateEnvironment(o: UnitOptions): string {
  return `Environment=${environmentWord('LANEKEEPER_STATE', o.stateDir)}`;
}

function execLine(o: UnitOptions, args: readonly UnitPath[]): string {
  return [executableWord(o.node), argumentWord(o.cli), ...args.map(argumentWord)].join(' ');
}

const PLAIN = /^[A-Za-z0-9_@+=:,./-]+$/;

/** The executable: `%` doubled, `$` kept (systemd does not expand variables in it). */
function executableWord(p: UnitPath): string {
  return quoted(p, (s) => s.replaceAll('%', '%%'));
}

/** An argument: `%` and `$` doubled, so neither a specifier nor a variable is expanded. */
function argumentWord(p: UnitPath): string {
  return quoted(p, (s) => s.replaceAll('%', '%%').replaceAll('$', '$$$$'));
}

/** One Environment= assignment; systemd unquotes it, then expands specifiers (not variables). */
function environmentWord(name: string, p: UnitPath): string {
  return quoted(typeof p === 'string' ? `${name}=${p}` : p, (s) => s.replaceAll('%', '%%'), `${name}=`);
}

/**
 * Escapes a word for systemd and puts it in double quotes unless it is plain. A home path is
 * always quoted (`%h` may expand to a path with spaces) and goes after `homePrefix` (`NAME=`).
 */
function quoted(p: UnitPath, escape: (s: string) => string, homePrefix = ''): string {
  const raw = typeof p === 'string' ? p : p.home;
  const escaped = escape(raw);
  if (typeof p === 'string' && PLAIN.test(raw)) return escaped;
  const body = typeof p === 'string' ? escaped : `${homePrefix}%h/${escaped}`;
  return `"${body.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A systemd time span ("6min", "5min 45s"), rounded up to whole seconds. */
export function timespan(ms: number): string {
  let s = Math.ceil(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3600],
    ['min', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join(' ');
}
