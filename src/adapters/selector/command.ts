// Runs the external selector (`selector.command`) once (adapters/process/program.ts: no shell, its
// own process group, a time limit and an output cap) and hands back what happened;
// policy/selector-contract.ts turns it into a verdict.
import type { SelectorRun } from '../../policy/selector-contract.js';
import { runProgram } from '../process/program.js';

/** Output beyond this many characters (stdout or stderr) stops the program: no selector needs it. */
export const SELECTOR_OUTPUT_CAP = 1024 * 1024;

export interface SelectorCommandOptions {
  timeoutMs: number;
  cwd?: string;
  /** Added to this process's environment (see selectorEnv). */
  env?: Record<string, string>;
}

/** What a selector is told about the tick: the configured lanes, and the configured width (sessions per tick at most). */
export function selectorEnv(lanes: readonly string[], width: number): Record<string, string> {
  return { LANEKEEPER_LANES: lanes.join(','), LANEKEEPER_WIDTH: String(width) };
}

export function runSelectorCommand(argv: readonly string[], opts: SelectorCommandOptions): Promise<SelectorRun> {
  return runProgram(argv, { ...opts, outputCap: SELECTOR_OUTPUT_CAP, emptyCommand: 'selector.command is empty' });
}
