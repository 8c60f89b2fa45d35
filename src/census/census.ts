// The census of a core: every live Python object by type, with bytes. gdb told us where the heap
// is (heap info); the walk itself reads the core file directly: pymalloc arenas for objects up to
// pymalloc's threshold, glibc's chunks for larger ones, and the interpreter's static objects.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ElfCore } from '../core/core-file.js';
import { CoreMemory } from '../core/core-memory.js';
import type { CensusRow, CensusStats, PymallocClass } from '../model/types.js';
import type { RawHeap } from '../model/raw.js';
import { Column } from '../base/column.js';
import { CHUNK_HEADER, usableSize, walkGlibc, type GlibcWalk } from '../allocators/glibc.js';
import { TypeTable } from '../cpython/types.js';
import { ObjectRecognizer } from './recognizer.js';
import { emptyWalk, mergeWalk, usedArenas, walkPymalloc, type PymallocWalk } from '../allocators/pymalloc.js';
import type { WorkerResult, WorkerTask } from './pymalloc-worker.js';
import { Tally, type TrackedParts } from './tally.js';

export interface Census {
  rows: CensusRow[];
  pymalloc: PymallocClass[];
  stats: CensusStats;
  warnings: string[];
  /** What the walk learnt about the heap beyond the counts, for the memory accounting. */
  facts: HeapFacts;
}

export interface HeapFacts {
  types: TypeTable;
  pymalloc: PymallocWalk | null;
  glibc: GlibcWalk | null;
  /** glibc chunks in use (not free in a bin, not parked in a tcache), as chunk address and size. */
  chunks: { address: Float64Array; size: Float64Array };
  /** Chunks parked in the threads' tcaches: free, though their headers say in use. */
  tcache: { count: number; bytes: number };
  /** User pointers of malloc'd memory that Python objects own (large objects and their buffers). */
  owned: Float64Array;
  tracked: TrackedParts;
}

/** Below this many arenas (MiB of pymalloc) starting worker threads costs more than it saves. */
const ARENAS_PER_WORKER = 64;
const MAX_WORKERS = 4;

export interface CensusOptions {
  sysroot?: string;
  /** Worker threads for the pymalloc walk (default: the CPUs, at most 4; 1 walks in this thread). */
  workers?: number;
}

/** Walk the pymalloc arenas, split between worker threads when the heap is large enough. */
function startPymallocWalk(
  core: ElfCore, heap: RawHeap, slots: number[], memory: CoreMemory, tally: Tally, recognizer: ObjectRecognizer, opts: CensusOptions,
): Promise<PymallocWalk | null> {
  const p = heap.pymalloc;
  if (!p) return Promise.resolve(null);
  const workers = Math.min(opts.workers ?? Math.min(availableParallelism(), MAX_WORKERS), Math.floor(slots.length / ARENAS_PER_WORKER));
  if (workers < 2) return Promise.resolve(walkPymalloc(memory, p, tally.pymallocVisitor(recognizer), slots));
  const share = Math.ceil(slots.length / workers);
  // One-shot workers, not pooled (src/worker-pool.ts): a walker that has exited gave its memory
  // back before the collector's graph is built; pooled, a 2 GB core peaked at 631 MB, not 437.
  const runs = Array.from({ length: workers }, (_, w) => {
    const task: WorkerTask = { core, heap, slots: slots.slice(w * share, (w + 1) * share), sysroot: opts.sysroot };
    return new Promise<WorkerResult>((resolve, reject) => {
      const worker = new Worker(new URL('./pymalloc-worker.js', import.meta.url), { workerData: task });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`census worker exited with code ${code}`)));
    });
  });
  return Promise.all(runs).then((results) => {
    const walk = emptyWalk(p);
    for (const r of results) {
      mergeWalk(walk, r.walk);
      tally.merge(r.parts);
    }
    return walk;
  });
}

