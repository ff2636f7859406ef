// A fleet for the process benchmarks: lanes that never respawn, one backend whose agent exits at
// once, a quota probe that always says yes (so a failure cannot park the backend), no resource
// gate. Written to a fresh temporary directory; the caller removes it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function trivialFleet({ prefix, width, lanes }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const agent = path.join(dir, 'agent.mjs');
  writeFileSync(agent, 'process.exit(0);\n');
  const file = path.join(dir, 'lk.yaml');
  writeFileSync(
    file,
    `width: ${width}
schedule: { interval: 1h, jitter: 0s }
resources: { enabled: false }
lanes:
${lanes.map((n) => `  - { name: ${n}, cooldown: 0s, respawn: { chain_limit: 0 } }`).join('\n')}
backends:
  - name: trivial
    command: ["{node}", ${JSON.stringify(agent)}]
    cwd: ${JSON.stringify(dir)}
    models: [{ name: m }]
    quota: { command: ["{node}", "-e", "console.log(JSON.stringify({available: true, windows: []}))"] }
`,
  );
  return { dir, file };
}
