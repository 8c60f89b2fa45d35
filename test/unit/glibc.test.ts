// glibc malloc in a fake core: the chunk walk (src/allocators/glibc.ts), the malloc_info-like
// figures read from the arenas (src/allocators/glibc-stats.ts), and the tcache chunks the census
// tells apart by their key (src/census/census.ts). A main arena in libc's data with its brk heap,
// one thread arena at the start of a 64 MiB-aligned heap, and mmapped chunks; fastbin and tcache
// lists are safe-linked as glibc 2.32+ stores them.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readElfCore, type ElfCore } from '../../src/core/core-file.js';
import { CoreMemory } from '../../src/core/core-memory.js';
import { arenaAddresses, walkGlibc, type ChunkVisitor } from '../../src/allocators/glibc.js';
import { glibcStats } from '../../src/allocators/glibc-stats.js';
import { takeCensus } from '../../src/census/census.js';
import type { RawGlibc, RawHeap } from '../../src/model/raw.js';
import { heap311 } from './cpython-fixture.js';
import { Mem, PF_R, writeFakeCore, type FakeCoreSpec } from './fake-core.js';

// glibc 2.35/2.36 x86-64 offsets (any consistent numbers would do).
const G: RawGlibc = {
  main_arena: 0x7ffff7e19100,
  mp: 0x7ffff7e1a200,
  tcache_key: '5a5a1234deadbeef',
  safe_linking: true,
  malloc_state: { sizeof: 2200, top: 96, next: 2160, system_mem: 2184, fastbinsY: 16, bins: 112 },
  malloc_par: { sizeof: 112, sbrk_base: 72, n_mmaps: 40, mmapped_mem: 56, mmap_threshold: 16 },
  heap_info: { sizeof: 48, ar_ptr: 0, prev: 8, size: 16 },
  heap_max: 0x4000000,
};
const KEY = 0x5a5a1234deadbeefn;
const MAIN = G.main_arena;

/** The brk heap: sbrk_base to the end of the top chunk. */
const HEAP = 0x555555559000;
const HEAP_SIZE = 0x21000;
const C = {
  tcacheStruct: HEAP, // 0x290
  fast1: 0x555555559290, // 0x20, fastbin 0 (second)
  fast2: 0x5555555592b0, // 0x20, fastbin 0 (head)
  tc1: 0x5555555592d0, // 0x30, tcache bin 1 (second)
  tc2: 0x555555559300, // 0x30, tcache bin 1 (head)
  unsorted: 0x555555559330, // 0x420, free in the unsorted bin
  used: 0x555555559750, // 0x100, in use
  large: 0x555555559850, // 0x3000, free in large bin 113
  fast3: 0x55555555c850, // 0x50, fastbin 3
  top: 0x55555555c8a0, // 0x1d760, to HEAP + HEAP_SIZE
};

/** The thread arena's heap: heap_info, then the malloc_state, then chunks. */
const THEAP = 0x7ffff0000000;
const ARENA2 = THEAP + 48;
const T = { tcacheStruct: 0x7ffff00008d0, tc: 0x7ffff0000b60, top: 0x7ffff0000ba0 };

const MMAP1 = 0x7ffff7a00000;
const MMAP2 = 0x7ffff7b00000;
const READONLY = 0x7ffff7c00000;
const SKIPPED = 0x7ffff7d00000;

/** glibc's PROTECT_PTR: what a safe-linked list stores at `pos` for the pointer `ptr`. */
const protect = (pos: number, ptr: number): bigint => (BigInt(pos) >> 12n) ^ BigInt(ptr);

function chunk(m: Mem, at: number, sizeField: number, prevSize = 0): void {
  m.u64(at, prevSize).u64(at + 8, sizeField);
}

