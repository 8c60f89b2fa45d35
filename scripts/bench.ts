// `npm run bench`: coroner's figures beside baselines measured in the same run on the same cores.
// Ratios, not absolute times, are what to compare: these machines are noisy.
//   npm run bench                 ingest vs py-bt, and the census on a 6.6M-object core
//   npm run bench -- --big        also the census's peak memory on a core of about 2 GB
//   npm run bench -- --jobs-only  only the --jobs 1 / --jobs 2 comparison on an archive
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/base/paths.js';
import { humanBytes } from '../src/base/units.js';
import { FIXTURE_PYTHON } from './lib/fixture-cores.js';
import { DEFAULT_ROWS, gdbPoolWalk, heapBenchCore } from './lib/heap-bench-core.js';
import { archiveOfCores } from './lib/archive-bench.js';
import { defaultCoresDir, makeCores } from './make-cores.js';

const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const REPS = 5;
const big = process.argv.includes('--big');
const jobsOnly = process.argv.includes('--jobs-only');

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

/** Ingest one core; the census's own figures come back from the database, the peak RSS from GNU time. */
function ingestMeasured(core: string): { wallMs: number; objects: number; walkMs: number; maxRssKb: number | null } {
  const db = freshDb();
  const started = performance.now();
  const useTime = existsSync('/usr/bin/time');
  const cmd = useTime ? '/usr/bin/time' : process.execPath;
  const args = useTime ? ['-f', 'maxrss_kb=%M', process.execPath, cli, 'ingest', core, '--db', db] : [cli, 'ingest', core, '--db', db];
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

const manifest = await makeCores(undefined, { pythons: ['3.11'] });
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cpus, ${humanBytes(totalmem())} memory; node ${process.version}`);

function ingestBench(): void {
  // 1. The ingest of a core with threads, beside gdb's own py-bt on the same core.
  const threadsCore = manifest.cores.find((c) => c.workload === 'threads' && c.python === '3.11')!.core;
  console.log(`\n== ingest: ${threadsCore} (${humanBytes(statSync(threadsCore).size)}, 7 threads)`);
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

if (!jobsOnly) {
  ingestBench();
  await censusBench(DEFAULT_ROWS, true);
  if (big) await censusBench(2_800_000, false);
}

// 3. A CI artifact archive of a dozen cores (several processes, a duplicate, a broken core),
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

await jobsBench(false);
await jobsBench(true);
