// The process's memory as a core holds it (src/core/core-memory.ts) and the page cache over it
// (src/core/page-cache.ts), on small fake cores: reads within and across segments, holes, pages
// read from mapped files, and 16 KiB cache pages the core holds only parts of.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readElfCore } from '../../src/core/core-file.js';
import { CoreMemory } from '../../src/core/core-memory.js';
import { PageCache } from '../../src/core/page-cache.js';
import { Mem, tempDir, writeFakeCore, type FakeCoreSpec } from './fake-core.js';

async function memoryOf(t: TestContext, spec: FakeCoreSpec, opts: { sysroot?: string } = {}): Promise<CoreMemory> {
  const memory = new CoreMemory(await readElfCore(writeFakeCore(spec)), opts);
  t.after(() => memory.close());
  return memory;
}

/** Two adjacent segments (0x10000 filled with 0xa0, 0x11000 with 0xb0), and one with a hole. */
function threeSegments(): FakeCoreSpec {
  const a = new Mem(0x10000, 0x1000).fill(0x10000, 0x1000, 0xa0).u64(0x10010, 0x7f1234567890);
  const b = new Mem(0x11000, 0x1000).fill(0x11000, 0x1000, 0xb0);
  const c = new Mem(0x20000, 0x1000).fill(0x20000, 0x1000, 0xc0);
  return { segments: [b.segment(), a.segment(), c.segment({ memsz: 0x3000 })] };
}

test('reads within one segment, and across two adjacent ones', async (t) => {
  const m = await memoryOf(t, threeSegments());
  assert.deepEqual(m.read(0x10000, 4), Buffer.from([0xa0, 0xa0, 0xa0, 0xa0]));
  assert.equal(m.readU64(0x10010), 0x7f1234567890);
  assert.deepEqual(m.read(0x10ffc, 8), Buffer.from([0xa0, 0xa0, 0xa0, 0xa0, 0xb0, 0xb0, 0xb0, 0xb0]));
  const whole = m.read(0x10000, 0x2000)!;
  assert.equal(whole.length, 0x2000);
  assert.equal(whole[0x0fff], 0xa0);
  assert.equal(whole[0x1000], 0xb0);
  assert.equal(whole[0x1fff], 0xb0);
  assert.equal(m.read(0x10000, 0)!.length, 0);
  const into = Buffer.alloc(8);
  assert.equal(m.read(0x11000, 8, into), into);
  assert.deepEqual(into, Buffer.alloc(8, 0xb0));
});

test('what the core lacks: before, between and after segments, and the hole past p_filesz', async (t) => {
  const m = await memoryOf(t, threeSegments());
  assert.equal(m.read(0xfff8, 8), null);
  assert.equal(m.read(0xfffc, 8), null); // half before the first segment
  assert.equal(m.read(0x11ffc, 8), null); // half after the second
  assert.equal(m.readU64(0x18000), null);
  assert.equal(m.read(0x20ff8, 8)!.readBigUInt64LE(0), 0xc0c0c0c0c0c0c0c0n);
  // The hole: memsz 0x3000, but the core holds only 0x1000 bytes. Not zeros: unreadable.
  assert.equal(m.read(0x21000, 8), null);
  assert.equal(m.read(0x20ffc, 8), null);
  assert.equal(m.readU64(0x22ff8), null);
  assert.equal(m.has(0x20fff), true);
  assert.equal(m.has(0x21000), false);
  assert.equal(m.has(0x10000), true);
  assert.equal(m.has(0x12000), false);
});

test('readUpTo: as much as is readable in one run from addr', async (t) => {
  const m = await memoryOf(t, threeSegments());
  const buf = Buffer.alloc(0x3000, 0xee);
  assert.equal(m.readUpTo(0x10ff0, 0x3000, buf), 0x1010); // to the end of the second segment
  assert.equal(buf[0x0f], 0xa0);
  assert.equal(buf[0x10], 0xb0);
  assert.equal(buf[0x100f], 0xb0);
  assert.equal(buf[0x1010], 0xee); // untouched
  assert.equal(m.readUpTo(0x20f00, 0x1000, buf), 0x100); // up to the hole
  assert.equal(m.readUpTo(0x21000, 16, buf), 0);
  assert.equal(m.readUpTo(0x5000, 16, buf), 0);
  assert.equal(m.readUpTo(0x10000, 8, buf), 8); // no more than asked
});

/**
 * A file mapping of 0x3000 bytes at 0x30000, from offset 0x1000 of /lib/fake.so: the core holds
 * its first page (0xcc); the file, of 0x2800 bytes, has pages of 0x40 and 0x41, then half a page
 * of 0x42 (file offset 0x2000, mapped at 0x31000).
 */
function mappedSpec(path: string): FakeCoreSpec {
  return {
    files: [{ start: 0x30000, end: 0x33000, offset: 0x1000, path }],
    segments: [new Mem(0x30000, 0x1000).fill(0x30000, 0x1000, 0xcc).segment({ memsz: 0x3000 })],
  };
}

function sysroot(): string {
  const root = tempDir();
  mkdirSync(join(root, 'lib'));
  writeFileSync(join(root, 'lib', 'fake.so'), Buffer.concat([Buffer.alloc(0x1000, 0x40), Buffer.alloc(0x1000, 0x41), Buffer.alloc(0x800, 0x42)]));
  return root;
}

