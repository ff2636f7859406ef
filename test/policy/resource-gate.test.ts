import { laneConfig as lane } from '../helpers/settings.js';
import { describe, expect, test } from 'vitest';
import { emptyFairness } from '../../src/policy/fairness.js';
import { emptyLearning } from '../../src/policy/learning.js';
import { planTick, type LaneView, type TickInputs } from '../../src/policy/plan-tick.js';
import { DEFAULT_GATE, resourceGate, type ResourceReading } from '../../src/policy/resource-gate.js';
import { defaultSelection } from '../../src/runtime/selection.js';

const reading = (over: Partial<ResourceReading> = {}): ResourceReading => ({
  load1: 0.1,
  cores: 1,
  memAvailable: 0.5,
  ...over,
});
const gate = (over: Partial<ResourceReading>, width = 4) => resourceGate(reading(over), DEFAULT_GATE, width);

const slot = (laneId: string, state = 'idle', over: Partial<LaneView> = {}): LaneView => ({
  laneId,
  lane: laneId.split('.')[0]!,
  state,
  enabled: true,
  parallel: true,
  ...over,
});

function plan(view: LaneView[], width: number, inputs: TickInputs) {
  const lanes = [...new Set(view.map((v) => v.lane))].map((name) => lane(name));
  return planTick({
    view,
    width,
    seed: 1,
    now: 0,
    learning: emptyLearning(),
    fairness: emptyFairness(),
    settings: defaultSelection(lanes).plan,
    tasks: null,
    inputs,
  });
}

describe('resource gate: load per core', () => {
  test('exactly 0.9 load per core is not skipped; just above is', () => {
    const at = gate({ load1: 0.9 });
    expect(at.action).toBe('proceed');
    expect(at.width).toBe(1); // 0.9 > 0.75: narrowed to one slot, but not skipped
    // The same ratio on more cores (3.6 / 4 is exactly 0.9 in floating point).
    expect(gate({ load1: 3.6, cores: 4 }).action).toBe('proceed');
    const above = gate({ load1: 0.9000001 });
    expect(above).toMatchObject({ action: 'skip', width: 0, narrowed: true });
    expect(above.reason).toContain('> 0.9');
    expect(gate({ load1: 3.7, cores: 4 }).action).toBe('skip');
  });

  test('exactly 0.75 gives width 2, just above gives width 1', () => {
    expect(gate({ load1: 0.75 })).toMatchObject({ action: 'proceed', width: 2, narrowed: true });
    const above = gate({ load1: 0.7500001 });
    expect(above).toMatchObject({ action: 'proceed', width: 1, narrowed: true });
    expect(above.reason).toContain('width 1');
  });

  test('exactly 0.6 keeps the full width, just above gives width 2', () => {
    expect(gate({ load1: 0.6 })).toMatchObject({ action: 'proceed', width: 4, narrowed: false });
    const above = gate({ load1: 0.6000001 });
    expect(above).toMatchObject({ action: 'proceed', width: 2, narrowed: true });
    expect(above.reason).toContain('width 2');
  });

  test('the gate never raises a smaller configured width, and then it did not narrow', () => {
    expect(gate({ load1: 0.8 }, 1)).toMatchObject({ action: 'proceed', width: 1, narrowed: false });
    expect(gate({ load1: 0.7 }, 1)).toMatchObject({ action: 'proceed', width: 1, narrowed: false });
    expect(gate({ load1: 0.7 }, 2)).toMatchObject({ action: 'proceed', width: 2, narrowed: false });
    expect(gate({ load1: 0.7 }, 3)).toMatchObject({ action: 'proceed', width: 2, narrowed: true });
    expect(gate({ load1: 0.8 }, 2)).toMatchObject({ action: 'proceed', width: 1, narrowed: true });
    expect(gate({ load1: 0.1 }, 1)).toMatchObject({ action: 'proceed', width: 1, narrowed: false });
  });

  test('the load ratio is the 1-minute load divided by the cores', () => {
    expect(gate({ load1: 3, cores: 4 })).toMatchObject({ loadRatio: 0.75, width: 2 });
    expect(gate({ load1: 3, cores: 2 })).toMatchObject({ loadRatio: 1.5, action: 'skip' });
  });
});

