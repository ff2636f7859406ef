// The lane's state chart for the local view, drawn from the machine's own definition, so the picture
// cannot drift from the code: every state node becomes a Graphviz node (atomic states) or cluster
// (compound states), and every transition with a target becomes an edge labelled with its event and
// guard. Targetless transitions (DRAIN, CLAIM_LOST) change no state and are left out.
//
// Each state's SVG element gets its path as its id (`idle`, `running.grading`): the page highlights
// a lane's current state by that id. Graphviz runs compiled to WebAssembly inside this process
// (@hpcc-js/wasm-graphviz embeds its binary), so drawing needs no network and no system package.
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { laneMachine } from '../../machines/lane.js';

/** The parts of an XState state node the chart reads (a structural subset of xstate's StateNode). */
export interface ChartNode {
  path: string[];
  type: string;
  states: Record<string, ChartNode>;
  initial?: { target: readonly ChartNode[] } | undefined;
  transitions: ReadonlyMap<string, readonly ChartTransition[]>;
  always?: readonly ChartTransition[] | undefined;
}

export interface ChartTransition {
  eventType: string;
  target?: readonly ChartNode[] | undefined;
  guard?: unknown;
}

const FONT = 'Helvetica,Arial,sans-serif';
const idOf = (n: ChartNode) => n.path.join('.');
const isCompound = (n: ChartNode) => Object.keys(n.states).length > 0;
const quote = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/** Where an edge to or from a compound state attaches: its initial leaf (the edge is clipped to the cluster). */
function anchor(n: ChartNode): ChartNode {
  let at = n;
  while (isCompound(at)) at = at.initial?.target[0] ?? Object.values(at.states)[0]!;
  return at;
}

const within = (inner: ChartNode, outer: ChartNode) =>
  inner.path.length >= outer.path.length && outer.path.every((k, i) => inner.path[i] === k);

export interface ChartOptions {
  /** The graph's name. */
  name?: string;
  /** Guards left out of labels: bookkeeping a reader need not see (in `and`, the other parts stay). */
  quietGuards?: readonly string[];
}

/**
 * A guard as a reader would say it: `forThisSession and draining`, `not draining`; null for none
 * (or only quiet ones). An inline guard function has no name worth showing: `condition`.
 */
export function guardLabel(guard: unknown, quiet: readonly string[] = []): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return quiet.includes(guard) ? null : guard;
  if (typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string')
    return quiet.includes(guard.type) ? null : guard.type;
  if (typeof guard === 'function') {
    // xstate's and()/or()/not() are functions named after themselves, holding their parts in `guards`.
    const parts = (guard as { guards?: unknown[] }).guards;
    if (Array.isArray(parts)) {
      if (guard.name === 'not') return `not ${guardLabel(parts[0]) ?? 'condition'}`;
      if (guard.name === 'or') return parts.map((g) => guardLabel(g) ?? 'condition').join(' or ');
      const inner = parts.map((g) => guardLabel(g, quiet)).filter((g) => g !== null);
      return inner.length ? inner.join(' and ') : null;
    }
    return guard.name && guard.name !== 'guard' ? guard.name : 'condition';
  }
  return 'condition';
}

function transitionLabel(t: ChartTransition, quiet: readonly string[]): string {
  const guard = guardLabel(t.guard, quiet);
  if (!t.eventType) return guard ? `[${guard}]` : '(at once)';
  return guard ? `${t.eventType} [${guard}]` : t.eventType;
}

