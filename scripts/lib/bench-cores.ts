// The benchmarks' cores. The census's: a real CPython process holding more than 5 million live objects
// (fixtures/bench/heap.py), dumped once with gcore and kept until the workload changes; made with
// the host's python3.11 by default, or with any fixture interpreter (scripts/lib/pythons.ts: 2.7,
// 3.9 and 3.13 run in their Debian chroots); and the baseline it is measured against, a
// straightforward gdb-Python walk of every pymalloc pool of a 3.11 core (scripts/bench/gdb_pool_walk.py).
// The tasks benchmark's: an asyncio process with N waiting tasks (fixtures/bench/tasks.py).
import { createHash } from 'node:crypto';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../src/base/paths.js';
import { STAMP as CHROOT_STAMP } from './chroots.js';
import { coresOfWorkload, FIXTURE_PYTHON, type FixtureCore, type WorkloadRun } from './fixture-cores.js';
import { DEFAULT_PYTHON_ID, chrootEnv, chrootedCommand, resolvePythons, type ResolvedPython } from './pythons.js';

export const gdbPoolWalkScript = join(packageRoot, 'scripts', 'bench', 'gdb_pool_walk.py');
const checkpointHelper = join(packageRoot, 'fixtures', 'workloads', '_checkpoint.py');

/** A bench workload in fixtures/bench: its file, the name of its cores, the variable that sizes it. */
export interface BenchWorkload {
  file: string;
  name: string;
  sizeVar: string;
}

export const HEAP_BENCH: BenchWorkload = { file: 'heap.py', name: 'heap-bench', sizeVar: 'HEAP_BENCH_ROWS' };
/** An asyncio loop with N waiting tasks, each three coroutines deep (fixtures/bench/tasks.py). */
export const TASKS_BENCH: BenchWorkload = { file: 'tasks.py', name: 'tasks-bench', sizeVar: 'TASKS_BENCH_N' };
const scriptOf = (w: BenchWorkload): string => join(packageRoot, 'fixtures', 'bench', w.file);
/** Rows of the workload: 600k rows hold 6.6 million objects (a core of about 440 MiB). */
export const DEFAULT_ROWS = 600_000;
/** Where the workload is copied to inside a chroot (not make-cores's folder: each removes its own). */
// Per process, as make-cores' folder: runs from two checkouts share the chroots.
const IN_CHROOT = `/coroner-heap-bench-${process.pid}`;

interface Stamped {
  stamp: string;
  core: string;
  truth: string;
}

/** A heap-bench core, where it is and how to read it (sysroot and debugDir are null for the host's 3.11). */
export interface HeapBenchCore extends Pick<FixtureCore, 'core' | 'truth' | 'sysroot' | 'debugDir'> {
  /** The interpreter's id (scripts/lib/pythons.ts). */
  python: string;
}