/** An arena: top, next, system_mem, and every bin empty (its fd and bk pointing at itself). */
function arena(m: Mem, ar: number, a: { top: number; next: number; systemMem: number }): void {
  const ms = G.malloc_state;
  m.u64(ar + ms.top, a.top).u64(ar + ms.next, a.next).u64(ar + ms.system_mem, a.systemMem);
  for (let i = 1; i < 128; i++) {
    const slot = ar + ms.bins + (i - 1) * 16;
    m.u64(slot, slot - 16).u64(slot + 8, slot - 16);
  }
}

/** Put the free chunk p (drawn in `heap`) alone in bin i of arena ar (drawn in `m`). */
function binned(m: Mem, heap: Mem, ar: number, i: number, p: number): void {
  const slot = ar + G.malloc_state.bins + (i - 1) * 16;
  m.u64(slot, p).u64(slot + 8, p);
  heap.u64(p + 16, slot - 16).u64(p + 24, slot - 16);
}

/** A tcache list in bin `bin` of the tcache_perthread_struct at `ts` (a chunk): the chunks in order. */
function tcacheList(m: Mem, ts: number, bin: number, chunks: number[]): void {
  m.u16(ts + 16 + 2 * bin, chunks.length).u64(ts + 16 + 128 + 8 * bin, chunks[0]! + 16);
  chunks.forEach((c, i) => {
    const next = chunks[i + 1];
    m.u64(c + 16, protect(c + 16, next === undefined ? 0 : next + 16)).u64(c + 24, KEY);
  });
}

interface Variant {
  /** The thread heap's heap_info names another arena. */
  foreignHeap?: boolean;
  /** The chunk in use after the unsorted one has size 8. */
  badSize?: boolean;
  /** The core holds only the first 4 KiB of the brk heap. */
  cutHeap?: boolean;
  /** A fastbin holds a misaligned pointer; another one loops. */
  badFastbins?: boolean;
  /** The large bin's chunk links back to itself (a loop off the head); the unsorted one has an absurd size. */
  badBins?: boolean;
}

