// `coroner pack` and the ingest of a bundle: the core travels with every file it mapped and
// their debug files, and is analyzed from those alone. The proof that the machine's own files
// are not used: the same bundle without its debug files (or without its executable) fails,
// although this machine has both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, runCli, showJson, tempDb, tempDir, truthOf, type CliResult } from './helpers.js';
import { pathOfLength, renamedMapping } from './unit/core-mutations.js';

const PYTHON = '/usr/bin/python3.11';

function buildIdOf(path: string): string {
  return /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', path], { encoding: 'utf8' }))![1]!;
}

function tarList(archive: string): string[] {
  return execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
}

/** The bundle again, without the files under REMOVE (the manifest still first). */
function bundleWithout(bundle: string, remove: string, out: string): string {
  const dir = tempDir();
  execFileSync('tar', ['-xzf', bundle, '-C', dir]);
  rmSync(join(dir, remove), { recursive: true });
  execFileSync('tar', ['-czf', out, '-C', dir, ...['coroner-bundle.json', ...readdirSync(dir).filter((e) => e !== 'coroner-bundle.json')]]);
  return out;
}

function ingestOwnTmp(args: string[]): CliResult & { leftInTmp: string[] } {
  const tmp = tempDir('coroner-tmp-');
  const r = runCli(args, { TMPDIR: tmp, CI: 'true' });
  return { ...r, leftInTmp: readdirSync(tmp) };
}

