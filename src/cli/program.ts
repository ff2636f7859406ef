// lanekeeper's command line (all but the claim commands; see main.ts). Thin: parse, call, print.
// Each command's module is imported only when that command runs.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_INSPECT_HOST, DEFAULT_INSPECT_PORT } from '../adapters/inspect/defaults.js';
import { LOG_FORMATS, parseLogFormat, type LogFormat } from '../adapters/log/format.js';
import { checkDurationFlag, type DurationFlag } from '../config/duration.js';
import { isUserError, ConfigError, StoreBusyError, UsageError } from '../errors.js';
import { claimCommand } from './claims-help.js';
import { CLAIM_COMMANDS, type ClaimCommandName } from './claims-spec.js';
import { err, EXIT } from './io.js';

/**
 * A commander argument parser for a duration flag ("30s", "2h"), checked by the same rule as the
 * configuration key it overrides (config/duration.ts); a problem is a UsageError: one line, exit 2.
 */
function durationArg(flag: DurationFlag): (value: string) => number {
  return (value) => {
    const r = checkDurationFlag(flag, value);
    if ('problem' in r) throw new UsageError(r.problem);
    return r.ms;
  };
}

function logFormatArg(value: string): LogFormat {
  const r = parseLogFormat('--log-format', value);
  if ('problem' in r) throw new UsageError(r.problem);
  return r.format;
}

function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number of at least 1, got ${JSON.stringify(value)}`);
  return n;
}

function portArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new InvalidArgumentError(
      `expected a port from 0 to 65535 (0 picks a free one), got ${JSON.stringify(value)}`,
    );
  return n;
}

function seedArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 0xffffffff)
    throw new InvalidArgumentError(`expected a whole number from 0 to 4294967295, got ${JSON.stringify(value)}`);
  return n;
}

const program = new Command('lanekeeper')
  .description('Schedules autonomous agent sessions across work lanes.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const stateOption = () =>
  new Option(
    '--state <dir>',
    'state directory (default: $LANEKEEPER_STATE, the config, or $XDG_STATE_HOME/lanekeeper)',
  );
const configOption = () => new Option('-c, --config <file>', 'configuration file (default: ./lanekeeper.yaml)');

program
  .command('run')
  .description('run the scheduler until stopped (SIGINT/SIGTERM drain it)')
  .addOption(configOption())
  .addOption(stateOption())
  .option('--demo', 'run the embedded demo: six lanes, two simulated backends, a simulated agent')
  .option('--for <duration>', 'stop (drain) after this long, e.g. 90s', durationArg('--for'))
  .option('--tick <duration>', 'override schedule.interval (and drop the jitter), e.g. 5s', durationArg('--tick'))
  .option('--once', 'one tick, then exit when its sessions end: 0, or 75 (all busy), 76 (no backend)')
  .option('--operator', 'dispatch back to back (a decision as soon as a session is graded) until --sessions have run')
  .option('--sessions <n>', 'with --operator: how many sessions to run, then exit', positiveIntArg)
  .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port)', portArg)
  .option('--metrics-host <host>', 'with --metrics-port: the address to listen on (default: 127.0.0.1)')
  .option(
    '--inspect [port]',
    `send XState inspection events (Stately inspector format) on ws://HOST:PORT (port ${DEFAULT_INSPECT_PORT} unless given; 0: any free port)`,
    portArg,
  )
  .option('--inspect-host <host>', `with --inspect: the address to listen on (default: ${DEFAULT_INSPECT_HOST})`)
  .option(
    '--log-format <format>',
    `${LOG_FORMATS.join(' or ')}: log lines for people or for machines (default: $LANEKEEPER_LOG_FORMAT, else pretty on a terminal and JSON otherwise)`,
    logFormatArg,
  )
  .action(async (opts) => (await import('./run.js')).runCommand(opts));

program
  .command('validate')
  .description(
    'check a configuration: errors (exit 2), or "ok" with warnings about what would fail on this machine now',
  )
  .addOption(configOption())
  .addOption(stateOption())
  .option('--strict', 'refuse warnings too (exit 2)')
  .action(async (opts) => (await import('./validate.js')).validateCommand(opts));

program
  .command('init')
  .description('write a commented starter configuration')
  .option('--demo', "write the demo's own configuration")
  .option('--out <file>', 'where to write it ("-" for standard output)', 'lanekeeper.yaml')
  .option('--force', 'overwrite an existing file')
  .action(async (opts) => (await import('./init.js')).initCommand(opts));

program
  .command('status')
  .description('lanes, their states, the next tick, claims held, and recent sessions')
  .addOption(configOption())
  .addOption(stateOption())
  .option('--json', 'print JSON')
  .option('--limit <n>', 'sessions to show (JSON: 200, text: 8)', positiveIntArg)
  .option('--watch', 'redraw every --interval until Ctrl-C')
  .option('--interval <duration>', 'with --watch: time between redraws (default 2s)', durationArg('--interval'))
  .action(async (opts) => (await import('./status.js')).statusCommand(opts));

program
  .command('stats')
  .description('lock telemetry, ticks, outcomes and lane shares over a window')
  .addOption(configOption())
  .addOption(stateOption())
  .addOption(
    new Option('--since <duration>', 'the window, e.g. 2h')
      .argParser(durationArg('--since'))
      .default(24 * 3_600_000, '24h'),
  )
  .option('--json', 'print JSON')
  .action(async (opts) => (await import('./stats.js')).statsCommand(opts));