function glibcSpec(v: Variant = {}): FakeCoreSpec {
  const ms = G.malloc_state;
  const libc = new Mem(0x7ffff7e19000, 0x2000);
  arena(libc, MAIN, { top: C.top, next: ARENA2, systemMem: HEAP_SIZE });
  libc.u64(MAIN + ms.fastbinsY, C.fast2).u64(MAIN + ms.fastbinsY + 3 * 8, C.fast3);
  if (v.badFastbins) libc.u64(MAIN + ms.fastbinsY + 8, C.fast1 + 8);
  libc.u64(G.mp + G.malloc_par.sbrk_base, HEAP).u32(G.mp + G.malloc_par.n_mmaps, 2).u64(G.mp + G.malloc_par.mmapped_mem, 0x7000);

  const heap = new Mem(HEAP, HEAP_SIZE);
  binned(libc, heap, MAIN, 1, C.unsorted);
  binned(libc, heap, MAIN, 113, C.large);
  if (v.badBins) heap.u64(C.large + 16, C.large);
  chunk(heap, C.tcacheStruct, 0x291);
  chunk(heap, C.fast1, 0x21);
  chunk(heap, C.fast2, 0x21);
  heap.u64(C.fast2 + 16, protect(C.fast2 + 16, C.fast1));
  heap.u64(C.fast1 + 16, v.badFastbins ? protect(C.fast1 + 16, C.fast2) : protect(C.fast1 + 16, 0));
  chunk(heap, C.tc1, 0x31);
  chunk(heap, C.tc2, 0x31);
  tcacheList(heap, C.tcacheStruct, 1, [C.tc2, C.tc1]);
  chunk(heap, C.unsorted, v.badBins ? 0x4000001 : 0x421);
  chunk(heap, C.used, v.badSize ? 0x8 : 0x100, 0x420);
  heap.u64(C.used + 16, KEY); // the key, but in the first word of its data (where a tcache entry keeps next)
  chunk(heap, C.large, 0x3001);
  heap.u64(C.large + 32, C.large).u64(C.large + 40, C.large); // fd_nextsize, bk_nextsize
  chunk(heap, C.fast3, 0x50, 0x3000);
  heap.u64(C.fast3 + 16, protect(C.fast3 + 16, 0));
  chunk(heap, C.top, 0x1d761);

  const theap = new Mem(THEAP, 0x21000);
  const hi = G.heap_info;
  theap.u64(THEAP + hi.ar_ptr, v.foreignHeap ? MAIN : ARENA2).u64(THEAP + hi.prev, 0).u64(THEAP + hi.size, 0x21000);
  arena(theap, ARENA2, { top: T.top, next: MAIN, systemMem: 0x21000 });
  chunk(theap, T.tcacheStruct, 0x295); // NON_MAIN_ARENA | PREV_INUSE
  chunk(theap, T.tc, 0x45);
  tcacheList(theap, T.tcacheStruct, 2, [T.tc]);
  chunk(theap, T.top, 0x20461);

  // mmapped chunks start their mapping (prev_size 0), or follow another part of it.
  const mm1 = new Mem(MMAP1, 0x5000);
  chunk(mm1, MMAP1, 0x5002);
  mm1.u64(MMAP1 + 24, KEY); // an mmapped chunk is never in a tcache, key or not
  const mm2 = new Mem(MMAP2, 0x4000);
  chunk(mm2, MMAP2, 0x3006); // IS_MMAPPED with NON_MAIN_ARENA: not an mmapped chunk
  chunk(mm2, MMAP2 + 0x1000, 0x2002);
  chunk(mm2, MMAP2 + 0x3000, 0x1002, 0x5000); // prev_size of 4096 or more: not one
  const ro = new Mem(READONLY, 0x2000);
  chunk(ro, READONLY, 0x2002);
  const skipped = new Mem(SKIPPED, 0x2000);
  chunk(skipped, SKIPPED, 0x2002);

  return {
    segments: [
      v.cutHeap ? { vaddr: HEAP, bytes: heap.bytes.subarray(0, 0x1000), memsz: HEAP_SIZE } : heap.segment(),
      theap.segment(),
      mm1.segment(),
      mm2.segment(),
      ro.segment({ flags: PF_R }),
      skipped.segment(),
      libc.segment(),
    ],
  };
}

async function coreOf(t: TestContext, v: Variant = {}): Promise<{ core: ElfCore; memory: CoreMemory }> {
  const core = await readElfCore(writeFakeCore(glibcSpec(v)));
  const memory = new CoreMemory(core);
  t.after(() => memory.close());
  return { core, memory };
}

const SKIP = [{ start: SKIPPED, end: SKIPPED + 0x2000 }];

function walk(core: ElfCore, memory: CoreMemory) {
  const seen: [number, number, boolean, boolean][] = [];
  const visit: ChunkVisitor = (u32, off, size, avail, base, inUse, mmapped) => {
    assert.ok(off + 16 <= avail);
    // The window shows the chunk's own size field.
    assert.equal(u32[(off + 8) >>> 2]! - (u32[(off + 8) >>> 2]! % 8), size % 4294967296);
    seen.push([base + off, size, inUse, mmapped]);
  };
  return { result: walkGlibc(memory, G, core.segments, SKIP, visit), seen };
}

test('arenaAddresses: the main arena, then the ring of arenas its next pointer starts', async (t) => {
  const { memory } = await coreOf(t);
  assert.deepEqual(arenaAddresses((a) => memory.readU64(a), G), [MAIN, ARENA2]);
  // A ring that does not come back to the main arena stops at the first repeat.
  const loop = new Map([[MAIN + 2160, 0x1000], [0x1000 + 2160, 0x2000], [0x2000 + 2160, 0x1000]]);
  assert.deepEqual(arenaAddresses((a) => loop.get(a) ?? null, G), [MAIN, 0x1000, 0x2000]);
  assert.deepEqual(arenaAddresses(() => null, G), [MAIN]);
});

