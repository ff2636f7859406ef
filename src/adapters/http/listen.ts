// What every lanekeeper HTTP server (metrics, the inspector feed, the local view) does the same
// way: listen and report the listen error as it came (each caller words it for its own flags),
// name the host in a URL, and close without waiting for keep-alive clients.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens; resolves with the port (the one chosen, for port 0), rejects with the listen error. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A host as it goes into a URL: IPv6 addresses in brackets. */
export const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** Stops the server; open keep-alive connections would otherwise hold the close open. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
