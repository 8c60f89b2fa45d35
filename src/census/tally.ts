// Per-type totals of the census, and the out-of-line buffers objects own. Buffers whose size is
// in the object itself (list capacity, set mask, bytearray allocation) are added at once; a dict's
// key table must be read where it lives, so those addresses are gathered and read afterwards in
// address order, which turns a million random reads into one sequential pass.
import type { CensusRow } from '../model/types.js';
import type { RawHeap } from '../model/raw.js';
import type { CoreMemory } from '../core/core-memory.js';
import { Column, concat } from '../base/column.js';
import { ObjectReader, type BufferSink } from '../cpython/objects.js';
import { dictKeysBytes, dictKeysHeaderBytes, splitValuesBytes } from '../cpython/dicts.js';
import type { TypeTable } from '../cpython/types.js';
import { bufferBytes, type SmallRequests } from '../allocators/blocks.js';
import type { BlockVisitor } from '../allocators/pymalloc.js';
import type { ObjectRecognizer } from './recognizer.js';


export interface TallyParts {
  count: Float64Array;
  bytes: Float64Array;
  buffers: Float64Array;
  owned: Float64Array;
  tracked: TrackedParts;
}

/**
 * The GC-tracked objects the walk saw, for the cyclic-garbage analysis: their addresses only
 * (there can be tens of millions; type and refcount are read again from the core when needed).
 */
export interface TrackedParts {
  address: Float64Array;
}

export class Tally implements BufferSink {
  readonly count: Float64Array;
  readonly bytes: Float64Array;
  readonly buffers: Float64Array;
  /** Key tables of the dicts seen, to read after the walk: addresses, and owners when not plain dicts. */
  private keys: number[] = [];
  private keysOwner = new Map<number, number>();
  /** Split dicts that own a values array sized from their key table: [keys, values, owner] triples. */
  private split: number[] = [];
  private readonly dictType: number;
  private readonly reader: ObjectReader;
  private readonly small: SmallRequests;
  /** Pointers to malloc'd memory that Python objects own (their buffers above pymalloc's threshold, or themselves). */
  readonly owned = new Column();
  private readonly tracked = new Column();
  /** The tracked objects of other tallies merged into this one, kept apart until parts() joins them. */
  private readonly mergedTracked: TrackedParts[] = [];
  private readonly mergedOwned: Float64Array[] = [];

  constructor(
    private readonly types: TypeTable,
    private readonly heap: RawHeap,
  ) {
    this.count = new Float64Array(types.length);
    this.bytes = new Float64Array(types.length);
    this.buffers = new Float64Array(types.length);
    this.dictType = types.builtin('dict');
    this.reader = new ObjectReader(types, heap);
    this.small = smallRequests(heap);
  }

  buffer(ti: number, n: number, pointer: number): void {
    this.buffers[ti]! += bufferBytes(n, this.small);
    if (n > this.small.threshold && pointer !== 0) this.owned.push(pointer);
  }

  dictKeys(keys: number, ti: number, values = 0): void {
    this.keys.push(keys);
    if (ti !== this.dictType) this.keysOwner.set(keys, ti);
    if (values > 0) this.split.push(keys, values, ti);
  }

  /** An object of type ti at byte offset o of the window, in a block of `block` bytes. */
  add(u32: Uint32Array, o: number, ti: number, block: number, avail: number): void {
    this.count[ti]! += 1;
    this.bytes[ti]! += block;
    if (this.reader.tracked(u32, o, ti)) this.tracked.push(this.base + o);
    this.reader.buffers(u32, o, ti, avail, this.base, this);
  }

  /** Address of the window's first byte, set by the walker before each window. */
  base = 0;

  /** The pymalloc walk's visitor: a block the recognizer takes for an object is added here. */
  pymallocVisitor(recognizer: ObjectRecognizer): BlockVisitor {
    return (u32, off, size, avail, base) => {
      const ti = recognizer.at(u32, off, size, avail, 'pymalloc');
      if (ti < 0) return false;
      this.base = base;
      this.add(u32, recognizer.start, ti, size, avail);
      return true;
    };
  }