test('walkGlibc: every chunk of both heaps in order, in use by the next chunk\'s PREV_INUSE, and the mmapped chunks', async (t) => {
  const { core, memory } = await coreOf(t);
  const { result, seen } = walk(core, memory);
  assert.deepEqual(seen, [
    [C.tcacheStruct, 0x290, true, false],
    [C.fast1, 0x20, true, false], // fastbin and tcache chunks look in use to the walk
    [C.fast2, 0x20, true, false],
    [C.tc1, 0x30, true, false],
    [C.tc2, 0x30, true, false],
    [C.unsorted, 0x420, false, false],
    [C.used, 0x100, true, false],
    [C.large, 0x3000, false, false],
    [C.fast3, 0x50, true, false],
    [T.tcacheStruct, 0x290, true, false],
    [T.tc, 0x40, true, false],
    [MMAP1, 0x5000, true, true],
    [MMAP2 + 0x1000, 0x2000, true, true],
  ]);
  assert.deepEqual(result, {
    arenas: 2,
    heaps: [{ start: HEAP, end: HEAP + HEAP_SIZE }, { start: THEAP, end: THEAP + 0x4000000 }],
    chunks: 11,
    inUseBytes: 0x290 + 0x20 + 0x20 + 0x30 + 0x30 + 0x100 + 0x50 + 0x290 + 0x40,
    freeBytes: 0x420 + 0x3000,
    mmappedChunks: 2,
    mmappedBytes: 0x7000,
    problems: [],
  });
});

test('walkGlibc: a heap that belongs to another arena, a corrupt size, a heap the core holds part of', async (t) => {
  const foreign = await coreOf(t, { foreignHeap: true });
  const f = walk(foreign.core, foreign.memory).result;
  assert.deepEqual(f.problems, ['heap at 0x7ffff0000000 does not belong to arena 0x7ffff0000030']);
  assert.equal(f.chunks, 9);
  assert.equal(f.heaps.length, 1);

  const bad = await coreOf(t, { badSize: true });
  const b = walk(bad.core, bad.memory).result;
  assert.deepEqual(b.problems, ['corrupt chunk at 0x555555559750 (size 8)']);
  assert.equal(b.chunks, 6 + 2); // up to the unsorted chunk, then the thread heap
  assert.equal(b.freeBytes, 0x420); // its next chunk's PREV_INUSE (of the bad size field 8) is clear

  const cut = await coreOf(t, { cutHeap: true });
  const { result: c, seen } = walk(cut.core, cut.memory);
  // The top chunk is not in the core: the heap ends at top, and the walk where the core does.
  assert.deepEqual(c.heaps[0], { start: HEAP, end: C.top });
  assert.deepEqual(c.problems, ['chunk at 0x55555555c850 is not in the core']);
  // The large free chunk's successor is not in the core either: it is not known to be in use.
  assert.deepEqual(seen.filter((s) => s[0] < THEAP).slice(-2), [[C.used, 0x100, true, false], [C.large, 0x3000, false, false]]);
  assert.equal(c.chunks, 8 + 2);
});

