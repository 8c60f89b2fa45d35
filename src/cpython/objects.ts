// One object read out of a window of memory (a 32-bit view over part of the core, byte offsets
// from the window's start): the bytes it asked its allocator for, whether the collector tracks it,
// and the out-of-line buffers it owns. These are the census's hot paths, so the layout's numbers
// are copied into fields once; every rule comes from the heap record (src/model/raw.ts).
import type { RawHeap } from '../model/raw.js';
import type { WordReader } from '../core/page-cache.js';
import { i64At, u64At } from '../base/words.js';
import { Kind, type TypeTable } from './types.js';

/** Where an object's buffers are reported. */
export interface BufferSink {
  /** An out-of-line buffer of n bytes at `pointer`, owned by an object of type ti. */
  buffer(ti: number, n: number, pointer: number): void;
  /**
   * A dict's key table, whose size is read later (see dictKeysBytes); `values`, when not 0, is the
   * values array of a split dict that owns it, sized from the key table too (splitValuesBytes).
   */
  dictKeys(keys: number, ti: number, values?: number): void;
}

/** More items than any object holds: a size beyond it is damage, not an object. */
const MAX_ITEMS = 1e12;
/** Bytes of an object's start that requestAt copies: enough for every field `request` reads. */
const HEAD_BYTES = 64;

/** Bytes of 3.13 inline values of n slots: the header, the pointers, the insertion order rounded up to 8. */
export const inlineValuesBytes = (header: number, n: number): number => header + 8 * n + Math.ceil(n / 8) * 8;

export class ObjectReader {
  /**
   * After request(): bytes the object's allocation may hold beyond the request (3.13 inline values
   * sized for one more slot than their capacity says, see ManagedValues), 0 for most objects.
   */
  slack = 0;
  private readonly sizeOff: number;
  /** PEP 393 strs: their size is in their state word; else -1 (2.7's unicode is fixed-size). */
  private readonly strState: number;
  private readonly strLen: number;
  private readonly compactBit: number;
  private readonly asciiBit: number;
  private readonly kindShift: number;
  private readonly kindMask: number;
  private readonly asciiSize: number;
  private readonly compactSize: number;
  private readonly gcHead: number;
  private readonly trackedOff: number;
  private readonly trackedShift: number;
  private readonly untracked: number;
  private readonly values: RawHeap['managed']['values'];
  private readonly intOff: number;
  private readonly intShift: number;
  private readonly intSigned: boolean;
  private readonly intMin: number;
  private readonly head = new Uint32Array(HEAD_BYTES / 4);

  constructor(
    readonly types: TypeTable,
    readonly heap: RawHeap,
  ) {
    this.sizeOff = heap.object.size;
    const s = heap.str;
    const pep393 = s.format === 'pep393';
    this.strState = pep393 ? s.state : -1;
    this.strLen = pep393 ? s.length : 0;
    this.compactBit = pep393 ? 1 << s.compact[0] : 0;
    this.asciiBit = pep393 ? 1 << s.ascii[0] : 0;
    this.kindShift = pep393 ? s.kind[0] : 0;
    this.kindMask = pep393 ? (1 << s.kind[1]) - 1 : 0;
    this.asciiSize = pep393 ? s.ascii_size : 0;
    this.compactSize = pep393 ? s.compact_size : 0;
    this.gcHead = heap.gc_head_size;
    this.trackedOff = heap.tracked.offset;
    this.trackedShift = 2 ** heap.tracked.shift;
    this.untracked = heap.tracked.untracked;
    this.values = heap.managed.values;
    this.intOff = heap.int.size_offset;
    this.intShift = 2 ** heap.int.shift;
    this.intSigned = heap.int.signed;
    this.intMin = heap.int.min_digits;
  }

  /** The bytes an object of type ti at `o` asked its allocator for (pre-header included), or -1. */
  request(u32: Uint32Array, o: number, ti: number, avail: number): number {
    const t = this.types;
    const kind = t.kind[ti]!;
    let need = t.basicsize[ti]!;
    if (kind === Kind.Str && this.strState >= 0) {
      if (o + this.strState + 4 > avail) return -1;
      const state = u32[(o + this.strState) >>> 2]!;
      if (state & this.compactBit) {
        const length = u64At(u32, o + this.strLen);
        if (length > MAX_ITEMS) return -1;
        if (state & this.asciiBit) need = this.asciiSize + length + 1;
        else need = this.compactSize + (length + 1) * ((state >>> this.kindShift) & this.kindMask);
      }
    } else if (t.itemsize[ti]! !== 0) {
      let n: number;
      if (kind === Kind.Int) {
        if (o + this.intOff + 8 > avail) return -1;
        n = this.intSigned ? Math.abs(i64At(u32, o + this.intOff)) : Math.floor(u64At(u32, o + this.intOff) / this.intShift);
        if (n < this.intMin) n = this.intMin;
      } else {
        if (o + this.sizeOff + 8 > avail) return -1;
        n = Math.abs(i64At(u32, o + this.sizeOff));
      }
      if (n > MAX_ITEMS) return -1;
      need += t.itemsize[ti]! * n;
    }
    // Values kept inline follow the object in its own allocation, as many as their capacity byte
    // says (the class's size when it cannot be read).
    this.slack = 0;
    if (t.inline[ti]) {
      const v = this.values as Extract<RawHeap['managed']['values'], { kind: 'inline' }>;
      const at = o + t.basicsize[ti]! + v.capacity;
      if (at < avail) {
        const capacity = (u32[at >>> 2]! >>> ((at & 3) * 8)) & 0xff;
        need += inlineValuesBytes(v.header, capacity);
        this.slack = inlineValuesBytes(v.header, capacity + 1) - inlineValuesBytes(v.header, capacity);
      } else {
        need += t.valuesSize[ti]!;
      }
    }
    return need + t.pre[ti]!;
  }

