// The claim commands as commander commands, built from claims-spec.ts: their --help (loaded only
// when asked for, so a plain claim stays light) and their place in `lanekeeper --help`.
import { Command, Option } from 'commander';
import { CLAIM_COMMANDS, KEY_HELP, type ClaimCommand, type ClaimCommandName } from './claims-spec.js';

export function claimCommand(name: ClaimCommandName): Command {
  const spec: ClaimCommand = CLAIM_COMMANDS[name];
  const command = new Command(name).description(spec.description);
  if (spec.key) command.argument('<key>', KEY_HELP);
  for (const o of spec.options) {
    const option = new Option(o.flags, o.description);
    // Shown, never applied: claims.ts parses the arguments.
    if (o.defaultText) option.default(o.defaultText, o.defaultText);
    command.addOption(option);
  }
  return command;
}

/** The full help of one claim command, as `lanekeeper claim --help` prints it. */
export function claimHelp(name: ClaimCommandName): string {
  const command = claimCommand(name);
  new Command('lanekeeper').addCommand(command);
  return command.helpInformation();
}
