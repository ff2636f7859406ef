// What a reload may change while lanekeeper runs: everything but the ground it stands on.
import { expect, test } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { readReload } from '../../src/config/reload.js';

const BASE = 'lanes: [{ name: code }]\nbackends: [{ name: b, command: ["true"], models: [{ name: m }] }]\n';
const parse = (text: string) => parseConfigText(text, 'lk.yaml', { env: {}, stateDir: '/srv/lk' });

test('a valid change applies, and the sections it touched are named', () => {
  const verdict = readReload(() => parse(`${BASE}width: 5\nschedule: { interval: 10m }\n`), parse(BASE));
  expect(verdict).toMatchObject({ changes: ['schedule', 'width'] });
});

test('nothing changed: no sections', () => {
  expect(readReload(() => parse(BASE), parse(BASE))).toMatchObject({ changes: [] });
});

test('an invalid file is refused with every problem, naming the file and the line', () => {
  const verdict = readReload(() => parse(`${BASE}width: many\n`), parse(BASE));
  expect(verdict).toEqual({ reason: expect.stringMatching(/^lk\.yaml: line 3: width: /) });
});

test('what needs a restart is refused with the reason: the state directory, the store, the task directory', () => {
  const current = parse(BASE);
  const moved = () => parseConfigText(BASE, 'lk.yaml', { env: {}, stateDir: '/elsewhere' });
  expect(readReload(moved, current)).toEqual({
    reason: 'state_dir changed (/srv/lk → /elsewhere); that needs a restart',
  });
  expect(readReload(() => parse(`${BASE}store: postgres://db/lk\n`), current)).toEqual({
    reason: 'store changed; that needs a restart',
  });
  expect(readReload(() => parse(`${BASE}tasks: { dir: /srv/tasks }\n`), current)).toEqual({
    reason: 'tasks.dir changed; that needs a restart',
  });
});

test('a file that cannot be read at all is refused, not thrown', () => {
  const verdict = readReload(() => {
    throw new ConfigError('lk.yaml', ['no such file']);
  }, parse(BASE));
  expect(verdict).toEqual({ reason: 'lk.yaml: no such file' });
});
