// The local view's state chart is generated from the machine definition: compound states become
// clusters, every state's element carries its path as id (what the page lights), and transitions
// become labelled edges. A changed machine changes the chart.
import { and, createMachine, not, setup } from 'xstate';
import { describe, expect, test } from 'vitest';
import { chartDot, guardLabel, laneChartDot, renderSvg } from '../../../src/adapters/view/chart.js';
import { laneMachine } from '../../../src/machines/lane.js';

/** Every state path of a machine: idle, claiming, claiming.slot, … */
function statePaths(node: { states: Record<string, unknown> }, prefix = ''): string[] {
  return Object.entries(node.states).flatMap(([key, child]) => {
    const p = prefix ? `${prefix}.${key}` : key;
    return [p, ...statePaths(child as { states: Record<string, unknown> }, p)];
  });
}

describe('the DOT source', () => {
  test('a small machine: atomic states as nodes, compound ones as clusters, transitions as labelled edges', () => {
    const machine = setup({ guards: { ok: () => true, ready: () => true } }).createMachine({
      id: 'toy',
      initial: 'a',
      states: {
        a: { on: { GO: 'b', PING: {} } },
        b: {
          initial: 'x',
          states: { x: { on: { NEXT: { target: 'y', guard: and(['ok', not('ready')]) } } }, y: { always: 'z' }, z: {} },
          on: { BACK: { target: 'a', guard: 'ok' } },
        },
      },
    });
    const dot = chartDot(machine.root, { name: 'toy' });
    expect(dot.startsWith('digraph "toy" {')).toBe(true);
    expect(dot).toContain('"a" [id="a", class="state", label="a"];');
    expect(dot).toContain('subgraph "cluster_b" {');
    expect(dot).toContain('id="b"; class="state compound"; label="b";');
    expect(dot).toContain('"b.x" [id="b.x", class="state", label="x"];');
    // An edge to a compound state ends at its border (lhead); one from it starts there (ltail).
    expect(dot).toContain('"a" -> "b.x" [id="a->b", class="transition", label="GO", lhead="cluster_b"];');
    expect(dot).toContain('"b.x" -> "a" [id="b->a", class="transition", label="BACK [ok]", ltail="cluster_b"];');
    expect(dot).toContain('"b.x" -> "b.y" [id="b.x->b.y", class="transition", label="NEXT [ok and not ready]"];');
    expect(dot).toContain('"b.y" -> "b.z" [id="b.y->b.z", class="transition", label="(at once)"];');
    // Initial states are marked; a targetless transition (PING) draws nothing.
    expect(dot).toContain('"root/initial" -> "a"');
    expect(dot).toContain('"b/initial" -> "b.x"');
    expect(dot).not.toContain('PING');
  });

  test('the lane chart has every state of the lane machine, and hides only the quiet guard', () => {
    const dot = laneChartDot();
    for (const p of statePaths(laneMachine.root)) expect(dot).toMatch(new RegExp(`id="${p.replace('.', '\\.')}"`));
    expect(dot).toContain('subgraph "cluster_claiming"');
    expect(dot).toContain('subgraph "cluster_running"');
    expect(dot).toContain(
      '"idle" -> "claiming.slot" [id="idle->claiming", class="transition", label="DISPATCH [not draining]", lhead="cluster_claiming"];',
    );
    expect(dot).toContain(
      '"running.session" -> "running.grading" [id="running.session->running.grading", class="transition", label="SESSION_EXITED"];',
    );
    expect(dot).toContain(
      '"cooldown" -> "respawn.lane" [id="cooldown->respawn.lane", class="transition", label="[deadlinePassed and not draining and earnsRespawn]"];',
    );
    expect(dot).toContain(
      '"cooldown" -> "respawn.task" [id="cooldown->respawn.task", class="transition", label="[deadlinePassed and not draining and earnsRespawn and taskBacked]"];',
    );
    // Two events that take the same way share one edge.
    expect(dot).toContain('label="CLAIM_GRANTED [draining]\\nCLAIM_DENIED"');
    expect(dot).not.toContain('forThisSession');
    // DRAIN and CLAIM_LOST change no state.
    expect(dot).not.toMatch(/DRAIN|CLAIM_LOST/);
  });

  test('a changed machine changes the chart', () => {
    const changed = createMachine({
      id: 'lane',
      initial: 'idle',
      states: { idle: { on: { DISPATCH: 'paused' } }, paused: {} },
    });
    const dot = chartDot(changed.root);
    expect(dot).toContain('"paused" [id="paused"');
    expect(dot).not.toContain('claiming');
  });

  test('guards are named as a reader would say them', () => {
    expect(guardLabel('draining')).toBe('draining');
    expect(guardLabel(undefined)).toBeNull();
    expect(guardLabel('forThisSession', ['forThisSession'])).toBeNull();
    expect(guardLabel(and(['forThisSession', 'draining']), ['forThisSession'])).toBe('draining');
    expect(guardLabel(not('draining'))).toBe('not draining');
    expect(guardLabel(() => true)).toBe('condition');
  });
});

test('Graphviz (WebAssembly, in process) draws the lane chart with every state findable by its path', async () => {
  const svg = await renderSvg(laneChartDot());
  expect(svg.startsWith('<svg')).toBe(true);
  for (const p of statePaths(laneMachine.root))
    expect(svg).toContain(
      `id="${p}" class="${['claiming', 'running', 'respawn'].includes(p) ? 'cluster state compound' : 'node state'}"`,
    );
  // (Graphviz escapes the arrow; the page's DOM reads it back as `idle->claiming`.)
  expect(svg).toContain('<g id="idle&#45;&gt;claiming" class="edge transition">');
  // Nothing in it points outside the page.
  expect(svg).not.toMatch(/(href|src)="https?:/);
});
