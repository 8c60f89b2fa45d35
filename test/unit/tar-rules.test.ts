// Which tar entries coroner takes (src/inputs/tar-rules.ts): links, sparse entries and paths
// that would leave the unpack folder are refused with their reason; names lose a leading "./".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { drain, entryName, entryRefusal, isFileEntry, pathInside } from '../../src/inputs/tar-rules.js';

type Header = Parameters<typeof entryRefusal>[0];
/** A header as tar-stream gives it: its type is null for type flags it does not know (GNU 'S'). */
const header = (h: { name: string; type?: string | null; linkname?: string; pax?: Record<string, string> }): Header =>
  ({ type: 'file', size: 0, ...h }) as unknown as Header;

const REMAKE = 'make the archive from inside the folder with the cores (tar -C DIR -czf cores.tar.gz .)';

test('entryRefusal: regular files and folders with plain relative names are taken', () => {
  for (const name of ['core.1', './core.1', 'cores/core.1', 'a..b/core', '..core', 'core..', 'dir/.../core']) {
    assert.equal(entryRefusal(header({ name })), null, name);
  }
  assert.equal(entryRefusal(header({ name: 'cores/', type: 'directory' })), null);
  assert.equal(entryRefusal(header({ name: 'core', pax: { path: 'core', 'GNU.sparse': 'no' } })), null);
});

test('entryRefusal: links, each with its target and the tar option that avoids it', () => {
  assert.equal(
    entryRefusal(header({ name: 'core', type: 'symlink', linkname: '/var/crash/core.1' })),
    'a symbolic link (to /var/crash/core.1); put the core itself in the archive (tar -h follows links)',
  );
  assert.equal(
    entryRefusal(header({ name: 'core.2', type: 'link', linkname: 'core.1' })),
    'a hard link (to core.1); put the core itself in the archive (tar --hard-dereference)',
  );
});

test('entryRefusal: GNU sparse entries, old (type flag S, read as null) and PAX ones', () => {
  const sparse = 'a GNU sparse entry, which coroner cannot read whole; make the archive without --sparse (-S)';
  assert.equal(entryRefusal(header({ name: 'core', type: null })), sparse);
  const pax = { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'core' };
  assert.equal(entryRefusal(header({ name: 'GNUSparseFile.0/core', pax })), sparse);
});

test('entryRefusal: absolute paths (POSIX and drive letters) and paths with ".."', () => {
  const absolute = `an absolute path; ${REMAKE}`;
  for (const name of ['/etc/passwd', '/core', 'C:\\cores\\core', 'c:/core', 'Z:\\']) {
    assert.equal(entryRefusal(header({ name })), absolute, name);
  }
  const dotdot = `a path with '..' that would leave the folder it is unpacked in; ${REMAKE}`;
  for (const name of ['../core', 'cores/../../core', 'cores/..', '..', 'a\\..\\core', 'a/b/../c']) {
    assert.equal(entryRefusal(header({ name })), dotdot, name);
  }
  // The link is refused as a link before its name is looked at.
  assert.match(entryRefusal(header({ name: '/abs', type: 'symlink', linkname: 'x' }))!, /^a symbolic link/);
});

test('isFileEntry: files and contiguous files only', () => {
  assert.equal(isFileEntry(header({ name: 'a', type: 'file' })), true);
  assert.equal(isFileEntry(header({ name: 'a', type: 'contiguous-file' })), true);
  for (const type of ['directory', 'symlink', 'link', 'fifo', 'character-device', 'pax-header']) {
    assert.equal(isFileEntry(header({ name: 'a', type })), false, type);
  }
  assert.equal(isFileEntry(header({ name: 'a', type: null })), false);
});

test('entryName: without any leading "./"', () => {
  assert.equal(entryName(header({ name: './core.1' })), 'core.1');
  assert.equal(entryName(header({ name: '././cores/core.1' })), 'cores/core.1');
  assert.equal(entryName(header({ name: '.hidden' })), '.hidden');
  assert.equal(entryName(header({ name: 'a/./b' })), 'a/./b');
  assert.equal(entryName(header({ name: '../x' })), '../x');
});

test('pathInside: the path under DIR, or null when it is DIR itself or outside it', () => {
  const dir = '/tmp/unpack';
  assert.equal(pathInside(dir, 'core.1'), join(dir, 'core.1'));
  assert.equal(pathInside(dir, 'a/../core.1'), join(dir, 'core.1'));
  assert.equal(pathInside(dir, '..core'), join(dir, '..core'));
  assert.equal(pathInside(dir, '/etc/passwd'), join(dir, 'etc/passwd')); // joined, not resolved
  assert.equal(pathInside(dir, '../core'), null);
  assert.equal(pathInside(dir, 'a/../../core'), null);
  assert.equal(pathInside(dir, '..'), null);
  assert.equal(pathInside(dir, ''), null);
  assert.equal(pathInside(dir, '.'), null);
  assert.equal(pathInside(dir, 'a/..'), null);
  assert.equal(pathInside(dir, '../unpack2/core'), null);
});

test('drain: reads a stream to its end, keeping nothing', async () => {
  let read = 0;
  const stream = Readable.from((function* () {
    for (let i = 0; i < 5; i++) {
      read++;
      yield Buffer.alloc(10);
    }
  })());
  await drain(stream);
  assert.equal(read, 5);
  assert.equal(stream.readableEnded, true);
});
