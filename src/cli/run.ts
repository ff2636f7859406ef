// lanekeeper run [--config F] [--demo] [--state DIR] [--for DURATION] [--tick DURATION] [--once | --operator --sessions N]
// --once: one tick; exit 0 when it started sessions (after they end), 75 when every lane it could
// pick was busy (or the tick was skipped), 76 when no backend could run the lanes it picked.
// --metrics-port P [--metrics-host H]: Prometheus metrics at http://H:P/metrics while it runs.
// --inspect [PORT] [--inspect-host H]: XState inspection events on ws://H:PORT while it runs.
// --log-format pretty|json (else LANEKEEPER_LOG_FORMAT, else pretty on a terminal, JSON otherwise):
// pretty lines end with the summary table; JSON lines with the summary as one line.
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InspectFeed } from '../adapters/inspect/feed.js';
import { lockInstance } from '../adapters/instance/lock.js';
import { watchConfigFile } from '../adapters/watch/config-watch.js';
import { parseLogFormat, type LogFormat } from '../adapters/log/format.js';
import { createLogger } from '../adapters/log/logger.js';
import { openStore } from '../adapters/store/open-store.js';
import { formatDuration } from '../config/duration.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';
import type { RuntimeObserver } from '../ports/observer.js';
import type { Store } from '../ports/store.js';
import { plural } from '../format/event.js';
import { StateDirError, UsageError } from '../errors.js';
import { startRuntime, type FirstTickResult, type Runtime } from '../runtime/run.js';
import { formatSummary } from '../format/summary.js';
import type { Logger } from 'pino';
import { EXIT, out } from './io.js';
import { recordRunStart } from './liveness.js';
import { serveRunMetrics, type RunMetrics } from './run-metrics.js';
import { serveInspectFeed } from './run-inspect.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface RunOptions {
  config?: string;
  state?: string;
  demo?: boolean;
  for?: number;
  tick?: number;
  once?: boolean;
  operator?: boolean;
  sessions?: number;
  metricsPort?: number;
  metricsHost?: string;
  /** The inspector feed's port; true for a bare --inspect (the default port). */
  inspect?: number | true;
  inspectHost?: string;
  /** --log-format; LANEKEEPER_LOG_FORMAT without it; else pretty on a terminal, JSON otherwise. */
  logFormat?: LogFormat;
}

