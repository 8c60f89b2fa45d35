// Walks glibc malloc's memory in the core: the main arena's heap (from mp_.sbrk_base to the top
// chunk), every thread arena's heaps (64 MiB-aligned heap_info blocks chained by `prev`), and the
// chunks malloc got from mmap for large requests. Each chunk is offered to a visitor with its size
// and whether it is in use, read through large windows of the core.
import type { CoreMemory } from '../core/core-memory.js';
import type { Segment } from '../core/core-file.js';
import type { RawGlibc } from '../model/raw.js';

import { u64At } from '../base/words.js';

const PREV_INUSE = 1;
const IS_MMAPPED = 2;
const NON_MAIN_ARENA = 4;
const WINDOW = 4 << 20;
const MAX_ARENAS = 4096;
/** Where a chunk's user memory starts: after its prev_size and size words (2 * SIZE_SZ). */
export const CHUNK_HEADER = 16;
/** The smallest chunk (MINSIZE). */
const MIN_CHUNK = 32;

/** The chunk malloc gives a request of n bytes: n plus the size word, rounded to 16, at least MINSIZE. */
export const chunkFor = (n: number): number => Math.max(MIN_CHUNK, Math.ceil((n + 8) / 16) * 16);

/** The most a request can have asked for and been given this chunk (an mmapped chunk lends no prev_size to a next one). */
export const usableSize = (size: number, mmapped: boolean): number => size - (mmapped ? CHUNK_HEADER : 8);

/** Bytes of a chunk a visitor may look at: its header and the start of what it holds. */
export const CHUNK_PEEK = 128;

export type ChunkVisitor = (u32: Uint32Array, off: number, size: number, avail: number, base: number, inUse: boolean, mmapped: boolean) => void;

export interface Region {
  start: number;
  end: number;
}

export interface GlibcWalk {
  arenas: number;
  heaps: Region[];
  chunks: number;
  inUseBytes: number;
  freeBytes: number;
  mmappedChunks: number;
  mmappedBytes: number;
  problems: string[];
}

/** A window over the core, refilled as the walk moves on; addresses in it as byte offsets. */
class Window {
  readonly buf = Buffer.allocUnsafe(WINDOW);
  readonly u32 = new Uint32Array(this.buf.buffer, this.buf.byteOffset, WINDOW >>> 2);
  base = -1;
  avail = 0;

  constructor(private readonly memory: CoreMemory) {}

  /** Make [addr, addr + length) readable in the window; false when the core lacks it. */
  cover(addr: number, length: number, limit: number): boolean {
    if (addr >= this.base && addr + length <= this.base + this.avail) return true;
    const want = Math.min(WINDOW, Math.max(length, limit - addr));
    const got = this.memory.readUpTo(addr, want, this.buf);
    if (got < length) return false;
    this.base = addr;
    this.avail = got;
    return true;
  }

  u64(addr: number): number {
    return u64At(this.u32, addr - this.base);
  }
}

/** Every arena of glibc malloc: the main arena, then the thread arenas on its `next` ring. */
export function arenaAddresses(read: (addr: number) => number | null, g: RawGlibc): number[] {
  const arenas = [g.main_arena];
  for (let ar = read(g.main_arena + g.malloc_state.next); ar && !arenas.includes(ar) && arenas.length < MAX_ARENAS; ar = read(ar + g.malloc_state.next)) {
    arenas.push(ar);
  }
  return arenas;
}