test('pages the core left out are read from the mapped file, under the sysroot', async (t) => {
  const m = await memoryOf(t, mappedSpec('/lib/fake.so'), { sysroot: sysroot() });
  // The core's own page wins over the file's (0x41); after it, file offset 0x1000 + 0x1000.
  assert.deepEqual(m.read(0x30ffc, 8), Buffer.from([0xcc, 0xcc, 0xcc, 0xcc, 0x42, 0x42, 0x42, 0x42]));
  // The file ends 0x800 into that page: past it nothing is readable.
  assert.deepEqual(m.read(0x317f8, 8), Buffer.alloc(8, 0x42));
  assert.equal(m.read(0x317fc, 8), null);
  assert.equal(m.read(0x32000, 1), null);
  assert.equal(m.has(0x32000), true); // mapped from the file, even where the file is short
  const buf = Buffer.alloc(0x3000);
  assert.equal(m.readUpTo(0x30000, 0x3000, buf), 0x1800);
  assert.equal(m.has(0x33000), false); // past the mapping
});

test('without the mapped file, the pages the core left out are unreadable', async (t) => {
  const m = await memoryOf(t, mappedSpec('/coroner-unit-test-no-such-dir/fake.so'));
  assert.equal(m.read(0x30000, 1)![0], 0xcc);
  assert.equal(m.read(0x31000, 1), null);
  assert.equal(m.has(0x31000), false);
});

/**
 * Around the 16 KiB page at 0x40000: its 4 KiB parts 0, 2 and 3 in the core (part 1 is a hole);
 * the page at 0x48000 from its part 1 on; the page at 0x50000 with part 1 cut at 0x100 bytes; and
 * the page 64 MiB above 0x40000 (the same cache slot) with its first part only.
 */
function pagedSpec(): FakeCoreSpec {
  const low = new Mem(0x40000, 0x1000)
    .u64(0x40008, 0x7f1234567890)
    .u64(0x40010, 0x0807060504030201n)
    .u64(0x40018, -1)
    .u64(0x40020, -2)
    .u64(0x40028, -3000)
    .u64(0x40030, 2 ** 53 - 1)
    .u64(0x40038, -(2 ** 53 - 1))
    .u64(0x40ff8, 0x11);
  const high = new Mem(0x42000, 0x2000).u64(0x42000, 0x22).u64(0x43ff8, 0x33);
  const late = new Mem(0x49000, 0x3000).u64(0x49000, 0x44);
  const cut = new Mem(0x50000, 0x1100).u64(0x50ff8, 0x55).u64(0x51000, 0x66);
  const alias = new Mem(0x40000 + 64 * 2 ** 20, 0x1000).u64(0x40000 + 64 * 2 ** 20 + 8, 0x77);
  return { segments: [low.segment(), high.segment(), late.segment(), cut.segment(), alias.segment()] };
}

test('page cache: words and bytes, where each 4 KiB of a 16 KiB page is held or not', async (t) => {
  const mem = new PageCache(await memoryOf(t, pagedSpec()));
  assert.equal(mem.u64(0x40008), 0x7f1234567890);
  assert.equal(mem.u64(0x40ff8), 0x11);
  assert.equal(mem.u64(0x41000), -1); // the hole in the middle of the page
  assert.equal(mem.u64(0x41ff8), -1);
  assert.equal(mem.u64(0x42000), 0x22); // after it, the same page
  assert.equal(mem.u64(0x43ff8), 0x33);
  assert.equal(mem.u64(0x44000), -1); // the next page: nothing
  assert.equal(mem.u64(0x40000), 0);
  assert.equal(mem.u8(0x40010), 1);
  assert.equal(mem.u8(0x40013), 4);
  assert.equal(mem.u8(0x40014), 5);
  assert.equal(mem.u8(0x40017), 8);
  assert.equal(mem.u8(0x41000), -1);
});

test('page cache: a page held from its second 4 KiB on, and one whose last 4 KiB is cut short', async (t) => {
  const mem = new PageCache(await memoryOf(t, pagedSpec()));
  assert.equal(mem.u64(0x48000), -1);
  assert.equal(mem.u64(0x48ff8), -1);
  assert.equal(mem.u64(0x49000), 0x44);
  assert.equal(mem.u8(0x49000), 0x44);
  assert.equal(mem.u64(0x50ff8), 0x55);
  // The core holds 0x100 bytes of the 4 KiB at 0x51000: the cache knows only whole 4 KiB parts.
  assert.equal(mem.u64(0x51000), -1);
});

test('page cache: two pages in one slot replace each other, what each holds included', async (t) => {
  const mem = new PageCache(await memoryOf(t, pagedSpec()));
  const alias = 0x40000 + 64 * 2 ** 20;
  for (let round = 0; round < 2; round++) {
    assert.equal(mem.u64(0x40008), 0x7f1234567890);
    assert.equal(mem.u64(0x42000), 0x22);
    assert.equal(mem.u64(alias + 8), 0x77);
    assert.equal(mem.u64(alias + 0x2000), -1); // held in the other page, not in this one
    assert.equal(mem.u64(0x43ff8), 0x33);
    assert.equal(mem.u64(alias + 0x1000), -1);
  }
});

test('page cache: i64 reads the word as signed', async (t) => {
  const mem = new PageCache(await memoryOf(t, pagedSpec()));
  assert.equal(mem.i64(0x40008), 0x7f1234567890);
  assert.equal(mem.i64(0x40018), -1);
  assert.equal(mem.i64(0x40020), -2);
  assert.equal(mem.i64(0x40028), -3000);
  assert.equal(mem.i64(0x40030), 2 ** 53 - 1);
  assert.equal(mem.i64(0x40038), -(2 ** 53 - 1));
  assert.equal(mem.i64(0x40000), 0);
  assert.equal(mem.i64(0x41000), -1); // not in the core
});
