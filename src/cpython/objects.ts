// Recognising a Python object in a block of memory: a block holds an object of type T when its
// type pointer points at T at the offset T's flags imply (after the GC head for GC types, after
// the managed-dict pre-header too for instances of plain classes), its refcount is plausible, and
// the size T's layout implies for it fits the block the allocator gave it.
import type { RawHeap } from '../model/types.js';
import { AddressIndex } from '../base/address-index.js';

const TWO32 = 4294967296;

/** What the census treats specially, by layout. */
export const enum Kind {
  Plain = 0,
  Str = 1,
  VarSized = 2,
  List = 3,
  Dict = 4,
  Set = 5,
  ByteArray = 6,
  Int = 7,
  Tuple = 8,
  Cell = 9,
  Module = 10,
}

export class TypeTable {
  readonly index: AddressIndex;
  readonly names: string[] = [];
  readonly modules: (string | null)[] = [];
  readonly basicsize: Float64Array;
  readonly itemsize: Float64Array;
  /** Bytes before the object: GC head, and the managed-dict pre-header. */
  readonly pre: Int32Array;
  readonly kind: Uint8Array;
  /** 1 when an object's size never changes after allocation (var-sized ones may be reallocated). */
  readonly fixed: Uint8Array;
  /** Bytes of an instance's managed values array (3.11 plain classes), 0 for other types. */
  readonly valuesSize: Float64Array;
  /** What the collector's traverse of an instance follows besides its layout's own fields. */
  readonly heapType: Uint8Array;
  readonly dictoffset: Float64Array;
  readonly valuesCount: Float64Array;
  readonly slots: number[][] = [];

  constructor(heap: RawHeap) {
    const n = heap.types.length;
    this.basicsize = new Float64Array(n);
    this.itemsize = new Float64Array(n);
    this.pre = new Int32Array(n);
    this.kind = new Uint8Array(n);
    this.fixed = new Uint8Array(n);
    this.valuesSize = new Float64Array(n);
    this.heapType = new Uint8Array(n);
    this.dictoffset = new Float64Array(n);
    this.valuesCount = new Float64Array(n);
    const f = heap.flags;
    this.index = new AddressIndex(heap.types.map((t) => t.address));
    heap.types.forEach((t, i) => {
      this.names.push(t.name);
      this.modules.push(t.module);
      this.basicsize[i] = t.basicsize;
      this.itemsize[i] = t.itemsize;
      const gc = t.flags & f.have_gc ? heap.gc_head_size : 0;
      this.pre[i] = gc && t.flags & f.managed_dict ? gc + heap.pre_header_size : gc;
      this.kind[i] = kindOf(t, heap);
      this.valuesSize[i] = t.values_size ?? 0;
      this.fixed[i] = t.itemsize !== 0 || this.kind[i] === Kind.Str ? 0 : 1;
      this.heapType[i] = t.flags & f.heaptype ? 1 : 0;
      this.dictoffset[i] = t.dictoffset ?? 0;
      this.valuesCount[i] = t.values_count ?? 0;
      this.slots.push(t.slots ?? []);
    });
  }

  get length(): number {
    return this.names.length;
  }
}

function kindOf(t: RawHeap['types'][number], heap: RawHeap): Kind {
  const f = heap.flags;
  const builtin = t.module === null;
  if (t.flags & f.unicode_subclass) return Kind.Str;
  if (t.flags & f.long_subclass) return Kind.Int;
  if (t.flags & f.list_subclass) return Kind.List;
  if (t.flags & f.tuple_subclass) return Kind.Tuple;
  if (builtin && t.name === 'cell') return Kind.Cell;
  if (builtin && t.name === 'module') return Kind.Module;
  if (t.flags & f.dict_subclass) return Kind.Dict;
  if (builtin && (t.name === 'set' || t.name === 'frozenset')) return Kind.Set;
  if (builtin && t.name === 'bytearray') return Kind.ByteArray;
  return t.itemsize !== 0 ? Kind.VarSized : Kind.Plain;
}

export function roundUp16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** The allocation an out-of-line buffer of n bytes takes: a pymalloc block, or a malloc chunk over 512. */
export function bufferBytes(n: number): number {
  if (n <= 0) return 0;
  return n <= 512 ? roundUp16(n) : roundUp16(n + 8);
}

export type Allocator = 'pymalloc' | 'malloc' | 'mmap' | 'static';

/**
 * Reads objects out of a window of memory: `u32` views the window (4-byte aligned), offsets are
 * in bytes from the window's start. After a hit, `start` and `request` describe the object.
 */
