// ELF core parsing (src/core/core-file.ts) and file-type sniffing (src/core/magic.ts) on small
// cores built by fake-core.ts: what the notes say, the segments, and every refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { executableOf, readElfCore, signalName } from '../../src/core/core-file.js';
import { CoronerError } from '../../src/base/errors.js';
import { headOfFile, isElfCoreHead, magicOf, peekStream } from '../../src/core/magic.js';
import { Mem, PF_R, PF_W, PF_X, fakeCoreBytes, tempDir, writeFakeCore, type FakeCoreSpec } from './fake-core.js';
import { MUTATIONS, mutated } from './core-mutations.js';

const PYTHON = '/usr/bin/python3.11';
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';

function fullSpec(): FakeCoreSpec {
  const stack = new Mem(0x7ffffffde000, 0x2000).u64(0x7ffffffdf000, 0x1122334455667788n);
  return {
    threads: [{ lwp: 1001, signal: 11 }, { lwp: 1003 }, { lwp: 1002 }],
    psinfo: { pid: 1000, fname: 'python3.11', args: ['python3.11', '-u', 'app.py'] },
    entry: 0x5555555a1234,
    files: [
      { start: 0x7ffff7c00000, end: 0x7ffff7c28000, offset: 0, path: LIBC },
      { start: 0x555555554000, end: 0x555555556000, offset: 0, path: PYTHON },
      { start: 0x555555556000, end: 0x5555557b0000, offset: 0x2000, path: PYTHON },
    ],
    segments: [
      { vaddr: 0x555555554000, bytes: Buffer.from('\x7fELF'), memsz: 0x2000, flags: PF_R },
      { vaddr: 0x555555556000, bytes: Buffer.alloc(0), memsz: 0x25a000, flags: PF_R | PF_X },
      stack.segment({ flags: PF_R | PF_W }),
    ],
  };
}

