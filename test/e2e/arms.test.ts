// Arms end to end: an arm whose agent cannot start rests after 3 failed starts in a row, its
// failures never count against its reward, and the lane goes on with the arms that work.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { AGENTS, cli, tmpDir } from '../helpers/tmp.js';

test('a crash-looping arm rests; failed starts are not learned; the lane runs on the other arm', async () => {
  const dir = tmpDir();
  const state = path.join(dir, 'state');
  const file = path.join(dir, 'lk.yaml');
  writeFileSync(
    file,
    `
width: 1
schedule: { interval: 1s, jitter: 0s }
resources: { enabled: false }
lanes:
  - { name: code, cooldown: 0s, respawn: { chain_limit: 0 } }
backends:
  - name: broken
    command: ["lanekeeper-test-no-such-agent"]
    cwd: ${JSON.stringify(dir)}
    models: [{ name: x }]
  - name: good
    command: ["{node}", ${JSON.stringify(path.join(AGENTS, 'ok.mjs'))}]
    cwd: ${JSON.stringify(dir)}
    env: { AGENT_GRADE: "0.6" }
    models: [{ name: ok }]
`,
  );
  expect((await cli(['run', '--operator', '--sessions', '12', '--for', '40s', '--config', file, '--state', state])).code).toBe(0);
  const st = JSON.parse((await cli(['status', '--json', '--state', state, '--limit', '50'])).stdout) as { sessions: { arm: string; outcome: string; started_at: string }[] };
  const byTime = st.sessions.slice().sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  const broken = byTime.filter((s) => s.arm === 'broken:x');
  expect(broken.length).toBe(3);
  expect(broken.every((s) => s.outcome === 'failed')).toBe(true);
  // After the third failed start, only the good arm runs.
  const third = byTime.indexOf(broken[2]!);
  expect(byTime.slice(third + 1).every((s) => s.arm === 'good:ok')).toBe(true);
  expect(byTime.length).toBe(12);
  // Failed starts taught nothing: only the good arm has evidence.
  const plan = JSON.parse((await cli(['plan', '--json', '--config', file, '--state', state, '--seed', '1'])).stdout) as { ranked: { components: { evidence: number } }[] };
  expect(plan.ranked[0]!.components.evidence).toBeCloseTo(12 - 3, 0);
});
