// The two forms a run's log takes: pretty lines for people, JSON lines for machines. Apart from
// logger.ts so the command line can check a --log-format without loading pino.

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The format named by `value` (a flag or LANEKEEPER_LOG_FORMAT, which `what` names), or the one-line problem. */
export function parseLogFormat(what: string, value: string): { format: LogFormat } | { problem: string } {
  return (LOG_FORMATS as readonly string[]).includes(value)
    ? { format: value as LogFormat }
    : { problem: `${what}: expected ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(value)}` };
}
