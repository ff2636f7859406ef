// One short line per journaled event, for timelines (the local view's event list and its journal
// stepper): who it concerns and the fact it carries, without the bulky parts (task lists, learning).
import { formatDuration } from '../config/duration.js';
import type { StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';

const grade = (g: number | null) => (g === null ? 'none' : g.toFixed(2));
/** "1 lane", "3 lanes". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

type Of<T extends StampedEvent['type']> = Extract<StampedEvent, { type: T }>;

/** A session's start and end, as the log and the timelines both say them (without the lane). */
export const startedText = (e: Of<'SESSION_STARTED'>): string => `${e.sessionId} started on ${e.arm} (pid ${e.pid})`;
export function exitedText(e: Of<'SESSION_EXITED'>): string {
  // An agent adopted after a crash ran, but its exit code is nobody's to know.
  const how =
    e.exitCode !== null
      ? `exit ${e.exitCode}`
      : e.signal
        ? `signal ${e.signal}`
        : e.outcome === 'unknown' && e.durationMs > 0
          ? 'exit not known'
          : 'did not run';
  return `${e.sessionId} ended after ${formatDuration(e.durationMs)}: ${how} → ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`;
}
export const adoptedText = (e: Of<'SESSION_ADOPTED'>): string =>
  `${e.sessionId} (pid ${e.pid}) still runs after the crash: adopted, watched to its end`;
export const restoredText = (e: Of<'SELECTOR_RESTORED'>): string =>
  e.discarded ?? `restored what was learned from ${plural(e.learning.clock, 'graded session')}`;

/**
 * What a read of the task files found: the usable tasks and the files left out. A file may have
 * several problems; it is one file skipped.
 */
export function tasksChangedText(e: Pick<Of<'TASKS_CHANGED'>, 'tasks' | 'problems'>): string {
  const skipped = new Set(e.problems.map((p) => p.file)).size;
  return `task files: ${plural(e.tasks.length, 'task')}${skipped ? `, ${plural(skipped, 'file')} skipped` : ''}`;
}

export function eventSummary(e: StampedEvent): string {
  switch (e.type) {
    case 'TICK':
      return `tick (${e.reason})${e.inputs?.maxWidth !== undefined ? `, at most ${e.inputs.maxWidth}` : ''}`;
    case 'WAKE':
      return 'a deadline passed';
    case 'DRAIN':
      return `drain: ${e.reason}`;
    case 'CLAIM_GRANTED':
      return `${e.laneId}: ${e.key} granted to ${e.sessionId} (token ${e.token})`;
    case 'CLAIM_DENIED':
      return `${e.laneId}: ${e.key} denied to ${e.sessionId}${e.holder ? ` (held by ${e.holder})` : ''}: ${e.reason}`;
    case 'CLAIM_LOST':
      return `${e.laneId}: ${e.sessionId} lost ${e.key}: ${e.reason}`;
    case 'SESSION_STARTED':
      return `${e.laneId}: ${startedText(e)}`;
    case 'SESSION_EXITED':
      return `${e.laneId}: ${exitedText(e)}`;
    case 'SESSION_GRADED':
      return `${e.laneId}: ${e.sessionId} graded ${grade(e.grade)} (${e.source})${e.censored ? `, not learned: ${e.censored}` : ''}`;
    case 'SESSION_REGRADED':
      return `${e.laneId}: ${e.sessionId} graded late ${grade(e.grade)}`;
    case 'GRADE_REJECTED':
      return `${e.laneId}: ${e.sessionId} grade rejected: ${e.reason}`;
    case 'SELECTOR_RESTORED':
      return restoredText(e);
    case 'TASKS_CHANGED':
      return tasksChangedText(e);
    case 'SELECTOR_CONTRACT_VIOLATION':
      return `external selector broke its contract: ${e.reason}`;
    case 'RUNTIME_RECOVERED':
      return e.stop === 'drain'
        ? `started again: the actors go on from seq ${e.after}, where the last run drained`
        : `recovered after a crash: the actors go on from seq ${e.after}`;
    case 'SESSION_ADOPTED':
      return `${e.laneId}: ${adoptedText(e)}`;
    case 'QUOTA_OBSERVED':
      return e.report
        ? `${e.backend}: quota ${e.report.available ? 'available' : 'not available'}`
        : `${e.backend}: no quota report (${e.reason})`;
    default:
      // An event type added later than this formatter: its type says enough.
      return (e as { type: string }).type.toLowerCase().replaceAll('_', ' ');
  }
}

/** One short line per intent a machine produced. */
export function intentSummary(i: Intent): string {
  switch (i.type) {
    case 'requestClaim':
      return `request ${i.key} for ${i.sessionId}`;
    case 'releaseClaim':
      return `release ${i.key} (${i.sessionId})`;
    case 'startSession':
      return `start ${i.sessionId} on ${i.arm}${i.task ? ` [${i.task.id}]` : ''} (${i.dispatch})`;
    case 'stopSession':
      return `stop ${i.sessionId}: ${i.reason}`;
    case 'recordDecision':
      return i.kind === 'pivot'
        ? `pivot → ${i.chosen.map((c) => c.laneId).join(', ') || 'nothing'}`
        : `decide → ${i.chosen.map((c) => c.laneId).join(', ') || 'nothing'}`;
    case 'saveLearning':
      return `save learning (${i.cause}, ${i.lane})`;
    case 'laneNote':
      return `${i.laneId}: ${i.note}`;
    default:
      return (i as { type: string }).type;
  }
}