  /**
   * What this tally holds, to send from a worker thread and merge into another tally. Its dict
   * key tables must be resolved first (each worker reads its own, in parallel).
   */
  parts(): TallyParts {
    if (this.keys.length || this.split.length) throw new Error('resolve the dict key tables before taking the parts of a tally');
    const f64 = (n: number): Float64Array => new Float64Array(n);
    // Merged tallies come first: the workers walk pymalloc in address order, this thread what follows.
    const tracked = [...this.mergedTracked.splice(0).map((t) => t.address), this.tracked.detach()];
    return {
      count: this.count, bytes: this.bytes, buffers: this.buffers,
      owned: concat([...this.mergedOwned.splice(0), this.owned.detach()], f64),
      tracked: { address: tracked.length === 1 ? tracked[0]! : concat(tracked, f64) },
    };
  }

  merge(parts: TallyParts): void {
    for (let i = 0; i < this.count.length; i++) {
      this.count[i]! += parts.count[i]!;
      this.bytes[i]! += parts.bytes[i]!;
      this.buffers[i]! += parts.buffers[i]!;
    }
    this.mergedOwned.push(parts.owned);
    this.mergedTracked.push(parts.tracked);
  }

  /**
   * Read the dict key tables gathered during the walk, each once (split tables are shared; a table
   * shared by dicts that different workers saw is counted by each of them).
   */
  resolveDictKeys(memory: CoreMemory): void {
    const k = this.heap.dict_keys;
    const header = dictKeysHeaderBytes(k);
    const sorted = Float64Array.from(this.keys).sort();
    const window = new WindowReader(memory, 1 << 20);
    let last = -1;
    for (const addr of sorted) {
      if (addr === last || addr === 0) continue;
      last = addr;
      const at = header > 0 ? window.at(addr, header) : -1;
      if (at < 0) continue;
      // The shared empty table lives in the interpreter's data, not in the heap: -1.
      const bytes = dictKeysBytes(k, window.buf, at);
      if (bytes < 0) continue;
      const owner = this.keysOwner.size === 0 ? this.dictType : this.keysOwner.get(addr) ?? this.dictType;
      this.buffer(owner, bytes, addr);
    }
    for (let i = 0; i < this.split.length; i += 3) {
      const at = header > 0 ? window.at(this.split[i]!, header) : -1;
      const bytes = at < 0 ? -1 : splitValuesBytes(k, window.buf, at);
      if (bytes > 0) this.buffer(this.split[i + 2]!, bytes, this.split[i + 1]!);
    }
    this.keys = [];
    this.keysOwner.clear();
    this.split = [];
  }

  rows(): CensusRow[] {
    const rows: CensusRow[] = [];
    for (let i = 0; i < this.count.length; i++) {
      if (this.count[i] === 0) continue;
      rows.push({
        type: this.types.names[i]!,
        module: this.types.modules[i]!,
        count: this.count[i]!,
        bytes: this.bytes[i]!,
        bytesWithBuffers: this.bytes[i]! + this.buffers[i]!,
      });
    }
    return rows.sort((a, b) => b.bytes - a.bytes || b.count - a.count || a.type.localeCompare(b.type));
  }
}

/** Reads small pieces of memory in address order through one large window. */
export class WindowReader {
  readonly buf: Buffer;
  private start = -1;
  private end = -1;

  constructor(
    private readonly memory: CoreMemory,
    private readonly size: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** The offset in `buf` where `length` bytes at `addr` now are, or -1 when the core lacks them. */
  at(addr: number, length: number): number {
    if (addr < this.start || addr + length > this.end) {
      const got = this.memory.readUpTo(addr, this.size, this.buf);
      if (got < length) return -1;
      this.start = addr;
      this.end = addr + got;
    }
    return addr - this.start;
  }
}

/** pymalloc's rounding and threshold; without pymalloc every buffer is a malloc chunk. */
export function smallRequests(heap: RawHeap): SmallRequests {
  return heap.pymalloc ? { alignment: heap.pymalloc.alignment, threshold: heap.pymalloc.threshold } : { alignment: 1, threshold: 0 };
}
