// A dict's key table (PyDictKeysObject), as the heap record's dict_keys describes it: a header,
// an index array of 2^log2_index_bytes bytes, then the entries, general (hash, key, value) or
// unicode-keyed (key, value); a split dict keeps its values in an array of its own.
import type { RawHeap } from '../model/raw.js';
import type { WordReader } from '../core/page-cache.js';

type DictKeys = RawHeap['dict_keys'];

/** The bytes a key table with these header fields was allocated with, or -1 for the shared empty table or damage. */
export function dictKeysBytes(dk: DictKeys, log2Size: number, log2Index: number, kind: number): number {
  if (log2Size < 3 || log2Size > 40 || log2Index > 48) return -1;
  const usable = Math.floor((2 ** log2Size * dk.usable_num) / dk.usable_den);
  return dk.header_size + 2 ** log2Index + usable * (kind === 0 ? dk.entry_general : dk.entry_unicode);
}

/** More entries than a dict holds: beyond it the table is damaged. */
const MAX_ENTRIES = 1 << 26;

/**
 * Call visit(key, value) for each entry of the dict at `dict` (empty slots give 0); stops early
 * when visit returns true. Reads through random access (the collector's graph, holders).
 */
export function forEachDictEntry(mem: WordReader, heap: RawHeap, dict: number, visit: (key: number, value: number) => boolean | void): void {
  const keys = mem.u64(dict + heap.dict.ma_keys);
  const values = mem.u64(dict + heap.dict.ma_values);
  if (keys <= 0) return;
  const dk = heap.dict_keys;
  const n = mem.i64(keys + dk.nentries);
  const log2Index = mem.u8(keys + dk.log2_index_bytes);
  const general = mem.u8(keys + dk.kind) === 0;
  if (n < 0 || n > MAX_ENTRIES || log2Index < 0 || log2Index > 48) return;
  const entries = keys + dk.header_size + 2 ** log2Index;
  const size = general ? dk.entry_general : dk.entry_unicode;
  const keyAt = general ? dk.key_general : dk.key_unicode;
  const valueAt = general ? dk.value_general : dk.value_unicode;
  for (let k = 0; k < n; k++) {
    const key = mem.u64(entries + k * size + keyAt);
    const value = values > 0 ? mem.u64(values + 8 * k) : mem.u64(entries + k * size + valueAt);
    if (visit(key, value) === true) return;
  }
}
