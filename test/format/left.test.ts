// How long a lane still waits, as plan, status and the start-up log print it.
import { describe, expect, test } from 'vitest';
import { formatDuration } from '../../src/config/duration.js';
import { leftText } from '../../src/format/left.js';

describe('time left and durations', () => {
  test('a wait is never shown shorter than it is, and a passed deadline is due', () => {
    expect(leftText(7_200_000, 60_000)).toBe('1h 59m left');
    expect(leftText(10_500, 0)).toBe('11s left');
    expect(leftText(1000, 1000)).toBe('due now');
    expect(leftText(1000, 5000)).toBe('due now');
  });

  test('durations round as a whole: never "60s" or "60m" as a part', () => {
    expect(formatDuration(7_199_000)).toBe('2h');
    expect(formatDuration(7_170_000)).toBe('2h');
    expect(formatDuration(3_599_600)).toBe('1h');
    expect(formatDuration(239_600)).toBe('4m');
    expect(formatDuration(185_000)).toBe('3m 5s');
    expect(formatDuration(7_800_000)).toBe('2h 10m');
  });
});
