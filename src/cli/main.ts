#!/usr/bin/env node
// lanekeeper's entry point. Agents call the claim commands from their shells, often, so those take
// a path that loads only the claims store (node:util's parseArgs, no commander, no config, no
// runtime); everything else goes through the full command line in program.ts.
const CLAIM_COMMANDS = new Set(['claim', 'renew', 'release', 'complete', 'reopen', 'claims']);

const command = process.argv[2] ?? '';
process.exitCode = CLAIM_COMMANDS.has(command)
  ? await (await import('./claims.js')).claimsMain(process.argv.slice(2))
  : await (await import('./program.js')).main(process.argv);
