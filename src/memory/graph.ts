// The graph of GC-tracked objects in a core, with references followed as the types' tp_traverse
// would follow them (src/cpython/traverse.ts), and each object's references from outside the graph
// (its refcount minus the references from tracked objects): what the collector computes, and what
// both the cyclic-garbage finding and the diff's "who holds the growth" rest on.
import type { CoreMemory } from '../core/core-memory.js';
import { PageCache } from '../core/page-cache.js';
import { AddressIndex } from '../base/address-index.js';
import type { TypeTable } from '../cpython/types.js';
import { ObjectReader } from '../cpython/objects.js';
import { traverse } from '../cpython/traverse.js';
import { roundUp } from '../allocators/blocks.js';
import type { TrackedParts } from '../census/tally.js';
import type { RawHeap } from '../model/raw.js';

/**
 * Tracked objects, found by address through their addresses in ascending order (runs in place, or
 * a sorted copy) and a table of the 4 KiB pages they lie in: a lookup is a hash probe and a binary
 * search among the few objects of one page (a hash table of millions of addresses would cost
 * several times the memory; a binary search over all of them, a cache miss per step). The
 * references between them are kept only when asked (who-holds-what needs them; the collector's
 * arithmetic does not).
 */
export class ObjectGraph {
  readonly n: number;
  /** References from outside the tracked objects (C globals, frames, untracked containers). */
  readonly gcRefs: Int32Array;
  /** References between tracked objects: edges[first[i] .. first[i + 1]) are the objects i refers to. */
  readonly first: Int32Array | null = null;
  readonly edges: Int32Array | null = null;
  readonly mem: PageCache;
  /** Each node's type index, read from its header. */
  readonly type: Uint32Array;
  /** Where the addresses are found: runs of ascending addresses in place, or one run over a sorted copy. */
  private readonly runs: [number, number][];
  private readonly sorted: Float64Array | null = null;
  /** perm[k]: the node whose address is sorted[k] (only with a sorted copy). */
  private readonly perm: Uint32Array | null = null;
  private readonly reader: ObjectReader;
  /** Page number -> p; the page's objects are at [pageStart[p], pageEnd[p]) of the ordered addresses. */
  private readonly pages: AddressIndex;
  private readonly pageStart: Int32Array;
  private readonly pageEnd: Int32Array;

