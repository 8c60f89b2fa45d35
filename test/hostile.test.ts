// Damaged and hostile input through the real CLI, on copies of real cores: every case is one line
// that names the file, says what is wrong and what to do, exit 2, never "internal error"; nothing
// half-written in the database. Disks that are full or read-only are made with mount (root only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, createReadStream, createWriteStream, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { createGzip, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { archiveOfCores } from '../scripts/lib/archive-bench.js';
import { cli, fixture, runCli, tempDb, tempDir, type CliResult } from './helpers.js';
import { MUTATIONS, mutated, pathOfLength, renamedMapping } from './unit/core-mutations.js';
import { NOT_ROOT, asRoot, readOnlyView, smallDisk, whileImmutable } from './mounts.js';

function dumps(db: string): number {
  const conn = new Database(db, { readonly: true });
  try {
    assert.equal(conn.pragma('integrity_check', { simple: true }), 'ok');
    return (conn.prepare('SELECT COUNT(*) AS n FROM dumps').get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

/** The "failed ..." lines of an ingest, each checked to be a line a user can act on. */
function failedLines(r: CliResult): string[] {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('failed '));
  for (const line of lines) assert.doesNotMatch(line, /internal error|please report|undefined|NaN|e\+\d/, line);
  return lines;
}

test('damaged program headers and notes of a real core: one line each naming the core, exit 2', async () => {
  const { core } = await fixture('recursion');
  const whole = readFileSync(core);
  const dir = tempDir();
  const names = Object.keys(MUTATIONS);
  names.forEach((name, i) => writeFileSync(join(dir, `core.${1000 + i}`), mutated(whole, MUTATIONS[name]!)));
  const db = tempDb();
  const r = runCli(['ingest', dir, '--db', db, '--timeout', '60']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const lines = failedLines(r);
  assert.equal(lines.length, names.length, r.stderr);
  names.forEach((name, i) => {
    const line = lines.find((l) => l.startsWith(`failed ${join(dir, `core.${1000 + i}`)}: `));
    assert.ok(line, `${name}: a line naming core.${1000 + i}`);
    assert.match(line, /(damaged core: |no thread|truncated core ).*take (or copy )?it again$/, `${name}: ${line}`);
  });
  assert.match(r.stdout, new RegExp(`^0 ingested, 0 skipped as duplicates, ${names.length} failed$`, 'm'));
  assert.equal(dumps(db), 0);
});

test('/proc/self/mem and a loop of symbolic links', () => {
  const dir = tempDir();
  symlinkSync(join(dir, 'b'), join(dir, 'a'));
  symlinkSync(join(dir, 'a'), join(dir, 'b'));
  const db = tempDb();
  const r = runCli(['ingest', '/proc/self/mem', join(dir, 'a'), '--db', db]);
  assert.equal(r.code, 2);
  const lines = failedLines(r);
  assert.ok(lines.includes('failed /proc/self/mem: an empty file (0 bytes), not a core; take the core again (pseudo-files such as /proc/PID/mem are not cores: use gcore PID)'), r.stderr);
  assert.ok(lines.includes(`failed ${join(dir, 'a')}: a loop of symbolic links (or too many links in a row); point at the core itself`), r.stderr);
});

test('eleven damaged archives: each one line saying how it is damaged, none an internal error', async () => {
  const { core } = await fixture('recursion');
  const dir = tempDir();
  const tgz = await archiveOfCores([core], join(dir, 'good.tar.gz'));
  const tarFile = await archiveOfCores([core], join(dir, 'good.tar'), { gzip: false });
  const gz = readFileSync(tgz);
  const tar = readFileSync(tarFile);
  const flip = (buf: Buffer, at: number, bytes: number[]): Buffer => {
    const copy = Buffer.from(buf);
    bytes.forEach((b, i) => (copy[at + i]! ^= b));
    return copy;
  };
  const field = (buf: Buffer, at: number, text: string): Buffer => {
    const copy = Buffer.from(buf);
    copy.write(text, at, 'latin1');
    return copy;
  };
  const cases: Record<string, [Buffer, RegExp]> = {
    'cut-half.tar.gz': [gz.subarray(0, gz.length >> 1), /its gzip data is cut short/],
    'cut-10.tar.gz': [gz.subarray(0, 10), /its gzip data is cut short/],
    'crc.tar.gz': [Buffer.concat([gz.subarray(0, -8), Buffer.alloc(8)]), /its gzip data is corrupt \(incorrect data check\)/],
    'flipped.tar.gz': [flip(gz, Math.floor(gz.length / 3), [0xff, 0x55, 0xaa]), /its gzip data is (corrupt|cut short)/],
    'flags.tar.gz': [field(gz, 3, '\xff'), /its gzip data is corrupt \(unknown header flags set\)/],
    'checksum.tar': [field(tar, 148, '9999999\0'), /a tar header is corrupt/],
    'size.tar': [field(tar, 124, '77777777777\0'), /a tar header is corrupt/],
    'cut-member.tar': [tar.subarray(0, tar.length >> 1), /its tar data is cut short/],
    'cut-header.tar': [tar.subarray(0, 300), /its tar data is cut short/],
    'garbage-header.tar.gz': [gzipSync(Buffer.concat([Buffer.alloc(257), Buffer.from('ustar\0'), Buffer.alloc(512 - 263, 0x41)])), /a tar header is corrupt/],
    'second-header.tar': [Buffer.concat([tar.subarray(0, tar.length - 1024), field(tar.subarray(0, 512), 148, '0000000\0'), Buffer.alloc(2048)]), /damaged archive after .*: a tar header is corrupt/],
  };
  const paths = Object.entries(cases).map(([name, [bytes]]) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  });
  const db = tempDb();
  const r = runCli(['ingest', ...paths, '--db', db]);
  assert.equal(r.code, 2);
  const lines = failedLines(r);
  for (const [name, [, pattern]] of Object.entries(cases)) {
    const line = lines.find((l) => l.startsWith(`failed ${join(dir, name)}: `));
    assert.ok(line, `${name}: a line naming the archive\n${r.stderr}`);
    assert.match(line, pattern, name);
    assert.match(line, /check that it was written and copied whole$/, name);
  }
});

test('an archive holding only archives, or files that are not cores, is an error, not a silent success', async () => {
  const { core } = await fixture('recursion');
  const dir = tempDir();
  const inner = await archiveOfCores([core], join(dir, 'inner.tar.gz'));
  const outer = await archiveOfCores([inner], join(dir, 'outer.tar'), { gzip: false });
  const readme = join(dir, 'README.txt');
  writeFileSync(readme, 'no core here');
  const notes = await archiveOfCores([readme], join(dir, 'notes.tar.gz'));
  const r = runCli(['ingest', outer, notes, '--db', tempDb()]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const lines = failedLines(r);
  assert.ok(lines.includes(`failed ${outer}: no core files in this archive (1 file, none an ELF core: cores/inner.tar.gz); archives inside an archive are not unpacked: unpack it and ingest the inner archives`), r.stderr);
  assert.ok(lines.includes(`failed ${notes}: no core files in this archive (1 file, none an ELF core: cores/README.txt)`), r.stderr);
});

test('the same core twice in one archive: the second names the first and its real dump id', async () => {
  const { core } = await fixture('recursion');
  const dir = tempDir();
  mkdirSync(join(dir, 'a'));
  copyFileSync(core, join(dir, 'a', 'core.1'));
  const archive = await archiveOfCores([join(dir, 'a', 'core.1'), core], join(dir, 'twice.tar.gz'));
  const db = tempDb();
  const r = runCli(['ingest', archive, '--db', db, '--jobs', '2']);
  assert.equal(r.code, 0, r.stderr);
  const name = core.split('/').pop();
  assert.match(r.stderr + r.stdout, new RegExp(`skipped ${archive}:cores/(core\\.1|${name}): the same core as ${archive}:cores/(core\\.1|${name}) \\(dump 1\\)`));
  assert.doesNotMatch(r.stderr + r.stdout, /dump 0/);
  assert.equal(dumps(db), 1);
});

test('two ingests of one core at once: one stores it, the other says it is stored', async () => {
  const { core } = await fixture('recursion');
  const db = tempDb();
  const run = (): Promise<CliResult> => new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'ingest', core, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const both = await Promise.all([run(), run()]);
  const said = both.map((r) => r.stdout + r.stderr).join('\n');
  assert.deepEqual(both.map((r) => r.code), [0, 0], said);
  assert.equal(said.match(/^ingested .* as dump 1/gm)?.length, 1, said);
  assert.equal(said.match(/^skipped .*: already stored as dump 1/gm)?.length, 1, said);
  assert.equal(dumps(db), 1);
});

test('a full temporary disk fails each archive member with one line, not as a damaged archive', { skip: !asRoot && NOT_ROOT }, async () => {
  const first = await fixture('recursion');
  const second = await fixture('crash');
  const archive = await archiveOfCores([first.core, second.core], join(tempDir(), 'two.tar.gz'));
  const tmp = smallDisk(4 << 20);
  const r = runCli(['ingest', archive, '--db', tempDb()], { TMPDIR: tmp });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const lines = failedLines(r);
  for (const c of [first, second]) {
    const member = `failed ${archive}:cores/${c.core.split('/').pop()}: `;
    // Seen coming (the free space before each chunk), or met as ENOSPC: either way said as such.
    const said = new RegExp(`^${member}(not unpacked: it needs [\\d.]+ MB and only [\\d.]+ [KM]?B is free on ${tmp} \\(.* written when it stopped\\)|no space left on ${tmp} to unpack it); free space there, or set TMPDIR to a larger disk$`);
    assert.ok(lines.some((l) => said.test(l)), r.stderr);
  }
  assert.doesNotMatch(r.stderr, /damaged/);
  assert.deepEqual(readdirSync(tmp), [], 'nothing left on the full disk');
});

test('an immutable database fails before any analysis; read-only commands work on a read-only mount', { skip: !asRoot && NOT_ROOT }, async () => {
  const { core } = await fixture('recursion');
  const dir = tempDir();
  const db = join(dir, 'coroner.db');
  assert.equal(runCli(['ingest', core, '--db', db]).code, 0);
  const other = await fixture('crash');
  const started = Date.now();
  const r = whileImmutable(db, () => runCli(['ingest', other.core, '--db', db]));
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), `coroner: ${db}: the database cannot be written (attempt to write a readonly database): the file, its folder or the disk is read-only or immutable (lsattr); make it writable or pass --db FILE elsewhere`);
  assert.ok(Date.now() - started < 5000, 'refused before gdb ran');

  const view = join(readOnlyView(dir), 'coroner.db');
  for (const args of [['list'], ['show', '1'], ['census', '1', '--top', '3'], ['series'], ['diff', '1', '1', '--no-holders']]) {
    const ro = runCli([...args, '--db', view]);
    assert.equal(ro.code, 0, `${args.join(' ')}: ${ro.stderr}`);
  }
  assert.match(runCli(['list', '--db', view]).stdout, /recursion\.py {2}3\.11/);
  const w = runCli(['ingest', other.core, '--db', view]);
  assert.equal(w.code, 2);
  assert.match(w.stderr.trim(), new RegExp(`^coroner: ${view}: the database cannot be written \\(.*\\): the file, its folder or the disk is read-only`));
});

test('a mapped file that is a FIFO or a device never blocks gdb: the core is analyzed, the dump says what was not read', async () => {
  const { core } = await fixture('recursion');
  const dir = tempDir();
  const ctype = '/usr/lib/locale/C.utf8/LC_CTYPE';
  const gconv = '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache';
  const fifo = pathOfLength(dir, 'fifo', ctype.length);
  const device = pathOfLength(dir, 'dev', gconv.length);
  execFileSync('mkfifo', [fifo]);
  symlinkSync('/dev/zero', device);
  const forged = join(dir, 'core.fifo');
  writeFileSync(forged, renamedMapping(renamedMapping(readFileSync(core), ctype, fifo), gconv, device));
  const db = tempDb();
  const started = Date.now();
  const r = runCli(['ingest', forged, '--db', db, '--timeout', '60']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 30_000, `done in ${Date.now() - started} ms, not at the timeout`);
  const shown = JSON.parse(runCli(['show', '1', '--db', db, '--json']).stdout) as { warnings: string[]; threads: { native_frames: { library: string | null }[] }[] };
  assert.ok(shown.warnings.includes(`the core maps ${fifo}, a FIFO: not read`), shown.warnings.join('\n'));
  assert.ok(shown.warnings.includes(`the core maps ${device}, a device: not read`), shown.warnings.join('\n'));
  const libraries = new Set(shown.threads.flatMap((t) => t.native_frames.map((f) => f.library)));
  assert.ok([...libraries].some((l) => l?.endsWith('/libc.so.6')), 'libc found through the view');
  assert.ok(![...libraries].some((l) => l?.includes('coroner-gdb-')), 'libraries named as the core names them, not by the view');
});

/** The state letter ps gives a process (R, S, Z...), or null when there is none. */
function processState(pid: number): string | null {
  try {
    return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim()[0] ?? null;
  } catch {
    return null;
  }
}

async function waitFor<T>(what: string, check: () => T | null | undefined | false, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('SIGKILL of an ingest: gdb dies with it, and a later run removes its temporary folders but not a live run\'s', async () => {
  const { core } = await fixture('threads'); // 460 MB: gdb is still at work when the kill comes
  const tmp = tempDir('coroner-tmp-');
  const child = spawn(process.execPath, [cli, 'ingest', core, '--db', tempDb(), '--jobs', '1'], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
  const gdbPid = await waitFor('gdb to start', () => {
    const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/));
    const row = rows.find((r) => Number(r[1]) === child.pid && r[2]?.endsWith('gdb'));
    return row ? Number(row[0]) : null;
  }, 60_000);
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await closed;
  await waitFor('gdb to die with its parent', () => [null, 'Z'].includes(processState(gdbPid)), 5000);
  const left = readdirSync(tmp);
  assert.ok(left.some((n) => n.startsWith(`coroner-ingest-${child.pid}-`)) && left.some((n) => n.startsWith(`coroner-gdb-${child.pid}-`)), `the killed run left its folders: ${left.join(', ')}`);
  const live = join(tmp, `coroner-ingest-${process.pid}-abcdef`);
  mkdirSync(live);

  const r = runCli(['ingest', '/nonexistent/core', '--db', tempDb()], { TMPDIR: tmp });
  assert.equal(r.code, 2);
  assert.deepEqual(readdirSync(tmp), [`coroner-ingest-${process.pid}-abcdef`], "the dead run's folders are gone, the live one's stays");
});

/**
 * A tar.gz whose first member is an ELF core header followed by SIZE bytes of 'A' (a few MB of
 * gzip that unpack to SIZE on disk: zeros would be holes), then the core AFTER.
 */
async function bombArchive(out: string, size: number, after: string): Promise<string> {
  const pack = tar.pack();
  const written = pipeline(pack, createGzip({ level: 1 }), createWriteStream(out));
  const head = readFileSync(after).subarray(0, 64);
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name: 'cores/core.bomb', size: head.length + size, mode: 0o644 }, (err) => (err ? reject(err) : resolve()));
    const chunk = Buffer.alloc(1 << 20, 0x41);
    let left = size;
    entry.write(head);
    const more = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!entry.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          entry.once('drain', more);
          return;
        }
      }
      entry.end(Buffer.alloc(0));
    };
    more();
  });
  await new Promise<void>((resolve, reject) => {
    const source = createReadStream(after);
    const entry = pack.entry({ name: `cores/${after.split('/').pop()}`, size: statSync(after).size, mode: 0o644 }, (err) => (err ? reject(err) : resolve()));
    source.pipe(entry);
  });
  pack.finalize();
  await written;
  return out;
}