export async function runCommand(opts: RunOptions): Promise<void> {
  checkRunFlags(opts);
  let stateDir = opts.state;
  if (opts.demo && !stateDir && !process.env.LANEKEEPER_STATE)
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'lanekeeper-demo-'));
  // Read at the start and again on every reload, with the same command-line overrides.
  const readConfig = (): ResolvedConfig => {
    const c = loadConfig({ file: opts.config, demo: opts.demo, stateDir, env: process.env });
    return opts.tick === undefined ? c : { ...c, schedule: { ...c.schedule, intervalMs: opts.tick, jitterMs: 0 } };
  };
  const config = readConfig();

  const { log, pretty } = runLogger(opts.logFormat);
  // Sessions keep their logs and grade files here, whichever store holds the rest (the SQLite
  // store makes it, and says what is wrong with it, itself).
  if (config.store) makeStateDir(config.stateDir);
  const onAvailability = availabilityLines(log);
  const store = await openStore({ stateDir: config.stateDir, url: config.store, host: config.host, onAvailability });
  // What this run opened, closed in reverse on the way out, however it ends (a listening server
  // or a held lock would keep the process alive after an error).
  const opened: Opened = [() => store.close()];
  let timer: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => runtime?.stop(signal);
  // A reload asked for while starting waits for the runtime (the file may have changed after it was read).
  let pendingReload: string | null = null;
  const requestReload = (source: string) => (runtime ? runtime.reload(source) : (pendingReload = source));
  // Taken from the start: SIGHUP's default would end the process.
  const onHangup = () => requestReload('SIGHUP');
  process.on('SIGHUP', onHangup);
  let runtime: Runtime | null = null;
  try {
    const instance = await holdLocks(config, store, log, opened, (reason) => runtime?.stop(reason));
    await recordRunStart(store, config, opts.once ? 'once' : opts.operator ? 'operator' : 'service');
    // Whether `status` can tell that this run runs (it reads the lock, on a shared store the host's).
    await store.runtimeInfo.set('instance_lock', instance.held || store.lockHost ? 'held' : 'none');
    log.info(
      `lanekeeper: ${plural(config.lanes.length, 'lane')}, ${plural(config.arms.length, 'arm')}, width ${config.width}, a tick every ${formatDuration(config.schedule.intervalMs)}` +
        `${opts.for ? `, for ${formatDuration(opts.for)}` : ''}; state in ${config.stateDir}`,
    );
    const { feed, observers } = await serveBeside(opts, store, config.stateDir, log, opened, requestReload);
    // Sessions inherit this environment: a plain copy, since every key read from process.env goes
    // through the C++ environment, and each session start copies all of it.
    runtime = await startRuntime({
      config,
      store,
      log,
      baseEnv: { ...process.env },
      once: opts.once,
      operator: opts.operator ? { sessions: opts.sessions! } : undefined,
      observers,
      inspect: feed?.inspect,
      reload: readConfig,
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (pendingReload) runtime.reload(pendingReload);
    timer = opts.for
      ? setTimeout(() => runtime!.stop(`--for ${formatDuration(opts.for!)} elapsed`), opts.for)
      : undefined;
    const summary = await runtime.finished;
    if (pretty)
      out(`\n${formatSummary(summary)}\nstate: ${config.stateDir}  (lanekeeper status --state ${config.stateDir})`);
    else log.info({ summary, state: config.stateDir }, 'summary');
    if (opts.once || opts.operator)
      process.exitCode = firstTickExit(runtime.firstTick(), opts.once ? '--once' : '--operator', log);
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHangup);
    for (const close of opened.reverse()) await close();
  }
}

/** What a run opened, each closed in reverse order on the way out. */
type Opened = (() => Promise<void>)[];

/** Flags that do not go together, refused before anything is read or opened. */
function checkRunFlags(opts: RunOptions): void {
  if (opts.operator && opts.sessions === undefined)
    throw new UsageError('--operator needs --sessions N: how many sessions to run before it exits');
  if (opts.sessions !== undefined && !opts.operator) throw new UsageError('--sessions goes with --operator');
  if (opts.operator && opts.once) throw new UsageError('--once and --operator are two different ways to run; pick one');
  if (opts.metricsHost !== undefined && opts.metricsPort === undefined)
    throw new UsageError('--metrics-host goes with --metrics-port');
  if (opts.inspectHost !== undefined && opts.inspect === undefined)
    throw new UsageError('--inspect-host goes with --inspect');
  if (opts.demo && opts.config)
    throw new UsageError(
      '--demo runs the embedded demo configuration; drop --config, or run the file with --config alone',
    );
}

