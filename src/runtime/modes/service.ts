// The long-running service: a tick whenever the timer says (and at the start, if the schedule
// says so), until it is stopped.
import { FirstTick } from '../first-tick.js';
import type { RunStrategy } from './mode.js';

export function serviceMode(): RunStrategy {
  const first = new FirstTick();
  return {
    ticks: (timer) => timer(true),
    tickRoom: () => undefined,
    observe: () => {},
    stopping: false,
    firstTick: () => first.get(),
  };
}
