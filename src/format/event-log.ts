// One log line per event worth a line (session starts, ends and grades, claims lost, task files,
// quota reports, restored learning); the rest at debug level.
import type { Logger } from 'pino';
import { formatDuration } from '../config/duration.js';
import type { ArmConfig } from '../config/types.js';
import type { StampedEvent } from '../machines/events.js';
import { DEFAULT_NO_PROBE } from '../policy/availability.js';
import { adoptedText, exitedText, restoredText, startedText, tasksChangedText } from './event.js';

/** `arms` (the configured arms) name each backend's rest after a failure in the quota lines. */
export function logEvent(
  log: Logger,
  e: StampedEvent,
  arms: readonly Pick<ArmConfig, 'backend' | 'restAfterFailureMs'>[] = [],
): void {
  switch (e.type) {
    case 'SESSION_STARTED':
      log.child({ lane: e.laneId }).info(startedText(e));
      break;
    case 'SESSION_ADOPTED':
      log.child({ lane: e.laneId }).warn(adoptedText(e));
      break;
    case 'SESSION_EXITED':
      // An agent that could not start is the operator's to fix (a missing command or directory).
      if (e.started === false) log.child({ lane: e.laneId }).warn(exitedText(e));
      else log.child({ lane: e.laneId }).info(exitedText(e));
      break;
    case 'SESSION_GRADED':
      log
        .child({ lane: e.laneId })
        .info(`${e.sessionId} graded ${e.grade === null ? 'none' : e.grade.toFixed(2)} (${e.source})`);
      break;
    case 'GRADE_REJECTED':
      log.child({ lane: e.laneId }).warn(`${e.sessionId}: grade rejected: ${e.reason}`);
      break;
    case 'SESSION_REGRADED':
      log
        .child({ lane: e.laneId })
        .info(`${e.sessionId} graded late: ${e.grade.toFixed(2)} (replaces its earlier grade in what was learned)`);
      break;
    case 'QUOTA_OBSERVED':
      if (e.reason)
        log.warn(
          `${e.backend}: ${e.reason}; without a report, ${restNote(arms.find((a) => a.backend === e.backend)?.restAfterFailureMs ?? DEFAULT_NO_PROBE.blockMs)}`,
        );
      else
        log.info(
          `${e.backend}: quota ${e.report!.available ? 'available' : 'not available'}${e.report!.windows.map((w) => `, ${w.name} ${Math.round(w.utilization * 100)}%`).join('')}`,
        );
      break;
    case 'TASKS_CHANGED':
      log.info(tasksChangedText(e));
      for (const p of e.problems) log.warn(`task file ${p.file}: ${p.message}`);
      break;
    case 'SELECTOR_RESTORED':
      if (e.discarded) log.warn(e.discarded);
      else log.info(restoredText(e));
      break;
    case 'CLAIM_LOST':
      log.child({ lane: e.laneId }).warn(`${e.sessionId} lost its claim on ${e.key}: ${e.reason}`);
      break;
    default:
      log.debug({ event: e }, e.type);
  }
}

function restNote(restMs: number): string {
  return restMs > 0
    ? `a failed session blocks it for ${formatDuration(restMs)}`
    : 'a failed session does not block it (rest_after_failure: 0s)';
}
