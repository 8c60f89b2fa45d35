// Where the memory of the process is: every writable byte of the core put in one place or another
// (Python objects, pymalloc's free space, malloc's free space, malloc memory owned by Python,
// malloc memory owned by nothing Python knows of, thread stacks, the rest), from the census's
// walk, glibc's own structures and the mappings.
import type { Census } from '../census/census.js';
import type { ElfCore } from '../core/core-file.js';
import { CoreMemory } from '../core/core-memory.js';
import { humanBytes, percent } from '../base/units.js';
import type { Allocator, MemoryReport } from '../model/types.js';
import type { RawExtraction, RawHeap, RawThread } from '../model/raw.js';
import { cyclicGarbage } from './cycles.js';
import { ObjectGraph } from './graph.js';
import { glibcStats } from '../allocators/glibc-stats.js';
import { CHUNK_HEADER } from '../allocators/glibc.js';
import { addressNamer, findPointers, type Region } from './pointers.js';
import { NATIVE_FLOOR } from './findings.js';
import { plural } from '../base/prose.js';

const PF_W = 2;

export function allocatorOf(core: ElfCore, heap: RawHeap | null | undefined): Allocator {
  const libs = core.mappedFiles.map((m) => m.path);
  if (libs.some((p) => /\/libtcmalloc[^/]*\.so/.test(p))) return 'tcmalloc';
  if (libs.some((p) => /\/libjemalloc[^/]*\.so/.test(p))) return 'jemalloc';
  return heap?.glibc ? 'glibc' : 'unknown';
}

/** The thread stacks: the writable segments that hold a thread's stack pointer. */
/** What the accounting reads of gdb's extraction: the heap record, and where each thread's stack is. */
export interface AccountInput {
  heap?: RawHeap | null;
  threads: (Pick<RawThread, 'lwp' | 'name'> & { sp?: number | null })[];
}

/** Just that of an extraction: what a worker thread is sent (the tasks and frames can be large). */
export function accountInputOf(raw: RawExtraction): AccountInput {
  return { heap: raw.heap, threads: raw.threads.map((t) => ({ lwp: t.lwp, name: t.name, sp: (t as { sp?: number | null }).sp ?? null })) };
}

function stacksOf(core: ElfCore, raw: AccountInput): { threads: number; bytes: number; regions: Region[] } {
  const segments = new Map<number, string>();
  for (const t of raw.threads) {
    const sp = t.sp;
    if (sp == null) continue;
    const i = core.segments.findIndex((s) => s.vaddr <= sp && sp < s.vaddr + s.memsz);
    if (i >= 0) segments.set(i, `the stack of thread ${t.name ? `${t.name} ` : ''}(LWP ${t.lwp})`);
  }
  let bytes = 0;
  const regions: Region[] = [];
  for (const [i, what] of segments) {
    const s = core.segments[i]!;
    bytes += s.memsz;
    regions.push({ start: s.vaddr, end: s.vaddr + s.memsz, what });
  }
  return { threads: raw.threads.length, bytes, regions };
}

/** In-use chunks split between those Python objects own and the rest (native memory). */
interface Attribution {
  python: number;
  native: NonNullable<MemoryReport['native']>;
  /** The chunk holding an address, in words, or null. */
  chunkOf: (addr: number) => string | null;
}

/** Items of gc.garbage whose types are looked at. */
const GARBAGE_ITEMS = 1_000_000;

