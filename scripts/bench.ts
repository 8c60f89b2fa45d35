// `npm run bench`: coroner's figures beside baselines measured in the same run on the same cores.
// Ratios, not absolute times, are what to compare: these machines are noisy.
//   npm run bench                 ingest vs py-bt, 2,000 asyncio tasks, the census on a 6.6M-object core,
//                                 and ingest and census per CPython version
//   npm run bench -- --big        also the census's peak memory on a core of about 2 GB
//   npm run bench -- --jobs-only  only the --jobs 1 / --jobs 2 comparison on an archive
//   npm run bench -- --versions-only  only the sections per CPython version (census objects/s
//                                 against 3.11's on the same workload; ingest vs py-bt)
//   npm run bench -- --tasks-only  only what 2,000 asyncio tasks add to an ingest
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/base/paths.js';
import { humanBytes } from '../src/base/units.js';
import { FIXTURE_PYTHON } from './lib/fixture-cores.js';
import { DEFAULT_ROWS, TASKS_BENCH, benchCore, gdbPoolWalk, heapBenchCore } from './lib/bench-cores.js';
import { archiveOfCores } from './lib/archive-bench.js';
import { defaultCoresDir, makeCores, type PythonCoverage } from './make-cores.js';
import { DEFAULT_PYTHON_ID, FIXTURE_PYTHONS } from './lib/pythons.js';

const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const REPS = 5;
const big = process.argv.includes('--big');
const jobsOnly = process.argv.includes('--jobs-only');
const versionsOnly = process.argv.includes('--versions-only');
const tasksOnly = process.argv.includes('--tasks-only');
/** The versions of the per-version sections: every fixture interpreter (3.11 first, the yardstick). */
const VERSION_IDS = FIXTURE_PYTHONS.map((p) => p.id);

function timeIt(cmd: string, args: string[]): number {
  const started = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - started;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function freshDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'coroner-bench-')), 'bench.db');
}

/**
 * Ingest one core (EXTRA: more options, --sysroot and --debug-dir for a chroot's core); the
 * census's own figures come back from the database, the peak RSS from GNU time.
 */
