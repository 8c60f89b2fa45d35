// The graph of GC-tracked objects in a core, with references followed as the types' tp_traverse
// would follow them, and each object's references from outside the graph (its refcount minus the
// references from tracked objects): what the collector computes, and what both the cyclic-garbage
// finding and the diff's "who holds the growth" rest on. An object of a type whose references
// coroner does not follow keeps everything it points at looking externally referenced, so errors
// can only make garbage look alive, never the reverse.
import type { CoreMemory } from '../ingest/core-memory.js';
import { PageCache } from '../ingest/page-cache.js';
import { AddressIndex, Kind, type TypeTable } from '../census/objects.js';
import type { TrackedParts } from '../census/tally.js';
import type { RawHeap } from '../model/types.js';

const TWO32 = 4294967296;
const MAX_ITEMS = 1 << 26;

/** Call visit for every object reference the object at `o` of type ti holds. */
export function traverse(mem: PageCache, heap: RawHeap, types: TypeTable, o: number, ti: number, typeAddress: number, visit: (addr: number) => void): void {
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
    case Kind.Module:
      if (heap.module) visit(mem.u64(o + heap.module.dict));
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

export class ObjectGraph {
  readonly n: number;
  /** References between tracked objects: edges[first[i] .. first[i + 1]) are the objects i refers to. */
  readonly first: Int32Array;
  readonly edges: Int32Array;
  /** References from outside the tracked objects (C globals, frames, untracked containers). */
  readonly gcRefs: Float64Array;
  readonly mem: PageCache;
  private readonly index: AddressIndex;
  private readonly typeAddress: number[];

  constructor(
    memory: CoreMemory,
    readonly heap: RawHeap,
    readonly types: TypeTable,
    readonly tracked: TrackedParts,
  ) {
    const n = tracked.address.length;
    this.n = n;
    this.index = new AddressIndex(Array.from(tracked.address));
    this.typeAddress = heap.types.map((t) => t.address);
    this.mem = new PageCache(memory);
    this.gcRefs = Float64Array.from(tracked.refcnt);
    const first = new Int32Array(n + 1);
    let edges = new Int32Array(Math.max(1024, n * 2));
    let m = 0;
    for (let i = 0; i < n; i++) {
      first[i] = m;
      this.traverse(i, (addr) => {
        const j = this.find(addr);
        if (j < 0) return;
        this.gcRefs[j]!--;
        if (m === edges.length) {
          const bigger = new Int32Array(edges.length * 2);
          bigger.set(edges);
          edges = bigger;
        }
        edges[m++] = j;
      });
    }
    first[n] = m;
    this.first = first;
    this.edges = edges.subarray(0, m);
  }

  /** The node of a tracked object's address, or -1. */
  find(addr: number): number {
    return addr > 0 && addr % 8 === 0 ? this.index.get(addr % TWO32, Math.floor(addr / TWO32)) : -1;
  }

  traverse(i: number, visit: (addr: number) => void): void {
    const ti = this.tracked.type[i]!;
    traverse(this.mem, this.heap, this.types, this.tracked.address[i]!, ti, this.typeAddress[ti]!, visit);
  }

  /** Nodes that refer to node j. */
  referrers(j: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) {
      for (let e = this.first[i]!; e < this.first[i + 1]!; e++) {
        if (this.edges[e] === j) {
          out.push(i);
          break;
        }
      }
    }
    return out;
  }
}
