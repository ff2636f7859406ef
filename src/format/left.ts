// How long a lane still waits, as plan, status and the start-up log say it.
import { formatDuration } from '../config/duration.js';

/**
 * "1h 59m left", "12s left", or "due now" for a deadline that has passed (it is taken at the
 * next event). Whole seconds, rounded up, so a wait is never shown shorter than it is.
 */
export function leftText(deadline: number, now: number): string {
  const ms = deadline - now;
  return ms <= 0 ? 'due now' : `${formatDuration(Math.ceil(ms / 1000) * 1000)} left`;
}