export function walkGlibc(memory: CoreMemory, g: RawGlibc, segments: Segment[], skip: Region[], visit: ChunkVisitor): GlibcWalk {
  const walk: GlibcWalk = { arenas: 0, heaps: [], chunks: 0, inUseBytes: 0, freeBytes: 0, mmappedChunks: 0, mmappedBytes: 0, problems: [] };
  const win = new Window(memory);
  const ms = g.malloc_state;
  const read = (addr: number): number | null => memory.readU64(addr);

  const walkRange = (start: number, end: number, top: number): void => {
    let p = Math.ceil(start / 16) * 16;
    while (p + 16 <= end) {
      if (!win.cover(p, Math.min(CHUNK_PEEK, end - p), end)) {
        walk.problems.push(`chunk at 0x${p.toString(16)} is not in the core`);
        return;
      }
      const sizeField = win.u64(p + 8);
      const size = sizeField - (sizeField % 8);
      if (p === top) return; // the top chunk: free space at the end of the heap
      if (size < MIN_CHUNK || p + size > end) {
        walk.problems.push(`corrupt chunk at 0x${p.toString(16)} (size ${size})`);
        return;
      }
      const next = p + size;
      let nextSize: number | null;
      if (next + 16 <= win.base + win.avail) nextSize = win.u64(next + 8);
      else nextSize = read(next + 8);
      const inUse = nextSize !== null && nextSize % 2 === PREV_INUSE;
      walk.chunks++;
      if (inUse) walk.inUseBytes += size;
      else walk.freeBytes += size;
      if (!win.cover(p, Math.min(CHUNK_PEEK, end - p), end)) return;
      visit(win.u32, p - win.base, size, win.avail, win.base, inUse, false);
      p = next;
    }
  };

  // The main arena: one heap grown with brk.
  const mainTop = read(g.main_arena + ms.top);
  const sbrkBase = read(g.mp + g.malloc_par.sbrk_base);
  if (mainTop && sbrkBase) {
    const topSize = read(mainTop + 8) ?? 0;
    const end = mainTop + topSize - (topSize % 8);
    walk.heaps.push({ start: sbrkBase, end });
    walkRange(sbrkBase, end, mainTop);
  }
  walk.arenas = 1;

  // Thread arenas, each a chain of heaps.
  for (const ar of arenaAddresses(read, g).slice(1)) {
    walk.arenas++;
    const top = read(ar + ms.top);
    if (!top) continue;
    const topSize = read(top + 8) ?? 0;
    const hi = g.heap_info;
    for (let heap: number | null = top - (top % g.heap_max), hops = 0; heap && hops < 1024; heap = read(heap + hi.prev), hops++) {
      const size = read(heap + hi.size);
      if (size === null || read(heap + hi.ar_ptr) !== ar) {
        walk.problems.push(`heap at 0x${heap.toString(16)} does not belong to arena 0x${ar.toString(16)}`);
        break;
      }
      const first = ar === heap + hi.sizeof ? ar + ms.sizeof : heap + hi.sizeof;
      const end = top >= heap && top < heap + g.heap_max ? top + topSize - (topSize % 8) : heap + size;
      walk.heaps.push({ start: heap, end: heap + g.heap_max });
      walkRange(first, end, top);
    }
  }

  // Chunks malloc took from mmap: each starts a mapping (or follows one the kernel merged it with).
  const known = [...skip, ...walk.heaps].sort((a, b) => a.start - b.start);
  const regionAt = (addr: number): Region | undefined => {
    let lo = 0;
    let hi = known.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = known[mid]!;
      if (addr < r.start) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
  };
  for (const seg of segments) {
    if (seg.filesz === 0 || !(seg.flags & 2)) continue;
    const segEnd = seg.vaddr + seg.filesz;
    let p = seg.vaddr;
    while (p + 16 <= segEnd) {
      const region = regionAt(p);
      if (region) {
        p = Math.ceil(region.end / 4096) * 4096;
        continue;
      }
      if (!win.cover(p, 16, segEnd)) break;
      const sizeField = win.u64(p + 8);
      const size = sizeField - (sizeField % 8);
      const mmapped = (sizeField & IS_MMAPPED) !== 0 && (sizeField & NON_MAIN_ARENA) === 0;
      if (mmapped && size >= 4096 && size % 4096 === 0 && p + size <= segEnd && win.u64(p) < 4096) {
        walk.mmappedChunks++;
        walk.mmappedBytes += size;
        if (win.cover(p, CHUNK_PEEK, segEnd)) visit(win.u32, p - win.base, size, win.avail, win.base, true, true);
        p += size;
      } else {
        p += 4096;
      }
    }
  }
  return walk;
}
