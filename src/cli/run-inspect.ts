// `lanekeeper run --inspect [PORT] [--inspect-host H]`: the fleet's XState inspection events on a
// WebSocket for as long as the run lasts (adapters/inspect/feed.ts). Loaded only when asked for,
// so a run without it does not load the WebSocket server. A port that cannot be bound is a usage
// error (exit 2) raised before any session starts.
import type { Logger } from 'pino';
import { DEFAULT_INSPECT_HOST, DEFAULT_INSPECT_PORT } from '../adapters/inspect/defaults.js';
import type { InspectFeed } from '../adapters/inspect/feed.js';
import { UsageError } from '../errors.js';

/** `port` is true for a bare --inspect: the default port. */
export async function serveInspectFeed(
  opts: { port: number | true; host?: string },
  log: Logger,
): Promise<InspectFeed> {
  const { InspectListenError, startInspectFeed } = await import('../adapters/inspect/feed.js');
  try {
    const feed = await startInspectFeed({
      port: opts.port === true ? DEFAULT_INSPECT_PORT : opts.port,
      host: opts.host ?? DEFAULT_INSPECT_HOST,
      onError: (err) => log.warn({ err }, 'inspector feed: a message could not be sent; the run goes on'),
    });
    log.info(
      { inspect: feed.url },
      `inspector feed: ${feed.url} (the Stately inspector: open ${feed.pageUrl} in a browser)`,
    );
    return feed;
  } catch (e) {
    if (e instanceof InspectListenError) throw new UsageError(`--inspect: ${e.message}`);
    throw e;
  }
}
