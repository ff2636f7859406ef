// Housekeeping as sources of the bus (src/runtime/housekeeping.ts): journal retention runs while
// the service does, when `journal.keep` is set, and follows a reload that sets it; it deletes only
// below a checkpoint it keeps, archiving first when asked.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import pino from 'pino';
import { firstValueFrom, timer } from 'rxjs';
import { parseConfigText } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { StampedEvent } from '../../src/machines/events.js';
import { FleetHost, MACHINES_VERSION } from '../../src/streams/fleet-host.js';
import { retention$ } from '../../src/runtime/housekeeping.js';
import { LiveConfig } from '../../src/runtime/live-config.js';
import { tmpDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
const BASE = 'lanes: [{ name: code }]\nbackends: [{ name: b, command: ["true"], models: [{ name: m }] }]\n';

/** A journal of 40 events, a day apart, with a checkpoint of a fleet every 10. */
async function journalOf40(stateDir: string) {
  const store = openSqliteStore(stateDir);
  const fleet = new LiveConfig(parseConfigText(BASE, 'lk.yaml', { env: {}, stateDir }), 'service').fleet;
  const actors = new FleetHost(fleet).persist();
  for (let seq = 1; seq <= 40; seq++) {
    await store.journal.append({ type: 'WAKE', seq, now: seq * DAY } as StampedEvent);
    if (seq % 10 === 0)
      await store.journal.saveCheckpoint({ seq, version: MACHINES_VERSION, state: { fleet, actors } });
  }
  return store;
}

const firstSeq = async (store: ReturnType<typeof openSqliteStore>) =>
  (await store.journal.read({ fromSeq: 0, limit: 1 }))[0]?.seq;

test('with journal.keep, the service prunes below the newest checkpoint that old, archiving first', async () => {
  const dir = tmpDir();
  const store = await journalOf40(path.join(dir, 'state'));
  const parse = (text: string) => parseConfigText(text, path.join(dir, 'lk.yaml'), { env: {}, stateDir: dir });
  const live = new LiveConfig(parse(`${BASE}journal: { keep: 15d, archive_dir: archive }\n`), 'service');
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l).msg as string) });
  // "Now" is day 41: the newest checkpoint at least 15 days old is the one at seq 20 (day 20).
  const sub = retention$(store, log, live, () => 41 * DAY, { afterMs: 1, everyMs: 60_000 }).subscribe();
  await firstValueFrom(timer(300));
  sub.unsubscribe();
  expect(await firstSeq(store)).toBe(20);
  expect(readdirSync(path.join(dir, 'archive'))).toEqual(['journal-0000000001-0000000020.jsonl']);
  expect(lines.some((l) => l.startsWith('journal pruned: seq 1–19 deleted'))).toBe(true);
  store.close();
});

test('without journal.keep nothing is pruned, until a reload sets it', async () => {
  const dir = tmpDir();
  const store = await journalOf40(path.join(dir, 'state'));
  const parse = (text: string) => parseConfigText(text, path.join(dir, 'lk.yaml'), { env: {}, stateDir: dir });
  const live = new LiveConfig(parse(BASE), 'service');
  const log = pino({ level: 'silent' });
  const sub = retention$(store, log, live, () => 41 * DAY, { afterMs: 1, everyMs: 60_000 }).subscribe();
  await firstValueFrom(timer(200));
  expect(await firstSeq(store)).toBe(1);
  live.offer('SIGHUP', () => parse(`${BASE}journal: { keep: 25d }\n`), log);
  live.take();
  await firstValueFrom(timer(300));
  sub.unsubscribe();
  // Day 16 is the cut-off: the checkpoint at seq 10 is the newest that old.
  expect(await firstSeq(store)).toBe(10);
  store.close();
});