test('glibcStats: fastbins (safe-linked), bins, top and system_mem per arena, as malloc_info counts them', async (t) => {
  const { memory } = await coreOf(t);
  const s = glibcStats(memory, G);
  const mainRest = 0x1d760 + 0x420 + 0x3000;
  assert.deepEqual(s.arenas, [
    {
      address: MAIN, main: true, systemMem: HEAP_SIZE,
      fastCount: 3, fastSize: 0x20 + 0x20 + 0x50,
      restCount: 3, restSize: mainRest, topSize: 0x1d760,
      inUseBytes: HEAP_SIZE - 0x90 - mainRest,
    },
    {
      address: ARENA2, main: false, systemMem: 0x21000,
      fastCount: 0, fastSize: 0, restCount: 1, restSize: 0x20460, topSize: 0x20460,
      inUseBytes: 0x21000 - 0x20460,
    },
  ]);
  // In use as the walk sees it, less the fastbin chunks: 0x290 + 2 * 0x30 + 0x100 in the brk heap.
  assert.equal(s.arenas[0]!.inUseBytes, 0x290 + 0x60 + 0x100);
  assert.deepEqual([...s.fastbinChunks].sort(), [C.fast1, C.fast2, C.fast3].sort());
  assert.deepEqual(s.problems, []);
  assert.deepEqual(s.totals, {
    fastCount: 3, fastSize: 0x90,
    restCount: 4, restSize: mainRest + 0x20460,
    mmapCount: 2, mmapSize: 0x7000,
    systemCurrent: HEAP_SIZE + 0x21000,
    inUseBytes: HEAP_SIZE - 0x90 - mainRest + 0x21000 - 0x20460,
    // Whole pages past each free chunk's first 48 bytes: the large chunk 0x55555555a000 to
    // 0x55555555c000; the main top 0x55555555d000 to 0x55555557a000; the thread top
    // 0x7ffff0001000 to 0x7ffff0021000; none in the unsorted chunk.
    trimmableBytes: 0x2000 + 0x1d000 + 0x20000,
  });
});

test('glibcStats: a misaligned fastbin entry and a fastbin loop are problems, not endless walks', async (t) => {
  const { memory } = await coreOf(t, { badFastbins: true });
  const s = glibcStats(memory, G);
  assert.deepEqual(s.problems, [
    'arena 0x7ffff7e19100: fastbin 0 is corrupt at 0x5555555592b0',
    'arena 0x7ffff7e19100: fastbin 1 is corrupt at 0x555555559298',
  ]);
  assert.equal(s.arenas[0]!.fastCount, 3); // fast2, fast1 (then fast2 again), fast3
});

test('glibcStats: a bin that loops off its head or holds an absurd chunk is a problem, the chunks before it counted', async (t) => {
  const { memory } = await coreOf(t, { badBins: true });
  const s = glibcStats(memory, G);
  assert.deepEqual(s.problems, [
    'arena 0x7ffff7e19100: bin 1 is corrupt at 0x555555559330 (a size of 67108864 bytes in an arena of 135168); counted up to there (0 chunks)',
    'arena 0x7ffff7e19100: bin 113 is corrupt at 0x555555559850 (its back link is 0x7ffff7e19860, not the chunk before it); counted up to there (1 chunk)',
  ]);
  assert.equal(s.arenas[0]!.restCount, 2, 'top and the large chunk, once');
});

/** A heap description with no Python types: the census walks glibc only. */
function glibcOnlyHeap(): RawHeap {
  return { ...heap311(), types: [], pymalloc: null, gc: null, glibc: G };
}

test('census: chunks in use that carry the tcache key are counted as tcache, not as in use', async () => {
  const core = await readElfCore(writeFakeCore(glibcSpec()));
  const census = await takeCensus(core, glibcOnlyHeap(), { workers: 1 });
  assert.deepEqual(census.facts.tcache, { count: 3, bytes: 0x30 + 0x30 + 0x40 });
  assert.deepEqual(
    [...census.facts.chunks.address].map((a, i) => [a, census.facts.chunks.size[i]]),
    [
      [C.tcacheStruct, 0x290], [C.fast1, 0x20], [C.fast2, 0x20], [C.used, 0x100], [C.fast3, 0x50],
      [T.tcacheStruct, 0x290], [MMAP1, 0x5000], [MMAP2 + 0x1000, 0x2000],
      [SKIPPED, 0x2000], // no pymalloc arenas to skip here: the look-alike counts
    ],
  );
  assert.equal(census.stats.objects, 0);
  assert.deepEqual(census.warnings, ["census: pymalloc arenas not found; objects in pymalloc's arenas are not counted"]);
});
