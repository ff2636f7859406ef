// The embedded demo: six lanes, two simulated backends and the small simulated agent shipped in
// src/demo/agent.ts. `lanekeeper run --demo` runs it; `lanekeeper init --demo` writes it out.
import { fileURLToPath } from 'node:url';

/** The compiled simulated agent, next to this file's compiled form (dist/demo/agent.js). */
export function demoAgentPath(): string {
  return fileURLToPath(new URL('../demo/agent.js', import.meta.url));
}

export function demoConfigYaml(agentPath = demoAgentPath()): string {
  return `# lanekeeper demo: six lanes, two simulated backends, a simulated agent.
# Each session works a few seconds in a scratch git repository under the state directory,
# may commit, writes a grade and exits. Lanes differ in quality so the selector has
# something to learn. Run it with: lanekeeper run --config THIS_FILE --for 90s
demo: true            # prepare the scratch repositories the simulated agent works in
width: 3              # sessions started per tick
schedule:
  interval: 10s       # a tick every 10 s (a real fleet: 30m)
  jitter: 1s
sessions:
  kill_grace: 5s
  drain_grace: 15s
resources:            # the demo's agents are tiny, so only a machine under heavy strain skips a
  skip_load: 8        # tick (a real fleet keeps the defaults: 0.9, 0.75, 0.6 per core, 20% memory)
  width1_load: 6
  width2_load: 4
  min_memory: 0.02

lanes:
  - name: code
    cooldown: 20s
    timeout: 30s
    target_share: 0.3
  - name: triage
    cooldown: 20s
    timeout: 30s
    arms: [sim-fast:small]      # cheap work on the cheap model
  - name: content
    cooldown: 20s
    timeout: 30s
  - name: research
    cooldown: 20s
    timeout: 30s
    arms: [sim-deep:large]
  - name: infrastructure
    cooldown: 20s
    timeout: 30s
  - name: cleanup
    cooldown: 20s
    timeout: 30s
    parallel: false             # runs only when nothing else does

backends:
  - name: sim-fast
    command: ["{node}", ${JSON.stringify(agentPath)}, --lane, "{lane}", --model, "{model}"]
    cwd: "{state}/demo-repos/{lane}"
    tier: 1
    cost: 0.2
    models:
      - name: small
  - name: sim-deep
    command: ["{node}", ${JSON.stringify(agentPath)}, --lane, "{lane}", --model, "{model}"]
    cwd: "{state}/demo-repos/{lane}"
    tier: 3
    cost: 3
    models:
      - name: large
`;
}
