// Choosing the store: the config's `store:` key and LANEKEEPER_STORE (which wins), the messages
// for a URL that is not PostgreSQL's and for a server that cannot be reached (naming host and
// port, never the password), and the factory opening SQLite when no URL is given. None of this
// needs a PostgreSQL server: the unreachable one is a closed port on this machine.
import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { openClaimsOnly, openStore } from '../../src/adapters/store/open-store.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError, isUserError, StoreError } from '../../src/errors.js';
import { tmpDir } from '../helpers/tmp.js';

const MINIMAL = `
lanes:
  - name: code
backends:
  - name: claude-code
    command: [claude, -p, "{prompt}"]
    models: [{ name: sonnet }]
`;

function configProblems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfigText(text, 'lanekeeper.yaml', { env });
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected the configuration to be rejected');
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the store setting', () => {
  test('no store: key means the SQLite file in the state directory', () => {
    expect(parseConfigText(MINIMAL, 'lanekeeper.yaml', { env: {} }).store).toBeNull();
  });

  test('store: takes a postgres:// or postgresql:// URL; LANEKEEPER_STORE overrides it; an empty one does not', () => {
    const file = `store: postgres://lk:secret@db.example:5432/lanekeeper\n${MINIMAL}`;
    expect(parseConfigText(file, 'lanekeeper.yaml', { env: {} }).store).toBe(
      'postgres://lk:secret@db.example:5432/lanekeeper',
    );
    const env = { LANEKEEPER_STORE: 'postgresql://other@db2.example/lk' };
    expect(parseConfigText(file, 'lanekeeper.yaml', { env }).store).toBe('postgresql://other@db2.example/lk');
    expect(parseConfigText(MINIMAL, 'lanekeeper.yaml', { env }).store).toBe('postgresql://other@db2.example/lk');
    expect(parseConfigText(file, 'lanekeeper.yaml', { env: { LANEKEEPER_STORE: '' } }).store).toBe(
      'postgres://lk:secret@db.example:5432/lanekeeper',
    );
  });

  test('a store URL of another kind is refused, naming store and never echoing the URL', () => {
    const problems = configProblems(`store: mysql://root:hunter2@db.example/lk\n${MINIMAL}`);
    expect(problems).toEqual([
      'line 1: store: expected a postgres:// or postgresql:// URL such as postgres://lanekeeper@db.example:5432/lanekeeper, got a "mysql://" URL',
    ]);
    expect(configProblems(`store: hunter2\n${MINIMAL}`)[0]).toMatch(
      /^line 1: store: expected a PostgreSQL URL .*, got something that is not a URL$/,
    );
    expect(configProblems(`store: 5432\n${MINIMAL}`)[0]).toMatch(/store: expected a string/);
    const fromEnv = configProblems(MINIMAL, { LANEKEEPER_STORE: 'redis://:hunter2@cache' });
    expect(fromEnv).toHaveLength(1);
    expect(fromEnv[0]).toMatch(
      /store: LANEKEEPER_STORE \(which overrides store\): expected a postgres:\/\/ or postgresql:\/\/ URL .*, got a "redis:\/\/" URL$/,
    );
    expect([...problems, ...fromEnv].join('\n')).not.toContain('hunter2');
  });
});

describe('opening the store', () => {
  test('without a URL the factory opens the SQLite store in the state directory', async () => {
    const dir = tmpDir();
    const store = await openStore({ stateDir: dir });
    await store.journal.append({ type: 'WAKE', seq: 1, now: 1 });
    await store.close();
    const reader = await openStore({ stateDir: dir, url: null, mustExist: true });
    expect(await reader.journal.lastSeq()).toBe(1);
    expect(reader.location).toContain(dir);
    await reader.close();
    await expect(openStore({ stateDir: `${dir}/missing`, mustExist: true })).rejects.toThrow(/no lanekeeper database/);
  });

  test('an unreachable PostgreSQL is one user error naming host and port, without the password', async () => {
    const port = await closedPort();
    const url = `postgres://lanekeeper:s3cret-pw@127.0.0.1:${port}/lanekeeper`;
    for (const open of [() => openStore({ stateDir: tmpDir(), url }), () => openClaimsOnly({ stateDir: '', url })]) {
      const err = await open().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreError);
      expect(isUserError(err)).toBe(true);
      const message = (err as Error).message;
      expect(message).toBe(
        `cannot use the PostgreSQL store at 127.0.0.1:${port} (database lanekeeper, user lanekeeper): connection refused (is PostgreSQL running and listening there?)`,
      );
      expect(message).not.toContain('s3cret-pw');
    }
  });

  test('a URL that is not PostgreSQL is refused before anything is opened', async () => {
    await expect(openStore({ stateDir: tmpDir(), url: 'sqlite:///tmp/x.db' })).rejects.toThrow(
      /store: expected a postgres:\/\/ or postgresql:\/\/ URL/,
    );
  });
});