  /** The same, for an object read through random access (the collector's graph). */
  requestAt(mem: WordReader, addr: number, ti: number): number {
    const head = this.head;
    let avail = 0;
    for (; avail < HEAD_BYTES; avail += 4) {
      const w = mem.u32(addr + avail);
      if (w < 0) break; // the core ends here: request() says whether it needed more
      head[avail >>> 2] = w;
    }
    return this.request(head, 0, ti, avail);
  }

  /** Whether the object of type ti at `o` is in one of the collector's lists. */
  tracked(u32: Uint32Array, o: number, ti: number): boolean {
    return this.types.pre[ti]! >= this.gcHead && o + this.trackedOff >= 0 &&
      Math.floor(i64At(u32, o + this.trackedOff) / this.trackedShift) !== this.untracked;
  }

  /** Report the out-of-line buffers the object of type ti at `o` owns; `base` is the window's address. */
  buffers(u32: Uint32Array, o: number, ti: number, avail: number, base: number, sink: BufferSink): void {
    const h = this.heap;
    const types = this.types;
    // An instance whose attributes live in a values array of their own (no dict object yet) owns it.
    const values = this.values;
    if (types.valuesSize[ti]! !== 0 && values !== null && values.kind !== 'inline' && o + values.offset >= 0) {
      const word = u64At(u32, o + values.offset);
      // 'tagged': the word is the values array - 1 (low bit set), or (low bit clear) a dict.
      if (values.kind === 'pre-header' ? word !== 0 : word % 2 === 1) sink.buffer(ti, types.valuesSize[ti]!, values.kind === 'pre-header' ? word : word + 1);
    }
    switch (types.kind[ti]) {
      case Kind.List:
        if (o + h.list.allocated + 8 <= avail) sink.buffer(ti, u64At(u32, o + h.list.allocated) * 8, u64At(u32, o + h.list.ob_item));
        break;
      case Kind.Set: {
        if (o + h.set.table + 8 > avail) break;
        const table = u64At(u32, o + h.set.table);
        // A small set keeps its table inside the object.
        if (table !== 0 && table !== base + o + h.set.smalltable) sink.buffer(ti, (u64At(u32, o + h.set.mask) + 1) * h.set.entry, table);
        break;
      }
      case Kind.ByteArray:
        if (o + h.bytearray.bytes + 8 <= avail) sink.buffer(ti, u64At(u32, o + h.bytearray.alloc), u64At(u32, o + h.bytearray.bytes));
        break;
      case Kind.Dict: {
        const dk = h.dict_keys;
        if (dk.format === 'table') {
          if (o + dk.table + 8 > avail) break;
          const table = u64At(u32, o + dk.table);
          // A small dict keeps its table inside the object.
          if (table !== 0 && table !== base + o + dk.smalltable) sink.buffer(ti, (u64At(u32, o + dk.mask) + 1) * dk.entry, table);
        } else if (o + h.dict.ma_keys! + 8 <= avail) {
          // Before 3.11 a split dict owns its values array ('sized' keys).
          const values = dk.format === 'sized' && h.dict.ma_values !== null && o + h.dict.ma_values + 8 <= avail ? u64At(u32, o + h.dict.ma_values) : 0;
          sink.dictKeys(u64At(u32, o + h.dict.ma_keys!), ti, values);
        }
        break;
      }
      case Kind.Str: {
        const s = h.str;
        // 2.7's unicode keeps its characters in a buffer of their own.
        if (s.format === 'py2' && o + s.buffer + 8 <= avail) sink.buffer(ti, (u64At(u32, o + s.length) + 1) * s.char_size, u64At(u32, o + s.buffer));
        break;
      }
    }
  }
}

/** How many items a list or tuple holds, or entries a dict (ma_used), read through random access. */
export function itemCount(mem: WordReader, heap: RawHeap, kind: Kind, addr: number): number {
  return mem.i64(addr + (kind === Kind.Dict ? heap.dict.ma_used : heap.object.size));
}
