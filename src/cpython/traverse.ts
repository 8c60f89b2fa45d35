// The references an object holds, followed as its type's tp_traverse follows them: what the
// collector counts, and what the graph of who-holds-what is made of. A type whose references are
// not followed here keeps what it points at looking referenced from outside, so a gap can only
// make garbage look alive, never the reverse.
import type { RawHeap } from '../model/raw.js';
import type { WordReader } from '../core/page-cache.js';
import { forEachDictEntry, isSplitDict } from './dicts.js';
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
      const split = isSplitDict(mem, heap, o);
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
  if (types.managed[ti]) visitManaged(mem, heap, types, o, ti, visit);
  const dictoffset = types.dictoffset[ti]!;
  if (dictoffset > 0) visit(mem.u64(o + dictoffset));
  for (const off of types.slots[ti]!) visit(mem.u64(o + off));
}

/** A managed instance's attribute values (wherever this version keeps them) and its dict. */
function visitManaged(mem: WordReader, heap: RawHeap, types: TypeTable, o: number, ti: number, visit: (addr: number) => void): void {
  const { values, dict_offset: dictOffset } = heap.managed;
  const n = types.valuesCount[ti]!;
  const visitValues = (at: number): void => {
    for (let k = 0; at > 0 && k < n; k++) visit(mem.u64(at + 8 * k));
  };
  switch (values?.kind) {
    case 'pre-header':
      visitValues(mem.u64(o + values.offset));
      break;
    case 'tagged': {
      // One word: the values array - 1 (_PyDictOrValues_SetValues), or the dict; there is no other
      // dict pointer to visit.
      const word = mem.u64(o + values.offset);
      if (word > 0 && word % 2 === 1) visitValues(word + 1);
      else if (word > 0) visit(word);
      return;
    }
    case 'inline': {
      // As PyObject_VisitManagedDict: valid inline values are visited instead of the dict (a dict
      // made from them shares them), as many as their capacity byte says.
      const at = o + types.basicsize[ti]!;
      if (types.inline[ti] && mem.u8(at + values.valid) > 0) {
        const capacity = mem.u8(at + values.capacity);
        const base = at + values.header;
        for (let k = 0; k < capacity; k++) visit(mem.u64(base + 8 * k));
        return;
      }
      break;
    }
  }
  if (dictOffset !== null) visit(mem.u64(o + dictOffset));
}
