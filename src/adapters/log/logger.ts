// Logs: pino. Pretty and short for people, JSON lines for machines (journald keeps them); the
// command chooses (run: --log-format, else pretty on a terminal and JSON otherwise).
// Environment variables and prompts are redacted wherever they appear.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  pretty: boolean;
  /** With pretty: colour the level names (on a terminal; not into a file or a pipe). */
  colorize?: boolean;
  level?: string;
  /** Where lines go; standard output by default. */
  fd?: number;
}

const REDACT = ['env', '*.env', 'prompt', '*.prompt', 'headers.authorization'];

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? 'info';
  const fd = opts.fd ?? 1;
  if (opts.pretty) {
    const stream = pretty({
      sync: true,
      destination: fd,
      colorize: opts.colorize ?? true,
      translateTime: 'HH:MM:ss',
      ignore: 'pid,hostname,lane,session,laneId',
      // "code           │ code-12 started …": the lane first, so a lane's story reads down a column.
      messageFormat: (line, key) =>
        line.lane ? `${String(line.lane).padEnd(14)} │ ${String(line[key])}` : String(line[key]),
    });
    return pino({ level, redact: REDACT, base: undefined }, stream);
  }
  return pino({ level, redact: REDACT, base: { pid: process.pid } }, pino.destination({ fd, sync: true }));
}