/** The DOT source of a machine's chart (its root state node, e.g. `laneMachine.root`). */
export function chartDot(root: ChartNode, opts: ChartOptions = {}): string {
  const quiet = opts.quietGuards ?? [];
  const lines: string[] = [
    `digraph ${quote(opts.name ?? 'chart')} {`,
    // newrank: rank all states together rather than each cluster on its own, which keeps the
    // initial state on top instead of wherever the back edges push it.
    `  graph [compound=true, newrank=true, rankdir=TB, nodesep=0.25, ranksep=0.3, fontname=${quote(FONT)}, fontsize=11, bgcolor="transparent", pad=0.1];`,
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#6b7685", fontname=${quote(FONT)}, fontsize=11, height=0.3, margin="0.12,0.04"];`,
    `  edge [fontname=${quote(FONT)}, fontsize=8, color="#98a2b0", fontcolor="#5b6675", arrowsize=0.6];`,
  ];
  const states = (n: ChartNode, indent: string) => {
    for (const child of Object.values(n.states)) {
      const id = idOf(child);
      if (isCompound(child)) {
        lines.push(`${indent}subgraph ${quote(`cluster_${id}`)} {`);
        lines.push(
          `${indent}  id=${quote(id)}; class="state compound"; label=${quote(child.path.at(-1)!)}; labeljust=l; style="rounded,filled"; fillcolor="#f5f7fa"; color="#6b7685";`,
        );
        initial(child, `${indent}  `);
        states(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${quote(id)} [id=${quote(id)}, class="state", label=${quote(child.path.at(-1)!)}];`);
      }
    }
  };
  // The initial state is marked the statechart way: a dot with an arrow to it.
  const initial = (n: ChartNode, indent: string) => {
    const first = n.initial?.target[0];
    if (!first) return;
    const dot = `${idOf(n) || 'root'}/initial`;
    lines.push(`${indent}${quote(dot)} [shape=point, width=0.08, class="initial", label=""];`);
    lines.push(
      `${indent}${quote(dot)} -> ${quote(idOf(anchor(first)))} [class="initial"${isCompound(first) ? `, lhead=${quote(`cluster_${idOf(first)}`)}` : ''}];`,
    );
  };
  initial(root, '  ');
  states(root, '  ');

  // One edge per (source, target), listing every event and guard that takes it.
  const edges = new Map<string, { from: ChartNode; to: ChartNode; labels: string[] }>();
  const visit = (n: ChartNode) => {
    for (const t of [...[...n.transitions.values()].flat(), ...(n.always ?? [])]) {
      for (const to of t.target ?? []) {
        if (n.path.length === 0) continue;
        const key = `${idOf(n)}>${idOf(to)}`;
        const edge = edges.get(key) ?? { from: n, to, labels: [] };
        const label = transitionLabel(t, quiet);
        if (!edge.labels.includes(label)) edge.labels.push(label);
        edges.set(key, edge);
      }
    }
    Object.values(n.states).forEach(visit);
  };
  visit(root);
  for (const { from, to, labels } of edges.values()) {
    const attrs = [
      `id=${quote(`${idOf(from)}->${idOf(to)}`)}`,
      'class="transition"',
      `label=${quote(labels.join('\n')).replaceAll('\n', '\\n')}`,
    ];
    // A compound end is drawn as its cluster's border, unless the edge stays inside it.
    if (isCompound(from) && !within(to, from)) attrs.push(`ltail=${quote(`cluster_${idOf(from)}`)}`);
    if (isCompound(to) && !within(from, to)) attrs.push(`lhead=${quote(`cluster_${idOf(to)}`)}`);
    lines.push(`  ${quote(idOf(anchor(from)))} -> ${quote(idOf(anchor(to)))} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n');
}

/**
 * The lane machine's chart. `forThisSession` is left out of the labels: it only drops events
 * meant for an earlier session of the lane, and it would stand on nearly every edge.
 */
export function laneChartDot(): string {
  return chartDot(laneMachine.root, { name: 'lane', quietGuards: ['forThisSession'] });
}

let graphviz: Promise<Graphviz> | undefined;

/** Lays out DOT source and returns the SVG element's markup (no XML prolog, ready to inline). */
export async function renderSvg(dot: string): Promise<string> {
  const gv = await (graphviz ??= Graphviz.load());
  const svg = gv.dot(dot, 'svg');
  return svg.slice(svg.indexOf('<svg'));
}
