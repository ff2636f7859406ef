// The local view's HTTP server (node:http, no framework): the page and its two assets, the lane
// machine's chart as SVG, and JSON endpoints the page polls.
//
//   GET /                      the page (page/index.html, app.js, style.css beside this file)
//   GET /api/chart             the lane chart, SVG (every state's element has its path as id)
//   GET /api/about             what is open: {stateDir, journal} (either may be null)
//   GET /api/live              LiveView (data.ts): lanes, sessions, events, decisions, posteriors, claims
//   GET /api/journal           the opened journal: its name and number of steps (?reload=1 replays it again)
//   GET /api/journal/steps     ?from=INDEX&limit=N: replayed steps, with every lane's state after each
//
// Everything the page needs comes from here, and the Content-Security-Policy says so to the
// browser: nothing is fetched from anywhere else. Bound to loopback, the server also refuses
// requests whose Host is not a loopback name, so a web page elsewhere cannot read it through DNS
// rebinding.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { closeServer, listen, urlHost } from '../http/listen.js';
import type { ViewData } from './data.js';
import type { JournalSteps } from './steps.js';

export interface ViewServerOptions {
  host: string;
  port: number;
  /** The state directory's store, or null when only a journal file is viewed. */
  data: ViewData | null;
  journal: JournalSteps | null;
  /** For the page: the journal file, or the state directory whose journal it is. */
  journalName?: string;
  /** The lane chart (chart.ts). */
  chartSvg: string;
  /** Told of errors while serving (the server answers 500 and goes on). */
  onError?: (err: unknown) => void;
}

export interface ViewServer {
  /** http://host:port/ */
  readonly url: string;
  close(): Promise<void>;
}

const PAGE_DIR = new URL('./page/', import.meta.url);
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'";
const MAX_STEPS_PAGE = 1000;

export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** The hostname of a Host header (`127.0.0.1:4180`, `[::1]:4180`, `localhost`). */
function hostnameOf(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  return header.split(':')[0]!;
}

export async function startViewServer(opts: ViewServerOptions): Promise<ViewServer> {
  const assets = new Map(
    Object.entries(ASSETS).map(([route, a]) => [
      route,
      { body: readFileSync(new URL(a.file, PAGE_DIR)), type: a.type },
    ]),
  );
  const checkHost = isLoopback(opts.host);

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, {
      'Content-Type': type,
      'Cache-Control': 'no-store',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  };
  const json = (res: http.ServerResponse, status: number, value: unknown) =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

  const routes: Record<string, (url: URL) => Promise<[number, unknown]>> = {
    '/api/about': async () => [
      200,
      { stateDir: opts.data?.stateDir ?? null, journal: opts.journal ? opts.journalName : null },
    ],
    '/api/live': async () =>
      opts.data
        ? [200, await opts.data.live()]
        : [404, { error: 'no state directory is open: only a journal file is viewed' }],
    '/api/journal': async (url) => {
      if (!opts.journal) return [404, { error: 'no journal is open' }];
      return [200, await opts.journal.info({ reload: url.searchParams.get('reload') === '1' })];
    },
    '/api/journal/steps': async (url) => {
      if (!opts.journal) return [404, { error: 'no journal is open' }];
      const from = wholeParam(url, 'from', 0);
      const limit = wholeParam(url, 'limit', 200);
      if (from === null || limit === null)
        return [400, { error: 'from and limit must be whole numbers (from ≥ 0, limit ≥ 0)' }];
      return [200, await opts.journal.page(from, Math.min(limit, MAX_STEPS_PAGE))];
    },
  };

  const server = http.createServer((req, res) => {
    if (checkHost && !isLoopback(hostnameOf(req.headers.host))) {
      send(
        res,
        403,
        'text/plain; charset=utf-8',
        `lanekeeper inspect answers only to loopback names (Host was ${JSON.stringify(req.headers.host ?? '')})\n`,
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'only GET\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://view.invalid');
    const asset = assets.get(url.pathname);
    if (asset) return send(res, 200, asset.type, asset.body);
    if (url.pathname === '/api/chart') return send(res, 200, 'image/svg+xml; charset=utf-8', opts.chartSvg);
    const route = routes[url.pathname];
    if (!route) return json(res, 404, { error: `no such path: ${url.pathname}` });
    route(url).then(
      ([status, body]) => json(res, status, body),
      (err: unknown) => {
        opts.onError?.(err);
        json(res, 500, { error: err instanceof Error ? err.message : String(err) });
      },
    );
  });

  const port = await listen(server, opts.port, opts.host);
  return { url: `http://${urlHost(opts.host)}:${port}/`, close: () => closeServer(server) };
}

function wholeParam(url: URL, name: string, fallback: number): number | null {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  return /^\d+$/.test(raw) ? Number(raw) : null;
}
