// The run's mode, by name.
import type { ModeControls, RunStrategy } from './mode.js';
import type { RunMode } from '../live-config.js';
import { onceMode } from './once.js';
import { operatorMode } from './operator.js';
import { serviceMode } from './service.js';

export function modeFor(mode: RunMode, operatorSessions: number, controls: ModeControls): RunStrategy {
  if (mode === 'once') return onceMode(controls);
  if (mode === 'operator') return operatorMode(operatorSessions, controls);
  return serviceMode();
}
