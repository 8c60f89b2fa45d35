// A growable column of numbers in a typed array: the census records millions of addresses, and a
// plain array of doubles costs more to build and cannot be handed to another thread without a copy.
// Narrow columns (32-bit) halve the memory of what never needs 64 bits: type indexes, block sizes.

type Numbers = Float64Array | Uint32Array;

export class Column<T extends Numbers = Float64Array> {
  private data: T;
  length = 0;

  constructor(private readonly make: (n: number) => T = ((n: number) => new Float64Array(n)) as unknown as (n: number) => T, capacity = 1024) {
    this.data = make(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = value;
  }

  private grow(atLeast: number): void {
    // From 1 at least: a detached column (or one made with capacity 0) doubled 0 forever.
    let capacity = Math.max(1, this.data.length * 2);
    while (capacity < atLeast) capacity *= 2;
    const bigger = this.make(capacity);
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }

  /** The values, as a typed array of exactly `length` (a view: copy before the column grows). */
  values(): T {
    return this.data.subarray(0, this.length) as T;
  }

  /** A copy that owns its buffer (to transfer to another thread); the column is emptied. */
  detach(): T {
    const out = this.data.slice(0, this.length) as T;
    this.data = this.make(0);
    this.length = 0;
    return out;
  }
}

export const u32Column = (): Column<Uint32Array> => new Column<Uint32Array>((n) => new Uint32Array(n));

/** Several arrays end to end, in one array of exactly their total length. */
export function concat<T extends Numbers>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