/** What types the items of the list at `list` (n of them) are, most first. */
function listTypes(memory: CoreMemory, heap: RawHeap, census: Census, list: number, n: number): { type: string; module: string | null; count: number }[] {
  const types = census.facts.types;
  const items = memory.readU64(list + heap.list.ob_item);
  const counts = new Map<number, number>();
  const count = Math.min(n, GARBAGE_ITEMS);
  const buf = items ? memory.read(items, 8 * count) : null;
  for (let k = 0; buf && k < count; k++) {
    const ti = types.rowOf((addr) => memory.readU64(addr) ?? -1, Number(buf.readBigUInt64LE(8 * k)));
    if (ti >= 0) counts.set(ti, (counts.get(ti) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([ti, c]) => ({ type: types.names[ti]!, module: types.modules[ti]!, count: c }));
}

/** How many of the largest native chunks get a search for what points at them. */
const SEARCHED_CHUNKS = 5;

function attribute(census: Census, fastbins: Set<number>): Attribution {
  const { address, size } = census.facts.chunks;
  const order = Array.from(address.keys()).sort((a, b) => address[a]! - address[b]!);
  const sorted = Float64Array.from(order, (i) => address[i]!);
  const owned = new Uint8Array(sorted.length);
  for (const pointer of census.facts.owned) {
    const chunk = pointer - CHUNK_HEADER;
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < chunk) lo = mid + 1;
      else if (sorted[mid]! > chunk) hi = mid - 1;
      else {
        owned[mid] = 1;
        break;
      }
    }
  }
  let python = 0;
  let nativeBytes = 0;
  let nativeChunks = 0;
  const bySize = new Map<number, number>();
  order.forEach((i, k) => {
    const s = size[i]!;
    if (owned[k]) python += s;
    else if (!fastbins.has(sorted[k]!)) {
      nativeBytes += s;
      nativeChunks++;
      bySize.set(s, (bySize.get(s) ?? 0) + 1);
    }
  });
  const topSizes = [...bySize.entries()]
    .map(([s, count]) => ({ size: s, count, bytes: s * count }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 10);
  const biggest = order
    .map((i, k) => ({ k, address: sorted[k]!, size: size[i]! }))
    .filter((c) => !owned[c.k] && !fastbins.has(c.address))
    .sort((a, b) => b.size - a.size)
    .slice(0, SEARCHED_CHUNKS)
    .map((c) => ({ address: c.address, size: c.size, pointedFrom: [] as string[] }));
  const sizes = Float64Array.from(order, (i) => size[i]!);
  const chunkOf = (addr: number): string | null => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! > addr) hi = mid - 1;
      else if (sorted[mid]! + sizes[mid]! <= addr) lo = mid + 1;
      else return `the malloc chunk at 0x${sorted[mid]!.toString(16)} (${sizes[mid]!.toLocaleString('en-US')} bytes, ${owned[mid] ? 'a Python object or its buffer' : 'native'})`;
    }
    return null;
  };
  return { python, native: { bytes: nativeBytes, chunks: nativeChunks, topSizes, biggest }, chunkOf };
}