test('--max-unpacked: a member beyond the ceiling fails with one line, the next member still goes in', async () => {
  const { core } = await fixture('recursion');
  const bomb = await bombArchive(join(tempDir(), 'bomb.tar.gz'), 200e6, core);
  assert.ok(statSync(bomb).size < 5e6, `a small archive (${statSync(bomb).size} bytes)`);
  const db = tempDb();
  const r = runCli(['ingest', bomb, '--db', db, '--max-unpacked', '100M']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.ok(failedLines(r).includes(`failed ${bomb}:cores/core.bomb: not unpacked: it is 200.0 MB, which goes beyond --max-unpacked 100.0 MB for one archive (0 B unpacked before it); raise --max-unpacked if the archive is trusted`), r.stderr);
  assert.match(r.stdout, new RegExp(`^ingested ${bomb}:cores/core\\.\\d+ as dump 1`, 'm'));
  assert.equal(dumps(db), 1);
  const bad = runCli(['ingest', bomb, '--db', db, '--max-unpacked', 'lots']);
  assert.equal(bad.stderr.trim(), 'coroner: --max-unpacked lots: not a size; give e.g. 8G, 500M or 1048576');
});

test('an archive that unpacks beyond the free space: that member fails saying what it needed and what was free, the next goes in', { skip: !asRoot && NOT_ROOT }, async () => {
  const { core } = await fixture('recursion'); // 15 MB, fits the disk once the bomb is gone
  const bomb = await bombArchive(join(tempDir(), 'bomb.tar.gz'), 200e6, core);
  const tmp = smallDisk(32 << 20);
  const db = tempDb();
  const r = runCli(['ingest', bomb, '--db', db], { TMPDIR: tmp });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const line = failedLines(r).find((l) => l.startsWith(`failed ${bomb}:cores/core.bomb: `));
  assert.match(line ?? r.stderr, new RegExp(`: not unpacked: it needs 200\\.0 MB and only [\\d.]+ [KM]?B is free on ${tmp} \\([\\d.]+ MB of it written when it stopped\\); free space there, or set TMPDIR to a larger disk$`));
  assert.match(r.stdout, new RegExp(`^ingested ${bomb}:cores/core\\.\\d+ as dump 1`, 'm'));
  assert.equal(dumps(db), 1);
  assert.deepEqual(readdirSync(tmp), []);
});