export async function takeCensus(core: ElfCore, heap: RawHeap, opts: CensusOptions = {}): Promise<Census> {
  const started = performance.now();
  const memory = new CoreMemory(core, opts);
  const warnings: string[] = [];
  try {
    const types = new TypeTable(heap);
    const recognizer = new ObjectRecognizer(types, heap);
    const tally = new Tally(types, heap);

    // The workers walk pymalloc while this thread walks glibc's chunks and the static objects.
    const arenas = heap.pymalloc ? usedArenas(memory, heap.pymalloc) : [];
    const pymallocDone = startPymallocWalk(core, heap, arenas.map((a) => a.slot), memory, tally, recognizer, opts);
    const arenaRegions = arenas.map((a) => ({ start: a.address, end: a.address + heap.pymalloc!.arena_size }));

    // Objects up to pymalloc's threshold live in its arenas, not in malloc's chunks.
    const threshold = heap.pymalloc?.threshold ?? 0;
    let mallocChunks = 0;
    let glibc: GlibcWalk | null = null;
    const chunkAddress = new Column();
    const chunkSize = new Column();
    const tcache = { count: 0, bytes: 0 };
    if (heap.glibc) {
      // A chunk freed into the tcache carries the process's tcache key in its second word.
      const key = heap.glibc.tcache_key ? BigInt(`0x${heap.glibc.tcache_key}`) : null;
      const keyLo = key === null ? -1 : Number(key & 0xffffffffn);
      const keyHi = key === null ? -1 : Number(key >> 32n);
      glibc = walkGlibc(memory, heap.glibc, core.segments, arenaRegions, (u32, off, size, avail, base, inUse, mmapped) => {
        if (!inUse) return;
        const user = off + CHUNK_HEADER;
        if (!mmapped && u32[(user + 8) >>> 2] === keyLo && u32[(user + 12) >>> 2] === keyHi) {
          tcache.count++;
          tcache.bytes += size;
          return;
        }
        chunkAddress.push(base + off);
        chunkSize.push(size);
        if (usableSize(size, mmapped) <= threshold) return;
        const ti = recognizer.at(u32, user, size, avail, mmapped ? 'mmap' : 'malloc');
        if (ti < 0) return;
        tally.base = base;
        tally.add(u32, recognizer.start, ti, size, avail);
        tally.owned.push(base + user);
        mallocChunks++;
      });
      for (const p of glibc.problems.slice(0, 5)) warnings.push(`census: glibc heap: ${p}`);
    } else {
      warnings.push(`census: glibc malloc was not readable (another allocator, or no libc6-dbg): objects over ${threshold} bytes are not counted`);
    }

    for (const region of heap.static_regions) {
      const buf = memory.read(region.start, region.size);
      if (!buf) continue;
      const aligned = Buffer.alloc(Math.ceil(buf.length / 8) * 8);
      buf.copy(aligned);
      const u32 = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >>> 2);
      tally.base = region.start;
      let found = false;
      for (let off = 0; off + 24 <= aligned.length; ) {
        const ti = recognizer.at(u32, off, Infinity, aligned.length, 'static');
        if (ti < 0) {
          off += 8;
          continue;
        }
        const start = recognizer.start - types.pre[ti]!;
        tally.add(u32, recognizer.start, ti, recognizer.request, aligned.length);
        found = true;
        off = Math.max(off + 8, Math.ceil((start + recognizer.request) / 8) * 8);
      }
      // A region that is a malloc'd block of objects (2.7's int and float blocks) is Python's
      // memory, not native: the chunk it is counts as owned (a region elsewhere matches no chunk).
      if (found) tally.owned.push(region.start);
    }

    const pm = await pymallocDone;
    if (!pm) warnings.push("census: pymalloc arenas not found; objects in pymalloc's arenas are not counted");
    else if (pm.corruptPools) warnings.push(`census: ${pm.corruptPools} pymalloc pools have corrupt headers and were skipped`);
    tally.resolveDictKeys(memory);
    const rows = tally.rows();
    const stats: CensusStats = {
      objects: rows.reduce((n, r) => n + r.count, 0),
      bytes: rows.reduce((n, r) => n + r.bytes, 0),
      arenas: pm?.arenas ?? 0,
      pools: pm?.pools ?? 0,
      mallocChunks,
      walkMs: performance.now() - started,
    };
    const parts = tally.parts();
    const facts: HeapFacts = {
      types,
      pymalloc: pm,
      glibc,
      chunks: { address: chunkAddress.values(), size: chunkSize.values() },
      tcache,
      owned: parts.owned,
      tracked: parts.tracked,
    };
    return { rows, pymalloc: pm?.classes.filter((c) => c.pools > 0) ?? [], stats, warnings, facts };
  } finally {
    memory.close();
  }
}
