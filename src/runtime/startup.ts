// A run's start: the fleet it goes on from and what goes into the journal before the first tick.
// Every start goes on from where the last run left the fleet (its last checkpoint and the journal
// after it, through the one fold): cooldowns and their deadlines, respawn chains, no-op backoff,
// arm rests and share deficits are the scheduler's memory, whether the last run drained or died. A
// deadline that passed while nothing ran is simply due at the first event.
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import type { Store } from '../ports/store.js';
import type { BusEvent } from '../machines/events.js';
import { FleetHost, MACHINES_VERSION, type LaneStatus } from '../streams/fleet-host.js';
import { emptyLearning } from '../policy/learning.js';
import { isoSeconds } from '../format/time.js';
import { leftText } from '../format/left.js';
import { plural } from '../format/event.js';
import { withModelBumps } from './model-bumps.js';
import { restoreFleet, type Reconciled, type Restored } from './recover.js';
import type { LiveConfig } from './live-config.js';
import { deadlineOf } from './lane-rows.js';

export interface RunStart {
  host: FleetHost;
  /** The actors the last run left, or null: a fresh fleet. */
  restored: Restored | null;
  /** The last run never drained (kill -9, a crash): its sessions are reconciled with the world too. */
  crashed: boolean;
  /** Journaled before the first tick: the fleet, what was learned before. */
  events: BusEvent[];
}

export async function beginRun(
  store: Store,
  live: LiveConfig,
  log: Logger,
  clock: () => number,
  inspect?: (e: InspectionEvent) => void,
): Promise<RunStart> {
  const crashed = (await store.runtimeInfo.get('run_state')) === 'running';
  const restored = await resume(store, log, inspect);
  await store.runtimeInfo.set('run_state', 'running');
  const host = restored?.host ?? new FleetHost({ ...live.fleet, inspect });
  await store.lanes.retain(host.laneIds);
  if (restored && crashed && store.shared) await foldLostGrades(store, restored, clock());
  const events = restored ? resumedEvents(restored, crashed, live, log) : await freshEvents(store, live, log);
  return { host, restored, crashed, events };
}

/** The start-up log line: where this run went on from, and what it found of the last one. */
export async function logStart(
  store: Store,
  log: Logger,
  start: RunStart,
  reconciled: Reconciled | null,
  now: number,
): Promise<void> {
  const { restored, crashed } = start;
  if (crashed && reconciled) {
    const { adopted, closed, released } = reconciled;
    log.warn(
      `the last run ended without a drain: ${restored ? `lanes restored from the journal (${foldedText(restored)})` : 'the fleet starts fresh'}; ` +
        `${adopted.length} session(s) still running adopted${adopted.length ? ` (${adopted.join(', ')})` : ''}, ${closed.length} closed${closed.length ? ` (${closed.join(', ')})` : ''}, ${released.length} leftover claim(s) released`,
    );
  } else if (restored) {
    const stoppedAt = Number((await store.runtimeInfo.get('stopped_at')) ?? NaN);
    const closed = reconciled?.closed.length
      ? `; ${reconciled.closed.length} session(s) whose end the last run did not journal closed (${reconciled.closed.join(', ')})`
      : '';
    log.info(
      `going on from the last run${Number.isFinite(stoppedAt) ? ` (drained ${isoSeconds(stoppedAt)})` : ''}: lanes restored from the journal (${foldedText(restored)})${resting(start.host.lanes(), now)}${closed}`,
    );
  }
}

/**
 * The actors as the last run left them, or null: the journal is empty (the first run here), or it
 * cannot be gone on from (the log says why, and the fleet starts fresh with what the store learned).
 */
async function resume(store: Store, log: Logger, inspect?: (e: InspectionEvent) => void): Promise<Restored | null> {
  const r = await restoreFleet(store, { inspect });
  if (!('reason' in r)) return r;
  if (!r.empty) log.warn(`the fleet starts fresh (lanes idle, what was learned kept): ${r.reason}`);
  return null;
}

/**
 * A dead run may have journaled grades it never folded into the shared posteriors (several hosts,
 * one store): fold them now (a grade already there changes nothing).
 */
async function foldLostGrades(store: Store, restored: Restored, now: number): Promise<void> {
  const m = restored.host.selectorMemory();
  const fresh = {
    learning: emptyLearning(m.learning.model, m.learning.forgetting),
    arms: emptyLearning(m.learning.model, m.arms.forgetting),
    fairness: m.fairness,
    graded: [],
  };
  for (const g of restored.grades) await store.learning.applyGrade(g, fresh, now);
}

function resumedEvents(restored: Restored, crashed: boolean, live: LiveConfig, log: Logger): BusEvent[] {
  const events: BusEvent[] = [];
  // The file changed while no lanekeeper ran (or this run's mode differs: a --once run never
  // respawns): applied like a reload, before the fleet resumes, so a cooldown whose deadline
  // passed meanwhile ends under the settings of this run.
  if (JSON.stringify(restored.fleet) !== JSON.stringify(live.fleet))
    events.push({ type: 'CONFIG_RELOADED', fleet: live.fleet, source: 'restart', changes: ['fleet'] });
  // The selector's learning came back with the actors: every grade journaled, each once.
  events.push({
    type: 'RUNTIME_RECOVERED',
    after: restored.after,
    machines: MACHINES_VERSION,
    mode: live.mode,
    stop: crashed ? 'crash' : 'drain',
  });
  // A model version bump added since (`replaces:`) starts from the older model's evidence, as at a fresh start.
  const memory = restored.host.selectorMemory();
  const bumped = withModelBumps(memory, live.current, log);
  if (bumped.arms !== memory.arms)
    events.push({ type: 'SELECTOR_RESTORED', learning: memory.learning, arms: bumped.arms });
  return events;
}

async function freshEvents(store: Store, live: LiveConfig, log: Logger): Promise<BusEvent[]> {
  const config = live.current;
  const events: BusEvent[] = [
    { type: 'RUNTIME_STARTED', fleet: live.fleet, machines: MACHINES_VERSION, mode: live.mode },
  ];
  const memory = await store.learning.load();
  if (memory && memory.learning.model === config.selector.model)
    events.push({ type: 'SELECTOR_RESTORED', ...withModelBumps(memory, config, log) });
  else if (memory) {
    // Shares and recent starts do not depend on the model; the evidence does.
    const discarded = `the evidence in the store was kept with the ${memory.learning.model} model; this run uses ${config.selector.model}, so learning starts fresh`;
    events.push({
      type: 'SELECTOR_RESTORED',
      learning: emptyLearning(config.selector.model),
      fairness: memory.fairness,
      arms: emptyLearning(config.selector.model),
      discarded,
    });
  }
  return events;
}

/** "12 events from seq 4001, after its last checkpoint". */
function foldedText(r: Restored): string {
  return `${plural(r.folded, 'event')} from seq ${r.from.seq}, after its ${r.from.at === 'checkpoint' ? 'last checkpoint' : 'start'}`;
}

/** "; resting: code cooldown (1h 59m left), docs waiting (due now)": the lanes a deadline holds. */
function resting(lanes: readonly LaneStatus[], now: number): string {
  const held = lanes
    .filter((l) => deadlineOf(l) !== null)
    .map((l) => `${l.laneId} ${l.state} (${leftText(deadlineOf(l)!, now)})`);
  return held.length ? `; resting: ${held.join(', ')}` : '';
}