/** Expect a CoronerError of this kind and message. */
async function refused(path: string, kind: string, message: string): Promise<void> {
  await assert.rejects(readElfCore(path), (err: unknown) => {
    assert.ok(err instanceof CoronerError, `not a CoronerError: ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.equal(err.message, `${path}: ${message}`);
    return true;
  });
}

test('a core: pid, LWPs in note order, signal, command line, mapped files, executable', async () => {
  const path = writeFakeCore(fullSpec());
  const core = await readElfCore(path);
  assert.equal(core.path, path);
  assert.equal(core.size, statSync(path).size);
  assert.equal(core.pid, 1000);
  assert.deepEqual(core.lwps, [1001, 1003, 1002]);
  assert.equal(core.signal, 11);
  assert.equal(signalName(core.signal), 'SIGSEGV');
  assert.equal(core.fname, 'python3.11');
  // The kernel's NUL-separated argv, NULs turned into spaces, the trailing one trimmed.
  assert.equal(core.psargs, 'python3.11 -u app.py');
  assert.equal(core.entry, 0x5555555a1234);
  assert.deepEqual(core.mappedFiles, [
    { start: 0x7ffff7c00000, end: 0x7ffff7c28000, fileOffset: 0, path: LIBC },
    { start: 0x555555554000, end: 0x555555556000, fileOffset: 0, path: PYTHON },
    { start: 0x555555556000, end: 0x5555557b0000, fileOffset: 0x2000, path: PYTHON },
  ]);
  // The entry point is in the third mapping, not the first one.
  assert.equal(executableOf(core), PYTHON);
});

test('segments: PT_LOAD only, with file offsets that point at their bytes', async () => {
  const path = writeFakeCore(fullSpec());
  const core = await readElfCore(path);
  assert.deepEqual(
    core.segments.map(({ vaddr, filesz, memsz, flags }) => ({ vaddr, filesz, memsz, flags })),
    [
      { vaddr: 0x555555554000, filesz: 4, memsz: 0x2000, flags: PF_R },
      { vaddr: 0x555555556000, filesz: 0, memsz: 0x25a000, flags: PF_R | PF_X },
      { vaddr: 0x7ffffffde000, filesz: 0x2000, memsz: 0x2000, flags: PF_R | PF_W },
    ],
  );
  const file = readFileSync(path);
  const [elf, , stack] = core.segments;
  assert.equal(file.toString('latin1', elf!.offset, elf!.offset + 4), '\x7fELF');
  assert.equal(file.readBigUInt64LE(stack!.offset + 0x1000), 0x1122334455667788n);
});

test('without NT_PRPSINFO the pid is the first LWP; without NT_AUXV the executable is the first mapping', async () => {
  const core = await readElfCore(writeFakeCore({
    threads: [{ lwp: 77 }, { lwp: 78 }],
    files: [{ start: 0x1000, end: 0x2000, offset: 0, path: '/a' }, { start: 0x2000, end: 0x3000, offset: 0x1000, path: '/b' }],
  }));
  assert.equal(core.pid, 77);
  assert.equal(core.fname, '');
  assert.equal(core.psargs, '');
  assert.equal(core.entry, null);
  assert.equal(core.signal, 0);
  assert.equal(signalName(core.signal), null);
  assert.equal(executableOf(core), '/a');
  assert.equal(executableOf({ ...core, mappedFiles: [] }), null);
});

test('the executable: a mapping holds [start, end), and an entry outside all of them falls back to the first', async () => {
  const files = [{ start: 0x1000, end: 0x2000, offset: 0, path: '/a' }, { start: 0x2000, end: 0x3000, offset: 0x1000, path: '/b' }];
  const at = async (entry: number): Promise<string | null> => executableOf(await readElfCore(writeFakeCore({ entry, files })));
  assert.equal(await at(0x1fff), '/a');
  assert.equal(await at(0x2000), '/b');
  assert.equal(await at(0x2fff), '/b');
  assert.equal(await at(0x3000), '/a');
});

test('the signal: the first thread\'s pr_cursig, unless NT_SIGINFO names one', async () => {
  const first = await readElfCore(writeFakeCore({ threads: [{ lwp: 7 }, { lwp: 8, signal: 11 }] }));
  assert.equal(first.signal, 0);
  const info = await readElfCore(writeFakeCore({ threads: [{ lwp: 7 }], siginfo: 6 }));
  assert.equal(info.signal, 6);
  assert.equal(signalName(info.signal), 'SIGABRT');
  const noInfo = await readElfCore(writeFakeCore({ threads: [{ lwp: 7, signal: 11 }], siginfo: 0 }));
  assert.equal(noInfo.signal, 11);
  assert.equal(signalName(99), 'signal 99');
});

test('NT_PRPSINFO: a 16-byte fname without NUL, and an argv cut at 79 bytes as the kernel cuts it', async () => {
  const core = await readElfCore(writeFakeCore({
    psinfo: { pid: 5, fname: 'abcdefghijklmnopqrstuvwxyz', args: ['python3.11', 'x'.repeat(100)] },
  }));
  assert.equal(core.fname, 'abcdefghijklmnop');
  assert.equal(core.psargs, `python3.11 ${'x'.repeat(68)}`);
  assert.equal(core.pid, 5);
});

test('refusals: missing file, a folder, not ELF, a short ELF header', async () => {
  const dir = tempDir();
  await refused(join(dir, 'nope'), 'not-found', 'no such file; give the path of a core file (gcore PID writes core.PID)');
  mkdirSync(join(dir, 'folder'));
  await refused(join(dir, 'folder'), 'not-file', 'not a regular file; give a core file (a folder is ingested with its cores inside)');
  const text = join(dir, 'text');
  writeFileSync(text, 'hello, this is not a core at all; it is long enough to hold an ELF header if it were one');
  await refused(text, 'not-elf', "not an ELF core file (no ELF header); take one with 'gcore PID' or gdb's generate-core-file");
  const short = join(dir, 'short');
  writeFileSync(short, fakeCoreBytes({}).subarray(0, 63));
  await refused(short, 'not-elf', "not an ELF core file (no ELF header); take one with 'gcore PID' or gdb's generate-core-file");
});

test('refusals: 32-bit, big-endian, other machines, executables and libraries', async () => {
  const bits32 = 'a 32-bit or big-endian ELF file; coroner reads 64-bit little-endian (x86-64) cores';
  await refused(writeFakeCore({ header: { elfClass: 1 } }), 'unsupported', bits32);
  await refused(writeFakeCore({ header: { data: 2 } }), 'unsupported', bits32);
  await refused(writeFakeCore({ header: { machine: 183 } }), 'unsupported', 'a core of machine type 183; coroner reads x86-64 cores');
  const take = "take a core with 'gcore PID' or gdb's generate-core-file";
  await refused(writeFakeCore({ header: { type: 2 } }), 'not-core', `an executable, not a core file; ${take}`);
  await refused(writeFakeCore({ header: { type: 3 } }), 'not-core', `a shared library or PIE executable, not a core file; ${take}`);
  await refused(writeFakeCore({ header: { type: 1 } }), 'not-core', `ELF type 1, not a core file; ${take}`);
});

test('refusals: a core cut short, in its segments or in its program headers', async () => {
  const whole = fakeCoreBytes({ segments: [new Mem(0x10000, 0x1000).segment()] });
  const advice = 'it was cut while being written or copied: check the disk space and take or copy it again';
  const cut = writeFakeCore(whole.subarray(0, whole.length - 100));
  await refused(cut, 'truncated', `truncated core (${whole.length - 100} of ${whole.length} bytes); ${advice}`);
  // Two program headers (PT_NOTE, PT_LOAD) of 56 bytes after the 64-byte ELF header.
  const headers = writeFakeCore(whole.subarray(0, 64 + 56 + 10));
  await refused(headers, 'truncated', `truncated core (130 of 176 bytes); ${advice}`);
  // The segment's bytes go, the hole it may have is not counted: memsz beyond filesz is fine.
  const holed = fakeCoreBytes({ segments: [{ vaddr: 0x10000, bytes: Buffer.alloc(8), memsz: 1 << 30 }] });
  assert.equal((await readElfCore(writeFakeCore(holed))).segments[0]!.memsz, 1 << 30);
});

test('refusals: a core without notes, or whose notes have no thread', async () => {
  await refused(writeFakeCore({ noNotes: true }), 'bad-core', 'an ELF core without notes (no threads, no pid); the core is damaged, take it again');
  await refused(
    writeFakeCore({ threads: [], psinfo: { pid: 3, fname: 'x', args: [] } }),
    'bad-core',
    'the core has no thread (no NT_PRSTATUS note); the core is damaged, take it again',
  );
});

test('magicOf: ELF, gzip, tar (ustar at 257) and anything else', () => {
  assert.equal(magicOf(Buffer.from('\x7fELF', 'latin1')), 'elf');
  assert.equal(magicOf(Buffer.from('\x7fEL', 'latin1')), 'unknown');
  assert.equal(magicOf(Buffer.from([0x1f, 0x8b])), 'gzip');
  assert.equal(magicOf(Buffer.from([0x1f])), 'unknown');
  const tar = Buffer.alloc(512);
  tar.write('ustar', 257, 'latin1');
  assert.equal(magicOf(tar), 'tar');
  assert.equal(magicOf(tar.subarray(0, 261)), 'unknown');
  assert.equal(magicOf(Buffer.alloc(512)), 'unknown');
  assert.equal(magicOf(Buffer.alloc(0)), 'unknown');
});

test('isElfCoreHead: an ELF header of type CORE only', () => {
  const core = fakeCoreBytes({});
  assert.equal(isElfCoreHead(core), true);
  assert.equal(isElfCoreHead(core.subarray(0, 18)), true);
  assert.equal(isElfCoreHead(core.subarray(0, 17)), false);
  assert.equal(isElfCoreHead(fakeCoreBytes({ header: { type: 3 } })), false);
  assert.equal(isElfCoreHead(Buffer.from('not an elf file at all')), false);
});

test('headOfFile: the first bytes, fewer when the file is shorter', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'f'), Buffer.from('0123456789'));
  assert.equal((await headOfFile(join(dir, 'f'), 4)).toString(), '0123');
  assert.equal((await headOfFile(join(dir, 'f'))).toString(), '0123456789');
});

async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test('peekStream: the head, then the whole stream with it; bytes counted as they are read', async () => {
  let counted = 0;
  const source = Readable.from([Buffer.from('abc'), new Uint8Array(Buffer.from('defg')), Buffer.from('hijkl')], { objectMode: true });
  const { head, stream } = await peekStream(source, 5, (n) => (counted += n));
  assert.equal(head.toString(), 'abcde');
  assert.equal(counted, 7); // the first two chunks, read to get five bytes
  assert.equal(await collect(stream), 'abcdefghijkl');
  assert.equal(counted, 12);

  const short = await peekStream(Readable.from([Buffer.from('xy')], { objectMode: true }), 512);
  assert.equal(short.head.toString(), 'xy');
  assert.equal(await collect(short.stream), 'xy');

  const empty = await peekStream(Readable.from([], { objectMode: true }), 512);
  assert.equal(empty.head.length, 0);
  assert.equal(await collect(empty.stream), '');
});

test('damaged cores: each damage to headers and notes is one CoronerError naming the file, never a crash', async () => {
  const spec = fullSpec();
  const whole = fakeCoreBytes(spec);
  const expected: Record<string, [string, RegExp]> = {
    'e_phentsize 0': ['bad-core', /damaged core: its program headers are 0 bytes each \(e_phentsize\), an x86-64 core's are 56/],
    'e_phentsize 8': ['bad-core', /its program headers are 8 bytes each/],
    'e_phoff past 2^64': ['bad-core', /its program header table says its bytes end at byte 184467440737\d+, past any real core \(this file has \d+\)/],
    'e_phnum too large': ['bad-core', /damaged core: it says it has 65534 program headers|truncated core/],
    'a PT_LOAD offset near 2^64': ['bad-core', /program header 1 \(PT_LOAD\) says its bytes end at byte 18446744\d+, past any real core/],
    'a PT_LOAD of 2^64 bytes': ['bad-core', /program header 1 \(PT_LOAD\) maps 18446744073709547520 bytes at 0x555555554000, past the end of the address space/],
    'a PT_LOAD with more file bytes than memory': ['bad-core', /program header 1 \(PT_LOAD\) holds more bytes in the file \(\d+\) than in memory \(\d+\)/],
    'NT_FILE counting 2^47 files': ['bad-core', /its NT_FILE note lists 140737488355327 mapped files in \d+ bytes, room for \d+/],
    'NT_FILE counting a million files': ['bad-core', /its NT_FILE note lists 1000000 mapped files/],
    'NT_FILE cut to 40 bytes': ['bad-core', /its NT_FILE note lists 3 mapped files in 40 bytes, room for 0/],
    'NT_FILE of page size 0': ['bad-core', /its NT_FILE note gives a page size of 0/],
    'NT_PRSTATUS of 8 bytes': ['bad-core', /its NT_PRSTATUS note is 8 bytes, shorter than the 36 it must be/],
    'random note bytes': ['bad-core', /damaged core|no thread/],
    'random notes segment': ['bad-core', /damaged core|no thread/],
  };
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(MUTATIONS).sort());
  for (const [name, mutation] of Object.entries(MUTATIONS)) {
    const path = writeFakeCore(mutated(whole, mutation));
    await assert.rejects(readElfCore(path), (err: unknown) => {
      assert.ok(err instanceof CoronerError, `${name}: not a CoronerError: ${String(err)}`);
      const [kind, message] = expected[name]!;
      assert.ok([kind, 'truncated'].includes(err.kind), `${name}: kind ${err.kind}`);
      assert.ok(err.message.startsWith(`${path}: `), `${name}: names the file: ${err.message}`);
      assert.match(err.message, message, name);
      assert.match(err.message, /take it again|take or copy it again/, `${name}: says what to do`);
      assert.doesNotMatch(err.message, /e\+\d|NaN|Infinity/, `${name}: numbers printed whole`);
      return true;
    });
  }
});

test('an empty file, as /proc/PID/mem looks', async () => {
  const empty = join(tempDir(), 'empty');
  writeFileSync(empty, '');
  await refused(empty, 'not-elf', 'an empty file (0 bytes), not a core; take the core again (pseudo-files such as /proc/PID/mem are not cores: use gcore PID)');
  await refused('/proc/self/mem', 'not-elf', 'an empty file (0 bytes), not a core; take the core again (pseudo-files such as /proc/PID/mem are not cores: use gcore PID)');
});

test('a loop of symbolic links is said to be one', async () => {
  const dir = tempDir();
  symlinkSync(join(dir, 'b'), join(dir, 'a'));
  symlinkSync(join(dir, 'a'), join(dir, 'b'));
  await refused(join(dir, 'a'), 'symlink-loop', 'a loop of symbolic links; point at the core file itself');
});
