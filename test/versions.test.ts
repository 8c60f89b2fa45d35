// The fixture cores of every CPython version make-cores covers here (3.11 on the host; 2.7, 3.9,
// 3.13 in Debian chroots; CORONER_TEST_PYTHONS): each version that make-cores reported available
// has a core of every workload not skipped for it, with a truth file that parses and says what
// that interpreter said. coroner does not analyze the other versions' cores yet: this checks the
// fixtures only. The versions covered, and why any is not, are printed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/base/paths.js';
import { allFixtureCores, fixturePythons, ingestArgsOf, uncoveredPythons, versionFixture } from './helpers.js';

const workloadsDir = join(packageRoot, 'fixtures', 'workloads');
const WORKLOADS = readdirSync(workloadsDir).filter((f) => f.endsWith('.py') && !f.startsWith('_')).map((f) => f.slice(0, -3));
const VARIANTS = ['fragmentation_tcmalloc', 'fragmentation_jemalloc'];
const CHECKPOINTS: Record<string, number> = { census: 3, asyncio_service: 2 };

interface AnyTruth {
  workload: string;
  pid: number;
  python: string;
  executable: string;
  argv: string[];
  gc_enabled: boolean;
  threads: { ident: number; native_id: number | null; name: string; current: boolean; frames: { function: string; file: string; line: number }[] | null }[];
  expect: object;
  extra: object;
  checkpoint: number;
}

test('versions: which CPython versions the fixture cores cover', async (t) => {
  const covered = await fixturePythons();
  const uncovered = await uncoveredPythons();
  const lines = [
    ...covered.map((p) => `covered: ${p.id} (${p.version}${p.sysroot ? `, sysroot ${p.sysroot}` : ''})`),
    ...uncovered.map((p) => `NOT covered: ${p.id}: ${p.reason}`),
  ];
  for (const l of lines) t.diagnostic(l);
  assert.ok(covered.some((p) => p.id === '3.11'), 'the host python3.11 is always covered');
});

test('versions: every available version has a core of each workload it runs, with parseable truth', async () => {
  const m = await allFixtureCores();
  const available = m.pythons.filter((p) => p.available);
  assert.ok(available.length >= 1);
  for (const p of available) {
    const cores = m.cores.filter((c) => c.python === p.id);
    assert.ok(cores.length > 0, `${p.id}: make-cores reported it available, so it has cores`);
    const skipped = new Set(p.skipped.map((s) => s.workload));
    for (const workload of [...WORKLOADS, ...VARIANTS]) {
      if (skipped.has(workload)) continue;
      const n = CHECKPOINTS[workload] ?? 1;
      const its = cores.filter((c) => c.workload === workload).map((c) => c.checkpoint).sort();
      assert.deepEqual(its, Array.from({ length: n }, (_, i) => i + 1), `${p.id} ${workload}: checkpoints 1..${n}`);
    }
    for (const c of cores) {
      const where = `${p.id} ${c.workload} #${c.checkpoint}`;
      assert.ok(statSync(c.core).size > 1 << 20, `${where}: ${c.core} is a core`);
      assert.equal(c.sysroot, p.sysroot, `${where}: sysroot recorded`);
      assert.equal(c.debugDir, p.debugDir, `${where}: debug dir recorded`);
      if (c.sysroot) {
        assert.ok(existsSync(join(c.sysroot, p.python)), `${where}: the interpreter is in the sysroot`);
        assert.ok(c.debugDir && existsSync(join(c.debugDir, '.build-id')), `${where}: the sysroot has debug files by build-id`);
      }
      const truth = JSON.parse(readFileSync(c.truth, 'utf8')) as AnyTruth;
      assert.equal(truth.workload, c.workload, where);
      assert.equal(truth.checkpoint, c.checkpoint, where);
      assert.ok(Number.isInteger(truth.pid) && truth.pid > 0, `${where}: pid`);
      assert.equal(truth.python, p.version, `${where}: the interpreter's own version`);
      assert.ok(existsSync(join(c.sysroot ?? '/', truth.executable)), `${where}: executable ${truth.executable}`);
      assert.ok(Array.isArray(truth.argv) && truth.argv[0]!.endsWith(`${c.workload.replace(/_(tcmalloc|jemalloc)$/, '')}.py`), `${where}: argv`);
      assert.equal(typeof truth.gc_enabled, 'boolean');
      assert.equal(typeof truth.expect, 'object');
      assert.equal(typeof truth.extra, 'object');
      assert.ok(truth.threads.length >= 1, `${where}: threads`);
      for (const th of truth.threads) {
        assert.ok(Number.isInteger(th.ident), `${where}: thread ident`);
        assert.ok(Number.isInteger(th.native_id) && th.native_id! > 0, `${where}: ${th.name}'s native id (${th.native_id})`);
        assert.equal(typeof th.name, 'string');
        if (th.frames) for (const f of th.frames) assert.ok(f.function && f.file && Number.isInteger(f.line), `${where}: frame ${JSON.stringify(f)}`);
      }
      assert.ok(truth.threads.some((th) => th.native_id === truth.pid), `${where}: the main thread's native id is the pid`);
    }
  }
});

test('versions: versionFixture gives a core with the ingest arguments of its version', async () => {
  for (const p of await fixturePythons()) {
    const f = await versionFixture(p.id, 'recursion');
    assert.equal(f.python, p.id);
    assert.deepEqual(f.ingestArgs, ingestArgsOf(p));
    if (p.sysroot) assert.deepEqual(f.ingestArgs, ['--sysroot', p.sysroot, '--debug-dir', join(p.sysroot, 'usr', 'lib', 'debug')]);
    else assert.deepEqual(f.ingestArgs, []);
  }
  await assert.rejects(versionFixture('0.0', 'recursion'), /no fixture core for recursion #1 of python 0\.0/);
});
