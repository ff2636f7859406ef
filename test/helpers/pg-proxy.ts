// A TCP proxy in front of PostgreSQL that can lose an answer: told a prepared statement's name, it
// lets that statement reach the server and run to its end (the server commits it before it says
// ReadyForQuery), then cuts the connection instead of passing the answer on. The client sees what
// it would see if the network or the server went away at that instant: the connection lost, and
// no word on whether the statement committed.
import net from 'node:net';
import { afterAll } from 'vitest';

export interface PgProxy {
  /** The URL to connect through the proxy (same user, password, database and query). */
  url: string;
  /** The next time the statement named `name` runs, its answer is lost (once). */
  loseAnswerOf(name: string): void;
  /** How many answers were lost so far. */
  readonly lost: number;
}

/** ReadyForQuery ('Z', length 5): the server has finished the statement, commit included. */
const READY = Buffer.from([0x5a, 0, 0, 0, 5]);

const servers: net.Server[] = [];
afterAll(() => {
  for (const s of servers.splice(0)) s.close();
});

export async function pgProxy(target: string): Promise<PgProxy> {
  const t = new URL(target);
  const pending = new Set<string>();
  let lost = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(t.port || 5432), t.hostname);
    let armed = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
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
      if (!armed) return void client.write(d);
      held = Buffer.concat([held, d]);
      if (held.includes(READY)) {
        lost++;
        cut();
      }
    });
  });
  servers.push(server);
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
  };
}
