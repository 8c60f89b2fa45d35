// Cyclic garbage, found the way CPython's collector finds it: every tracked object starts with its
// refcount; each reference from another tracked object is taken off; what is left is referenced
// from outside the tracked set (a root). Everything reachable from a root is alive; the rest is
// garbage held only by cycles. References are followed as the types' tp_traverse would; an object
// of a type whose references coroner does not follow keeps everything it points at alive, so
// the error can only be to report less garbage, never more.
import type { CoreMemory } from '../ingest/core-memory.js';
import { PageCache } from '../ingest/page-cache.js';
import { AddressIndex, Kind, type TypeTable } from '../census/objects.js';
import type { TrackedParts } from '../census/tally.js';
import type { RawHeap } from '../model/types.js';

const TWO32 = 4294967296;
const MAX_ITEMS = 1 << 26;

export interface CycleReport {
  /** Tracked objects the walk saw. */
  tracked: number;
  objects: number;
  bytes: number;
  byType: { type: string; module: string | null; count: number; bytes: number }[];
}

/** Call visit for every object reference the object at `o` of type ti holds. */
function traverse(mem: PageCache, heap: RawHeap, types: TypeTable, o: number, ti: number, typeAddress: number, visit: (addr: number) => void): void {
  const count = (n: number): number => (n >= 0 && n < MAX_ITEMS ? n : 0);
  if (types.heapType[ti]) visit(typeAddress);
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
      const keys = mem.u64(o + heap.dict.ma_keys);
      const values = mem.u64(o + heap.dict.ma_values);
      if (keys <= 0) break;
      const dk = heap.dict_keys;
      const log2Index = mem.u8(keys + dk.log2_index_bytes);
      const general = mem.u8(keys + dk.kind) === 0;
      const nentries = count(mem.i64(keys + dk.nentries));
      if (values > 0) {
        for (let k = 0; k < nentries; k++) visit(mem.u64(values + 8 * k));
        break;
      }
      const entries = keys + dk.header_size + 2 ** log2Index;
      const size = general ? dk.entry_general : dk.entry_unicode;
      const keyAt = general ? 8 : 0;
      for (let k = 0; k < nentries; k++) {
        visit(mem.u64(entries + k * size + keyAt));
        visit(mem.u64(entries + k * size + keyAt + 8));
      }
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
  }
  const nValues = types.valuesCount[ti]!;
  if (nValues) {
    const values = mem.u64(o - 32);
    for (let k = 0; values > 0 && k < nValues; k++) visit(mem.u64(values + 8 * k));
    visit(mem.u64(o - 24));
  }
  const dictoffset = types.dictoffset[ti]!;
  if (dictoffset > 0) visit(mem.u64(o + dictoffset));
  for (const off of types.slots[ti]!) visit(mem.u64(o + off));
}

export function cyclicGarbage(memory: CoreMemory, heap: RawHeap, types: TypeTable, tracked: TrackedParts): CycleReport {
  const n = tracked.address.length;
  const index = new AddressIndex(Array.from(tracked.address));
  const typeAddress = heap.types.map((t) => t.address);
  const mem = new PageCache(memory);
  const find = (addr: number): number => (addr > 0 && addr % 8 === 0 ? index.get(addr % TWO32, Math.floor(addr / TWO32)) : -1);

  // 1. External references: refcount minus references from tracked objects. The references
  // between tracked objects are kept (as lists of indices) for the second pass.
  const gcRefs = Float64Array.from(tracked.refcnt);
  const first = new Int32Array(n + 1);
  let edges = new Int32Array(Math.max(1024, n * 2));
  let m = 0;
  for (let i = 0; i < n; i++) {
    first[i] = m;
    const ti = tracked.type[i]!;
    traverse(mem, heap, types, tracked.address[i]!, ti, typeAddress[ti]!, (addr) => {
      const j = find(addr);
      if (j < 0) return;
      gcRefs[j]!--;
      if (m === edges.length) {
        const bigger = new Int32Array(edges.length * 2);
        bigger.set(edges);
        edges = bigger;
      }
      edges[m++] = j;
    });
  }
  first[n] = m;
  // 2. Alive: everything reachable from an object with external references.
  const alive = new Uint8Array(n);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    if (gcRefs[i]! > 0) {
      alive[i] = 1;
      stack.push(i);
    }
  }
  while (stack.length) {
    const i = stack.pop()!;
    for (let e = first[i]!; e < first[i + 1]!; e++) {
      const j = edges[e]!;
      if (!alive[j]) {
        alive[j] = 1;
        stack.push(j);
      }
    }
  }
  // 3. The rest is garbage kept only by cycles.
  const count = new Float64Array(types.length);
  const bytes = new Float64Array(types.length);
  let objects = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (alive[i]) continue;
    const ti = tracked.type[i]!;
    count[ti]!++;
    bytes[ti]! += tracked.bytes[i]!;
    objects++;
    total += tracked.bytes[i]!;
  }
  const byType: CycleReport['byType'] = [];
  for (let ti = 0; ti < types.length; ti++) {
    if (count[ti]) byType.push({ type: types.names[ti]!, module: types.modules[ti]!, count: count[ti]!, bytes: bytes[ti]! });
  }
  byType.sort((a, b) => b.bytes - a.bytes || b.count - a.count);
  return { tracked: n, objects, bytes: total, byType };
}
