// A heap record with CPython 3.11's numbers (as gdb reads them from Debian's python3.11 on
// x86-64) and a handful of types, and a sparse memory to lay objects into: what the cpython/
// decoders and walkers read in the unit tests, without gdb or a core.
import type { RawHeap, RawType } from '../../src/model/raw.js';
import type { WordReader } from '../../src/core/page-cache.js';

const F = {
  managed_dict: 1 << 4, heaptype: 1 << 9, have_gc: 1 << 14, long_subclass: 1 << 24, list_subclass: 1 << 25,
  tuple_subclass: 1 << 26, bytes_subclass: 1 << 27, unicode_subclass: 1 << 28, dict_subclass: 1 << 29, type_subclass: 2 ** 31,
};

const type = (address: number, name: string, basicsize: number, itemsize: number, flags: number, extra: Partial<RawType> = {}): RawType => ({
  address, name, module: null, basicsize, itemsize, flags, values_size: 0, values_count: 0, dictoffset: 0, slots: [], ...extra,
});

/** Type addresses, to lay objects with. */
export const T = { object: 0x1000, str: 0x1100, int: 0x1200, tuple: 0x1300, list: 0x1400, dict: 0x1500, set: 0x1600, cell: 0x1700, module: 0x1800, bytearray: 0x1900, Rec: 0x2000, float: 0x2100 };

export function heap311(): RawHeap {
  return {
    layout_version: 1,
    object: { refcnt: 0, type: 8, size: 16 },
    gc_head_size: 16,
    tracked: { offset: -16, untracked: 0, shift: 0 },
    managed: { flags: F.managed_dict, pre_header_size: 16, dict_offset: -24, values: { kind: 'pre-header', offset: -32 } },
    int: { size_offset: 16, shift: 0, signed: true, min_digits: 1 },
    flags: F,
    str: { format: 'pep393', ascii_size: 48, compact_size: 72, unicode_size: 80, length: 16, state: 32, kind: [2, 3], compact: [5, 1], ascii: [6, 1] },
    list: { allocated: 32, ob_item: 24 },
    dict: { ma_keys: 32, ma_values: 40, ma_used: 16 },
    dict_keys: {
      format: 'log2', header_size: 32, log2_size: 8, log2_index_bytes: 9, kind: 10, nentries: 24, entry_general: 24, entry_unicode: 16,
      key_general: 8, value_general: 16, key_unicode: 0, value_unicode: 8, usable_num: 2, usable_den: 3,
    },
    set: { mask: 32, table: 40, smalltable: 64, entry: 16 },
    bytearray: { alloc: 24, bytes: 32 },
    tuple: { items: 24 },
    cell: { ref: 16 },
    module: { dict: 16, name: 48 },
    types: [
      type(T.object, 'object', 16, 0, 0),
      type(T.str, 'str', 80, 0, F.unicode_subclass),
      type(T.int, 'int', 24, 4, F.long_subclass),
      type(T.tuple, 'tuple', 24, 8, F.tuple_subclass | F.have_gc),
      type(T.list, 'list', 40, 0, F.list_subclass | F.have_gc),
      type(T.dict, 'dict', 48, 0, F.dict_subclass | F.have_gc),
      type(T.set, 'set', 200, 0, F.have_gc),
      type(T.cell, 'cell', 24, 0, F.have_gc),
      type(T.module, 'module', 72, 0, F.have_gc),
      type(T.bytearray, 'bytearray', 56, 0, 0),
      type(T.float, 'float', 24, 0, 0),
      type(T.Rec, 'Rec', 16, 0, F.have_gc | F.heaptype | F.managed_dict, { module: '__main__', values_size: 40, values_count: 4 }),
    ],
    static_regions: [],
    pymalloc: {
      alignment: 16, threshold: 512, size_classes: 32, arenas: 0, maxarenas: 0, arena_size: 1 << 20, pool_size: 1 << 14, pool_overhead: 48,
      arena_object: { sizeof: 48, address: 0, pool_address: 8, nfreepools: 16, ntotalpools: 20 },
      pool_header: { size: 48, count: 0, freeblock: 8, arenaindex: 32, szidx: 36, nextoffset: 40, maxnextoffset: 44 },
    },
    gc: null,
    glibc: null,
  };
}

/** Memory made of 8-byte words set one by one; everything else reads as absent (-1). */
export class FakeMemory implements WordReader {
  private readonly words = new Map<number, bigint>();

  /** Set the 64-bit word at an 8-aligned address (negative numbers as two's complement). */
  set(addr: number, value: number | bigint): this {
    if (addr % 8 !== 0) throw new Error(`unaligned word at ${addr}`);
    this.words.set(addr, BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  /** Set bytes starting at an 8-aligned address, zero-padded to whole words. */
  bytes(addr: number, data: Buffer): this {
    const padded = Buffer.alloc(Math.ceil(data.length / 8) * 8);
    data.copy(padded);
    for (let i = 0; i < padded.length; i += 8) this.set(addr + i, padded.readBigUInt64LE(i));
    return this;
  }

  /** Zero words over [addr, addr + n). */
  zero(addr: number, n: number): this {
    for (let i = 0; i < n; i += 8) this.set(addr + i, 0);
    return this;
  }

  u64(addr: number): number {
    const w = this.words.get(addr);
    return w === undefined ? -1 : Number(w);
  }

  i64(addr: number): number {
    const w = this.words.get(addr);
    return w === undefined ? -1 : Number(BigInt.asIntN(64, w));
  }

  u32(addr: number): number {
    const w = this.words.get(addr - (addr % 8));
    return w === undefined ? -1 : Number((w >> BigInt(8 * (addr % 8))) & 0xffffffffn);
  }

  u8(addr: number): number {
    const w = this.words.get(addr - (addr % 8));
    return w === undefined ? -1 : Number((w >> BigInt(8 * (addr % 8))) & 0xffn);
  }

  /** The words of [addr, addr + n) as a 32-bit view (absent words read as 0), for window readers. */
  window(addr: number, n: number): Uint32Array {
    const buf = Buffer.alloc(n);
    for (let i = 0; i < n; i += 8) {
      const w = this.words.get(addr + i);
      if (w !== undefined) buf.writeBigUInt64LE(w, i);
    }
    return new Uint32Array(buf.buffer, buf.byteOffset, n / 4);
  }
}

/** A compact str's state word: ascii or not, kind (1, 2 or 4 bytes a character), compact. */
export const strState = (kind: number, ascii: boolean, compact = true): number => (kind << 2) | (compact ? 1 << 5 : 0) | (ascii ? 1 << 6 : 0);
