import { describe, expect, test } from 'vitest';
import type { LockRecord } from '../../src/ports/store.js';
import { lockStats } from '../../src/format/lock-stats.js';

let at = 0;
const rec = (
  event: LockRecord['event'],
  key: string,
  holder: string,
  epoch: number | null,
  slots: number | null = 1,
): LockRecord => ({ at: ++at, key, slot: 0, slots, holder, epoch, event });

describe('lock telemetry', () => {
  test('clean handovers: no violation; peak counts lane slots held at once', () => {
    const s = lockStats([
      rec('acquired', 'lane:a', 's1', 1),
      rec('acquired', 'lane:b', 's2', 2),
      rec('acquired', 'task:x', 's2', 3),
      rec('released', 'lane:a', 's1', 1),
      rec('expired', 'lane:b', 's2', 2),
      rec('acquired', 'lane:a', 's3', 4),
      rec('completed', 'lane:a', 's3', 4),
    ]);
    expect(s).toMatchObject({ peak_concurrency: 2, total_acquisitions: 4, same_lock_violations: 0 });
  });

  test('finds two holders of one key at once', () => {
    const s = lockStats([
      rec('acquired', 'task:x', 'a', 1),
      rec('acquired', 'task:x', 'b', 2),
      rec('released', 'task:x', 'a', 1),
    ]);
    expect(s.same_lock_violations).toBe(1);
    expect(s.violations[0]).toMatchObject({ key: 'task:x', holder: 'b', epoch: 2, open: ['a'] });
  });

  test('a key with 2 slots allows 2 holders, not 3', () => {
    const two = [rec('acquired', 'lane:c', 'a', 1, 2), rec('acquired', 'lane:c', 'b', 2, 2)];
    expect(lockStats(two).same_lock_violations).toBe(0);
    expect(lockStats([...two, rec('acquired', 'lane:c', 'c', 3, 2)]).same_lock_violations).toBe(1);
  });

  test('holds opened before the window count as open; only records in the window are counted', () => {
    at = 100;
    const before = rec('acquired', 'task:y', 'a', 1);
    at = 200;
    const s = lockStats([before, rec('acquired', 'task:y', 'b', 2)], 150);
    expect(s).toMatchObject({ total_acquisitions: 1, same_lock_violations: 1 });
  });
});