program
  .command('grade <session> <score>')
  .description('grade an ended session after the fact (0 to 1); it replaces its earlier grade in what was learned')
  .addOption(configOption())
  .addOption(stateOption())
  .option('--dimensions <json>', 'per-dimension grades, e.g. \'{"quality": 0.9}\'')
  .action(async (session: string, score: string, opts) =>
    (await import('./grade.js')).gradeCommand(session, score, opts),
  );

program
  .command('plan')
  .description('what a tick would do now and why (scores, skips, fallbacks), starting nothing')
  .addOption(configOption())
  .addOption(stateOption())
  .option('--seed <n>', 'the tick seed (default: random), to reproduce a plan', seedArg)
  .option('--json', 'print JSON')
  .action(async (opts) => (await import('./plan.js')).planCommand(opts));

program
  .command('inspect')
  .description(
    'serve the local view in a browser: lane state charts lit live, events, sessions, decisions, posteriors, claims; step through a journal',
  )
  .addOption(configOption())
  .addOption(stateOption())
  .option('--journal <file>', "step through this exported journal instead of the state directory's own")
  .option('--port <port>', 'the port to listen on (0: any free port)', portArg, 4180)
  .option('--host <host>', 'the address to listen on', '127.0.0.1')
  .action(async (opts) => (await import('./inspect.js')).inspectCommand(opts));

program
  .command('replay')
  .description(
    'fold the journal through the machines as they are now; exit 1 at the first divergence from what was recorded',
  )
  .addOption(configOption())
  .addOption(stateOption())
  .option('--journal <file>', 'replay an exported journal file instead of a state directory')
  .option('--until <seq>', 'stop after this seq and show the state there', positiveIntArg)
  .option('--from-start', 'begin at the first event, not at the nearest checkpoint')
  .option(
    '--jobs <n>',
    'replay a long journal in this many pieces at once, cut at checkpoints (default: one per core; at most 8; 1: one piece)',
    positiveIntArg,
  )
  .option('--json', 'print JSON')
  .action(async (opts) => (await import('./replay.js')).replayCommand(opts));

const journal = program.command('journal').description('the event journal');
journal
  .command('export')
  .description('write a self-contained journal file to attach to a bug report (replay it with replay --journal)')
  .addOption(configOption())
  .addOption(stateOption())
  .option(
    '--since <seq|duration>',
    "from this seq, or this long ago (e.g. 2h); the file begins at that run's start or a later checkpoint",
  )
  .requiredOption('--out <file>', 'the file to write')
  .action(async (opts) => (await import('./journal.js')).journalExportCommand(opts));
journal
  .command('prune')
  .description(
    'delete what is older than the newest checkpoint at least --keep old (journal.keep), archived first to --archive-dir (journal.archive_dir) as export writes it; safe while lanekeeper runs',
  )
  .addOption(configOption())
  .addOption(stateOption())
  .option(
    '--keep <duration>',
    "how much to keep (e.g. 90d); default: the configuration's journal.keep",
    durationArg('--keep'),
  )
  .option('--archive-dir <dir>', "where to archive what is deleted; default: the configuration's journal.archive_dir")
  .option('--json', 'print what was done as JSON')
  .action(async (opts) => (await import('./journal.js')).journalPruneCommand(opts));

program
  .command('simulate')
  .description('compare selection policies on synthetic lanes in virtual time (no processes)')
  .option('--env <name|file>', 'stationary, degrade, improve, drought, top4, or a JSON file (default: all built-in)')
  .option('--policy <list>', 'comma-separated policies (default: all)')
  .option('--sessions <n>', 'graded sessions per run', positiveIntArg, 5000)
  .option('--seeds <k>', 'runs per environment and policy, with common random numbers', positiveIntArg, 50)
  .option('--json', 'print JSON')
  .action(async (opts) => (await import('./simulate.js')).simulateCommand(opts));

const systemd = program
  .command('systemd')
  .description('systemd user units: a long-running service, or a timer-driven tick');
systemd
  .command('print')
  .description("print the units with this installation's paths (node, the package, the config, the state directory)")
  .addOption(configOption())
  .addOption(stateOption())
  .option('--out <dir>', 'write one file per unit into this directory instead')
  .action(async (opts) => (await import('./systemd.js')).systemdPrintCommand(opts));
systemd
  .command('install')
  .description(
    'write the units to $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user) and print the systemctl commands to run next',
  )
  .addOption(configOption())
  .addOption(stateOption())
  .option('--user', 'install for the user manager (the default and the only kind)')
  .option('--force', 'overwrite units that differ from what would be written')
  .action(async (opts) => (await import('./systemd.js')).systemdInstallCommand(opts));

// The claim commands run through claims.ts (main.ts routes them there first); they are defined
// here from the same table so that `lanekeeper --help` and `lanekeeper help claim` show them.
for (const name of Object.keys(CLAIM_COMMANDS) as ClaimCommandName[]) program.addCommand(claimCommand(name));

export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (e instanceof ConfigError) {
      err(
        e.problems.length === 1
          ? `${e.file}: ${e.problems[0]}`
          : `${e.file}: ${e.problems.length} problems\n${e.problems.map((p) => `  ${p}`).join('\n')}`,
      );
      return EXIT.usage;
    }
    if (e instanceof StoreBusyError) {
      err(e.message);
      // systemd counts 75 as success (SuccessExitStatus), so a service that could not get at its
      // store would never be started again: `run` fails instead, and Restart=on-failure retries it.
      return argv[2] === 'run' ? EXIT.failed : EXIT.busy;
    }
    if (isUserError(e)) {
      err(`lanekeeper: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}