function ingestMeasured(core: string, extra: string[] = []): { wallMs: number; objects: number; walkMs: number; maxRssKb: number | null } {
  const db = freshDb();
  const started = performance.now();
  const useTime = existsSync('/usr/bin/time');
  const cmd = useTime ? '/usr/bin/time' : process.execPath;
  const args = useTime ? ['-f', 'maxrss_kb=%M', process.execPath, cli, 'ingest', core, '--db', db, ...extra] : [cli, 'ingest', core, '--db', db, ...extra];
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const wallMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`ingest of ${core} failed: ${r.stderr}`);
  const shown = JSON.parse(spawnSync(process.execPath, [cli, 'show', '1', '--db', db, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout) as {
    census_stats: { objects: number; walk_ms: number };
  };
  const rss = /maxrss_kb=(\d+)/.exec(r.stderr);
  return { wallMs, objects: shown.census_stats.objects, walkMs: shown.census_stats.walk_ms, maxRssKb: rss ? Number(rss[1]) : null };
}

/** Reading the whole core front to back: the floor for anything that reads the core. */
function sequentialReadMs(path: string): number {
  const buf = Buffer.allocUnsafe(8 << 20);
  const fd = openSync(path, 'r');
  const started = performance.now();
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
  return performance.now() - started;
}

const manifest = await makeCores(undefined, { pythons: jobsOnly ? [DEFAULT_PYTHON_ID] : VERSION_IDS });
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cpus, ${humanBytes(totalmem())} memory; node ${process.version}`);

function ingestBench(): void {
  // 1. The ingest of a core with threads, beside gdb's own py-bt on the same core.
  const threadsCore = manifest.cores.find((c) => c.workload === 'threads' && c.python === '3.11')!.core;
  console.log(`\n== ingest: ${threadsCore} (${humanBytes(statSync(threadsCore).size)}, 11 threads)`);
  const pybt: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < REPS; i++) {
    // Alternate the two so that drift in the machine's load hits both alike.
    pybt.push(timeIt('gdb', ['-batch', '-ex', 'thread apply all py-bt', FIXTURE_PYTHON, threadsCore]));
    ours.push(timeIt(process.execPath, [cli, 'ingest', threadsCore, '--db', freshDb()]));
  }
  console.log(`gdb -batch -ex 'thread apply all py-bt' (baseline): median ${secs(median(pybt))} of ${REPS}`);
  console.log(`coroner ingest (stacks, locals, states, census, findings, stored): median ${secs(median(ours))} of ${REPS}`);
  console.log(`ratio ingest / py-bt: ${(median(ours) / median(pybt)).toFixed(2)}x (target <= 1.5x)`);

}

// 2. The census on a core of millions of objects, beside a plain gdb-Python walk of the same pools.
async function censusBench(rows: number, withBaseline: boolean): Promise<void> {
  const { core } = await heapBenchCore(defaultCoresDir, rows);
  const size = statSync(core).size;
  console.log(`\n== census: ${core} (${humanBytes(size)})`);
  sequentialReadMs(core); // warm the page cache the same way for everybody
  const read = median([sequentialReadMs(core), sequentialReadMs(core), sequentialReadMs(core)]);
  const runs = [ingestMeasured(core), ingestMeasured(core), ingestMeasured(core)];
  const walkMs = median(runs.map((r) => r.walkMs));
  const objects = runs[0]!.objects;
  const rate = objects / (walkMs / 1000);
  console.log(`reading the core sequentially (the floor): median ${secs(read)} (${humanBytes(size / (read / 1000))}/s)`);
  console.log(`coroner census walk: ${objects.toLocaleString('en-US')} objects in median ${secs(walkMs)}: ${(rate / 1e6).toFixed(1)} M objects/s (target >= 10 M/s)`);
  console.log(`coroner ingest of this core, whole: median ${secs(median(runs.map((r) => r.wallMs)))}`);
  const rss = runs.map((r) => r.maxRssKb).filter((x): x is number => x !== null);
  if (rss.length) console.log(`peak RSS of the ingest (node or gdb, the larger): ${humanBytes(Math.max(...rss) * 1024)} (target <= 512 MB for a 2 GB core)`);
  if (!withBaseline) return;
  const walk = gdbPoolWalk(core);
  const baseRate = walk.objects / walk.seconds;
  console.log(`gdb-Python walk of the same pools (baseline): ${walk.objects.toLocaleString('en-US')} objects in ${walk.seconds.toFixed(2)} s: ${(baseRate / 1e6).toFixed(2)} M objects/s`);
  console.log(`ratio census / gdb-Python walk: ${(rate / baseRate).toFixed(1)}x faster (target >= 10x)`);
}

// 3. What reading asyncio tasks costs: the ingest of a process with 2,000 waiting tasks beside the
// same process with none.
async function tasksBench(n: number): Promise<void> {
  const none = await benchCore(TASKS_BENCH, defaultCoresDir, 0);
  const many = await benchCore(TASKS_BENCH, defaultCoresDir, n);
  console.log(`\n== asyncio tasks: ${many.core} (${n.toLocaleString('en-US')} tasks) beside ${none.core} (none)`);
  const base: number[] = [];
  const withTasks: number[] = [];
  let read = 0;
  for (let i = 0; i < REPS; i++) {
    base.push(timeIt(process.execPath, [cli, 'ingest', none.core, '--db', freshDb()]));
    const db = freshDb();
    withTasks.push(timeIt(process.execPath, [cli, 'ingest', many.core, '--db', db]));
    const shown = JSON.parse(spawnSync(process.execPath, [cli, 'show', '1', '--db', db, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout) as { tasks: unknown[] | null };
    read = shown.tasks?.length ?? 0;
  }
  console.log(`coroner ingest, no tasks (baseline): median ${secs(median(base))} of ${REPS}`);
  console.log(`coroner ingest, ${read.toLocaleString('en-US')} tasks read: median ${secs(median(withTasks))} of ${REPS}`);
  console.log(`${n.toLocaleString('en-US')} tasks add ${secs(median(withTasks) - median(base))} to an ingest (target <= 0.30 s)`);
}

if (tasksOnly) {
  await tasksBench(2000);
  process.exit(0);
}

if (!jobsOnly && !versionsOnly) {
  ingestBench();
  await tasksBench(2000);
  await censusBench(DEFAULT_ROWS, true);
  if (big) await censusBench(2_800_000, false);
}

// 4. Per CPython version: the census walk on that version's heap-bench core (same workload, same
// rows) beside 3.11's, and the ingest of its threads core beside gdb's py-bt with that version's
// libpython gdb script (a chroot's: gdb reads the chroot as its sysroot).
if (!jobsOnly) await versionsBench(manifest.pythons);

/** The -gdb.py script of the libpython of interpreter P (PYTHON inside SYSROOT), or null when its -dbg package has none. */
function libpythonGdbScript(sysroot: string, python: string, version: string): string | null {
  const autoLoad = join(sysroot, 'usr', 'share', 'gdb', 'auto-load');
  const xy = version.split('.').slice(0, 2).join('.');
  const exact = join(autoLoad, `${python}-gdb.py`); // Debian's: /usr/bin/pythonX.Y-gdb.py, the interpreter's own
  if (existsSync(exact)) return exact;
  const libDir = join(autoLoad, 'usr', 'lib', 'x86_64-linux-gnu');
  const lib = existsSync(libDir) ? readdirSync(libDir).find((f) => new RegExp(`^libpython${xy.replace('.', '\\.')}m?\\.so.*-gdb\\.py$`).test(f)) : undefined;
  if (lib) return join(libDir, lib);
  const debugDir = join(sysroot, 'usr', 'lib', 'debug');
  if (!existsSync(debugDir)) return null;
  const found = readdirSync(debugDir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('-gdb.py') && f.includes(`python${xy}`));
  return found ? join(debugDir, found) : null;
}

/** How gdb's py-bt is run on a core of interpreter P: argv before the `-ex`, and the executable. */
function pyBtArgv(p: PythonCoverage, core: string): { argv: string[]; script: string | null } {
  if (!p.sysroot) return { argv: ['-batch', '-ex', 'thread apply all py-bt', p.python, core], script: null };
  const script = libpythonGdbScript(p.sysroot, p.python, p.version ?? '');
  const argv = [
    '-batch',
    '-iex', `set sysroot ${p.sysroot}`,
    '-iex', `set debug-file-directory ${p.debugDir ?? join(p.sysroot, 'usr', 'lib', 'debug')}`,
    // The chroot's libthread_db, as the host's is for a host core.
    '-iex', `add-auto-load-safe-path ${p.sysroot}`,
    ...(script ? ['-x', script] : []),
    '-ex', 'thread apply all py-bt',
    join(p.sysroot, p.python), core,
  ];
  return { argv, script };
}

interface CensusFigures { objects: number; walkMs: number; wallMs: number; rate: number; maxRssKb: number | null; size: number; core: string }

async function versionsBench(pythons: PythonCoverage[]): Promise<void> {
  console.log(`\n== per CPython version: ${VERSION_IDS.join(', ')} (3.11, the host's, is the yardstick)`);
  const usable = VERSION_IDS.map((id) => pythons.find((p) => p.id === id) ?? null);
  for (const [k, p] of usable.entries()) {
    if (!p) console.log(`${VERSION_IDS[k]}: not measured: make-cores did not report it`);
    else if (!p.available) console.log(`${p.id}: not measured: ${p.reason}`);
    else console.log(`${p.id}: ${p.version} (${p.chroot ? `chroot ${p.chroot}: ${p.sysroot}` : 'host'}: ${p.python})`);
  }
  const here = usable.filter((p): p is PythonCoverage => !!p && p.available);
  const optsOf = (p: PythonCoverage): string[] => (p.sysroot ? ['--sysroot', p.sysroot, '--debug-dir', p.debugDir ?? join(p.sysroot, 'usr', 'lib', 'debug')] : []);

  // The census: each version's core of fixtures/bench/heap.py with the same rows; the ingests
  // alternated between the versions, REPS rounds, so that drift in the machine hits all alike.
  const cores = new Map<string, string>();
  for (const p of here) {
    try {
      cores.set(p.id, (await heapBenchCore(defaultCoresDir, DEFAULT_ROWS, p.id)).core);
    } catch (e) {
      console.log(`${p.id}: no census figures: its heap-bench core could not be made: ${(e as Error).message}`);
    }
  }
  const runs = new Map<string, ReturnType<typeof ingestMeasured>[]>();
  for (const [id, core] of cores) {
    sequentialReadMs(core); // in the page cache, as for the others
    runs.set(id, []);
  }
  for (let i = 0; i < REPS; i++) {
    for (const p of here) {
      const core = cores.get(p.id);
      if (core) runs.get(p.id)!.push(ingestMeasured(core, optsOf(p)));
    }
  }
  const census = new Map<string, CensusFigures>();
  for (const [id, rs] of runs) {
    const walkMs = median(rs.map((r) => r.walkMs));
    const objects = rs[0]!.objects;
    const rss = rs.map((r) => r.maxRssKb).filter((x): x is number => x !== null);
    census.set(id, { objects, walkMs, wallMs: median(rs.map((r) => r.wallMs)), rate: objects / (walkMs / 1000), maxRssKb: rss.length ? Math.max(...rss) : null, size: statSync(cores.get(id)!).size, core: cores.get(id)! });
  }
  const base = census.get(DEFAULT_PYTHON_ID);
  console.log(`\n-- census walk on each version's heap-bench core (${DEFAULT_ROWS.toLocaleString('en-US')} rows; median of ${REPS}, alternated)`);
  for (const p of here) {
    const c = census.get(p.id);
    if (!c) continue;
    const ratio = base ? c.rate / base.rate : null;
    const verdict = ratio === null ? '' : p.id === DEFAULT_PYTHON_ID ? ' (the yardstick)' : ` (target >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`;
    console.log(`${p.id}: ${c.core} (${humanBytes(c.size)})`);
    console.log(`  ${c.objects.toLocaleString('en-US')} objects in median ${secs(c.walkMs)}: ${(c.rate / 1e6).toFixed(1)} M objects/s; ratio to 3.11: ${ratio === null ? 'n/a (no 3.11 figure)' : ratio.toFixed(2)}${verdict}`);
    console.log(`  ingest whole: median ${secs(c.wallMs)} (walk ${((c.walkMs / c.wallMs) * 100).toFixed(0)}% of it); peak RSS ${c.maxRssKb === null ? 'n/a (no /usr/bin/time)' : humanBytes(c.maxRssKb * 1024)}`);
  }

  // Ingest vs py-bt on each version's threads core.
  console.log(`\n-- ingest vs gdb's 'thread apply all py-bt' on each version's threads core (median of ${REPS}, alternated)`);
  for (const p of here) {
    const entry = manifest.cores.find((c) => c.workload === 'threads' && c.python === p.id);
    if (!entry) {
      console.log(`${p.id}: no threads core in the manifest`);
      continue;
    }
    const truth = JSON.parse(readFileSync(entry.truth, 'utf8')) as { threads: { frames: unknown[] | null }[] };
    const truthFrames = truth.threads.reduce((n, t) => n + (t.frames?.length ?? 0), 0);
    const { argv, script } = pyBtArgv(p, entry.core);
    console.log(`${p.id}: ${entry.core} (${humanBytes(statSync(entry.core).size)}, ${truth.threads.length} threads, ${truthFrames} Python frames)`);
    if (p.sysroot) console.log(`  libpython gdb script: ${script ?? 'none found in the chroot (py-bt is then an unknown command)'}`);
    // One run read, not timed: what py-bt shows on this version.
    const shown = spawnSync('gdb', argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
    const out = shown.stdout ?? '';
    const printed = (out.match(/^\s*File "/gm) ?? []).length;
    const lost = (out.match(/\((?:frame information optimized out|unable to read python frame information)\)/g) ?? []).length;
    const unknown = /Undefined command: "py-bt"/.test(shown.stderr ?? '');
    const works = shown.status === 0 && !unknown && printed > 0;
    const what = unknown ? 'py-bt is not defined (no libpython gdb script loaded)'
      : shown.status !== 0 ? `gdb failed (${shown.status}): ${(shown.stderr ?? '').trim().split('\n').slice(-1)[0]}`
        : `${printed} of ${truthFrames} Python frames printed${lost ? `, ${lost} frames unreadable ("optimized out" / "unable to read python frame information")` : ''}`;
    console.log(`  py-bt: ${what}${works ? (printed >= truthFrames ? ': works' : ': works partly') : ': does not work'}`);
    const pybt: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < REPS; i++) {
      if (works) pybt.push(timeIt('gdb', argv));
      ours.push(timeIt(process.execPath, [cli, 'ingest', entry.core, '--db', freshDb(), ...optsOf(p)]));
    }
    // coroner's gdb keeps its symbol index cache only for the host's own files, not a sysroot's.
    console.log(`  coroner ingest: median ${secs(median(ours))} of ${REPS}${p.sysroot ? ' (a sysroot\'s files: gdb indexes their DWARF on every run)' : ''}`);
    if (works) {
      console.log(`  gdb py-bt (baseline): median ${secs(median(pybt))} of ${REPS}`);
      console.log(`  ratio ingest / py-bt: ${(median(ours) / median(pybt)).toFixed(2)}x (target <= 1.5x)${printed < truthFrames ? ` (py-bt printed only ${printed} of ${truthFrames} frames)` : ''}`);
    } else {
      console.log('  no ratio: py-bt does not work on this version\'s core (coroner\'s ingest time alone above)');
    }
  }
}

// 5. A CI artifact archive of a dozen cores (several processes, a duplicate, a broken core),
// ingested with --jobs 1 and --jobs 2.
const RUNS = 5;

async function jobsBench(gzip: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coroner-bench-archive-'));
  const picked = manifest.cores.filter((c) => c.python === '3.11' && !c.workload.startsWith('fragmentation')).map((c) => c.core).slice(0, 10);
  const broken = join(dir, 'core.999');
  writeFileSync(broken, readFileSync(picked[0]!).subarray(0, 1 << 20));
  const archive = await archiveOfCores([...picked, picked[1]!, broken], join(dir, gzip ? 'artifacts.tar.gz' : 'artifacts.tar'), { gzip });
  console.log(`\n== --jobs 1 vs --jobs 2: ${archive} (${humanBytes(statSync(archive).size)}, ${picked.length + 2} cores: one duplicate, one broken)`);
  const ingestArchive = (jobs: number): number => {
    const started = performance.now();
    const r = spawnSync(process.execPath, [cli, 'ingest', archive, '--db', freshDb(), '--jobs', String(jobs)], { encoding: 'utf8' });
    if (!/\d+ ingested, 1 skipped as duplicates, 1 failed/.test(r.stdout)) throw new Error(`unexpected ingest of ${archive}: ${r.stdout}${r.stderr}`);
    return performance.now() - started;
  };
  const one: number[] = [];
  const two: number[] = [];
  // Alternated, five of each: this machine's speed drifts by 10% over minutes.
  for (let i = 0; i < RUNS; i++) {
    one.push(ingestArchive(1));
    two.push(ingestArchive(2));
  }
  console.log(`--jobs 1: median ${secs(median(one))}; --jobs 2: median ${secs(median(two))} of ${RUNS}`);
  console.log(`ratio --jobs 2 / --jobs 1: ${(median(two) / median(one)).toFixed(2)} (target <= 0.65)`);
  rmSync(dir, { recursive: true, force: true });
}

if (!versionsOnly) {
  await jobsBench(false);
  await jobsBench(true);
}
