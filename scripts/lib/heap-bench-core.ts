// The census benchmark's core: a real python3.11 process holding more than 5 million live objects
// (fixtures/bench/heap.py), dumped once with gcore and kept until the workload changes; and the
// baseline it is measured against, a straightforward gdb-Python walk of every pymalloc pool
// (scripts/bench/gdb_pool_walk.py).
import { createHash } from 'node:crypto';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../src/base/paths.js';
import { coresOfWorkload, FIXTURE_PYTHON } from './fixture-cores.js';

export const heapBenchWorkload = join(packageRoot, 'fixtures', 'bench', 'heap.py');
export const gdbPoolWalkScript = join(packageRoot, 'scripts', 'bench', 'gdb_pool_walk.py');
const NAME = 'heap-bench';
/** Rows of the workload: 600k rows hold 6.6 million objects (a core of about 440 MiB). */
export const DEFAULT_ROWS = 600_000;

interface Stamped {
  stamp: string;
  core: string;
  truth: string;
}

async function stampOf(rows: number): Promise<string> {
  const hash = createHash('sha256').update(String(rows));
  for (const file of [
    heapBenchWorkload,
    join(packageRoot, 'fixtures', 'workloads', '_checkpoint.py'),
    join(packageRoot, 'scripts', 'lib', 'fixture-cores.ts'),
  ]) {
    hash.update(file).update(await readFile(file));
  }
  hash.update(execFileSync(FIXTURE_PYTHON, ['-c', 'import sys; print(sys.version)']));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The core of the 5M-object process and its truth (OUT/heap-bench/core.PID and .truth.json),
 * made once and reused while the workload, the checkpoint helper and the core maker are unchanged.
 */
export async function heapBenchCore(outDir: string, rows = DEFAULT_ROWS): Promise<{ core: string; truth: string }> {
  const stamp = await stampOf(rows);
  const name = `${NAME}-${rows}`;
  const stampPath = join(outDir, `${name}.stamp.json`);
  if (existsSync(stampPath)) {
    const old = JSON.parse(await readFile(stampPath, 'utf8')) as Stamped;
    if (old.stamp === stamp && existsSync(old.core) && existsSync(old.truth)) return { core: old.core, truth: old.truth };
  }
  await mkdir(outDir, { recursive: true });
  const [made] = await coresOfWorkload(
    { name, command: [FIXTURE_PYTHON, heapBenchWorkload], mode: 'stop', env: { HEAP_BENCH_ROWS: String(rows) } },
    outDir,
  );
  if (!made) throw new Error(`${heapBenchWorkload} made no core`);
  const result: Stamped = { stamp, core: made.core, truth: made.truth };
  await writeFile(stampPath, JSON.stringify(result, null, 1));
  return { core: made.core, truth: made.truth };
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
