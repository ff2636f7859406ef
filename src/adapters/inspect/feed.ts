// The inspector feed (`lanekeeper run --inspect [PORT]`): a WebSocket server that sends the fleet's
// XState inspection events — actors created, events received, snapshots taken — to every client
// that connects, as the JSON messages of @statelyai/inspect (`@xstate.actor`, `@xstate.event`,
// `@xstate.snapshot`), so the Stately inspector or any other client can draw the fleet live.
//
// The package converts xstate's inspection events and applies our sanitizers (sanitize.ts: env,
// prompts, commands, task bodies never leave the process); this file is its adapter and the
// server. The package's own WebSocket inspector connects out as a client to a relay; here the
// runtime is the server, so a viewer can attach and leave at any time.
//
// A client that connects late first gets one `@xstate.actor` message per actor, in the order they
// were created (the fleet before its children), each with its definition and its latest
// snapshot, and then the live messages: enough to draw the whole system at once. Events from
// before it connected are not replayed. Clients' own messages are ignored.
//
// GET / on the same port serves a page that embeds the hosted Stately inspector and relays the
// feed into it (bridge-page.ts). Everything here runs beside the runtime and never fails it: a
// message that cannot be sent is reported through onError and dropped.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInspector, type StatelyActorEvent, type StatelyInspectionEvent } from '@statelyai/inspect';
import { WebSocket, WebSocketServer } from 'ws';
import type { InspectionEvent } from 'xstate';
import { listen } from '../http/listen.js';
import { bridgePage } from './bridge-page.js';
import { redact, redactingReplacer } from './sanitize.js';

/** How long clients get to answer the close handshake when the feed stops, before they are cut. */
const CLOSE_GRACE_MS = 1000;

export interface InspectFeedOptions {
  /** 0 picks any free port; `port` on the feed says which. */
  port: number;
  host: string;
  /** Told of a message that could not be serialised or sent (the feed goes on). */
  onError?: (err: unknown) => void;
}

export interface InspectFeed {
  /** ws://host:port — where clients connect. */
  readonly url: string;
  /** http://host:port/ — the page with the Stately inspector. */
  readonly pageUrl: string;
  readonly port: number;
  /** Pass to createActor's `inspect` option (FleetHost, RuntimeOptions). */
  readonly inspect: (event: InspectionEvent) => void;
  /** Closes every client (code 1001) and the server. Safe to call more than once. */
  close(): Promise<void>;
}

/** The feed could not listen where it was asked to; the message says where and why. */
export class InspectListenError extends Error {
  override name = 'InspectListenError';
}

export async function startInspectFeed(opts: InspectFeedOptions): Promise<InspectFeed> {
  const onError = opts.onError ?? (() => {});
  const { server, wss } = await serveFeed(opts, onError);
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  // Live actors by session id, as first announced, and the latest snapshot of each.
  const actors = new Map<string, StatelyActorEvent>();
  const latest = new Map<string, unknown>();
  let closed = false;

  const send = (socket: WebSocket, text: string) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(text, (err) => err && onError(err));
  };
  const remember = (event: StatelyInspectionEvent) => {
    if (event.type === '@xstate.actor') actors.set(event.sessionId, event);
    else if (event.type === '@xstate.snapshot' && actors.has(event.sessionId)) {
      if (event.snapshot.status === 'stopped') {
        actors.delete(event.sessionId);
        latest.delete(event.sessionId);
      } else latest.set(event.sessionId, event.snapshot);
    }
  };
  const inspector = createInspector(
    {
      send(event) {
        if (closed) return;
        try {
          remember(event);
          // Nobody watching: nothing to serialise (a late client is built from what was remembered).
          if (wss.clients.size === 0) return;
          const text = JSON.stringify(event, redactingReplacer);
          for (const socket of wss.clients) send(socket, text);
        } catch (err) {
          onError(err);
        }
      },
    },
    // The package applies these to every snapshot's context and every event before the adapter
    // sees them; the replacer above covers whatever else a snapshot may hold (output, error).
    { sanitizeContext: redact, sanitizeEvent: redact, serializationDepthLimit: 16 },
  );

  wss.on('connection', (socket) => {
    socket.on('error', onError);
    try {
      for (const [id, actor] of actors)
        send(socket, JSON.stringify({ ...actor, snapshot: latest.get(id) ?? actor.snapshot }, redactingReplacer));
    } catch (err) {
      onError(err);
    }
  });

  let closing: Promise<void> | null = null;
  return {
    url: `ws://${hostInUrl}:${address.port}`,
    pageUrl: `http://${hostInUrl}:${address.port}/`,
    port: address.port,
    inspect: (event) => {
      if (!closed) inspector.inspect.next?.(event);
    },
    close() {
      closing ??= (async () => {
        // The package converts each inspection event on a zero-delay timer; one queued now runs
        // after those, so the last events of the run (the final snapshots) still go out.
        await new Promise((r) => setTimeout(r, 0));
        closed = true;
        await shutdown(server, wss);
      })();
      return closing;
    },
  };
}

/** The HTTP server (the inspector page on GET /) and the WebSocket server on it, listening. */
async function serveFeed(
  opts: InspectFeedOptions,
  onError: (err: unknown) => void,
): Promise<{ server: http.Server; wss: WebSocketServer }> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(bridgePage());
    } else {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end("not found: this is lanekeeper's inspector feed, a WebSocket; GET / is the Stately inspector page\n");
    }
  });
  const wss = new WebSocketServer({ server });
  // ws re-emits the server's errors here (unheard, they would be thrown); one while starting to
  // listen is already the rejection of listen() below.
  let listening = false;
  wss.on('error', (err) => listening && onError(err));
  try {
    await listen(server, opts.port, opts.host).catch((err: NodeJS.ErrnoException) => {
      throw new InspectListenError(listenProblem(err, opts.port, opts.host));
    });
    listening = true;
  } catch (err) {
    wss.close();
    throw err;
  }
  // The run keeps the process alive, never the feed: an error on the way to starting the runtime
  // must not leave the process waiting on a listener.
  server.unref();
  return { server, wss };
}

function listenProblem(err: NodeJS.ErrnoException, port: number, host: string): string {
  const where = `${host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use; pick another with --inspect PORT (0 takes any free port)`;
    case 'EACCES':
      return `not allowed to listen on ${where}; ports below 1024 need privileges, pick a higher one`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine; give --inspect-host one of its addresses (or 0.0.0.0 for all)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve --inspect-host ${JSON.stringify(host)}`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}

async function shutdown(server: http.Server, wss: WebSocketServer): Promise<void> {
  const open = [...wss.clients];
  for (const socket of open) socket.close(1001, 'lanekeeper stopped');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(open.map((s) => (s.readyState === WebSocket.CLOSED ? null : new Promise((r) => s.once('close', r))))),
    new Promise((r) => (timer = setTimeout(r, CLOSE_GRACE_MS))),
  ]);
  clearTimeout(timer);
  for (const socket of wss.clients) socket.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}