/** The run's logger: its level from LANEKEEPER_LOG_LEVEL, its format from the flag or the terminal. */
function runLogger(flag: LogFormat | undefined): { log: Logger; pretty: boolean } {
  const tty = process.stdout.isTTY === true;
  const level = process.env.LANEKEEPER_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level))
    throw new UsageError(`LANEKEEPER_LOG_LEVEL: expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  const pretty = logFormat(flag, tty) === 'pretty';
  return { log: createLogger({ pretty, colorize: tty, level }), pretty };
}

function makeStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StateDirError(
      stateDir,
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a file is in the way where the directory should be'
        : (err as Error).message,
    );
  }
}

/** One line when the database stops answering and one when it is back, not one per retry. */
function availabilityLines(log: Logger): (up: boolean, detail: string) => void {
  return (up, detail) =>
    up
      ? log.info(`the store answers again (${detail}): the journal goes on and dispatch resumes`)
      : log.warn(
          `the store does not answer (${detail}): running sessions go on; nothing new is dispatched until it is back`,
        );
}

/**
 * One lanekeeper per state directory (the lock dies with this process, however it ends), and on
 * a store shared by several hosts, one runtime per host id: `stop` ends the run if that is lost.
 */
async function holdLocks(
  config: ResolvedConfig,
  store: Store,
  log: Logger,
  opened: Opened,
  stop: (reason: string) => void,
): Promise<{ held: boolean }> {
  const instance = await lockInstance(config.stateDir, (why) => log.warn(why));
  opened.push(() => instance.release());
  if (store.lockHost) {
    const hold = await store.lockHost({
      onLost: (reason) => {
        log.error(`the host lock was lost with its connection and could not be taken again (${reason}): stopping`);
        stop('another runtime took this host id');
      },
    });
    opened.push(() => hold.release());
  }
  return instance;
}

/** What runs beside the fleet: the inspector feed, the metrics endpoint, the config file's watch. */
async function serveBeside(
  opts: RunOptions,
  store: Store,
  stateDir: string,
  log: Logger,
  opened: Opened,
  requestReload: (source: string) => void,
): Promise<{ feed: InspectFeed | null; observers: RuntimeObserver[] }> {
  // After the fleet stopped, the feed sends its last snapshots, then tells clients the run is over.
  const feed =
    opts.inspect === undefined ? null : await serveInspectFeed({ port: opts.inspect, host: opts.inspectHost }, log);
  if (feed) opened.push(() => feed.close());
  // The scrapes read the store: they stop before it closes.
  const metrics: RunMetrics | null =
    opts.metricsPort === undefined
      ? null
      : await serveRunMetrics({ port: opts.metricsPort, host: opts.metricsHost }, store, stateDir, log);
  if (metrics) opened.push(() => metrics.close());
  // An edit of the file reloads it like SIGHUP does (--config, or ./lanekeeper.yaml without it).
  const configFile = opts.config ?? (opts.demo ? null : DEFAULT_CONFIG_FILE);
  if (configFile) {
    const watch = watchConfigFile(configFile, () => requestReload('file changed'), {
      onError: (err) => log.warn({ err }, `watching ${configFile}`),
    });
    opened.push(() => watch.close());
    await watch.ready;
  }
  return { feed, observers: metrics ? [metrics.observer] : [] };
}

/** The flag, else LANEKEEPER_LOG_FORMAT, else pretty on a terminal and JSON lines otherwise (journald, files, pipes). */
function logFormat(flag: LogFormat | undefined, tty: boolean): LogFormat {
  if (flag) return flag;
  const env = process.env.LANEKEEPER_LOG_FORMAT;
  if (env === undefined || env === '') return tty ? 'pretty' : 'json';
  const r = parseLogFormat('LANEKEEPER_LOG_FORMAT', env);
  if ('problem' in r) throw new UsageError(r.problem);
  return r.format;
}

/**
 * The exit code of a --once run (or an --operator run, by its first tick), with the lines that
 * explain it: 0 when an agent started; 1 when sessions were begun but none of their agents could
 * start (a missing command, a missing working directory, a failed before-session hook: one line
 * each); 76 when no backend could run the lanes it picked; 75 when nothing could start because
 * everything was busy or gated.
 */
function firstTickExit(r: FirstTickResult, mode: '--once' | '--operator', log: Logger): number {
  const unstarted = r.unstarted.map((u) => `${u.sessionId} (${u.lane}) did not start: ${u.reason}`);
  if (r.started > 0) {
    for (const line of unstarted) log.warn(`${mode}: ${line}`);
    return EXIT.ok;
  }
  if (unstarted.length) {
    for (const line of unstarted) log.error(`${mode}: ${line}`);
    log.error(`${mode}: no session of the tick started; exit ${EXIT.failed}`);
    return EXIT.failed;
  }
  if (r.noArm > 0) {
    log.warn(`${mode}: no backend could run the chosen lane${r.noArm === 1 ? '' : 's'}; exit ${EXIT.exhausted}`);
    return EXIT.exhausted;
  }
  log.warn(`${mode}: nothing started (${r.reason ?? 'no decision'}); exit ${EXIT.busy}`);
  return EXIT.busy;
}
