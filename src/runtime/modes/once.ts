// `run --once` (a systemd timer's run): one tick, then the run drains as soon as nothing that
// tick began is still going. Its lanes never respawn (LiveConfig sets their chain limit to 0).
import { of } from 'rxjs';
import { FirstTick } from '../first-tick.js';
import type { ModeControls, RunStrategy } from './mode.js';

export function onceMode(controls: Pick<ModeControls, 'drain'>): RunStrategy {
  const first = new FirstTick();
  return {
    ticks: (_timer, scheduled) => {
      // `status` shows when the next timer tick is due: a once run plans none (forget a crashed run's).
      scheduled(null);
      return of({ type: 'TICK', reason: 'manual' });
    },
    tickRoom: () => undefined,
    observe: (event, intents, lanes) => {
      first.observe(event, intents);
      if (first.settled(lanes)) controls.drain('--once: the tick is done');
    },
    stopping: false,
    firstTick: () => first.get(),
  };
}
