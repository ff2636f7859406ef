// `run --operator`: dispatch back to back. As soon as a session is graded (or a lane frees up), the
// next decision is made, with no timer gap, until `sessions` sessions have begun; then no more are
// dispatched and the run ends when they have. The timer stays as a safety net.
import { concat, merge, of, Subject } from 'rxjs';
import type { TickEvent } from '../../machines/events.js';
import type { LaneStatus } from '../../streams/fleet-host.js';
import { isActive } from '../../policy/plan-tick.js';
import { plural } from '../../format/event.js';
import { FirstTick } from '../first-tick.js';
import type { ModeControls, RunStrategy } from './mode.js';

export function operatorMode(sessions: number, controls: ModeControls): RunStrategy {
  const { live, log } = controls;
  const first = new FirstTick();
  // The back-to-back ticks this mode asks for, gathered like every other tick.
  const asked$ = new Subject<TickEvent>();
  let begun = 0;
  let tickPending = false;
  let closing = false;
  /** Sessions this run may still begin: its target less those begun and being claimed. */
  const room = (lanes: readonly LaneStatus[]) => sessions - begun - lanes.filter((l) => l.state === 'claiming').length;
  const close = (reason: string) => {
    closing = true;
    controls.drain(reason);
  };

  return {
    ticks: (timer) => merge(concat(of<TickEvent>({ type: 'TICK', reason: 'operator' }), timer(false)), asked$),
    tickRoom: room,
    get stopping() {
      return closing;
    },
    firstTick: () => first.get(),
    observe(event, intents, lanes, becameIdle) {
      if (!first.startedAny) first.observe(event, intents);
      if (event.type === 'TICK') tickPending = false;
      begun += intents.filter((i) => i.type === 'startSession').length;
      const active = lanes.filter((l) => isActive(l.state)).length;
      if (!closing && begun >= sessions) {
        // No more dispatches or respawns, but the sessions that run finish in their own time.
        closing = true;
        log.info(`--operator: ${plural(begun, 'session')} begun; waiting for the running ones to end`);
        controls.stopTicks();
        controls.push({ type: 'DRAIN', reason: `--operator: ${plural(sessions, 'session')} begun` });
      }
      if (closing) {
        if (active === 0) controls.drain(`--operator: ${plural(sessions, 'session')} done`);
        return;
      }
      if (tickPending || controls.draining()) return;
      const config = live.current;
      const free =
        active < config.width &&
        room(lanes) > 0 &&
        lanes.some((l) => l.state === 'idle' && config.lanes.find((c) => c.name === l.lane)?.enabled);
      // A lane freed (graded, idle again), or one no backend could run (now waiting): the slot goes
      // to another idle lane at once.
      const noArm = intents.some((i) => i.type === 'laneNote' && i.note === 'no_arm');
      if (free && (event.type === 'SESSION_GRADED' || becameIdle || noArm)) {
        tickPending = true;
        asked$.next({ type: 'TICK', reason: 'operator' });
        return;
      }
      // No agent has started, nothing is going on, and no decision is due: everything was busy or
      // gated, no backend could run, or no agent could start (another arm is tried first, while a
      // lane is free). A run that can do nothing says so with --once's exit codes, not by waiting.
      if (!first.startedAny && first.settled(lanes)) close('--operator: no session could start');
    },
  };
}
