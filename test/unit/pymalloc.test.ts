// The pymalloc walk (src/allocators/pymalloc.ts) over a fake core: an arena table of four slots,
// two arenas with pools drawn by hand (used, empty, corrupt, full, never carved), and one arena
// the core holds only the first page of.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readElfCore } from '../../src/core/core-file.js';
import { CoreMemory } from '../../src/core/core-memory.js';
import { emptyWalk, mergeWalk, usedArenas, walkPymalloc, type BlockVisitor } from '../../src/allocators/pymalloc.js';
import type { RawPymalloc } from '../../src/model/raw.js';
import { Mem, writeFakeCore } from './fake-core.js';

const TABLE = 0x600000;
const ARENA = 0x40000;
const POOL = 0x4000;
const OVERHEAD = 48;
/** The arena at slot 2: not pool-aligned, so it holds 15 pools, the first at +0x3000. */
const LOW = 0x7f0000001000;
/** The arena at slot 0: pool-aligned, 16 pools. */
const HIGH = 0x7f0000100000;
/** The arena at slot 3: the core holds its first 4 KiB only. */
const GONE = 0x7f0000200000;
/** What the visitor takes for an object: a block starting with this word. */
const OBJECT = 0x0b1ec7;

// Offsets as DWARF gives them for CPython 3.11 (any consistent numbers would do).
const P: RawPymalloc = {
  alignment: 16,
  threshold: 512,
  size_classes: 32,
  arenas: TABLE,
  maxarenas: 4,
  arena_size: ARENA,
  pool_size: POOL,
  pool_overhead: OVERHEAD,
  arena_object: { sizeof: 48, address: 0, pool_address: 8, nfreepools: 16, ntotalpools: 20 },
  pool_header: { size: 48, count: 0, freeblock: 8, arenaindex: 32, szidx: 36, nextoffset: 40, maxnextoffset: 44 },
};

function arenaSlot(table: Mem, slot: number, a: { address: number; poolAddress: number; free: number; total: number }): void {
  const at = TABLE + slot * P.arena_object.sizeof;
  table.u64(at + P.arena_object.address, a.address).u64(at + P.arena_object.pool_address, a.poolAddress);
  table.u32(at + P.arena_object.nfreepools, a.free).u32(at + P.arena_object.ntotalpools, a.total);
}

function poolHeader(m: Mem, pool: number, h: { count: number; szidx: number; nextoffset: number; freeblock?: number }): void {
  const ph = P.pool_header;
  m.u32(pool + ph.count, h.count).u32(pool + ph.szidx, h.szidx).u32(pool + ph.nextoffset, h.nextoffset);
  m.u64(pool + ph.freeblock, h.freeblock ?? 0).u32(pool + ph.maxnextoffset, POOL - (h.szidx + 1) * 16);
}

