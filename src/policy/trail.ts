// A list the selector only ever extends at its end and trims at its front (the session starts of
// the share window, the recently learned sessions), kept in the machines' context as if each
// change made a new array: a trail never changes once made.
//
// Why not a new array each time: the lists hold up to 2,000 entries and change on every session
// start and grade, so copying them was a large share of a replay's garbage. A trail shares one
// growing array with the trails before it and sees only its own stretch of it; extending the
// newest trail appends in place, and extending an older one (a fork) copies its stretch first,
// so what any trail holds stays what it held. Trimmed entries are dropped from the shared array
// once they are more than half of it, so it stays within twice the trail's length.
//
// As JSON (checkpoints, the store, the inspector feed) a trail is the plain array it holds, so
// what was written before reads back the same; a plain array read back becomes a trail (one
// copy) the first time it is extended.

/** A list as the selector holds it: a plain array (as read back from JSON) or a trail. */
export type List<T> = readonly T[] | Trail<T>;

export class Trail<T> implements Iterable<T> {
  private constructor(
    /** Shared with the trails before and after this one; only ever appended to, or replaced. */
    private readonly items: T[],
    private readonly from: number,
    private readonly to: number,
  ) {}

  /** A trail of `list`; a trail is its own. A plain array is copied, so the caller's is never touched. */
  static of<T>(list: List<T>): Trail<T> {
    return list instanceof Trail ? list : new Trail(list.slice(), 0, list.length);
  }

  get length(): number {
    return this.to - this.from;
  }

  /** The entry at `i` (0 is the oldest; negative counts from the newest), as Array.prototype.at. */
  at(i: number): T | undefined {
    const k = i < 0 ? this.to + i : this.from + i;
    return k >= this.from && k < this.to ? this.items[k] : undefined;
  }

  /** A new trail: this one without its first `drop` entries, and `item` after its last. This one stays as it is. */
  append(item: T, drop = 0): Trail<T> {
    const from = this.from + Math.min(Math.max(0, drop), this.length);
    // Another trail extended the shared array past this one's end (a fork), or the dropped
    // entries are more than half of it: this trail's stretch goes into an array of its own.
    if (this.to !== this.items.length || from * 2 > this.items.length) {
      const items = this.items.slice(from, this.to);
      items.push(item);
      return new Trail(items, 0, items.length);
    }
    this.items.push(item);
    return new Trail(this.items, from, this.to + 1);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.from; i < this.to; i++) yield this.items[i]!;
  }

  toJSON(): T[] {
    return this.items.slice(this.from, this.to);
  }
}
