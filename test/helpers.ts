// Shared by the tests: the fixture cores (made by scripts/make-cores from real CPython processes:
// python3.11 on the host; 2.7, 3.9, 3.13 in Debian chroots), and the built CLI run as a user runs it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/base/paths.js';
import { makeCores, type Manifest, type PythonCoverage } from '../scripts/make-cores.js';
import type { FixtureCore } from '../scripts/lib/fixture-cores.js';
import { DEFAULT_PYTHON_ID } from '../scripts/lib/pythons.js';

export const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

let cores: Promise<FixtureCore[]> | null = null;

/**
 * The fixture cores of python3.11 (and the native one), made once (and reused while the workloads
 * are unchanged). The other versions' cores: fixturePythons() and versionFixture().
 */
export function fixtureCores(): Promise<FixtureCore[]> {
  cores ??= makeCores(undefined, { pythons: [DEFAULT_PYTHON_ID] }).then((m) =>
    m.cores.filter((c) => c.python === DEFAULT_PYTHON_ID || c.python === null),
  );
  return cores;
}

let allVersions: Promise<Manifest> | null = null;

/** The cores of every fixture interpreter (made when missing: chroots too), once per test process. */
export function allFixtureCores(): Promise<Manifest> {
  allVersions ??= makeCores().then((m) => {
    // Said in the test run: which versions the truth-comparing tests cover, and why not the others.
    for (const p of m.pythons) {
      console.log(p.available ? `fixture python ${p.id}: ${p.version}, ${m.cores.filter((c) => c.python === p.id).length} cores${p.skipped.length ? `; skipped: ${p.skipped.map((s) => `${s.workload} (${s.reason})`).join(', ')}` : ''}` : `fixture python ${p.id}: NOT COVERED: ${p.reason}`);
    }
    return m;
  });
  return allVersions;
}

/** The fixture interpreters that have cores (3.11 first), each with its sysroot and debug dir. */
export async function fixturePythons(): Promise<PythonCoverage[]> {
  const m = await allFixtureCores();
  return m.pythons.filter((p) => p.available && m.cores.some((c) => c.python === p.id));
}

/** The fixture interpreters that have no cores here, with the reason. */
export async function uncoveredPythons(): Promise<PythonCoverage[]> {
  return (await allFixtureCores()).pythons.filter((p) => !p.available);
}

/** A core of one interpreter, with the arguments `coroner ingest` needs to read it. */
export interface VersionFixture extends FixtureCore {
  /** ['--sysroot', DIR, '--debug-dir', DIR/usr/lib/debug] for a chroot's core, [] for the host's. */
  ingestArgs: string[];
}

/** Whether workload WORKLOAD was skipped for interpreter PYTHON (and why), or null. */
export async function skippedFor(python: string, workload: string): Promise<string | null> {
  const p = (await allFixtureCores()).pythons.find((q) => q.id === python);
  return p?.skipped.find((s) => s.workload === workload)?.reason ?? null;
}

/**
 * The core of WORKLOAD at CHECKPOINT made with interpreter PYTHON (an id of fixturePythons()),
 * with its sysroot and debug-dir arguments: `runCli(['ingest', f.core, ...f.ingestArgs, ...])`.
 * Throws, saying why, when there is none (the workload skipped for that version, or the version
 * not covered here).
 */
export async function versionFixture(python: string, workload: string, checkpoint = 1): Promise<VersionFixture> {
  const m = await allFixtureCores();
  const found = m.cores.find((c) => c.python === python && c.workload === workload && c.checkpoint === checkpoint);
  if (!found) {
    const p = m.pythons.find((q) => q.id === python);
    const why = !p ? 'no such fixture interpreter' : !p.available ? p.reason : (p.skipped.find((s) => s.workload === workload)?.reason ?? 'no such core');
    throw new Error(`no fixture core for ${workload} #${checkpoint} of python ${python}: ${why}`);
  }
  return { ...found, ingestArgs: ingestArgsOf(found) };
}

/** `coroner ingest` arguments for a fixture core: its sysroot and debug dir, when it has them. */
export function ingestArgsOf(core: Pick<FixtureCore, 'sysroot' | 'debugDir'>): string[] {
  return [...(core.sysroot ? ['--sysroot', core.sysroot] : []), ...(core.debugDir ? ['--debug-dir', core.debugDir] : [])];
}

let readable: string[] | null = null;

/** The CPython versions coroner reads: the gdb side's registry (src/extract/gdb/coroner_layouts). */
export function readableVersions(): string[] {
  if (readable) return readable;
  const r = spawnSync('python3', ['-c', 'import coroner_layouts; print(coroner_layouts.supported())'], {
    encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(packageRoot, 'src', 'extract', 'gdb') },
  });
  if (r.status !== 0) throw new Error(`cannot read the gdb side's registry: ${r.stderr}`);
  readable = r.stdout.trim().split(', ');
  return readable;
}

