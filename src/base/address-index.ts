// Number -> index, as an open-addressing table over the two 32-bit halves of each key (addresses,
// page numbers): lookups run once or more per heap block or per reference, and a Map keyed by
// numbers above 2^31 (boxed doubles) costs several times more.
import { hi32, lo32 } from './words.js';

export class AddressIndex {
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  private readonly value: Int32Array;
  private readonly shift: number;
  private readonly mask: number;

  /** KEYS are distinct non-negative integers below 2^53; each maps to its position. */
  constructor(keys: ArrayLike<number>) {
    let bits = 4;
    while (1 << bits < keys.length * 2) bits++;
    const size = 1 << bits;
    this.lo = new Uint32Array(size);
    this.hi = new Uint32Array(size);
    this.value = new Int32Array(size).fill(-1);
    this.shift = 32 - bits;
    this.mask = size - 1;
    for (let i = 0; i < keys.length; i++) {
      const lo = lo32(keys[i]!);
      const hi = hi32(keys[i]!);
      let slot = this.slotOf(lo, hi);
      while (this.value[slot] !== -1) slot = (slot + 1) & this.mask;
      this.lo[slot] = lo;
      this.hi[slot] = hi;
      this.value[slot] = i;
    }
  }

  // Multiplicative (Fibonacci) hashing: aligned addresses and runs of page numbers both spread.
  private slotOf(lo: number, hi: number): number {
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** The position of the key given as its halves, or -1. */
  get(lo: number, hi: number): number {
    let slot = this.slotOf(lo, hi);
    for (;;) {
      const v = this.value[slot]!;
      if (v === -1) return -1;
      if (this.lo[slot] === lo && this.hi[slot] === hi) return v;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The position of KEY, or -1. */
  getNumber(key: number): number {
    return this.get(lo32(key), hi32(key));
  }
}
