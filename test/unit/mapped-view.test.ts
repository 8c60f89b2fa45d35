// The view of mapped files gdb is given as its sysroot (src/extract/mapped-view.ts): regular files
// only, reachable by the names the core gives and by the links beside them; a FIFO, a device, a
// folder and a file outside the list are not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeMappedView } from '../../src/extract/mapped-view.js';
import { tempDir } from './fake-core.js';

test('only the regular files the core lists, by their names, their sibling links and the top folder links', async () => {
  const base = tempDir();
  mkdirSync(join(base, 'usr/lib/x'), { recursive: true });
  mkdirSync(join(base, 'usr/lib64'), { recursive: true });
  writeFileSync(join(base, 'usr/lib/x/libz.so.1.2.13'), 'libz');
  writeFileSync(join(base, 'usr/lib/x/ld.so.2'), 'ld');
  writeFileSync(join(base, 'usr/lib/x/secret'), 'not mapped');
  symlinkSync('libz.so.1.2.13', join(base, 'usr/lib/x/libz.so.1'));
  symlinkSync('secret', join(base, 'usr/lib/x/libsecret.so'));
  symlinkSync('../lib/x/ld.so.2', join(base, 'usr/lib64/ld.so.2'));
  symlinkSync('usr/lib', join(base, 'lib'));
  symlinkSync('usr/lib64', join(base, 'lib64'));
  execFileSync('mkfifo', [join(base, 'usr/lib/x/fifo')]);
  symlinkSync('/dev/zero', join(base, 'usr/lib/x/device'));
  const root = join(tempDir(), 'root');

  const view = await makeMappedView(root, base, [
    '/usr/lib/x/libz.so.1.2.13', '/usr/lib/x/ld.so.2', '/usr/lib/x/fifo', '/usr/lib/x/device', '/usr/lib', '/usr/lib/x/missing', 'relative',
  ]);

  assert.deepEqual(view.skipped, [
    { path: '/usr/lib/x/fifo', why: 'a FIFO' },
    { path: '/usr/lib/x/device', why: 'a device' },
    { path: '/usr/lib', why: 'a folder' },
    { path: 'relative', why: 'not an absolute path' },
  ]);
  const read = (p: string): string => readFileSync(join(root, p), 'utf8');
  assert.equal(read('usr/lib/x/libz.so.1.2.13'), 'libz');
  assert.equal(read('usr/lib/x/libz.so.1'), 'libz', 'a link beside a mapped file that leads to it');
  assert.equal(read('lib/x/libz.so.1'), 'libz', 'through /lib -> usr/lib, kept inside the view');
  assert.equal(read('lib64/ld.so.2'), 'ld', "the loader's folder");
  for (const absent of ['usr/lib/x/secret', 'usr/lib/x/libsecret.so', 'usr/lib/x/fifo', 'usr/lib/x/device', 'usr/lib/x/missing']) {
    assert.equal(existsSync(join(root, absent)), false, `${absent} is not in the view`);
  }
  assert.ok(lstatSync(join(root, 'lib')).isSymbolicLink());
  assert.equal(realpathSync(join(root, 'lib')), realpathSync(join(root, 'usr/lib')), 'the folder link stays inside the view');
});
