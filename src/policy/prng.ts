// A small seeded PRNG (mulberry32). Owned here rather than taken from a library on purpose:
// journals replay decisions from their seeds, so the sequence must never change with an upgrade.

export type Rng = () => number;

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function rngFromSeed(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for a sub-decision, so two decisions on one event do not share a stream. */
export function deriveSeed(seed: number, salt: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function pickOne<T>(items: readonly T[], rng: Rng): T | undefined {
  if (items.length === 0) return undefined;
  return items[Math.floor(rng() * items.length)];
}