async function stampOf(w: BenchWorkload, rows: number, p: ResolvedPython | null): Promise<string> {
  const hash = createHash('sha256').update(String(rows));
  for (const file of [scriptOf(w), checkpointHelper, join(packageRoot, 'scripts', 'lib', 'fixture-cores.ts')]) {
    hash.update(file).update(await readFile(file));
  }
  if (!p) {
    // The host's 3.11: the stamp as it always was.
    hash.update(execFileSync(FIXTURE_PYTHON, ['-c', 'import sys; print(sys.version)']));
  } else {
    hash.update(join(packageRoot, 'scripts', 'lib', 'bench-cores.ts')).update(await readFile(join(packageRoot, 'scripts', 'lib', 'bench-cores.ts')));
    hash.update(`${p.id} ${p.python} ${p.chroot ?? ''}\n`).update(p.fullVersion ?? '');
    if (p.sysroot && existsSync(join(p.sysroot, CHROOT_STAMP))) hash.update(readFileSync(join(p.sysroot, CHROOT_STAMP)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The core of the 5M-object process and its truth, made with the fixture interpreter PYTHON (an
 * id of scripts/lib/pythons.ts; default the host's 3.11), made once and reused while the
 * workload, the checkpoint helper, the core maker and the interpreter are unchanged: 3.11's in
 * OUT/heap-bench-ROWS/ (where it always was), another's in OUT/heap-bench-ROWS-pyID/ with a stamp
 * of its own. A chrooted interpreter's core is sparse (as make-cores keeps them) and is read with
 * its sysroot and debugDir. Throws when the interpreter cannot run here (the reason says why).
 */
export function heapBenchCore(outDir: string, rows = DEFAULT_ROWS, python: string = DEFAULT_PYTHON_ID): Promise<HeapBenchCore> {
  return benchCore(HEAP_BENCH, outDir, rows, python);
}

/** The core of bench workload W of size N (its sizeVar), made and kept as heapBenchCore's. */
export async function benchCore(w: BenchWorkload, outDir: string, rows: number, python: string = DEFAULT_PYTHON_ID): Promise<HeapBenchCore> {
  const workload = scriptOf(w);
  let p: ResolvedPython | null = null;
  if (python !== DEFAULT_PYTHON_ID) {
    const [resolved] = await resolvePythons([python], { makeChroots: false });
    if (!resolved?.available) throw new Error(`no heap-bench core of ${python}: ${resolved?.reason ?? 'unknown interpreter'}`);
    p = resolved;
  }
  const origin = { python, sysroot: p?.sysroot ?? null, debugDir: p?.debugDir ?? null };
  const stamp = await stampOf(w, rows, p);
  const name = p ? `${w.name}-${rows}-py${python}` : `${w.name}-${rows}`;
  const stampPath = join(outDir, `${name}.stamp.json`);
  if (existsSync(stampPath)) {
    const old = JSON.parse(await readFile(stampPath, 'utf8')) as Stamped;
    if (old.stamp === stamp && existsSync(old.core) && existsSync(old.truth)) return { core: old.core, truth: old.truth, ...origin };
  }
  await mkdir(outDir, { recursive: true });
  const env = { [w.sizeVar]: String(rows) };
  let spec: WorkloadRun = { name, command: [p?.python ?? FIXTURE_PYTHON, workload], mode: 'stop', env };
  const inChroot = p?.sysroot ? join(p.sysroot, IN_CHROOT.slice(1)) : null;
  if (p?.sysroot && inChroot) {
    // The workload finds _checkpoint.py at ../workloads: both are copied so, afresh.
    await rm(inChroot, { recursive: true, force: true });
    await mkdir(join(inChroot, 'bench'), { recursive: true });
    await mkdir(join(inChroot, 'workloads'), { recursive: true });
    await cp(workload, join(inChroot, 'bench', w.file));
    await cp(checkpointHelper, join(inChroot, 'workloads', '_checkpoint.py'));
    spec = {
      name,
      command: chrootedCommand(p.sysroot, [p.python, `${IN_CHROOT}/bench/${w.file}`], `${IN_CHROOT}/run`),
      mode: 'stop',
      env,
      fullEnv: chrootEnv(),
      cwd: join(inChroot, 'run'),
      origin,
      sparse: true,
    };
  } else if (p) {
    spec = { ...spec, origin, sparse: true };
  }
  let made: FixtureCore | undefined;
  try {
    [made] = await coresOfWorkload(spec, outDir);
  } finally {
    if (inChroot) await rm(inChroot, { recursive: true, force: true });
  }
  if (!made) throw new Error(`${workload} made no core`);
  const result: Stamped = { stamp, core: made.core, truth: made.truth };
  await writeFile(stampPath, JSON.stringify(result, null, 1));
  return { core: made.core, truth: made.truth, ...origin };
}

export interface PoolWalk {
  /** Used pymalloc blocks holding a live object of a known type. */
  objects: number;
  /** Used pymalloc blocks. */
  blocks: number;
  /** The walk's own time inside gdb (after the core and symbols are loaded). */
  seconds: number;
  /** The whole gdb run, start to exit. */
  wallMs: number;
}

/** Run the baseline on CORE: gdb in batch mode, no auto-load, no debuginfod. */
export function gdbPoolWalk(core: string): PoolWalk {
  const started = performance.now();
  const r = spawnSync(
    'gdb',
    ['-nx', '-batch', '-iex', 'set auto-load off', '-iex', 'set debuginfod enabled off', '-x', gdbPoolWalkScript, FIXTURE_PYTHON, core],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const wallMs = performance.now() - started;
  const line = r.stdout.split('\n').reverse().find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`gdb pool walk of ${core} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(line) as { objects: number; blocks: number; seconds: number };
  return { objects: out.objects, blocks: out.blocks, seconds: out.seconds, wallMs };
}
