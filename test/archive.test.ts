// Archives and standard input as inputs of `coroner ingest`: a tar.gz of real cores (several
// processes, a broken core, a duplicate) in one command; hostile entries refused one by one while
// the good core beside them goes in; a core and an archive piped in; no temporary file left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { archiveOfCores } from '../scripts/lib/archive-bench.js';
import { writeTarGz } from '../src/bundle/tar-gz.js';
import { cli, fixture, runCli, showJson, tempDb, tempDir, truthOf, type CliResult } from './helpers.js';

interface Listed {
  id: number;
  path: string;
  sha256: string;
  pid: number;
  taken_at: string;
}

function listJson(db: string): Listed[] {
  const r = runCli(['list', '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed[];
}

function sha256(path: string): string {
  return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]!;
}

/** The first half of a core: an ELF core header that promises more than the file holds. */
function truncatedCopy(from: string, to: string): string {
  const bytes = Math.floor(statSync(from).size / 2);
  const buf = Buffer.alloc(bytes);
  const fd = openSync(from, 'r');
  readSync(fd, buf, 0, bytes, 0);
  closeSync(fd);
  writeFileSync(to, buf);
  return to;
}

/** The CLI with a temporary folder of its own, to see that it leaves nothing in it. */
function runWithOwnTmp(args: string[], input?: Buffer): CliResult & { leftInTmp: string[] } {
  const tmp = tempDir('coroner-tmp-');
  const r = runCli(args, { TMPDIR: tmp, CI: 'true' }, input);
  return { ...r, leftInTmp: readdirSync(tmp) };
}

test('a tar.gz of cores from several processes, a broken core and a duplicate: one command, the right summary', async () => {
  const census = await Promise.all([1, 2, 3].map((n) => fixture('census', n)));
  const recursion = await fixture('recursion');
  const crash = await fixture('crash');
  const deadlock = await fixture('deadlock');
  const work = tempDir();
  const broken = truncatedCopy(recursion.core, join(work, 'core.99999'));
  const readme = join(work, 'README.txt');
  writeFileSync(readme, 'not a core: passed over without a word\n');
  const members = [...census.map((c) => c.core), recursion.core, crash.core, deadlock.core, broken, census[0]!.core, readme];
  const archive = await archiveOfCores(members, join(work, 'artifacts.tar.gz'));
  const db = tempDb();

  const r = runWithOwnTmp(['ingest', archive, '--db', db, '--jobs', '2']);

  assert.equal(r.code, 2, `exit 2: one core failed\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^6 ingested, 1 skipped as duplicates, 1 failed$/m);
  const name = (core: string, suffix = ''): string => `${archive}:cores/${core.split('/').pop()}${suffix}`;
  assert.match(r.stdout, new RegExp(`^  failed: ${name(broken)}: truncated core \\(\\d+ of \\d+ bytes\\)`, 'm'));
  assert.match(r.stdout, new RegExp(`^skipped ${name(census[0]!.core, '.2')}: the same core as ${name(census[0]!.core)} \\(dump [1-9]\\d*\\)$`, 'm'));
  assert.doesNotMatch(r.stdout + r.stderr, /README/, 'a file that is not a core is passed over silently');
  // eslint-disable-next-line no-control-regex -- the terminal's escape (ESC [) is what is looked for
  assert.doesNotMatch(r.stderr, /\r|\x1b\[/, 'no progress redrawing when stderr is not a terminal');
  assert.deepEqual(r.leftInTmp, [], 'the temporary copies are deleted');

  const listed = listJson(db);
  const good = [...census.map((c) => c.core), recursion.core, crash.core, deadlock.core];
  assert.deepEqual(listed.map((d) => d.path).sort(), good.map((c) => name(c)).sort(), 'each dump is named ARCHIVE:ENTRY');
  for (const core of good) {
    const dump = listed.find((d) => d.path === name(core))!;
    assert.equal(dump.sha256, sha256(core), `${core}: the copy out of the archive is the core, byte for byte`);
    const mtime = Math.floor(statSync(core).mtimeMs / 1000) * 1000;
    assert.equal(Date.parse(dump.taken_at), mtime, `${core}: taken_at is the tar entry's mtime`);
  }
  // The cores were analyzed for real: the recursion core's stack, frame by frame.
  const truth = truthOf(recursion);
  const shown = showJson(db, name(recursion.core));
  const main = shown.threads.find((t) => t.tid === truth.pid)!;
  const want = truth.threads.find((t) => t.native_id === truth.pid)!.frames!;
  assert.deepEqual(main.python_frames.map((f) => `${f.function} ${f.file}:${f.line}`), want.map((f) => `${f.function} ${f.file}:${f.line}`));
});

test('hostile tar entries are refused one by one, the good core beside them still goes in', async () => {
  const good = await fixture('crash');
  const other = await fixture('recursion');
  const work = tempDir();
  const archive = join(work, 'hostile.tar.gz');
  await writeTarGz(archive, [
    { header: { name: '../evil' }, file: other.core },
    { header: { name: 'cores/../../evil2' }, file: other.core },
    { header: { name: '/abs/core' }, file: other.core },
    { header: { name: 'cores/link', type: 'symlink', linkname: '/etc/passwd' } },
    { header: { name: 'cores/hard', type: 'link', linkname: 'cores/good' } },
    { header: { name: 'cores/good' }, file: good.core },
  ]);
  const db = tempDb();

  const r = runWithOwnTmp(['ingest', archive, '--db', db]);

  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^1 ingested, 0 skipped as duplicates, 5 failed$/m);
  const refused = r.stderr.trim().split('\n');
  assert.equal(refused.length, 5, `one line per refused entry:\n${r.stderr}`);
  assert.match(refused[0]!, new RegExp(`^failed ${archive}:\\.\\./evil: refused, a path with '\\.\\.' that would leave the folder it is unpacked in; make the archive from inside the folder`));
  assert.match(refused[1]!, new RegExp(`^failed ${archive}:cores/\\.\\./\\.\\./evil2: refused, a path with '\\.\\.'`));
  assert.match(refused[2]!, new RegExp(`^failed ${archive}:/abs/core: refused, an absolute path;`));
  assert.match(refused[3]!, new RegExp(`^failed ${archive}:cores/link: refused, a symbolic link \\(to /etc/passwd\\); put the core itself in the archive`));
  assert.match(refused[4]!, new RegExp(`^failed ${archive}:cores/hard: refused, a hard link \\(to cores/good\\); put the core itself in the archive`));
  assert.match(r.stdout, new RegExp(`^ingested ${archive}:cores/good as dump 1:`, 'm'));
  assert.deepEqual(listJson(db).map((d) => d.pid), [truthOf(good).pid]);
  assert.ok(!existsSync(join(dirname(work), 'evil')) && !existsSync('/abs/core'), 'nothing written where the names point');
  assert.deepEqual(r.leftInTmp, []);
});