/**
 * The fixture interpreters whose cores coroner reads (3.11 first): the truth-comparing tests run
 * on each. Which are covered, and which have cores coroner does not read yet, is printed.
 */
export async function analyzedPythons(): Promise<PythonCoverage[]> {
  const all = await fixturePythons();
  const ours = all.filter((p) => readableVersions().includes(p.id));
  console.log(`truth-comparing tests on python ${ours.map((p) => p.id).join(', ')}` +
    (all.length > ours.length ? `; cores coroner does not read yet: ${all.filter((p) => !ours.includes(p)).map((p) => p.id).join(', ')}` : ''));
  return ours;
}

/** A workload's core made with interpreter PYTHON, with its ingest arguments (3.11's from the host). */
export async function coreOf(python: string, workload: string, checkpoint = 1): Promise<VersionFixture> {
  if (python === DEFAULT_PYTHON_ID) return { ...(await fixture(workload, checkpoint)), ingestArgs: [] };
  return versionFixture(python, workload, checkpoint);
}

export async function fixture(workload: string, checkpoint = 1): Promise<FixtureCore> {
  const found = (await fixtureCores()).find((c) => c.workload === workload && c.checkpoint === checkpoint);
  if (!found) throw new Error(`no fixture core for ${workload} #${checkpoint}`);
  return found;
}

export interface TruthFrame {
  function: string;
  file: string;
  line: number;
  locals?: Record<string, string>;
}

export interface TruthThread {
  ident: number;
  native_id: number;
  name: string;
  current: boolean;
  frames: TruthFrame[] | null;
}

export interface Truth {
  workload: string;
  pid: number;
  python: string;
  executable: string;
  argv: string[];
  threads: TruthThread[];
  expect: {
    states?: Record<string, string>; findings?: string[]; absent_findings?: string[]; deadlocked?: string[]; depth?: number;
    /** Threads deadlocked two by two. */
    deadlock_pairs?: [string, string][];
    /** id() of the locks each thread's with blocks hold, of the lock each waits on. */
    holds?: Record<string, number[]>;
    waits?: Record<string, number>;
    /** id() of the locks a thread's with blocks took and gave up in Condition.wait. */
    released?: Record<string, number[]>;
    /** id() of the Condition each thread waits in. */
    condition_waits?: Record<string, number>;
    signal?: string;
    crashing_thread?: string;
  };
  extra?: Record<string, unknown>;
}

export function truthOf(core: FixtureCore): Truth {
  return JSON.parse(readFileSync(core.truth, 'utf8')) as Truth;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** INPUT, when given, is piped to the CLI's standard input (`coroner ingest -`). */
export function runCli(args: string[], env: Record<string, string> = {}, input?: Buffer): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking the test process (for tests that kill it midway). */
export function startCli(args: string[]) {
  return spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

const made: string[] = [];
// Each test file runs in a process of its own: its folders go when it ends (a run of the suite
// left about 3.5 GB of archives, databases and kept cores behind otherwise).
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'coroner-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function tempDb(): string {
  return join(tempDir(), 'coroner.db');
}

/** Ingest cores into a fresh database and return it; fails the test on a non-zero exit. */
export function ingestFresh(cores: string[], extra: string[] = []): string {
  const db = tempDb();
  const r = runCli(['ingest', ...cores, '--db', db, ...extra]);
  if (r.code !== 0) throw new Error(`ingest failed (${r.code}): ${r.stderr}${r.stdout}`);
  return db;
}

export interface ShownDump {
  id: number;
  core: { path: string; sha256: string; size: number; pid: number; signal: number; executable: string; cmdline: string; taken_at: string };
  python: { version: string };
  threads: {
    tid: number;
    name: string | null;
    state: string;
    state_detail: string;
    holds_gil: boolean;
    waits_on: ShownWait | null;
    held_locks: ShownHeldLock[];
    python_frames: { function: string; file: string; line: number; native_index: number; locals: Record<string, string> }[];
    native_frames: { function: string | null; library: string | null; file: string | null; line: number | null }[];
  }[];
  census: unknown[];
  memory: object;
  findings: { kind: string; severity: string; title: string; detail: string; evidence: string[]; threads?: number[] }[];
}

export interface ShownWait {
  kind: string;
  address: number;
  ownerIdent: number | null;
  count: number | null;
  condition: number | null;
  held_by: { tid: number; name: string | null; certain: boolean; how: string } | null;
}

export interface ShownHeldLock {
  address: number;
  kind: string;
  frame: number | null;
  condition: number | null;
  released: boolean;
  how: string;
  wanted_by: { tid: number; name: string | null }[];
}

export function showJson(db: string, ref: string): ShownDump {
  const r = runCli(['show', ref, '--db', db, '--json']);
  if (r.code !== 0) throw new Error(`show failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ShownDump;
}
