// `lanekeeper run --metrics-port P [--metrics-host H]`: the fleet's Prometheus metrics, served for
// as long as the run lasts. Loaded only when asked for, so a run without metrics does not pay for
// prom-client. A port that cannot be bound is a usage error (exit 2) raised before any session
// starts, not a failure found later.
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import { UsageError } from '../errors.js';
import type { RuntimeObserver } from '../ports/observer.js';

export interface RunMetrics {
  observer: RuntimeObserver;
  url: string;
  close(): Promise<void>;
}

export async function serveRunMetrics(
  opts: { port: number; host?: string },
  store: Store,
  stateDir: string,
  log: Logger,
): Promise<RunMetrics> {
  const [{ FleetMetrics }, { sqliteDatabaseBytes }, { MetricsServerError, startMetricsServer }] = await Promise.all([
    import('../adapters/metrics/fleet-metrics.js'),
    import('../adapters/metrics/database-bytes.js'),
    import('../adapters/metrics/server.js'),
  ]);
  // The database's size is the SQLite file's; a shared PostgreSQL database is not this host's to report.
  const metrics = new FleetMetrics({
    journalSize: () => store.journal.lastSeq(),
    ...(store.shared ? {} : { databaseBytes: sqliteDatabaseBytes(stateDir) }),
    processMetrics: true,
  });
  try {
    const server = await startMetricsServer({
      registry: metrics.registry,
      host: opts.host,
      port: opts.port,
      onError: (err) => log.warn({ err }, 'metrics: a scrape failed'),
    });
    log.info(`metrics: ${server.url}`);
    return { observer: metrics, url: server.url, close: () => server.close() };
  } catch (e) {
    if (e instanceof MetricsServerError) throw new UsageError(`--metrics-port: ${e.message}`);
    throw e;
  }
}
