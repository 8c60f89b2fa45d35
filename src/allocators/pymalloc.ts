// Walks every pymalloc arena of the core: 1 MiB arenas read whole, 16 KiB pools, blocks of one size
// class per pool. Free blocks (the pool's freeblock list, and everything from nextoffset on) are
// skipped; every used block is offered to the object recognizer.
import type { CoreMemory } from '../core/core-memory.js';
import type { PymallocClass } from '../model/types.js';
import type { RawPymalloc } from '../model/raw.js';

/**
 * Offered every used block: the window over its arena (`u32`), the block's byte offset in it, the
 * block size, how far the window is readable and the window's address. Returns whether the block
 * holds an object (counted per size class).
 */
export type BlockVisitor = (u32: Uint32Array, off: number, size: number, avail: number, base: number) => boolean;

import { u64At } from '../base/words.js';

export interface PymallocWalk {
  arenas: number;
  pools: number;
  classes: PymallocClass[];
  /** Address ranges of the arenas, so other walks can tell arena memory apart. */
  regions: { start: number; end: number }[];
  corruptPools: number;
  /** Pools free for reuse in the arenas (empty ones and ones never carved). */
  poolsFree: number;
  /** Arenas kept alive by a quarter or less of their pools: memory pymalloc cannot give back. */
  sparseArenas: number;
  sparseArenaBytes: number;
}

/** A size class's block size: classes are multiples of the alignment. */
const blockSize = (p: RawPymalloc, szidx: number): number => (szidx + 1) * p.alignment;

export function emptyWalk(p: RawPymalloc): PymallocWalk {
  return {
    arenas: 0,
    pools: 0,
    classes: Array.from({ length: p.size_classes }, (_, i) => ({ blockSize: blockSize(p, i), pools: 0, blocksUsed: 0, blocksFree: 0, objectBlocks: 0, objectBytes: 0 })),
    regions: [],
    corruptPools: 0,
    poolsFree: 0,
    sparseArenas: 0,
    sparseArenaBytes: 0,
  };
}

/** Add the figures of a walk over other arenas into `into`. */
export function mergeWalk(into: PymallocWalk, other: PymallocWalk): void {
  into.arenas += other.arenas;
  into.pools += other.pools;
  into.corruptPools += other.corruptPools;
  into.poolsFree += other.poolsFree;
  into.sparseArenas += other.sparseArenas;
  into.sparseArenaBytes += other.sparseArenaBytes;
  into.regions.push(...other.regions);
  other.classes.forEach((c, i) => {
    const t = into.classes[i]!;
    t.pools += c.pools;
    t.blocksUsed += c.blocksUsed;
    t.blocksFree += c.blocksFree;
    t.objectBlocks += c.objectBlocks;
    t.objectBytes += c.objectBytes;
  });
}

/**
 * Indices of the arena table's slots that hold an arena, in the order of the arenas' addresses:
 * walked in that order, the objects come out sorted by address, which the collector's graph
 * relies on to find objects by address without an index of its own.
 */
export function usedArenas(memory: CoreMemory, p: RawPymalloc): { slot: number; address: number }[] {
  const ao = p.arena_object;
  const table = memory.read(p.arenas, p.maxarenas * ao.sizeof);
  if (!table) return [];
  const used: { slot: number; address: number }[] = [];
  for (let a = 0; a < p.maxarenas; a++) {
    const address = Number(table.readBigUInt64LE(a * ao.sizeof + ao.address));
    if (address !== 0) used.push({ slot: a, address });
  }
  return used.sort((x, y) => x.address - y.address);
}

/** Walk the arenas at the given slots of the arena table (all by default). */
export function walkPymalloc(memory: CoreMemory, p: RawPymalloc, visit: BlockVisitor, slots?: number[]): PymallocWalk {
  const ao = p.arena_object;
  const ph = p.pool_header;
  const table = memory.read(p.arenas, p.maxarenas * ao.sizeof);
  const walk = emptyWalk(p);
  if (!table) return walk;
  const buf = Buffer.allocUnsafe(p.arena_size);
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  const free = new Uint8Array(Math.ceil(p.pool_size / p.alignment));
  const u64 = (off: number): number => u64At(u32, off);

  for (const a of slots ?? usedArenas(memory, p).map((u) => u.slot)) {
    const address = Number(table.readBigUInt64LE(a * ao.sizeof + ao.address));
    if (address === 0) continue;
    const poolAddress = Number(table.readBigUInt64LE(a * ao.sizeof + ao.pool_address));
    const totalPools = table.readUInt32LE(a * ao.sizeof + ao.ntotalpools);
    walk.poolsFree += table.readUInt32LE(a * ao.sizeof + ao.nfreepools);
    const poolsBefore = walk.pools;
    if (!memory.read(address, p.arena_size, buf)) continue;
    walk.arenas++;
    walk.regions.push({ start: address, end: address + p.arena_size });
    const first = Math.ceil(address / p.pool_size) * p.pool_size;
    for (let pool = first; pool < poolAddress && pool + p.pool_size <= address + p.arena_size; pool += p.pool_size) {
      const po = pool - address;
      const count = u32[(po + ph.count) >>> 2]!;
      if (count === 0) continue; // an empty pool, waiting for reuse
      const szidx = u32[(po + ph.szidx) >>> 2]!;
      const nextoffset = u32[(po + ph.nextoffset) >>> 2]!;
      if (szidx >= p.size_classes || nextoffset > p.pool_size) {
        walk.corruptPools++;
        continue;
      }
      const size = blockSize(p, szidx);
      const cls = walk.classes[szidx]!;
      cls.pools++;
      walk.pools++;
      const capacity = Math.floor((p.pool_size - p.pool_overhead) / size);
      free.fill(0, 0, capacity);
      // The free list threads through the pool's own blocks.
      for (let fb = u64(po + ph.freeblock), steps = 0; fb !== 0 && steps < capacity; steps++) {
        const off = fb - pool;
        if (off < p.pool_overhead || off >= p.pool_size || (off - p.pool_overhead) % size !== 0) break;
        const i = (off - p.pool_overhead) / size;
        free[i] = 1;
        fb = u64(po + off);
      }
      const end = Math.min(nextoffset, p.pool_size);
      let used = 0;
      for (let bo = p.pool_overhead, i = 0; bo + size <= end; bo += size, i++) {
        if (free[i]) continue;
        used++;
        if (!visit(u32, po + bo, size, buf.length, address)) continue;
        cls.objectBlocks++;
        cls.objectBytes += size;
      }
      cls.blocksUsed += used;
      cls.blocksFree += capacity - used;
    }
    const usedPools = walk.pools - poolsBefore;
    if (usedPools > 0 && usedPools * 4 <= totalPools) {
      walk.sparseArenas++;
      walk.sparseArenaBytes += p.arena_size;
    }
  }
  return walk;
}
