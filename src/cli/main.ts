#!/usr/bin/env node
// lanekeeper's command line. Thin: parse, call, print. Each command's module is imported only when
// that command runs, so quick commands (claims, status) do not pay for the runtime.
import { Command, CommanderError, Option } from 'commander';
import { isUserError, ConfigError } from '../errors.js';
import { durationArg, err, EXIT, positiveIntArg } from './io.js';

const program = new Command('lanekeeper')
  .description('Schedules autonomous agent sessions across work lanes.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const stateOption = () => new Option('--state <dir>', 'state directory (default: $LANEKEEPER_STATE, the config, or $XDG_STATE_HOME/lanekeeper)');
const configOption = () => new Option('-c, --config <file>', 'configuration file (default: ./lanekeeper.yaml)');

program
  .command('run')
  .description('run the scheduler until stopped (SIGINT/SIGTERM drain it)')
  .addOption(configOption())
  .addOption(stateOption())
  .option('--demo', 'run the embedded demo: six lanes, two simulated backends, a simulated agent')
  .option('--for <duration>', 'stop (drain) after this long, e.g. 90s', durationArg)
  .option('--tick <duration>', 'override the tick interval (and drop the jitter), e.g. 5s', durationArg)
  .action(async (opts) => (await import('./run.js')).runCommand(opts));

program
  .command('validate')
  .description('check a configuration; prints "ok" or every problem with its place')
  .addOption(configOption())
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
  .description('lanes, their states, and recent sessions')
  .addOption(configOption())
  .addOption(stateOption())
  .option('--json', 'print JSON')
  .option('--limit <n>', 'sessions to show (JSON: 200, text: 12)', positiveIntArg)
  .action(async (opts) => (await import('./status.js')).statusCommand(opts));

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof ConfigError) {
      err(e.problems.length === 1 ? `${e.file}: ${e.problems[0]}` : `${e.file}: ${e.problems.length} problems\n${e.problems.map((p) => `  ${p}`).join('\n')}`);
      return EXIT.usage;
    }
    if (isUserError(e)) {
      err(`lanekeeper: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv);
