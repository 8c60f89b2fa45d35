// The references an object holds, followed as its type's tp_traverse follows them: what the
// collector counts, and what the graph of who-holds-what is made of. A type whose references are
// not followed here keeps what it points at looking referenced from outside, so a gap can only
// make garbage look alive, never the reverse.
import type { RawHeap } from '../model/raw.js';
import type { WordReader } from '../core/page-cache.js';
import { forEachDictEntry } from './dicts.js';
import { Kind, type TypeTable } from './types.js';

const MAX_ITEMS = 1 << 26;
const count = (n: number): number => (n >= 0 && n < MAX_ITEMS ? n : 0);

/** Call visit for every object reference the object at `o` of type ti holds. */
export function traverse(mem: WordReader, heap: RawHeap, types: TypeTable, o: number, ti: number, visit: (addr: number) => void): void {
  if (types.heapType[ti]) visit(types.address[ti]!);
  switch (types.kind[ti]) {
    case Kind.List: {
      const items = mem.u64(o + heap.list.ob_item);
      const n = count(mem.i64(o + heap.object.size));
      for (let k = 0; items > 0 && k < n; k++) visit(mem.u64(items + 8 * k));
      break;
    }
    case Kind.Tuple: {
      const n = count(mem.i64(o + heap.object.size));
      for (let k = 0; k < n; k++) visit(mem.u64(o + heap.tuple.items + 8 * k));
      break;
    }
    case Kind.Dict: {
      // A split dict's keys belong to its class's shared table: the dict visits its values only.
      const split = mem.u64(o + heap.dict.ma_values) > 0;
      forEachDictEntry(mem, heap, o, (key, value) => {
        if (!split) visit(key);
        visit(value);
      });
      break;
    }
    case Kind.Set: {
      const table = mem.u64(o + heap.set.table);
      const slots = count(mem.i64(o + heap.set.mask) + 1);
      for (let k = 0; table > 0 && k < slots; k++) visit(mem.u64(table + k * heap.set.entry));
      break;
    }
    case Kind.Cell:
      visit(mem.u64(o + heap.cell.ref));
      break;
    case Kind.Module:
      visit(mem.u64(o + heap.module.dict));
      break;
  }
  const managed = heap.managed;
  const nValues = types.valuesCount[ti]!;
  if (nValues && managed.values?.kind === 'pre-header') {
    const values = mem.u64(o + managed.values.offset);
    for (let k = 0; values > 0 && k < nValues; k++) visit(mem.u64(values + 8 * k));
  }
  if (types.managed[ti] && managed.dict_offset !== null) visit(mem.u64(o + managed.dict_offset));
  const dictoffset = types.dictoffset[ti]!;
  if (dictoffset > 0) visit(mem.u64(o + dictoffset));
  for (const off of types.slots[ti]!) visit(mem.u64(o + off));
}
