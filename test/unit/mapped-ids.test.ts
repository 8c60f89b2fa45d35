// The build-id a core's memory shows for a mapped ELF file (src/bundle/mapped-ids.ts): read from
// the ELF header, program headers and note the core holds at the file's first mapping, and from
// nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readElfCore } from '../../src/core/core-file.js';
import { MappedBuildIds } from '../../src/bundle/mapped-ids.js';
import { Mem, writeFakeCore } from './fake-core.js';

const BASE = 0x400000;
const ID = '0123456789abcdef0123456789abcdef01234567';

/** The first page of a mapped ELF file: header, one PT_NOTE at file offset 0x100, its build-id note. */
function elfPage(id: string): Mem {
  const page = new Mem(BASE, 0x1000);
  page.u32(BASE, 0x464c457f).u8(BASE + 4, 2).u8(BASE + 5, 1);
  page.u64(BASE + 32, 64).u16(BASE + 54, 56).u16(BASE + 56, 1);
  const desc = Buffer.from(id, 'hex');
  page.u32(BASE + 64, 4).u64(BASE + 64 + 8, 0x100).u64(BASE + 64 + 32, 16 + desc.length);
  page.u32(BASE + 0x100, 4).u32(BASE + 0x104, desc.length).u32(BASE + 0x108, 3);
  Buffer.from('GNU\0').copy(page.bytes, 0x10c);
  desc.copy(page.bytes, 0x110);
  return page;
}

test("the build-id at a file's first mapping; none for a file without one, or whose header the core lacks", async () => {
  const core = await readElfCore(writeFakeCore({
    files: [
      { start: BASE, end: BASE + 0x1000, offset: 0, path: '/lib/a.so' },
      { start: 0x600000, end: 0x601000, offset: 0, path: '/lib/not-in-core.so' },
      { start: BASE + 0x1000, end: BASE + 0x2000, offset: 0x1000, path: '/lib/later-only.so' },
    ],
    segments: [elfPage(ID).segment()],
  }));
  const ids = new MappedBuildIds(core);
  try {
    assert.equal(ids.of('/lib/a.so'), ID);
    assert.equal(ids.of('/lib/not-in-core.so'), null, 'its first page is not in the core');
    assert.equal(ids.of('/lib/later-only.so'), null, 'no mapping from offset 0');
    assert.equal(ids.of('/lib/unknown.so'), null);
  } finally {
    ids.close();
  }
});
