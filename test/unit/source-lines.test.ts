// Source lines read at ingest: the line a frame names, from this machine or under a sysroot, and
// nothing from a path an untrusted core could point anywhere else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceLines } from '../../src/pipeline/source-lines.js';

const root = mkdtempSync(join(tmpdir(), 'coroner-src-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'srv/app'), { recursive: true });
writeFileSync(join(root, 'srv/app/x.py'), 'import os\n\ndef f():\n    return os.getpid()  \r\n');
writeFileSync(join(root, 'secret.txt'), 'not python\n');
const past = new Date(Date.now() - 3600_000);

test('source lines: the stripped line of a .py file on this machine; none past its end, none for another kind of file', () => {
  const lines = new SourceLines(null, null);
  assert.equal(lines.line(join(root, 'srv/app/x.py'), 4), 'return os.getpid()');
  assert.equal(lines.line(join(root, 'srv/app/x.py'), 2), null, 'a blank line');
  assert.equal(lines.line(join(root, 'srv/app/x.py'), 40), null);
  assert.equal(lines.line(join(root, 'secret.txt'), 1), null, 'only .py files');
  assert.equal(lines.line('srv/app/x.py', 1), null, 'a relative path says nothing of where it was');
  assert.equal(lines.line('/dev/zero.py', 1), null);
});

test('source lines: under a sysroot, and never outside it', () => {
  const lines = new SourceLines(join(root, 'srv'), null);
  assert.equal(lines.line('/app/x.py', 1), 'import os');
  assert.equal(new SourceLines(join(root, 'srv/app'), null).line('/../../secret.py', 1), null);
  writeFileSync(join(root, 'escape.py'), 'outside = 1\n');
  assert.equal(new SourceLines(join(root, 'srv'), null).line('/../escape.py', 1), null, 'a .. cannot leave the sysroot');
  symlinkSync(join(root, 'escape.py'), join(root, 'srv/link.py'));
  assert.equal(new SourceLines(join(root, 'srv'), null).line('/link.py', 1), null, 'nor a symbolic link');
});

test('source lines: a file of this machine changed after the core was taken is not trusted', () => {
  const file = join(root, 'srv/app/x.py');
  assert.equal(new SourceLines(null, past).line(file, 1), null);
  utimesSync(file, past, new Date(past.getTime() - 1000));
  assert.equal(new SourceLines(null, past).line(file, 1), 'import os');
});
