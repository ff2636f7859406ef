// Seams a stop must not break: a drain while a lane's cooldown ends does not spin on wake-ups; an
// arm's rest after a failed session carries over to the next start (a timer's `--once` too); an
// operator run whose first pick has no backend gives the slot to a lane that can run.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';

const QUOTA = path.resolve(import.meta.dirname, '../fixtures/quota');

const journalTypes = (state: string) => {
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  try {
    return db.prepare('SELECT type FROM journal ORDER BY seq').pluck().all() as string[];
  } finally {
    db.close();
  }
};

describe('stops and starts, at the seams', () => {
  test('a cooldown that ends during a drain waits for the next start, without a storm of wake-ups', async () => {
    const { file, state } = writeConfig({
      width: 2,
      sessions: { drain_grace: '30s' },
      lanes: [
        { name: 'quick', cooldown: '3s', arms: ['fast:m'], respawn: { chain_limit: 0 } },
        { name: 'slow', arms: ['slow:m'] },
      ],
      backends: [
        fixtureAgent('ok.mjs', { name: 'fast', model: 'm', env: { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '100' } }),
        fixtureAgent('ok.mjs', { name: 'slow', model: 'm', env: { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '7000' } }),
      ],
    });
    // Stops after 2 s; the slow session keeps the drain going for about 5 s more, and quick's
    // cooldown ends in the middle of it.
    const run = await cli(['run', '--config', file, '--state', state, '--for', '2s']);
    expect(run.code, run.stderr).toBe(0);
    const types = journalTypes(state);
    expect(types.filter((t) => t === 'WAKE').length).toBeLessThan(5);
    expect(types.length).toBeLessThan(40);
  });

  test('a failed session rests its backend across starts: the next --once has no backend for the lane (exit 76)', async () => {
    const { file, state } = writeConfig({
      width: 1,
      lanes: [{ name: 'code', cooldown: '0s' }],
      backends: [fixtureAgent('crash.mjs', { name: 'flaky', model: 'm', rest_after_failure: '30m' })],
    });
    const first = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const second = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(second.code, second.stdout + second.stderr).toBe(76);
    expect(second.stdout).toMatch(/no eligible arm \(flaky:m: [^)]*failed at [^)]*, blocked until /);
  });

  test('--operator: the lane it picks first has no backend, so the slot goes to one that has', async () => {
    const { file, state } = writeConfig({
      width: 1,
      lanes: [
        // The share pulls spent first; its only backend's quota is exhausted.
        { name: 'spent', target_share: 0.9, arms: ['exhausted:m'] },
        { name: 'fine', arms: ['healthy:m'] },
      ],
      backends: [
        fixtureAgent('ok.mjs', {
          name: 'exhausted',
          model: 'm',
          env: { AGENT_GRADE: '0.6' },
          quota: { command: ['{node}', path.join(QUOTA, 'exhausted.mjs')] },
        }),
        fixtureAgent('ok.mjs', { name: 'healthy', model: 'm', env: { AGENT_GRADE: '0.6' } }),
      ],
    });
    const run = await cli(['run', '--operator', '--sessions', '1', '--config', file, '--state', state, '--for', '30s']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
      sessions: { lane: string }[];
    };
    expect(st.sessions.map((s) => s.lane)).toEqual(['fine']);
  });
});