function spec(highTotal = 16) {
  const table = new Mem(TABLE, 0x1000);
  arenaSlot(table, 0, { address: HIGH, poolAddress: HIGH + ARENA, free: 10, total: highTotal });
  arenaSlot(table, 2, { address: LOW, poolAddress: LOW + 0x13000, free: 12, total: 15 });
  arenaSlot(table, 3, { address: GONE, poolAddress: GONE + ARENA, free: 0, total: 16 });

  const low = new Mem(LOW, ARENA);
  // +0x3000: 32-byte blocks, five carved (nextoffset), 1 and 3 freed (a free list with a cycle),
  // objects in blocks 0 and 4; block 5, past nextoffset, looks like an object but is not carved.
  const p0 = LOW + 0x3000;
  const block = (i: number): number => p0 + OVERHEAD + i * 32;
  poolHeader(low, p0, { count: 3, szidx: 1, nextoffset: OVERHEAD + 5 * 32, freeblock: block(3) });
  low.u64(block(3), block(1)).u64(block(1), block(3));
  low.u64(block(0), OBJECT).u64(block(4), OBJECT).u64(block(5), OBJECT).u64(block(2), 0x1234);
  // +0x7000: an empty pool (count 0), whatever the rest of its header says.
  poolHeader(low, LOW + 0x7000, { count: 0, szidx: 5, nextoffset: 1000 });
  low.u64(LOW + 0x7000 + OVERHEAD, OBJECT);
  // +0xb000: a size class that does not exist.
  poolHeader(low, LOW + 0xb000, { count: 1, szidx: 32, nextoffset: OVERHEAD + 16 });
  // +0xf000: 512-byte blocks, two carved, a free list pointing inside a block (ignored).
  const p3 = LOW + 0xf000;
  poolHeader(low, p3, { count: 2, szidx: 31, nextoffset: OVERHEAD + 2 * 512, freeblock: p3 + OVERHEAD + 8 });
  low.u64(p3 + OVERHEAD, OBJECT);
  // +0x13000, the arena's pool_address: never carved; a header there is not read.
  poolHeader(low, LOW + 0x13000, { count: 5, szidx: 0, nextoffset: POOL });
  low.u64(LOW + 0x13000 + OVERHEAD, OBJECT);

  const high = new Mem(HIGH, ARENA);
  // Pools 0-4: one 16-byte block each, objects in pools 0 and 1; pool 5: nextoffset past the
  // pool; pool 6: full (all 1021 blocks carved, nothing free); pools 7-15: empty.
  for (let k = 0; k < 5; k++) poolHeader(high, HIGH + k * POOL, { count: 1, szidx: 0, nextoffset: OVERHEAD + 16 });
  high.u64(HIGH + OVERHEAD, OBJECT).u64(HIGH + POOL + OVERHEAD, OBJECT);
  poolHeader(high, HIGH + 5 * POOL, { count: 1, szidx: 0, nextoffset: POOL + 1 });
  poolHeader(high, HIGH + 6 * POOL, { count: 1021, szidx: 0, nextoffset: POOL });

  return { segments: [table.segment(), low.segment(), high.segment(), { vaddr: GONE, bytes: Buffer.alloc(0x1000), memsz: ARENA }] };
}

async function memoryOf(t: TestContext, highTotal?: number): Promise<CoreMemory> {
  const memory = new CoreMemory(await readElfCore(writeFakeCore(spec(highTotal))));
  t.after(() => memory.close());
  return memory;
}

/** A visitor that records the blocks (address, size) and takes those starting with OBJECT for objects. */
function recorder(): { visit: BlockVisitor; blocks: [number, number][] } {
  const blocks: [number, number][] = [];
  const visit: BlockVisitor = (u32, off, size, avail, base) => {
    assert.equal(avail, ARENA);
    assert.equal(off % 16, 0);
    blocks.push([base + off, size]);
    return u32[off >>> 2] === OBJECT && u32[(off >>> 2) + 1] === 0;
  };
  return { visit, blocks };
}

test('usedArenas: the table slots that hold an arena, by arena address', async (t) => {
  const memory = await memoryOf(t);
  assert.deepEqual(usedArenas(memory, P), [
    { slot: 2, address: LOW },
    { slot: 0, address: HIGH },
    { slot: 3, address: GONE },
  ]);
  assert.deepEqual(usedArenas(memory, { ...P, arenas: 0x900000 }), []); // a table not in the core
});

test('walkPymalloc: used blocks are visited in address order, free ones and those past nextoffset are not', async (t) => {
  const memory = await memoryOf(t);
  const { visit, blocks } = recorder();
  walkPymalloc(memory, P, visit);
  const p0 = LOW + 0x3000;
  const p3 = LOW + 0xf000;
  assert.deepEqual(blocks.slice(0, 10), [
    [p0 + 48, 32], [p0 + 48 + 64, 32], [p0 + 48 + 128, 32],
    [p3 + 48, 512], [p3 + 48 + 512, 512],
    [HIGH + 48, 16], [HIGH + POOL + 48, 16], [HIGH + 2 * POOL + 48, 16], [HIGH + 3 * POOL + 48, 16], [HIGH + 4 * POOL + 48, 16],
  ]);
  assert.equal(blocks.length, 10 + 1021);
  assert.deepEqual(blocks[10], [HIGH + 6 * POOL + 48, 16]);
  assert.deepEqual(blocks.at(-1), [HIGH + 7 * POOL - 16, 16]);
  const addresses = blocks.map((b) => b[0]);
  assert.deepEqual(addresses, [...addresses].sort((a, b) => a - b));
});

