// The end-to-end tests' config builder writes what it is given, with only the shared preamble
// added: the file parses back to the object, defaults filled, a fixture agent's cwd made real.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { CONFIG_DIR, fixtureAgent, writeConfig } from './config.js';
import { AGENTS, tmpDir } from './tmp.js';

const read = (file: string) => parse(readFileSync(file, 'utf8')) as unknown;

describe('writeConfig', () => {
  test('fills the shared preamble, and writes everything else as given', () => {
    const { file, state, dir } = writeConfig({
      width: 2,
      sessions: { kill_grace: '1s' },
      lanes: [{ name: 'code', cooldown: '0s', respawn: { chain_limit: 0 }, prompt: 'Fix: "{task_id}" # now' }],
      backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.6', RAW: '{not json' } })],
    });
    expect([path.dirname(file), path.basename(file), state]).toEqual([dir, 'lk.yaml', path.join(dir, 'state')]);
    expect(read(file)).toEqual({
      width: 2,
      schedule: { interval: '1h', jitter: '0s' },
      resources: { enabled: false },
      sessions: { kill_grace: '1s' },
      lanes: [{ name: 'code', cooldown: '0s', respawn: { chain_limit: 0 }, prompt: 'Fix: "{task_id}" # now' }],
      backends: [
        {
          name: 'fixture',
          command: ['{node}', path.join(AGENTS, 'ok.mjs')],
          cwd: dir,
          env: { AGENT_GRADE: '0.6', RAW: '{not json' },
          models: [{ name: 'ok' }],
        },
      ],
    });
  });

  test('a schedule or resources given replaces the default (a jitter left out stays 0s); a name and dir are used', () => {
    const dir = tmpDir();
    const { file } = writeConfig(
      {
        schedule: { interval: '1s' },
        resources: { min_memory: 1 },
        lanes: [{ name: 'a' }],
        backends: [
          { name: 'b', command: ['true'], models: [{ name: 'm' }] },
          { name: 'c', command: ['true'], cwd: CONFIG_DIR, models: [{ name: 'm' }] },
          fixtureAgent('hang.mjs', {
            name: 'h',
            model: 'm',
            cwd: '/elsewhere',
            args: ['{prompt}'],
            rest_after_failure: '0s',
          }),
        ],
      },
      { dir, name: 'other.yaml' },
    );
    expect(file).toBe(path.join(dir, 'other.yaml'));
    expect(read(file)).toEqual({
      schedule: { interval: '1s', jitter: '0s' },
      resources: { min_memory: 1 },
      lanes: [{ name: 'a' }],
      backends: [
        { name: 'b', command: ['true'], models: [{ name: 'm' }] },
        { name: 'c', command: ['true'], cwd: dir, models: [{ name: 'm' }] },
        {
          name: 'h',
          command: ['{node}', path.join(AGENTS, 'hang.mjs'), '{prompt}'],
          cwd: '/elsewhere',
          env: {},
          models: [{ name: 'm' }],
          rest_after_failure: '0s',
        },
      ],
    });
  });
});
