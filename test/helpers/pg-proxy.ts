// A TCP proxy in front of PostgreSQL for network failures the server does not cause:
// - a lost answer: told a prepared statement's name, it lets that statement reach the server and
//   run to its end (the server commits it before it says ReadyForQuery), then cuts the connection
//   instead of passing the answer on. The client sees what it would see if the network went away
//   at that instant: the connection lost, and no word on whether the statement committed;
// - a partition: every connection is cut on the client's side only. The server hears nothing, so
//   its backends live on (holding their locks) until the test ends;
// - the database out of reach: new connections are refused until told otherwise.
import net from 'node:net';
import { afterAll } from 'vitest';

export interface PgProxy {
  /** The URL to connect through the proxy (same user, password, database and query). */
  url: string;
  /** The next time the statement named `name` runs, its answer is lost (once). */
  loseAnswerOf(name: string): void;
  /** How many answers were lost so far. */
  readonly lost: number;
  /** Cuts every connection open now on the client's side; the server's side stays open. */
  partition(): void;
  /** While true, every new connection is cut at once. */
  refuse(on: boolean): void;
}

/** ReadyForQuery ('Z', length 5): the server has finished the statement, commit included. */
const READY = Buffer.from([0x5a, 0, 0, 0, 5]);

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

export async function pgProxy(target: string): Promise<PgProxy> {
  const t = new URL(target);
  const pending = new Set<string>();
  const open = new Set<{ client: net.Socket; upstream: net.Socket; partitioned: boolean }>();
  let lost = 0;
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = net.connect(Number(t.port || 5432), t.hostname);
    const conn = { client, upstream, partitioned: false };
    open.add(conn);
    let armed = false;
    const cut = () => {
      client.destroy();
      if (!conn.partitioned) {
        upstream.destroy();
        open.delete(conn);
      }
    };
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', cut);
    upstream.on('close', cut);
    client.on('data', (d: Buffer) => {
      for (const name of pending) {
        if (d.includes(Buffer.from(`${name}\0`))) {
          pending.delete(name);
          armed = true;
        }
      }
      upstream.write(d);
    });
    // While armed, the answer is held back until it is complete, then dropped with the connection.
    let held = Buffer.alloc(0);
    upstream.on('data', (d: Buffer) => {
      if (conn.partitioned) return;
      if (!armed) return void client.write(d);
      held = Buffer.concat([held, d]);
      if (held.includes(READY)) {
        lost++;
        cut();
      }
    });
  });
  cleanups.push(() => {
    server.close();
    for (const c of open) c.upstream.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const via = new URL(target);
  via.hostname = '127.0.0.1';
  via.port = String((server.address() as net.AddressInfo).port);
  return {
    url: via.toString(),
    loseAnswerOf: (name) => void pending.add(name),
    get lost() {
      return lost;
    },
    partition() {
      for (const c of open) {
        c.partitioned = true;
        c.client.destroy();
      }
    },
    refuse(on) {
      refusing = on;
    },
  };
}