export function accountMemory(core: ElfCore, raw: AccountInput, census: Census | null, opts: { sysroot?: string } = {}): MemoryReport {
  const heap = raw.heap ?? null;
  const allocator = allocatorOf(core, heap);
  const writableBytes = core.segments.filter((s) => s.flags & PF_W).reduce((n, s) => n + s.memsz, 0);
  const stacks = stacksOf(core, raw);
  const report: MemoryReport = {
    allocator, writableBytes, breakdown: [], glibc: null, pymalloc: null, gc: null, native: null, cycles: null,
    stacks: { threads: stacks.threads, bytes: stacks.bytes },
    mappings: mappingsOf(core, stacks.bytes, (census?.facts.pymalloc?.arenas ?? 0) * (heap?.pymalloc?.arena_size ?? 0)),
  };
  const memory = new CoreMemory(core, opts);
  try {
    const pm = census?.facts.pymalloc;
    if (pm && heap?.pymalloc) {
      const usedBytes = census.pymalloc.reduce((n, c) => n + c.blocksUsed * c.blockSize, 0);
      report.pymalloc = {
        arenas: pm.arenas, arenaBytes: pm.arenas * heap.pymalloc.arena_size, poolsUsed: pm.pools, poolsFree: pm.poolsFree,
        blocksUsed: census.pymalloc.reduce((n, c) => n + c.blocksUsed, 0), blocksFree: census.pymalloc.reduce((n, c) => n + c.blocksFree, 0),
        usedBytes, sparseArenas: pm.sparseArenas, sparseArenaBytes: pm.sparseArenaBytes,
      };
    }
    if (heap?.gc) {
      const garbageList = heap.gc.garbage;
      const size = garbageList ? memory.read(garbageList + heap.object.size, 8) : null;
      const garbage = size ? Number(size.readBigInt64LE(0)) : 0;
      report.gc = {
        enabled: heap.gc.enabled, collecting: heap.gc.collecting,
        thresholds: heap.gc.generations.map((g) => g.threshold), counts: heap.gc.generations.map((g) => g.count),
        garbage,
        garbageTypes: census && garbage > 0 ? listTypes(memory, heap, census, garbageList, garbage) : [],
      };
    }
    if (census && heap) report.cycles = cyclicGarbage(new ObjectGraph(memory, heap, census.facts.types, census.facts.tracked));

    const objectBytes = census ? census.rows.reduce((n, r) => n + r.bytesWithBuffers, 0) : 0;
    let mallocPython = 0;
    let mallocFree = 0;
    if (allocator === 'glibc' && heap?.glibc && census) {
      const g = glibcStats(memory, heap.glibc);
      report.glibc = { arenas: g.arenas, totals: g.totals, tcache: census.facts.tcache };
      report.damage = [...(census.facts.glibc?.problems ?? []).map((p) => `glibc heap: ${p}`), ...g.problems.map((p) => `glibc free lists: ${p}`)];
      const split = attribute(census, g.fastbinChunks);
      mallocPython = split.python;
      report.native = split.native;
      const regions: Region[] = [
        ...stacks.regions,
        ...(census.facts.pymalloc?.regions ?? []).map((r) => ({ ...r, what: 'a pymalloc arena (small Python objects and buffers)' })),
      ];
      // Searching all writable memory costs a read of the core: only as evidence for a finding.
      if (split.native.bytes >= NATIVE_FLOOR) {
        const pointers = findPointers(memory, core, split.native.biggest.map((c) => c.address + CHUNK_HEADER), addressNamer(core, regions, split.chunkOf));
        for (const c of split.native.biggest) c.pointedFrom = pointers.get(c.address + CHUNK_HEADER) ?? [];
      }
      mallocFree = g.totals.fastSize + g.totals.restSize + census.facts.tcache.bytes;
    }
    const pymallocFree = report.pymalloc ? report.pymalloc.arenaBytes - report.pymalloc.usedBytes : 0;
    const parts: MemoryReport['breakdown'] = [
      { kind: 'python-objects', bytes: Math.max(0, objectBytes - mallocPython), detail: census ? `${census.stats.objects.toLocaleString('en-US')} objects (census), with the buffers they own` : 'no census' },
      {
        kind: 'pymalloc-free', bytes: pymallocFree,
        detail: report.pymalloc
          ? `${report.pymalloc.arenas} arenas, ${percent(report.pymalloc.blocksUsed, report.pymalloc.blocksUsed + report.pymalloc.blocksFree)} of blocks used` +
            (report.pymalloc.sparseArenas ? `; ${report.pymalloc.sparseArenas} arenas kept alive by a quarter or less of their pools` : '')
          : 'pymalloc not found',
      },
    ];
    if (report.glibc) {
      parts.push(
        { kind: 'malloc-free', bytes: mallocFree, detail: `free in ${report.glibc.arenas.length} arenas (bins, fastbins, tcache, top); malloc_trim(0) could return ${humanBytes(report.glibc.totals.trimmableBytes)}` },
        { kind: 'malloc-python', bytes: mallocPython, detail: 'malloc chunks of Python objects too large for pymalloc, and their buffers' },
        { kind: 'malloc-native', bytes: report.native!.bytes, detail: `${report.native!.chunks.toLocaleString('en-US')} chunks in use that no Python object owns` },
      );
    }
    parts.push({ kind: 'stacks', bytes: stacks.bytes, detail: plural(stacks.threads, 'thread') });
    const known = parts.reduce((n, p) => n + p.bytes, 0);
    parts.push({ kind: 'other', bytes: Math.max(0, writableBytes - known), detail: allocator === 'glibc' ? 'data of libraries, other mappings' : `the ${allocator} allocator's memory and other mappings` });
    report.breakdown = parts;
    report.mappings.glibcHeaps = report.glibc?.totals.systemCurrent ?? 0;
    return report;
  } finally {
    memory.close();
  }
}

/** Totals of the mappings by kind: program headers for sizes and rights, NT_FILE for file backing. */
function mappingsOf(core: ElfCore, stackBytes: number, arenaBytes: number): MemoryReport['mappings'] {
  let fileBacked = 0;
  for (const m of core.mappedFiles) fileBacked += m.end - m.start;
  const fileAt = (addr: number): boolean => core.mappedFiles.some((m) => m.start <= addr && addr < m.end);
  let total = 0;
  let anonymousWritable = 0;
  let notWritable = 0;
  let dumped = 0;
  for (const s of core.segments) {
    total += s.memsz;
    dumped += s.filesz;
    if (!(s.flags & PF_W)) notWritable += s.memsz;
    else if (!fileAt(s.vaddr)) anonymousWritable += s.memsz;
  }
  return { total, fileBacked, anonymousWritable, notWritable, threadStacks: stackBytes, pymallocArenas: arenaBytes, glibcHeaps: 0, dumped };
}
