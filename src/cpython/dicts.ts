// A dict's table, in each of the heap record's dict_keys formats (src/model/raw.ts RawDictKeys):
// 'log2' (3.11 on) and 'sized' (3.6 to 3.10) key objects, with a split dict's values in an array
// of their own; 'table' (2.7), the dict's own array of entries.
import type { RawDictKeys, RawHeap } from '../model/raw.js';
import type { WordReader } from '../core/page-cache.js';

/** More entries than a dict holds: beyond it the table is damaged. */
const MAX_ENTRIES = 1 << 26;

/** The bytes of each index of a 'sized' table of n slots (DK_IXSIZE). */
const indexBytes = (n: number): number => (n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffff ? 4 : 8);

const usable = (dk: { usable_num: number; usable_den: number }, slots: number): number => Math.floor((slots * dk.usable_num) / dk.usable_den);

/** Bytes of a key object's header to read for dictKeysBytes (0: the format has no key objects). */
export function dictKeysHeaderBytes(dk: RawDictKeys): number {
  return dk.format === 'table' ? 0 : dk.header_size;
}

/**
 * The bytes a key object was allocated with, from its header read into `head` at `at`, or -1
 * for the shared empty table (it lives in the interpreter's data) or damage.
 */
export function dictKeysBytes(dk: RawDictKeys, head: Buffer, at: number): number {
  switch (dk.format) {
    case 'log2': {
      const log2Size = head[at + dk.log2_size]!;
      const log2Index = head[at + dk.log2_index_bytes]!;
      if (log2Size < 3 || log2Size > 40 || log2Index > 48) return -1;
      return dk.header_size + 2 ** log2Index + usable(dk, 2 ** log2Size) * (head[at + dk.kind] === 0 ? dk.entry_general : dk.entry_unicode);
    }
    case 'sized': {
      const size = Number(head.readBigInt64LE(at + dk.size));
      if (size < 8 || size > 2 ** 40 || (size & (size - 1)) !== 0) return -1;
      return dk.header_size + indexBytes(size) * size + usable(dk, size) * dk.entry_general;
    }
    case 'table':
      return -1;
  }
}

/**
 * The bytes of the values array of a split dict whose shared key object's header is in `head`
 * at `at`, or -1 where the format gives no such array to the dict. 'sized' (3.6 to 3.10): the
 * dict owns an array of USABLE_FRACTION(dk_size) pointers (dictobject.c: new_values). 'log2'
 * (3.11 on) keeps a managed instance's values with the instance (RawHeap.managed.values).
 */
export function splitValuesBytes(dk: RawDictKeys, head: Buffer, at: number): number {
  if (dk.format !== 'sized') return -1;
  const size = Number(head.readBigInt64LE(at + dk.size));
  if (size < 8 || size > 2 ** 40 || (size & (size - 1)) !== 0) return -1;
  return 8 * usable(dk, size);
}

/** Where a key object's entries are, and how they are laid out. */
interface Entries {
  at: number;
  count: number;
  stride: number;
  key: number;
  value: number;
}

function entriesOf(mem: WordReader, dk: RawDictKeys, keys: number): Entries | null {
  switch (dk.format) {
    case 'log2': {
      const n = mem.i64(keys + dk.nentries);
      const log2Index = mem.u8(keys + dk.log2_index_bytes);
      const general = mem.u8(keys + dk.kind) === 0;
      if (n < 0 || n > MAX_ENTRIES || log2Index < 0 || log2Index > 48) return null;
      return {
        at: keys + dk.header_size + 2 ** log2Index, count: n,
        stride: general ? dk.entry_general : dk.entry_unicode,
        key: general ? dk.key_general : dk.key_unicode, value: general ? dk.value_general : dk.value_unicode,
      };
    }
    case 'sized': {
      const n = mem.i64(keys + dk.nentries);
      const size = mem.i64(keys + dk.size);
      if (n < 0 || n > MAX_ENTRIES || size < 1 || size > MAX_ENTRIES * 2) return null;
      return { at: keys + dk.header_size + indexBytes(size) * size, count: n, stride: dk.entry_general, key: dk.key_general, value: dk.value_general };
    }
    case 'table':
      return null;
  }
}

/**
 * Call visit(key, value) for each entry of the dict at `dict` (empty or deleted slots give 0 for
 * what they lack); stops early when visit returns true. Reads through random access.
 */
export function forEachDictEntry(mem: WordReader, heap: RawHeap, dict: number, visit: (key: number, value: number) => boolean | void): void {
  const dk = heap.dict_keys;
  if (dk.format === 'table') {
    const mask = mem.i64(dict + dk.mask);
    const table = mem.u64(dict + dk.table);
    if (table <= 0 || mask < 0 || mask >= MAX_ENTRIES) return;
    for (let k = 0; k <= mask; k++) {
      const value = mem.u64(table + k * dk.entry + dk.value);
      // A slot without a value is empty or a deleted key's dummy.
      if (value > 0 && visit(mem.u64(table + k * dk.entry + dk.key), value) === true) return;
    }
    return;
  }
  const keys = mem.u64(dict + heap.dict.ma_keys!);
  if (keys <= 0) return;
  let values = mem.u64(dict + heap.dict.ma_values!);
  // 3.13: a split dict's ma_values is a PyDictValues, its header before the values.
  if (values > 0 && heap.managed.values?.kind === 'inline') values += heap.managed.values.header;
  const e = entriesOf(mem, dk, keys);
  if (!e) return;
  for (let k = 0; k < e.count; k++) {
    const key = mem.u64(e.at + k * e.stride + e.key);
    const value = values > 0 ? mem.u64(values + 8 * k) : mem.u64(e.at + k * e.stride + e.value);
    if (visit(key, value) === true) return;
  }
}

/** Whether the dict at `dict` is split (its values in an array of their own, its keys shared). */
export function isSplitDict(mem: WordReader, heap: RawHeap, dict: number): boolean {
  return heap.dict.ma_values !== null && mem.u64(dict + heap.dict.ma_values) > 0;
}
