// The fixture-version machinery without chroots or cores: the file note of a gcore'd core of a
// chrooted process rebased to the chroot, workloads' version declarations, the chrooted command.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rebaseFileNote } from '../../scripts/lib/fixture-cores.js';
import { workloadRequirement } from '../../scripts/make-cores.js';
import { chrootedCommand } from '../../scripts/lib/pythons.js';

const NT_FILE = 0x46494c45;

function note(type: number, name: string, desc: Buffer): Buffer {
  const n = Buffer.from(name + '\0');
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(((b.length + 3) & ~3) - b.length)]);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(n.length, 0);
  head.writeUInt32LE(desc.length, 4);
  head.writeUInt32LE(type, 8);
  return Buffer.concat([head, pad(n), pad(desc)]);
}

function fileNote(names: string[]): Buffer {
  const table = Buffer.alloc(16 + 24 * names.length);
  table.writeBigUInt64LE(BigInt(names.length), 0);
  table.writeBigUInt64LE(4096n, 8);
  names.forEach((_, i) => table.writeBigUInt64LE(BigInt(0x1000 * (i + 1)), 16 + 24 * i));
  return Buffer.concat([table, Buffer.from(names.map((s) => s + '\0').join(''))]);
}

/** An ELF core: header, one PT_NOTE program header, a LOAD's worth of bytes, the notes, then TAIL. */
function core(notes: Buffer, tail = Buffer.alloc(0)): { file: Buffer; noteOffset: number } {
  const eh = Buffer.alloc(64);
  eh.writeUInt32BE(0x7f454c46, 0);
  eh[4] = 2;
  eh[5] = 1;
  eh.writeUInt16LE(4, 0x10); // ET_CORE
  eh.writeBigUInt64LE(64n, 0x20);
  eh.writeUInt16LE(56, 0x36);
  eh.writeUInt16LE(1, 0x38);
  const body = Buffer.alloc(4096, 0xaa);
  const noteOffset = 64 + 56 + body.length;
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(4, 0);
  ph.writeBigUInt64LE(BigInt(noteOffset), 8);
  ph.writeBigUInt64LE(BigInt(notes.length), 32);
  return { file: Buffer.concat([eh, ph, body, notes, tail]), noteOffset };
}

function namesIn(file: Buffer): { names: string[]; filesz: number; other: Buffer } {
  const offset = Number(file.readBigUInt64LE(64 + 8));
  const filesz = Number(file.readBigUInt64LE(64 + 32));
  const data = file.subarray(offset, offset + filesz);
  let pos = 0;
  let names: string[] = [];
  let other = Buffer.alloc(0);
  while (pos < data.length) {
    const namesz = data.readUInt32LE(pos);
    const descsz = data.readUInt32LE(pos + 4);
    const type = data.readUInt32LE(pos + 8);
    const descAt = pos + 12 + ((namesz + 3) & ~3);
    const desc = data.subarray(descAt, descAt + descsz);
    if (type === NT_FILE) {
      const count = Number(desc.readBigUInt64LE(0));
      names = desc.subarray(16 + 24 * count).toString('latin1').split('\0').slice(0, count);
    } else other = Buffer.from(desc);
    pos = descAt + ((descsz + 3) & ~3);
  }
  return { names, filesz, other };
}

test('rebaseFileNote: mapped-file names under the sysroot lose it, others stay, the other notes too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coroner-unit-'));
  try {
    const root = '/var/cache/coroner/chroots/bullseye';
    const names = [`${root}/usr/bin/python2.7`, `${root}/usr/lib/x86_64-linux-gnu/libc-2.31.so`, '/memfd:x (deleted)', `${root}x/other`];
    const prstatus = Buffer.from('registers of a thread');
    const notes = Buffer.concat([note(1, 'CORE', prstatus), note(NT_FILE, 'CORE', fileNote(names)), note(6, 'CORE', Buffer.from('auxv'))]);
    const want = ['/usr/bin/python2.7', '/usr/lib/x86_64-linux-gnu/libc-2.31.so', '/memfd:x (deleted)', `${root}x/other`];

    // The note segment last in the file (as gdb writes it): the file ends earlier.
    const last = core(notes);
    const a = join(dir, 'core.1');
    writeFileSync(a, last.file);
    assert.equal(await rebaseFileNote(a, root + '/'), 2);
    const got = readFileSync(a);
    assert.deepEqual(namesIn(got).names, want);
    assert.equal(got.length, last.noteOffset + namesIn(got).filesz, 'the file ends with the shorter note segment');
    // Only the note segment's size changes before the notes (its program header's p_filesz).
    assert.deepEqual(got.subarray(0, 64 + 32), last.file.subarray(0, 64 + 32));
    assert.deepEqual(got.subarray(64 + 40, last.noteOffset), last.file.subarray(64 + 40, last.noteOffset));
    assert.equal(await rebaseFileNote(a, root), 0, 'a second run changes nothing');

    // Something after the notes: rewritten in place, the rest of the old segment zeroed.
    const tail = Buffer.from('after the notes');
    const mid = core(notes, tail);
    const b = join(dir, 'core.2');
    writeFileSync(b, mid.file);
    assert.equal(await rebaseFileNote(b, root), 2);
    const got2 = readFileSync(b);
    assert.equal(got2.length, mid.file.length);
    assert.deepEqual(namesIn(got2).names, want);
    assert.deepEqual(got2.subarray(got2.length - tail.length), tail);
    assert.ok(namesIn(got2).filesz < notes.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('workloadRequirement: a workload declares the versions it needs', () => {
  assert.deepEqual(workloadRequirement('"""doc"""\nimport os\n'), { min: null, max: null });
  assert.deepEqual(workloadRequirement('# coroner: requires-python >= 3.7\nimport asyncio\n'), { min: [3, 7], max: null });
  assert.deepEqual(workloadRequirement('#coroner: requires-python >=3.9, < 3.12\n'), { min: [3, 9], max: [3, 12] });
});

test('chrootedCommand: /proc mounted in a mount namespace of its own, then chroot and cd', () => {
  const argv = chrootedCommand('/c/bullseye', ['/usr/bin/python2.7', '/w/x.py'], '/w/run');
  assert.equal(argv[0], '/usr/bin/unshare');
  assert.ok(argv.includes('--mount'));
  assert.deepEqual(argv.slice(-6), ['/bin/sh', '-c', 'cd "$0" && exec "$@"', '/w/run', '/usr/bin/python2.7', '/w/x.py']);
  assert.ok(argv.includes('/c/bullseye'));
});