describe('resource gate: memory', () => {
  test('exactly 20% available memory proceeds; below skips', () => {
    expect(gate({ memAvailable: 0.2 })).toMatchObject({ action: 'proceed', width: 4 });
    const below = gate({ memAvailable: 0.19 });
    expect(below).toMatchObject({ action: 'skip', width: 0, narrowed: true, memAvailable: 0.19 });
    expect(below.reason).toContain('available memory 19.0% < 20.0%');
  });

  test('low memory skips even at low load, and high load skips even with plenty of memory', () => {
    expect(gate({ load1: 0, memAvailable: 0.05 }).action).toBe('skip');
    expect(gate({ load1: 2, memAvailable: 0.99 }).action).toBe('skip');
  });
});

describe('resource gate: failing open', () => {
  test('unreadable load proceeds and says the load was unreadable', () => {
    for (const over of [{ load1: null }, { cores: null }, { cores: 0 }] satisfies Partial<ResourceReading>[]) {
      const g = gate(over);
      expect(g).toMatchObject({ action: 'proceed', width: 4, narrowed: false, loadRatio: null });
      expect(g.reason).toContain('load unreadable');
      expect(g.reason).not.toContain('memory unreadable');
    }
  });

  test('unreadable memory proceeds and says the memory was unreadable, with the error', () => {
    const g = gate({ memAvailable: null, error: 'no /proc/meminfo' });
    expect(g).toMatchObject({ action: 'proceed', width: 4, memAvailable: null });
    expect(g.reason).toContain('memory unreadable: no /proc/meminfo');
    expect(g.reason).not.toContain('load unreadable');
  });

  test('both unreadable: proceeds and names both', () => {
    const g = gate({ load1: null, memAvailable: null });
    expect(g).toMatchObject({ action: 'proceed', width: 4, narrowed: false });
    expect(g.reason).toContain('load and memory unreadable');
  });

  test('unreadable load does not hide low memory, and unreadable memory does not hide high load', () => {
    const lowMem = gate({ load1: null, memAvailable: 0.1 });
    expect(lowMem.action).toBe('skip');
    expect(lowMem.reason).toContain('load unreadable');
    expect(gate({ memAvailable: null, load1: 0.95 }).action).toBe('skip');
    expect(gate({ memAvailable: null, load1: 0.8 })).toMatchObject({ action: 'proceed', width: 1 });
  });

  test('a disabled gate proceeds at full width whatever the figures', () => {
    const g = resourceGate(reading({ load1: 50, memAvailable: 0.01 }), { ...DEFAULT_GATE, enabled: false }, 3);
    expect(g).toMatchObject({ action: 'proceed', width: 3, narrowed: false, reason: 'resource gate off' });
  });

  test('no reading with the tick proceeds at full width', () => {
    expect(resourceGate(null, DEFAULT_GATE, 3)).toMatchObject({ action: 'proceed', width: 3, narrowed: false });
  });
});

describe('resource gate in the planner', () => {
  test('a skip records every slot as skipped with the gate reason and chooses nothing', () => {
    const view = [slot('a'), slot('b', 'running'), slot('c', 'idle', { enabled: false }), slot('d'), slot('d.2')];
    const d = plan(view, 3, { resources: reading({ load1: 2 }) });
    expect(d.chosen).toEqual([]);
    expect(d.ranked).toEqual([]);
    expect(d.width).toBe(0);
    expect(d.gate.action).toBe('skip');
    expect(d.skipped.map((s) => s.laneId)).toEqual(['a', 'b', 'c', 'd', 'd.2']);
    for (const s of d.skipped) expect(s.reason).toBe(`resource gate: ${d.gate.reason}`);
    expect(d.skipped[0]!.reason).toMatch(/^resource gate: load1\/core 2\.00 > 0\.9/);
  });

  test('a narrowed gate fills only the narrowed width', () => {
    const view = ['a', 'b', 'c', 'd'].map((n) => slot(n));
    const d = plan(view, 4, { resources: reading({ load1: 0.8 }) });
    expect(d.width).toBe(1);
    expect(d.chosen).toHaveLength(1);
    expect(d.skipped.filter((s) => s.reason === 'width reached')).toHaveLength(3);
    // Without the reading, all four go.
    expect(plan(view, 4, {}).chosen).toHaveLength(4);
  });
});
