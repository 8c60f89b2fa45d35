// glibc malloc's own figures, read from its structures in the core the way malloc_info() computes
// them: per arena, the fastbins (singly linked, pointer-mangled since glibc 2.32), the regular bins
// (circular doubly linked lists) plus the top chunk as "rest", and system_mem; mmapped chunks from
// mp_. Also what malloc_trim(0) could give back to the kernel.
import type { CoreMemory } from '../core/core-memory.js';
import type { RawGlibc } from '../model/raw.js';
import { arenaAddresses } from './glibc.js';
import { xor64 } from '../base/words.js';

const NFASTBINS = 10;
const NBINS = 128;
const PAGE = 4096;
const MAX_LIST = 10_000_000;
/** sizeof(struct malloc_chunk) on 64-bit: what malloc_trim keeps at the start of a free chunk. */
const MALLOC_CHUNK = 48;

export interface GlibcArenaStats {
  address: number;
  main: boolean;
  systemMem: number;
  fastCount: number;
  fastSize: number;
  restCount: number;
  restSize: number;
  topSize: number;
  inUseBytes: number;
}

export interface GlibcStats {
  arenas: GlibcArenaStats[];
  totals: {
    fastCount: number;
    fastSize: number;
    restCount: number;
    restSize: number;
    mmapCount: number;
    mmapSize: number;
    systemCurrent: number;
    inUseBytes: number;
    trimmableBytes: number;
  };
  /** Chunks sitting in fastbins: free, though the heap walk sees them as in use. */
  fastbinChunks: Set<number>;
  problems: string[];
}

const chunkSize = (field: number): number => field - (field % 8);

/** glibc's REVEAL_PTR: a stored fd is the pointer xor (the address it is stored at >> 12). */
function reveal(storedAt: number, stored: number): number {
  return xor64(Math.floor(storedAt / 4096), stored);
}

/**
 * Why the chunk p, reached from prev along a bin, cannot be a free chunk of an arena of systemMem
 * bytes, or null. glibc's own check (fd->bk == p: each chunk has one predecessor) also makes
 * every loop that does not run through the head show up at its first repeated chunk.
 */
function binLinkProblem(memory: CoreMemory, p: number, prev: number, size: number, systemMem: number, steps: number): string | null {
  if (p === 0) return 'a null link';
  if (p % 16 !== 0) return 'a misaligned link';
  const bk = memory.readU64(p + 24);
  if (bk === null) return 'a link to memory the core does not hold';
  if (bk !== prev) return `its back link is 0x${bk.toString(16)}, not the chunk before it`;
  if (size < 32 || size > systemMem) return `a size of ${size} bytes in an arena of ${systemMem}`;
  if (steps >= MAX_LIST) return `more than ${MAX_LIST} chunks`;
  return null;
}

function trimmablePart(chunk: number, size: number): number {
  const start = Math.ceil((chunk + MALLOC_CHUNK) / PAGE) * PAGE;
  const end = Math.floor((chunk + size) / PAGE) * PAGE;
  return end > start ? end - start : 0;
}

export function glibcStats(memory: CoreMemory, g: RawGlibc): GlibcStats {
  const ms = g.malloc_state;
  const u64 = (addr: number): number => memory.readU64(addr) ?? 0;
  const stats: GlibcStats = {
    arenas: [],
    totals: { fastCount: 0, fastSize: 0, restCount: 0, restSize: 0, mmapCount: 0, mmapSize: 0, systemCurrent: 0, inUseBytes: 0, trimmableBytes: 0 },
    fastbinChunks: new Set(),
    problems: [],
  };
  for (const ar of arenaAddresses((addr) => memory.readU64(addr), g)) {
    const a: GlibcArenaStats = {
      address: ar, main: ar === g.main_arena, systemMem: u64(ar + ms.system_mem),
      fastCount: 0, fastSize: 0, restCount: 1, restSize: 0, topSize: 0, inUseBytes: 0,
    };
    const top = u64(ar + ms.top);
    a.topSize = top ? chunkSize(u64(top + 8)) : 0;
    a.restSize = a.topSize;
    stats.totals.trimmableBytes += top ? trimmablePart(top, a.topSize) : 0;
    for (let i = 0; i < NFASTBINS; i++) {
      let p = u64(ar + ms.fastbinsY + 8 * i);
      for (let steps = 0; p && steps < MAX_LIST; steps++) {
        if (p % 16 !== 0 || stats.fastbinChunks.has(p)) {
          stats.problems.push(`arena 0x${ar.toString(16)}: fastbin ${i} is corrupt at 0x${p.toString(16)}`);
          break;
        }
        const size = chunkSize(u64(p + 8));
        a.fastCount++;
        a.fastSize += size;
        stats.fastbinChunks.add(p);
        p = g.safe_linking ? reveal(p + 16, u64(p + 16)) : u64(p + 16);
      }
    }
    for (let i = 1; i < NBINS; i++) {
      const slot = ar + ms.bins + (i - 1) * 16;
      const head = slot - 16; // bin_at(): a fake chunk whose fd/bk are the slot
      let prev = head;
      let p = u64(slot);
      // A bin of an arena malloc never set up is all zeros; any other list ends back at its head.
      for (let steps = 0; p !== head && !(p === 0 && steps === 0); steps++) {
        const size = chunkSize(u64(p + 8));
        const why = binLinkProblem(memory, p, prev, size, a.systemMem, steps);
        if (why) {
          stats.problems.push(`arena 0x${ar.toString(16)}: bin ${i} is corrupt at 0x${p.toString(16)} (${why}); counted up to there (${steps} chunk${steps === 1 ? '' : 's'})`);
          break;
        }
        a.restCount++;
        a.restSize += size;
        stats.totals.trimmableBytes += trimmablePart(p, size);
        prev = p;
        p = u64(p + 16);
      }
    }
    a.inUseBytes = Math.max(0, a.systemMem - a.fastSize - a.restSize);
    stats.arenas.push(a);
    const t = stats.totals;
    t.fastCount += a.fastCount;
    t.fastSize += a.fastSize;
    t.restCount += a.restCount;
    t.restSize += a.restSize;
    t.systemCurrent += a.systemMem;
    t.inUseBytes += a.inUseBytes;
  }
  const buf = memory.read(g.mp, g.malloc_par.sizeof);
  if (buf) {
    stats.totals.mmapCount = buf.readInt32LE(g.malloc_par.n_mmaps);
    stats.totals.mmapSize = Number(buf.readBigUInt64LE(g.malloc_par.mmapped_mem));
  }
  return stats;
}
