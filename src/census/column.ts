// A growable column of numbers in a typed array: the census records millions of addresses, and a
// plain array of doubles costs more to build and cannot be handed to another thread without a copy.

export class Column {
  private data: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /** The values, as a typed array of exactly `length` (a view: copy before the column grows). */
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }

  /** A copy that owns its buffer, to transfer to another thread. */
  detach(): Float64Array {
    return this.data.slice(0, this.length);
  }

  append(values: Float64Array): void {
    let capacity = this.data.length;
    while (capacity < this.length + values.length) capacity *= 2;
    if (capacity !== this.data.length) {
      const bigger = new Float64Array(capacity);
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
}
