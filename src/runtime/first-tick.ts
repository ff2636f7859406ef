// What a run's first tick did, for the exit code a systemd timer (or whoever ran `run --once` or
// `run --operator`) reads: whether any agent actually started, the sessions whose agent could not
// (command missing, working directory missing, the before-session hook failed), lanes that no
// backend could run, and the tick's decision in a line.
import type { StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import { decisionLine } from '../format/decision.js';
import { isActive } from '../policy/plan-tick.js';
import type { LaneStatus } from '../streams/fleet-host.js';

export interface FirstTickResult {
  /** Sessions whose agent started (a process ran). */
  started: number;
  /** Sessions begun whose agent never started, each with why. */
  unstarted: { sessionId: string; lane: string; reason: string }[];
  /** Lane slots that had no eligible arm (no backend could run them). */
  noArm: number;
  /** The tick's decision in a line (or the last pivot's when the tick chose nothing). */
  reason: string | null;
}

export class FirstTick {
  private ticked = false;
  private readonly result: FirstTickResult = { started: 0, unstarted: [], noArm: 0, reason: null };

  observe(event: StampedEvent, intents: readonly Intent[]): void {
    if (event.type === 'TICK') this.ticked = true;
    if (event.type === 'SESSION_STARTED') this.result.started++;
    if (event.type === 'SESSION_EXITED' && event.started === false) {
      this.result.unstarted.push({
        sessionId: event.sessionId,
        lane: event.laneId,
        reason: event.reason ?? 'it did not start',
      });
    }
    for (const i of intents) {
      if (i.type === 'laneNote' && i.note === 'no_arm') this.result.noArm++;
      if (i.type === 'recordDecision' && (i.kind === 'tick' || i.chosen.length === 0))
        this.result.reason = decisionLine(i);
    }
  }

  /** The tick was taken and nothing it began is still going (claiming, running, being graded). */
  settled(lanes: readonly LaneStatus[]): boolean {
    return this.ticked && !lanes.some((l) => isActive(l.state));
  }

  get startedAny(): boolean {
    return this.result.started > 0;
  }

  get(): FirstTickResult {
    return { ...this.result, unstarted: [...this.result.unstarted] };
  }
}