  constructor(
    memory: CoreMemory,
    readonly heap: RawHeap,
    readonly types: TypeTable,
    readonly tracked: TrackedParts,
    opts: { edges?: boolean } = {},
  ) {
    const n = tracked.address.length;
    this.n = n;
    // The census walks arenas in address order, so the addresses mostly come in a few ascending
    // runs (pymalloc's, then malloc's); only when they do not is a sorted copy made.
    const runs = ascendingRuns(tracked.address);
    if (runs.length <= MAX_RUNS) {
      this.runs = runs;
    } else {
      this.runs = [[0, n]];
      this.sorted = Float64Array.from(tracked.address).sort();
      this.perm = new Uint32Array(n);
      for (let i = 0; i < n; i++) this.perm[lowerBound(this.sorted, tracked.address[i]!, 0, n)] = i;
    }
    ({ pages: this.pages, start: this.pageStart, end: this.pageEnd } = pageTable(this.ordered, this.runs));
    this.reader = new ObjectReader(types, heap);
    this.mem = new PageCache(memory);
    // Type and refcount are read again from each object's header (in address order: the same pages).
    const gcRefs = new Int32Array(n);
    const type = new Uint32Array(n);
    const read = (addr: number): number => this.mem.u64(addr);
    for (let i = 0; i < n; i++) {
      const o = tracked.address[i]!;
      type[i] = Math.max(0, types.rowOf(read, o));
      gcRefs[i] = Math.min(Math.max(this.mem.u64(o + heap.object.refcnt), 0), 0x7fffffff);
    }
    this.gcRefs = gcRefs;
    this.type = type;
    let first: Int32Array | null = null;
    let edges: Int32Array | null = opts.edges ? new Int32Array(Math.max(1024, n * 2)) : null;
    if (edges) first = new Int32Array(n + 1);
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (first) first[i] = m;
      this.traverse(i, (addr) => {
        const j = this.find(addr);
        if (j < 0) return;
        gcRefs[j]!--;
        if (!edges) return;
        if (m === edges.length) {
          const bigger = new Int32Array(edges.length * 2);
          bigger.set(edges);
          edges = bigger;
        }
        edges[m++] = j;
      });
    }
    if (first && edges) {
      first[n] = m;
      this.first = first;
      this.edges = edges.subarray(0, m);
    }
  }

  /** The node of a tracked object's address, or -1. */
  find(addr: number): number {
    if (addr <= 0 || addr % 8 !== 0) return -1;
    const p = this.pages.getNumber(Math.floor(addr / PAGE_SPAN));
    if (p < 0) return -1;
    const lo = this.pageStart[p]!;
    if (lo >= 0) return this.search(addr, lo, this.pageEnd[p]!);
    // A page whose objects lie in more than one run (only runs in place can cross).
    for (const [from, to] of this.runs) {
      const j = this.search(addr, from, to);
      if (j >= 0) return j;
    }
    return -1;
  }

  /** The node of addr among the ordered addresses [lo, hi), or -1. */
  private search(addr: number, lo: number, hi: number): number {
    const a = this.ordered;
    const k = lowerBound(a, addr, lo, hi);
    if (k === hi || a[k] !== addr) return -1;
    return this.perm ? this.perm[k]! : k;
  }

  /** The addresses in the order find searches them: in place, or the sorted copy. */
  private get ordered(): Float64Array {
    return this.sorted ?? this.tracked.address;
  }

  traverse(i: number, visit: (addr: number) => void): void {
    traverse(this.mem, this.heap, this.types, this.tracked.address[i]!, this.type[i]!, visit);
  }

  /** The bytes node i's object asked its allocator for, rounded as pymalloc rounds. */
  bytes(i: number): number {
    const request = Math.max(0, this.reader.requestAt(this.mem, this.tracked.address[i]!, this.type[i]!));
    return roundUp(request, this.heap.pymalloc?.alignment ?? 1);
  }

  /** The nodes node i refers to (from the kept edges, or by reading the object again). */
  forEachReferent(i: number, visit: (j: number) => void): void {
    if (this.first && this.edges) {
      for (let e = this.first[i]!; e < this.first[i + 1]!; e++) visit(this.edges[e]!);
      return;
    }
    this.traverse(i, (addr) => {
      const j = this.find(addr);
      if (j >= 0) visit(j);
    });
  }

  /** Nodes that refer to node j (needs the edges). */
  referrers(j: number): number[] {
    const out: number[] = [];
    if (!this.first || !this.edges) throw new Error('referrers need a graph built with its edges');
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

const MAX_RUNS = 16;
const PAGE_SPAN = 4096;

/**
 * The pages the ordered addresses A (in RUNS of ascending order) lie in, each with the stretch of
 * A it holds; a page met in two stretches (two runs crossing it) gets start -1, to be searched the
 * slow way.
 */
function pageTable(a: Float64Array, runs: [number, number][]): { pages: AddressIndex; start: Int32Array; end: Int32Array } {
  const ordinal = new Map<number, number>();
  const keys: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const [lo, hi] of runs) {
    let k = lo;
    while (k < hi) {
      const page = Math.floor(a[k]! / PAGE_SPAN);
      const from = k;
      while (k < hi && Math.floor(a[k]! / PAGE_SPAN) === page) k++;
      const seen = ordinal.get(page);
      if (seen !== undefined) {
        starts[seen] = -1;
        continue;
      }
      ordinal.set(page, keys.length);
      keys.push(page);
      starts.push(from);
      ends.push(k);
    }
  }
  return { pages: new AddressIndex(keys), start: Int32Array.from(starts), end: Int32Array.from(ends) };
}

/** [start, end) of each ascending run of the array. */
function ascendingRuns(a: Float64Array): [number, number][] {
  const runs: [number, number][] = [];
  let start = 0;
  for (let i = 1; i <= a.length; i++) {
    if (i === a.length || a[i]! <= a[i - 1]!) {
      if (i > start) runs.push([start, i]);
      start = i;
      if (runs.length > MAX_RUNS) return runs;
    }
  }
  return runs;
}

/** The first index in [lo, hi) of a sorted range whose value is not below x. */
function lowerBound(a: Float64Array, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