export class ObjectRecognizer {
  start = 0;
  request = 0;
  private readonly refOff: number;
  private readonly typeOff: number;
  private readonly sizeOff: number;
  private readonly strLen: number;
  private readonly strState: number;
  private readonly compactBit: number;
  private readonly asciiBit: number;
  private readonly kindShift: number;
  private readonly kindMask: number;

  constructor(
    readonly types: TypeTable,
    readonly heap: RawHeap,
  ) {
    this.refOff = heap.object.refcnt;
    this.typeOff = heap.object.type;
    this.sizeOff = heap.object.size;
    this.strLen = heap.str.length;
    this.strState = heap.str.state;
    this.compactBit = 1 << heap.str.compact[0];
    this.asciiBit = 1 << heap.str.ascii[0];
    this.kindShift = heap.str.kind[0];
    this.kindMask = (1 << heap.str.kind[1]) - 1;
  }

  private u64(u32: Uint32Array, off: number): number {
    const i = off >>> 2;
    return u32[i + 1]! * TWO32 + u32[i]!;
  }

  /** The bytes an object of type ti at `o` asked its allocator for (pre-header included). */
  private requestOf(u32: Uint32Array, o: number, ti: number, avail: number): number {
    const t = this.types;
    const kind = t.kind[ti]!;
    let need = t.basicsize[ti]!;
    if (kind === Kind.Str) {
      if (o + this.strState + 4 > avail) return -1;
      const state = u32[(o + this.strState) >>> 2]!;
      if (state & this.compactBit) {
        const length = this.u64(u32, o + this.strLen);
        if (length > 1e12) return -1;
        if (state & this.asciiBit) need = this.heap.str.ascii_size + length + 1;
        else need = this.heap.str.compact_size + (length + 1) * ((state >>> this.kindShift) & this.kindMask);
      }
    } else if (t.itemsize[ti]! !== 0) {
      if (o + this.sizeOff + 8 > avail) return -1;
      const lo = u32[(o + this.sizeOff) >>> 2]!;
      const hi = u32[(o + this.sizeOff + 4) >>> 2]!;
      // ob_size is signed (an int's sign); its magnitude counts the items.
      let n = hi >= 0x80000000 ? (TWO32 - 1 - hi) * TWO32 + (TWO32 - lo) : hi * TWO32 + lo;
      if (n > 1e12) return -1;
      if (kind === Kind.Int && n === 0) n = 1;
      need += t.itemsize[ti]! * n;
    }
    return need + t.pre[ti]!;
  }

  /**
   * Whether the block at byte offset `b` of `capacity` bytes (readable up to `avail`) holds an
   * object; returns its type index or -1.
   */
  at(u32: Uint32Array, b: number, capacity: number, avail: number, allocator: Allocator): number {
    const types = this.types;
    for (let pre = 0; pre <= 32; pre += 16) {
      const o = b + pre;
      if (o + this.typeOff + 8 > avail) return -1;
      // The refcount first: it rules out most blocks that hold no object (pointers, text) cheaply.
      const rhi = u32[(o + this.refOff + 4) >>> 2]!;
      if (rhi > 0xff || (rhi === 0 && u32[(o + this.refOff) >>> 2] === 0)) continue;
      const ti = types.index.get(u32[(o + this.typeOff) >>> 2]!, u32[(o + this.typeOff + 4) >>> 2]!);
      if (ti < 0 || types.pre[ti] !== pre) continue;
      const request = this.requestOf(u32, b + pre, ti, avail);
      if (request < 0) continue;
      // PyType_GenericAlloc gives var-sized objects one item more than they hold (a sentinel).
      const fixed = types.fixed[ti] === 1;
      if (!fits(request, capacity, allocator, fixed) && (fixed || !fits(request + types.itemsize[ti]!, capacity, allocator, false))) continue;
      this.start = o;
      this.request = request;
      return ti;
    }
    return -1;
  }
}

/** Whether an object that asked for `request` bytes can be the one in a block of `capacity`. */
function fits(request: number, capacity: number, allocator: Allocator, fixed: boolean): boolean {
  switch (allocator) {
    case 'pymalloc':
      // pymalloc gives the size class of the request; realloc keeps a block while the new size
      // is above three quarters of it.
      return request <= capacity && (capacity === roundUp16(request) || (!fixed && request * 4 > capacity * 3));
    case 'malloc': {
      // capacity is the chunk size; a chunk holds request + 8 rounded to 16 (at least 32), and a
      // shrinking realloc keeps a remainder below the minimum chunk size.
      const chunk = Math.max(32, roundUp16(request + 8));
      return capacity >= chunk && capacity < chunk + (fixed ? 16 : 48);
    }
    case 'mmap':
      return capacity >= request + 16 && capacity < request + 16 + 8192;
    case 'static':
      return true;
  }
}
