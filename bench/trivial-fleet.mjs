// A fleet for the process benchmarks: lanes that never respawn, one backend whose agent exits at
// once, a quota probe that always says yes (so a failure cannot park the backend), no resource
// gate. Written to a fresh temporary directory; the caller removes it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// `agent`: 'node' (a Node.js script that exits at once, like the CLI agents, which are Node
// programs too) or 'shell' (/bin/true: the scheduler's own cost, without an agent's start-up).
// `lane`: extra YAML for each lane (respawn, cooldown).
export function trivialFleet({ prefix, width, lanes, agent = 'node', lane = 'cooldown: 0s, respawn: { chain_limit: 0 }' }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const script = path.join(dir, 'agent.mjs');
  writeFileSync(script, 'process.exit(0);\n');
  const command = agent === 'shell' ? '["/bin/true"]' : `["{node}", ${JSON.stringify(script)}]`;
  const file = path.join(dir, 'lk.yaml');
  writeFileSync(
    file,
    `width: ${width}
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
${lanes.map((n) => `  - { name: ${n}, ${lane} }`).join('\n')}
backends:
  - name: trivial
    command: ${command}
    cwd: ${JSON.stringify(dir)}
    models: [{ name: m }]
    quota: { command: ["{node}", "-e", "console.log(JSON.stringify({available: true, windows: []}))"] }
`,
  );
  return { dir, file };
}