test('pack: the core, the files it mapped, their debug files by build-id, a manifest first', async () => {
  const { core } = await fixture('recursion');
  const bundle = join(tempDir(), 'bundle.tar.gz');
  const r = runCli(['pack', core, '-o', bundle]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^packed ${core} into ${bundle}: the core, \\d+ files it mapped, \\d+ debug files \\([\\d.]+ MB before compression\\)$`, 'm'));
  const entries = tarList(bundle);
  assert.equal(entries[0], 'coroner-bundle.json', 'the manifest comes first');
  const id = buildIdOf(PYTHON);
  for (const want of [`core/${core.split('/').pop()}`, `sysroot${PYTHON}`, `sysroot/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`]) {
    assert.ok(entries.includes(want), `${want} in the bundle: ${entries.join(', ')}`);
  }
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', bundle, 'coroner-bundle.json'], { encoding: 'utf8' })) as {
    format: string; core: string; created_at: string; coroner_version: string; files: { entry: string; kind: string; build_id?: string }[];
  };
  assert.equal(manifest.format, 'coroner-bundle');
  assert.equal(manifest.core, `core/${core.split('/').pop()}`);
  assert.ok(Date.now() - Date.parse(manifest.created_at) < 120_000, 'created_at is now');
  assert.match(manifest.coroner_version, /^\d+\.\d+\.\d+/);
  assert.equal(manifest.files.find((f) => f.entry === `sysroot${PYTHON}`)?.build_id, id);
  assert.deepEqual(manifest.files.map((f) => f.entry), entries.slice(1), 'the manifest lists every file');
});

test('a bundle is analyzed from its own files: frames equal the truth, the system debug files are not used', async () => {
  const fx = await fixture('recursion');
  const truth = truthOf(fx);
  const work = tempDir();
  const bundle = join(work, 'bundle.tar.gz');
  assert.equal(runCli(['pack', fx.core, '-o', bundle]).code, 0);

  const db = tempDb();
  const r = ingestOwnTmp(['ingest', bundle, '--db', db]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const name = `${bundle}:core/${fx.core.split('/').pop()}`;
  assert.match(r.stdout, new RegExp(`^ingested ${name} as dump 1: 1 thread,`, 'm'));
  assert.deepEqual(r.leftInTmp, [], 'the unpacked bundle is deleted');
  const shown = showJson(db, '1');
  assert.equal(shown.core.path, name);
  assert.equal(Date.parse(shown.core.taken_at), Math.floor(statSync(fx.core).mtimeMs / 1000) * 1000, "taken_at is the core's mtime");
  assert.equal(shown.core.pid, truth.pid);
  assert.equal(shown.python.version, truth.python);
  const main = shown.threads.find((t) => t.tid === truth.pid)!;
  const want = truth.threads.find((t) => t.native_id === truth.pid)!.frames!;
  assert.deepEqual(main.python_frames.map((f) => `${f.function} ${f.file}:${f.line}`), want.map((f) => `${f.function} ${f.file}:${f.line}`));
  for (const [local, repr] of Object.entries(want[0]!.locals ?? {})) assert.equal(main.python_frames[0]!.locals[local], repr, `local ${local}`);
  assert.ok(main.native_frames.some((f) => f.function === '_PyEval_EvalFrameDefault' && f.file), 'native frames have their source lines (debug info read)');

  // Kept with --keep-cores, a bundle stays whole (its core and the files it mapped), and the dump
  // says where both are, for a later diff to read it again.
  const keptDb = tempDb();
  const kept = join(work, 'kept');
  assert.equal(ingestOwnTmp(['ingest', bundle, '--db', keptDb, '--keep-cores', kept]).code, 0);
  const keptCore = showJson(keptDb, '1').core as unknown as { sha256: string; file: string; sysroot: string };
  assert.equal(keptCore.file, join(kept, keptCore.sha256, 'core', fx.core.split('/').pop()!));
  assert.ok(readFileSync(keptCore.file).equals(readFileSync(fx.core)), 'the kept core is the core');
  assert.equal(keptCore.sysroot, join(kept, keptCore.sha256, 'sysroot'));
  assert.ok(existsSync(join(keptCore.sysroot, PYTHON)), 'the files it mapped are kept with it');

  // This machine has python3.11's debug file; a bundle without debug files must still fail,
  // so the analysis above read the bundle's, and gdb never looks at /usr/lib/debug for a bundle.
  const id = buildIdOf(PYTHON);
  assert.ok(existsSync(`/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`), 'the system has the debug file');
  const noDebug = bundleWithout(bundle, 'sysroot/usr/lib/debug', join(work, 'no-debug.tar.gz'));
  const failed = ingestOwnTmp(['ingest', noDebug, '--db', tempDb()]);
  assert.equal(failed.code, 2, failed.stdout);
  assert.match(failed.stderr, new RegExp(`^failed ${noDebug}:core/core\\.\\d+: debug info for ${noDebug}:sysroot${PYTHON} not found`, 'm'));
  assert.deepEqual(failed.leftInTmp, []);

  // Likewise the executable: it is the bundle's, not this machine's /usr/bin/python3.11.
  const noExe = bundleWithout(bundle, `sysroot${PYTHON}`, join(work, 'no-exe.tar.gz'));
  const missing = ingestOwnTmp(['ingest', noExe, '--db', tempDb()]);
  assert.equal(missing.code, 2, missing.stdout);
  assert.match(missing.stderr, new RegExp(`the executable ${noExe}:sysroot${PYTHON} is not on this machine`));
});

test('pack of a file that is not a core: one line, exit 2, no bundle written', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'x'));
  const out = join(dir, 'b.tar.gz');
  const r = runCli(['pack', PYTHON, '-o', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^coroner: \/usr\/bin\/python3\.11: .*not a core file/);
  assert.deepEqual(readdirSync(dir), ['x']);
});

test('a forged core naming /etc/shadow and another ELF file: pack takes neither, and says why for each', async () => {
  const { core } = await fixture('recursion');
  const dir = tempDir();
  const ctype = '/usr/lib/locale/C.utf8/LC_CTYPE';
  const libz = '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13';
  // The same lengths as the names they replace: /etc/shadow through doubled slashes, and a link to gdb.
  const shadow = `/etc${'/'.repeat(ctype.length - '/etc'.length - 'shadow'.length)}shadow`;
  const other = pathOfLength(dir, 'lib', libz.length);
  symlinkSync('/usr/bin/gdb', other);
  const forged = join(dir, 'core.forged');
  writeFileSync(forged, renamedMapping(renamedMapping(readFileSync(core), ctype, shadow), libz, other));
  const bundle = join(dir, 'bundle.tar.gz');

  const r = runCli(['pack', forged, '-o', bundle]);

  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes(`not packed: ${shadow}: not an ELF file, nor locale or iconv data in its system place: a file the core names is not taken on its word\n`), r.stderr);
  assert.ok(r.stderr.includes(`not packed: ${other}: a different file: its build-id is ${buildIdOf('/usr/bin/gdb')}, the core's memory shows ${buildIdOf(libz)}\n`), r.stderr);
  const entries = tarList(bundle);
  assert.ok(!entries.some((e) => /shadow|gdb|lib_+$/.test(e)), entries.join('\n'));
  assert.ok(entries.includes('sysroot/usr/lib/x86_64-linux-gnu/libc.so.6'), 'the files the core really mapped are still packed');
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', bundle, 'coroner-bundle.json'], { encoding: 'utf8' })) as { missing: { path: string; reason: string }[] };
  // libz's later mappings still name it, but its first (the ELF header) now names the other file.
  assert.deepEqual(manifest.missing.map((m) => m.path).sort(), [other, shadow, libz].sort());
  assert.match(manifest.missing.find((m) => m.path === libz)!.reason, /^the core's memory shows no build-id for it/);
});