test('walkPymalloc: arenas, pools, corrupt pools, free pools, sparse arenas and per-class figures', async (t) => {
  const memory = await memoryOf(t);
  const walk = walkPymalloc(memory, P, recorder().visit);
  assert.equal(walk.arenas, 2); // the third is not whole in the core
  assert.equal(walk.pools, 8); // 2 in the low arena, 6 in the high one
  assert.equal(walk.corruptPools, 2);
  assert.equal(walk.poolsFree, 22);
  // The low arena: 2 pools used of 15 (2 * 4 <= 15); the high one: 6 of 16.
  assert.equal(walk.sparseArenas, 1);
  assert.equal(walk.sparseArenaBytes, ARENA);
  assert.deepEqual(walk.regions, [{ start: LOW, end: LOW + ARENA }, { start: HIGH, end: HIGH + ARENA }]);
  const used = walk.classes.filter((c) => c.pools > 0);
  assert.deepEqual(used, [
    // (16384 - 48) / 16 = 1021 blocks a pool: 5 pools with 1 used, 1 full.
    { blockSize: 16, pools: 6, blocksUsed: 1026, blocksFree: 5 * 1020, objectBlocks: 2, objectBytes: 32 },
    // 510 blocks of 32 bytes, 3 used (5 carved, 2 on the free list).
    { blockSize: 32, pools: 1, blocksUsed: 3, blocksFree: 507, objectBlocks: 2, objectBytes: 64 },
    // 31 blocks of 512 bytes, 2 used.
    { blockSize: 512, pools: 1, blocksUsed: 2, blocksFree: 29, objectBlocks: 1, objectBytes: 512 },
  ]);
  assert.equal(walk.classes.length, 32);
});

test('walkPymalloc: given slots only; an empty slot or an unreadable table walks nothing', async (t) => {
  const memory = await memoryOf(t);
  const high = walkPymalloc(memory, P, recorder().visit, [0]);
  assert.equal(high.arenas, 1);
  assert.equal(high.pools, 6);
  assert.equal(high.sparseArenas, 0);
  assert.equal(high.poolsFree, 10);
  assert.deepEqual(walkPymalloc(memory, P, recorder().visit, [1]), emptyWalk(P));
  const { visit, blocks } = recorder();
  assert.deepEqual(walkPymalloc(memory, { ...P, arenas: 0x900000 }, visit), emptyWalk(P));
  assert.equal(blocks.length, 0);
});

test('walkPymalloc: an arena is sparse when a quarter or less of its pools (ntotalpools) are used', async (t) => {
  // The high arena has 6 pools in use: sparse with 24 pools in all, not with 23.
  assert.equal(walkPymalloc(await memoryOf(t, 24), P, recorder().visit, [0]).sparseArenas, 1);
  assert.equal(walkPymalloc(await memoryOf(t, 23), P, recorder().visit, [0]).sparseArenas, 0);
});

test('mergeWalk: two walks of parts add up to the walk of the whole', async (t) => {
  const memory = await memoryOf(t);
  const merged = emptyWalk(P);
  mergeWalk(merged, walkPymalloc(memory, P, recorder().visit, [2]));
  mergeWalk(merged, walkPymalloc(memory, P, recorder().visit, [0, 3]));
  assert.deepEqual(merged, walkPymalloc(memory, P, recorder().visit));
});

test('emptyWalk: 32 size classes of 16 to 512 bytes, all zero', () => {
  const w = emptyWalk(P);
  assert.deepEqual(w.classes.map((c) => c.blockSize), Array.from({ length: 32 }, (_, i) => 16 * (i + 1)));
  assert.ok(w.classes.every((c) => c.pools + c.blocksUsed + c.blocksFree + c.objectBlocks + c.objectBytes === 0));
  assert.equal(w.arenas + w.pools + w.corruptPools + w.poolsFree + w.sparseArenas + w.sparseArenaBytes, 0);
});

test('emptyWalk: the size classes of the record, 8-byte alignment below 3.8 and 2.7\'s 256-byte threshold', () => {
  assert.deepEqual(emptyWalk({ ...P, alignment: 8, threshold: 512, size_classes: 64 }).classes.map((c) => c.blockSize).slice(0, 3), [8, 16, 24]);
  assert.equal(emptyWalk({ ...P, alignment: 8, threshold: 512, size_classes: 64 }).classes.at(-1)!.blockSize, 512);
  assert.equal(emptyWalk({ ...P, alignment: 8, threshold: 256, size_classes: 32 }).classes.at(-1)!.blockSize, 256);
});
