// Recognising a Python object in a block of memory: a block holds an object of type T when its
// type pointer points at T at the offset T's flags imply (after the GC head for GC types, after
// the managed pre-header too for instances of plain classes), its refcount is plausible, and the
// size T's layout implies for it fits the block the allocator gave it.
import type { RawHeap } from '../model/raw.js';
import { blockFits, type BlockAllocator } from '../allocators/blocks.js';
import { ObjectReader } from '../cpython/objects.js';
import type { TypeTable } from '../cpython/types.js';
import { u64At } from '../base/words.js';

/**
 * Reads objects out of a window of memory: `u32` views the window (4-byte aligned), offsets are
 * in bytes from the window's start. After a hit, `start` and `request` describe the object.
 */
export class ObjectRecognizer {
  start = 0;
  request = 0;
  readonly reader: ObjectReader;
  private readonly refOff: number;
  private readonly typeOff: number;
  private readonly pre: number[];
  private readonly alignment: number;

  constructor(
    readonly types: TypeTable,
    heap: RawHeap,
  ) {
    this.reader = new ObjectReader(types, heap);
    this.refOff = heap.object.refcnt;
    this.typeOff = heap.object.type;
    this.pre = types.preCandidates;
    // Without pymalloc no block is offered as a pymalloc one, and the alignment is never used.
    this.alignment = heap.pymalloc?.alignment ?? 1;
  }

  /**
   * Whether the block at byte offset `b` of `capacity` bytes (readable up to `avail`) holds an
   * object; returns its type index or -1.
   */
  at(u32: Uint32Array, b: number, capacity: number, avail: number, allocator: BlockAllocator): number {
    const types = this.types;
    const candidates = this.pre;
    for (let c = 0; c < candidates.length; c++) {
      const pre = candidates[c]!;
      const o = b + pre;
      if (o + this.typeOff + 8 > avail) return -1;
      // The refcount first: it rules out most blocks that hold no object (pointers, text) cheaply.
      const rhi = u32[(o + this.refOff + 4) >>> 2]!;
      if (rhi > 0xff || (rhi === 0 && u32[(o + this.refOff) >>> 2] === 0)) continue;
      let ti = types.index.get(u32[(o + this.typeOff) >>> 2]!, u32[(o + this.typeOff + 4) >>> 2]!);
      if (ti < 0 || types.pre[ti] !== pre) continue;
      let request = this.reader.request(u32, o, ti, avail);
      if (request < 0) continue;
      // PyType_GenericAlloc gives var-sized objects one item more than they hold (a sentinel).
      const fixed = types.fixed[ti] === 1;
      if (!blockFits(request, capacity, allocator, fixed, this.alignment) &&
        (fixed || !blockFits(request + types.itemsize[ti]!, capacity, allocator, false, this.alignment))) {
        // An allocation sized for a little more than the object says (3.13 inline values).
        const slack = this.reader.slack;
        if (slack === 0 || !blockFits(request + slack, capacity, allocator, fixed, this.alignment)) continue;
        request += slack;
      }
      // 2.7: an old-style instance is counted by its class.
      if (ti === types.instanceType && o + types.classOffset + 8 <= avail) ti = types.classOf(u64At(u32, o + types.classOffset));
      this.start = o;
      this.request = request;
      return ti;
    }
    return -1;
  }
}
