// Makes the fixture cores the tests (and the demo) run on: every workload in fixtures/workloads
// run with each fixture interpreter (scripts/lib/pythons.ts: the host's python3.11; Debian's 2.7,
// 3.9 and 3.13 in chroots made by scripts/lib/chroots.ts; builds named by CORONER_TEST_PYTHONS),
// a core per checkpoint, the in-process truth beside each core.
// Cores are too big to commit; they are made here and kept in .cores/ until a workload changes:
// 3.11's in .cores/WORKLOAD/ (where they always were), the others' in .cores/pyID/WORKLOAD/.
// Each interpreter's cores have a stamp of their own: making one version's again keeps the others'.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile, mkdir, rm, cp } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { packageRoot } from '../src/base/paths.js';
import { coresOfWorkload, coreOfIdleProcess, type FixtureCore, type IdleProcess, type WorkloadRun } from './lib/fixture-cores.js';
import { STAMP as CHROOT_STAMP, ensureChroot } from './lib/chroots.js';
import { DEFAULT_PYTHON_ID, chrootEnv, chrootedCommand, coverageLines, resolvePythons, truthLayout, type ResolvedPython } from './lib/pythons.js';

/** What make-cores did for one interpreter: the cores it has, or why it has none. */
export interface PythonCoverage {
  id: string;
  /** The interpreter's path (inside its chroot when it has one). */
  python: string;
  chroot: string | null;
  /** coroner ingest --sysroot for this interpreter's cores (the chroot's folder), or null. */
  sysroot: string | null;
  /** coroner ingest --debug-dir for them (SYSROOT/usr/lib/debug), or null. */
  debugDir: string | null;
  /** X.Y.Z, or null when the interpreter could not run. */
  version: string | null;
  available: boolean;
  /** Why there are no cores of this interpreter (null when there are). */
  reason: string | null;
  /** The workloads (and variants) not run with this interpreter, and why. */
  skipped: { workload: string; reason: string }[];
  /** The stamp its cores were made under (null: none made). */
  stamp: string | null;
  /** Folder of its cores. */
  dir: string;
}

export interface Manifest {
  /** The stamp of the 3.11 cores (as before there were other versions). */
  stamp: string;
  /** Every core: each interpreter's (each with its `python`, `sysroot`, `debugDir`), and the native one. */
  cores: FixtureCore[];
  /** One entry per fixture interpreter asked for, covered or not. */
  pythons: PythonCoverage[];
  /** The idle processes (idleProcesses) whose core could not be made, and why. */
  unmade?: { workload: string; reason: string }[];
}

const workloadsDir = join(packageRoot, 'fixtures', 'workloads');
export const defaultCoresDir = join(packageRoot, '.cores');
/** Where the workload files are copied to inside a chroot, and where they run. */
// Per process: two checkouts making cores at once share the chroots, not this folder in them.
const IN_CHROOT = `/coroner-fixtures-${process.pid}`;

/** How each workload's cores are taken (default: it stops itself and gcore dumps it). */
const MODES: Record<string, Pick<WorkloadRun, 'mode' | 'settleMs'>> = {
  deadlock: { mode: 'settle', settleMs: 700 },
  lock_orders: { mode: 'settle', settleMs: 700 },
  crash: { mode: 'crash' },
  crash_segv: { mode: 'crash' },
};

/** The workloads given CORONER_TRUTH_LAYOUT (scripts/lib/pythons.ts truthLayout()); the others' environment is left as it was. */
const TRUTH_LAYOUT_WORKLOADS = new Set(['census']);

/**
 * Workloads run again under another name with more environment: the fragmentation workload with
 * Debian's tcmalloc (libgoogle-perftools4) and jemalloc (libjemalloc2) preloaded instead of glibc's
 * malloc. The workload checks that the library did load (ld.so only warns when it cannot).
 * The libraries are the host's: the variants run only with the host's python3.11 (`pythons`).
 */