test('a GNU sparse entry is refused with a clear line; the entries after it still go in', async () => {
  const good = await fixture('crash');
  const work = tempDir();
  const holey = join(work, 'core.sparse');
  copyFileSync((await fixture('recursion')).core, holey);
  execFileSync('truncate', ['-s', '+64M', holey]); // a hole at the end: tar --sparse stores it as a sparse entry
  copyFileSync(good.core, join(work, 'core.good'));
  const archive = join(work, 'sparse.tar.gz');
  execFileSync('tar', ['--sparse', '--format=gnu', '-czf', archive, '-C', work, 'core.sparse', 'core.good']);
  const db = tempDb();

  const r = runWithOwnTmp(['ingest', archive, '--db', db]);

  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr.trim(), `failed ${archive}:core.sparse: refused, a GNU sparse entry, which coroner cannot read whole; make the archive without --sparse (-S)`);
  assert.match(r.stdout, new RegExp(`^ingested ${archive}:core.good as dump 1:`, 'm'));
  assert.match(r.stdout, /^1 ingested, 0 skipped as duplicates, 1 failed$/m);
});

test('a damaged archive: the cores before the damage go in, one line names the archive', async () => {
  const first = await fixture('crash');
  const second = await fixture('recursion');
  const work = tempDir();
  const whole = await archiveOfCores([first.core, second.core], join(work, 'whole.tar.gz'));
  // Cut the plain tar in the middle of the second core: the first one is whole before it.
  const firstEnd = 512 + Math.ceil(statSync(first.core).size / 512) * 512;
  const cut = join(work, 'cut.tar');
  writeFileSync(cut, gunzipSync(readFileSync(whole)).subarray(0, firstEnd + 512 + Math.floor(statSync(second.core).size / 2)));
  const db = tempDb();

  const r = runWithOwnTmp(['ingest', cut, '--db', db]);

  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^failed ${cut}: damaged archive after ${cut}:cores/${first.core.split('/').pop()}: .*; check that it was written and copied whole$`, 'm'));
  assert.equal(listJson(db).length, 1, 'the core before the damage is stored');
  assert.deepEqual(r.leftInTmp, []);
});

test('standard input: a core piped in, and a tar.gz piped in', async () => {
  const core = await fixture('crash');
  const truth = truthOf(core);
  const db = tempDb();

  const one = runWithOwnTmp(['ingest', '-', '--db', db], readFileSync(core.core));
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^ingested stdin as dump 1: /m);
  const shown = showJson(db, '1');
  assert.equal(shown.core.path, 'stdin');
  assert.equal(shown.core.pid, truth.pid);
  assert.equal(shown.core.sha256, sha256(core.core));
  assert.deepEqual(one.leftInTmp, []);

  const other = await fixture('recursion');
  const archive = await archiveOfCores([core.core, other.core], join(tempDir(), 'piped.tar.gz'));
  const two = runWithOwnTmp(['ingest', '-', '--db', db], readFileSync(archive));
  assert.equal(two.code, 0, two.stderr);
  assert.match(two.stdout, /^skipped stdin:cores\/core\.\d+: already stored as dump 1/m);
  assert.match(two.stdout, /^ingested stdin:cores\/core\.\d+ as dump 2: /m);
  assert.match(two.stdout, /^1 ingested, 1 skipped as duplicates, 0 failed$/m);
  assert.equal(showJson(db, '2').core.pid, truthOf(other).pid);
  assert.deepEqual(two.leftInTmp, []);

  const junk = runWithOwnTmp(['ingest', '-', '--db', db], Buffer.from('hello\n'));
  assert.equal(junk.code, 2);
  assert.match(junk.stderr, /^failed stdin: neither a core \(ELF\) nor a tar or gzip archive; give a core, a folder of cores or a \.tar\/\.tar\.gz of them$/m);
});

test('on a terminal, one progress line is redrawn: cores done of found, bytes read, the core in gdb', async () => {
  const core = await fixture('crash');
  const archive = await archiveOfCores([core.core], join(tempDir(), 'one.tar.gz'));
  const db = tempDb();
  // script(1) gives the CLI a terminal; CI unset, as on a developer's machine.
  const command = [process.execPath, cli, 'ingest', archive, '--db', db].map((a) => `'${a}'`).join(' ');
  const out = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, CI: '' } });
  // eslint-disable-next-line no-control-regex -- the status line's redraw: CR, then ESC [2K
  assert.match(out, /\r\x1b\[2K\[0\/1\+?\] [\d.]+ [KMG]?B read, analyzing .*one\.tar\.gz:cores\/core\.\d+/, JSON.stringify(out.slice(0, 400)));
  assert.match(out, /ingested .*one\.tar\.gz:cores\/core\.\d+ as dump 1/);
});
