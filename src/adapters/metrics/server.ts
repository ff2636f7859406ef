// The metrics endpoint: a plain node:http server with one route, GET (or HEAD) /metrics, answered
// from a prom-client registry; anything else is 404 (405 for another method on /metrics). It binds
// to loopback unless told otherwise, since the metrics name lanes, arms and outcomes. A failure to
// listen (port in use, no such address, a privileged port) becomes one MetricsServerError whose
// message says which address and why.
import { createServer } from 'node:http';
import { closeServer, listen, urlHost } from '../http/listen.js';
import type { Registry } from 'prom-client';

/** The metrics endpoint could not be served; the CLI prints the message and exits 2. */
export class MetricsServerError extends Error {
  override name = 'MetricsServerError';
}

export interface MetricsServer {
  /** Where to scrape, with the port actually bound (port 0 picks a free one). */
  readonly url: string;
  readonly port: number;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  registry: Registry;
  host?: string;
  port: number;
  /** Told when a scrape fails (the scraper gets a 500). */
  onError?: (err: unknown) => void;
}

function whyNot(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'the port is already in use';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'the address is not one of this machine’s';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'no such host';
    default:
      return err.message;
  }
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const host = opts.host ?? '127.0.0.1';
  const where = `${urlHost(host)}:${opts.port}`;
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
    throw new MetricsServerError(`cannot serve metrics on ${where}: the port must be a whole number from 0 to 65535`);
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    opts.registry.metrics().then(
      (text) =>
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        opts.onError?.(err);
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`could not collect the metrics: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  const port = await listen(server, opts.port, host).catch((err: NodeJS.ErrnoException) => {
    throw new MetricsServerError(`cannot serve metrics on ${where}: ${whyNot(err)}`);
  });
  // Once listening, a server error (e.g. out of file descriptors) is reported, never thrown.
  server.on('error', (err) => opts.onError?.(err));
  return {
    url: `http://${urlHost(host)}:${port}/metrics`,
    port,
    close: () => closeServer(server),
  };
}