const VARIANTS: Record<string, { workload: string; env: Record<string, string>; pythons: string[] }> = {
  fragmentation_tcmalloc: { workload: 'fragmentation', env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4' }, pythons: ['3.11'] },
  fragmentation_jemalloc: { workload: 'fragmentation', env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' }, pythons: ['3.11'] },
};

/**
 * The versions a workload needs, declared in its file by a line `# coroner: requires-python >= 3.7`
 * (and/or `< 3.12`): it is skipped, and the manifest says so, for the others.
 */
export function workloadRequirement(source: string): { min: number[] | null; max: number[] | null } {
  const min = /^#\s*coroner:\s*requires-python\b[^\n]*>=\s*(\d+)\.(\d+)/m.exec(source);
  const max = /^#\s*coroner:\s*requires-python\b[^\n]*<\s*(\d+)\.(\d+)/m.exec(source);
  return { min: min ? [Number(min[1]), Number(min[2])] : null, max: max ? [Number(max[1]), Number(max[2])] : null };
}

function versionTuple(v: string): number[] {
  return v.split('.').map(Number);
}

function before(a: number[], b: number[]): boolean {
  return a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!);
}

/** Why WORKLOAD (with its requirement) is not run with interpreter P, or null when it is. */
function skipReason(p: ResolvedPython, req: { min: number[] | null; max: number[] | null }): string | null {
  const v = versionTuple(p.version ?? '0.0');
  if (req.min && before(v, req.min)) return `needs Python >= ${req.min.join('.')} (this is ${p.version})`;
  if (req.max && !before(v, req.max)) return `needs Python < ${req.max.join('.')} (this is ${p.version})`;
  return null;
}

async function stampOf(files: string[], p: ResolvedPython): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) hash.update(file).update(await readFile(file));
  hash.update(`${p.id} ${p.python} ${p.chroot ?? ''}\n`);
  hash.update(p.fullVersion ?? '');
  if (p.sysroot && existsSync(join(p.sysroot, CHROOT_STAMP))) hash.update(readFileSync(join(p.sysroot, CHROOT_STAMP)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Processes coroner must refuse in one line: coreutils' sleep (no Python at all) and, on a run for
 * every interpreter, Debian trixie's PyPy (Python, not CPython; a chroot of its own).
 */
async function idleProcesses(everyPython: boolean, log: (s: string) => void): Promise<(IdleProcess | { workload: string; reason: string })[]> {
  const out: (IdleProcess | { workload: string; reason: string })[] = [{ workload: 'native', command: ['/bin/sleep', '600'] }];
  if (!everyPython) return out;
  try {
    const { dir } = await ensureChroot('pypy', log);
    out.push({
      workload: 'pypy',
      command: chrootedCommand(dir, ['/usr/bin/pypy3', '-c', 'import time; print("ready", flush=True); time.sleep(600)']),
      env: chrootEnv(),
      origin: { sysroot: dir, debugDir: null },
      readyLine: 'ready',
    });
  } catch (e) {
    out.push({ workload: 'pypy', reason: `chroot pypy could not be made: ${(e as Error).message}` });
  }
  return out;
}

function coresDirOf(outDir: string, id: string): string {
  return id === DEFAULT_PYTHON_ID ? outDir : join(outDir, `py${id}`);
}

async function readManifest(path: string): Promise<Manifest | null> {
  if (!existsSync(path)) return null;
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Partial<Manifest>;
    if (!Array.isArray(m.cores)) return null;
    // A manifest from before the versions: its cores are 3.11's.
    const cores = m.cores.map((c) => ({ ...c, python: c.python === undefined ? (c.workload === 'native' ? null : DEFAULT_PYTHON_ID) : c.python, sysroot: c.sysroot ?? null, debugDir: c.debugDir ?? null }));
    const pythons = m.pythons ?? [{ id: DEFAULT_PYTHON_ID, python: '/usr/bin/python3.11', chroot: null, sysroot: null, debugDir: null, version: null, available: true, reason: null, skipped: [], stamp: m.stamp ?? null, dir: '' }];
    return { stamp: m.stamp ?? '', cores, pythons };
  } catch {
    return null;
  }
}

export interface MakeCoresOptions {
  force?: boolean;
  log?: (s: string) => void;
  /** Interpreter ids to make cores for (default: every fixture interpreter). Others keep what they had. */
  pythons?: string[];
  /** Make missing chroots (default true). */
  makeChroots?: boolean;
}

export async function makeCores(outDir = defaultCoresDir, opts: MakeCoresOptions = {}): Promise<Manifest> {
  const log = opts.log ?? (() => {});
  const names = (await readdir(workloadsDir)).filter((f) => f.endsWith('.py'));
  const files = [
    ...names.map((n) => join(workloadsDir, n)),
    join(packageRoot, 'scripts', 'make-cores.ts'),
    join(packageRoot, 'scripts', 'lib', 'fixture-cores.ts'),
    join(packageRoot, 'scripts', 'lib', 'pythons.ts'),
  ];
  const pythons = await resolvePythons(opts.pythons ?? null, { makeChroots: opts.makeChroots ?? true, log });
  log(`fixture interpreters:\n${coverageLines(pythons).map((l) => `  ${l}`).join('\n')}`);
  const manifestPath = join(outDir, 'manifest.json');
  const old = opts.force ? null : await readManifest(manifestPath);
  await mkdir(outDir, { recursive: true });

  const coverage: PythonCoverage[] = [];
  const cores: FixtureCore[] = [];
  // Interpreters not asked for this time keep their cores while these are all there.
  const asked = new Set(pythons.map((p) => p.id));
  for (const prev of old?.pythons ?? []) {
    if (asked.has(prev.id)) continue;
    const its = old!.cores.filter((c) => c.python === prev.id);
    if (its.every((c) => existsSync(c.core) && existsSync(c.truth))) {
      coverage.push(prev);
      cores.push(...its);
    }
  }

  const runs = names.filter((n) => !n.startsWith('_')).sort().flatMap((file) => {
    const workload = basename(file, '.py');
    const req = workloadRequirement(readFileSync(join(workloadsDir, file), 'utf8'));
    const variants = Object.entries(VARIANTS).filter(([, v]) => v.workload === workload);
    return [
      { name: workload, file, env: {}, pythons: null as string[] | null, req },
      ...variants.map(([name, v]) => ({ name, file, env: v.env, pythons: v.pythons, req })),
    ];
  });

  for (const p of pythons) {
    const dir = coresDirOf(outDir, p.id);
    const entry: PythonCoverage = {
      id: p.id, python: p.python, chroot: p.chroot, sysroot: p.sysroot, debugDir: p.debugDir, version: p.version,
      available: p.available, reason: p.reason, skipped: [], stamp: null, dir,
    };
    coverage.push(entry);
    if (!p.available) continue;
    const stamp = await stampOf(files, p);
    const prev = old?.pythons.find((q) => q.id === p.id);
    const prevCores = old?.cores.filter((c) => c.python === p.id) ?? [];
    if (prev && prev.stamp === stamp && prevCores.length > 0 && prevCores.every((c) => existsSync(c.core) && existsSync(c.truth))) {
      log(`${p.id}: fixture cores are up to date in ${dir}`);
      Object.assign(entry, { skipped: prev.skipped, stamp });
      cores.push(...prevCores);
      continue;
    }
    try {
      cores.push(...(await coresOf(p, dir, runs, entry, log)));
      entry.stamp = stamp;
    } catch (e) {
      entry.available = false;
      entry.reason = `making its cores failed: ${(e as Error).message}`;
      log(`${p.id}: ${entry.reason}`);
    }
  }

  const unmade: { workload: string; reason: string }[] = [];
  for (const idle of await idleProcesses(!opts.pythons, log)) {
    if ('reason' in idle) {
      unmade.push(idle);
      continue;
    }
    const kept = old?.cores.find((c) => c.workload === idle.workload && c.sysroot === (idle.origin?.sysroot ?? null));
    if (kept && existsSync(kept.core) && existsSync(kept.truth) && !opts.force) cores.push(kept);
    else {
      try {
        cores.push(await coreOfIdleProcess(outDir, idle));
      } catch (e) {
        unmade.push({ workload: idle.workload, reason: (e as Error).message });
      }
    }
  }
  for (const u of unmade) log(`${u.workload}: no core: ${u.reason}`);
  const stamp311 = coverage.find((c) => c.id === DEFAULT_PYTHON_ID)?.stamp ?? '';
  // 3.11's first (code that looks a workload up by name alone finds its core), then in the order of FIXTURE_PYTHONS.
  const order = (id: string | null) => (id === DEFAULT_PYTHON_ID ? 0 : id === null ? 2 : 1);
  cores.sort((a, b) => order(a.python) - order(b.python));
  coverage.sort((a, b) => order(a.id) - order(b.id));
  const manifest: Manifest = { stamp: stamp311, cores, pythons: coverage, unmade };
  await writeFile(manifestPath, JSON.stringify(manifest, null, 1));
  return manifest;
}

type Run = { name: string; file: string; env: Record<string, string>; pythons: string[] | null; req: ReturnType<typeof workloadRequirement> };

/** Every workload run with P; its cores under DIR. Skipped workloads go to ENTRY.skipped. */
async function coresOf(p: ResolvedPython, dir: string, runs: Run[], entry: PythonCoverage, log: (s: string) => void): Promise<FixtureCore[]> {
  const origin = { python: p.id, sysroot: p.sysroot, debugDir: p.debugDir };
  if (p.id !== DEFAULT_PYTHON_ID) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let workloads = workloadsDir;
  if (p.sysroot) {
    // The workload files, copied into the chroot afresh.
    await rm(join(p.sysroot, IN_CHROOT.slice(1)), { recursive: true, force: true });
    await cp(workloadsDir, join(p.sysroot, IN_CHROOT.slice(1), 'workloads'), { recursive: true });
    workloads = `${IN_CHROOT}/workloads`;
  }
  // Where this version keeps what the census truth reads through C pointers (from its DWARF).
  const layout = await truthLayout(p);
  log(`${p.id}: truth layout ${JSON.stringify(layout)}`);
  const layoutEnv: Record<string, string> = layout ? { CORONER_TRUTH_LAYOUT: JSON.stringify(layout) } : {};
  const made: FixtureCore[] = [];
  try {
    for (const r of runs) {
      const skip = r.pythons && !r.pythons.includes(p.id) ? `runs only with ${r.pythons.join(', ')}` : skipReason(p, r.req);
      if (skip) {
        entry.skipped.push({ workload: r.name, reason: skip });
        continue;
      }
      const started = Date.now();
      const script = `${workloads}/${r.file}`;
      const env = { ...r.env, ...(TRUTH_LAYOUT_WORKLOADS.has(r.name) ? layoutEnv : {}) };
      const spec: WorkloadRun = p.sysroot
        ? {
          name: r.name,
          command: chrootedCommand(p.sysroot, [p.python, script], `${IN_CHROOT}/run/${r.name}`),
          env,
          fullEnv: chrootEnv(),
          cwd: join(p.sysroot, IN_CHROOT.slice(1), 'run', r.name),
          origin,
          sparse: true,
          ...(MODES[r.name] ?? { mode: 'stop' }),
        }
        : { name: r.name, command: [p.python, script], env, origin, sparse: p.id !== DEFAULT_PYTHON_ID, ...(MODES[r.name] ?? { mode: 'stop' }) };
      const cores = await coresOfWorkload(spec, dir);
      made.push(...cores);
      log(`${p.id} ${r.name}: ${cores.length} core(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    if (p.sysroot) await rm(join(p.sysroot, IN_CHROOT.slice(1)), { recursive: true, force: true });
  }
  if (entry.skipped.length) log(`${p.id}: skipped ${entry.skipped.map((s) => `${s.workload} (${s.reason})`).join(', ')}`);
  return made;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = await yargs(hideBin(process.argv))
    .option('out', { type: 'string', default: defaultCoresDir, describe: 'folder for the cores' })
    .option('force', { type: 'boolean', default: false, describe: 'remake even if up to date' })
    .option('pythons', { type: 'string', describe: 'comma-separated interpreter ids (default: all: 3.11,2.7,3.9,3.13 and CORONER_TEST_PYTHONS)' })
    .option('quiet', { type: 'boolean', default: false })
    .strict()
    .parse();
  const ids = argv.pythons ? argv.pythons.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const manifest = await makeCores(argv.out, {
    force: argv.force,
    pythons: ids,
    log: argv.quiet ? (s) => { if (s.startsWith('fixture interpreters')) console.log(s); } : (s) => console.log(s),
  });
  if (!argv.quiet) for (const c of manifest.cores) console.log(c.core);
  const missing = manifest.pythons.filter((p) => !p.available);
  for (const p of missing) console.log(`not covered: ${p.id}: ${p.reason}`);
}
