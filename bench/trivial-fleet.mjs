// A fleet for the process benchmarks: lanes that never respawn (unless told), one backend whose
// agent exits at once, a quota probe that always says yes (so a failure cannot park the backend),
// no resource gate. Written to a fresh temporary directory; the caller removes it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// `agent`: 'node' (a Node.js script that exits at once, like the CLI agents, which are Node
// programs too) or 'shell' (/bin/true: the scheduler's own cost, without an agent's start-up).
// `lane`: YAML for each lane (respawn, cooldown); `interval`: the tick interval. `graded`: the agent grades itself 1 (its working
// directory is no git repository, so without a grade file its outcome is unknown).
export function trivialFleet({
  prefix,
  width,
  lanes,
  agent = 'node',
  lane = 'cooldown: 0s, respawn: { chain_limit: 0 }',
  graded = false,
  interval = '1h',
}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const script = path.join(dir, 'agent.mjs');
  writeFileSync(
    script,
    graded
      ? `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.env.LANEKEEPER_GRADE_FILE, '{"grade": 1}');\n`
      : 'process.exit(0);\n',
  );
  const shell = graded ? ['/bin/sh', '-c', 'echo \'{"grade": 1}\' > "$LANEKEEPER_GRADE_FILE"'] : ['/bin/true'];
  const command = agent === 'shell' ? shell : ['{node}', script];
  const file = path.join(dir, 'lk.yaml');
  writeFileSync(
    file,
    `width: ${width}
schedule: { interval: ${interval}, jitter: 0s }
resources: { enabled: false }
lanes:
${lanes.map((n) => `  - { name: ${n}, ${lane} }`).join('\n')}
backends:
  - name: trivial
    command: ${JSON.stringify(command)}
    cwd: ${JSON.stringify(dir)}
    models: [{ name: m }]
    quota: { command: ["{node}", "-e", "console.log(JSON.stringify({available: true, windows: []}))"] }
`,
  );
  return { dir, file };
}
