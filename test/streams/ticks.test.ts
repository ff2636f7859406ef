// The tick schedule tells whoever asks when its next timer tick is due, and that none is once it stops.
import { expect, test } from 'vitest';
import { ticks } from '../../src/streams/ticks.js';

test('onScheduled hears each planned tick time, then null when the schedule is unsubscribed', async () => {
  const heard: (number | null)[] = [];
  let now = 10_000;
  const seen: string[] = [];
  const sub = ticks(
    { intervalMs: 20, jitterMs: 10, tickOnStart: true },
    { random: () => 0.5, now: () => now, onScheduled: (at) => heard.push(at) },
  ).subscribe((t) => {
    seen.push(t.reason);
    now += 1000;
  });
  // The start tick comes at once; the first timer tick is planned right after it.
  expect(seen).toEqual(['start']);
  expect(heard).toEqual([11_025]);
  await new Promise((r) => setTimeout(r, 200));
  sub.unsubscribe();
  expect(seen.slice(0, 2)).toEqual(['start', 'timer']);
  // One planned time per timer set (each after the tick before it), and null at the end.
  expect(heard.length).toBe(seen.length + 1);
  expect(heard.slice(1, -1)).toEqual(seen.slice(1).map((_, i) => 10_000 + (i + 2) * 1000 + 25));
  expect(heard.at(-1)).toBeNull();
});
