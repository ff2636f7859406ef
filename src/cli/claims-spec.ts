// The claim commands' arguments, written once. claims.ts parses with them (node:util's parseArgs,
// so an agent's `lanekeeper claim` loads no commander), and claims-help.ts turns the same table
// into commander commands for `--help` and for the command list of `lanekeeper --help`.
import type { ParseArgsConfig } from 'node:util';

export interface ClaimOption {
  /** The parseArgs name, which is the long flag without its dashes. */
  readonly name: string;
  /** As commander writes it: `--holder <id>`, `--keep`. */
  readonly flags: string;
  readonly description: string;
  /** What help shows as the default, when there is one. */
  readonly defaultText?: string;
}

const STATE: ClaimOption = {
  name: 'state',
  flags: '--state <dir>',
  description:
    'state directory (default: $LANEKEEPER_STATE, the config, or $XDG_STATE_HOME/lanekeeper); with LANEKEEPER_STORE set (a postgres:// URL), the claims of that store',
};
const JSON_OUT: ClaimOption = { name: 'json', flags: '--json', description: 'print JSON' };
const HOLDER: ClaimOption = {
  name: 'holder',
  flags: '--holder <id>',
  description: 'who holds the claim (inside a session: $LANEKEEPER_SESSION_ID; required outside one)',
};
const TOKEN: ClaimOption = {
  name: 'token',
  flags: '--token <n>',
  description: 'the fencing token "claim" printed (required)',
};
const RESULT: ClaimOption = {
  name: 'result',
  flags: '--result <text>',
  description: 'what came of the work, kept with the claim, e.g. "PR #41"',
};

export interface ClaimCommand {
  readonly description: string;
  /** Whether it takes a KEY argument. */
  readonly key: boolean;
  readonly options: readonly ClaimOption[];
}

export const CLAIM_COMMANDS = {
  claim: {
    description:
      'take a claim: prints its fencing token; DENIED (exit 1) when someone else holds it or it is completed',
    key: true,
    options: [
      HOLDER,
      {
        name: 'ttl',
        flags: '--ttl <duration>',
        description: 'how long it lasts unless renewed (a running session renews its own claims)',
        defaultText: '60m',
      },
      {
        name: 'keep',
        flags: '--keep',
        description: 'when the session ends, leave the claim to expire instead of releasing it',
      },
      STATE,
      JSON_OUT,
    ],
  },
  renew: {
    description: 'extend a claim you hold; STALE (exit 1) once it expired or went to someone else',
    key: true,
    options: [
      TOKEN,
      HOLDER,
      {
        name: 'ttl',
        flags: '--ttl <duration>',
        description: 'the new lease from now',
        defaultText: 'the TTL it was claimed with',
      },
      STATE,
      JSON_OUT,
    ],
  },
  release: {
    description: 'give a claim back; STALE (exit 1) with a token that is not current (its result is kept as an orphan)',
    key: true,
    options: [TOKEN, HOLDER, RESULT, STATE, JSON_OUT],
  },
  complete: {
    description:
      'mark the claimed work done; the key stays denied until reopened; STALE (exit 1) with a token that is not current',
    key: true,
    options: [TOKEN, HOLDER, RESULT, STATE, JSON_OUT],
  },
  reopen: {
    description: 'make a completed key claimable again (exit 1 when it is not completed)',
    key: true,
    options: [STATE, JSON_OUT],
  },
  claims: {
    description: 'list the claims held',
    key: false,
    options: [{ name: 'all', flags: '--all', description: 'released and completed claims too' }, STATE, JSON_OUT],
  },
} as const satisfies Record<string, ClaimCommand>;

export type ClaimCommandName = keyof typeof CLAIM_COMMANDS;

/** What a KEY may be (policy/claim-key.ts checks it). */
export const KEY_HELP = 'lane:NAME, task:SLUG, github:OWNER/REPO#N, or other printable text (at most 200 characters)';

/** The parseArgs options of a command: its own, and -h/--help. */
export function parseArgsOptions(name: ClaimCommandName): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const o of CLAIM_COMMANDS[name].options)
    options[o.name] = { type: o.flags.includes('<') ? 'string' : 'boolean' };
  return options;
}

/** The one-line usage an argument error ends with, e.g. `claim KEY [--holder ID] [--ttl DURATION] …`. */
export function usageLine(name: ClaimCommandName): string {
  const spec: ClaimCommand = CLAIM_COMMANDS[name];
  const flag = (o: ClaimOption) => {
    const [f, v] = o.flags.split(' ');
    const text = v ? `${f} ${v.slice(1, -1).toUpperCase()}` : f!;
    return o === TOKEN ? text : `[${text}]`;
  };
  return [name, ...(spec.key ? ['KEY'] : []), ...spec.options.map(flag)].join(' ');
}
