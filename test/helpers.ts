// Shared by the tests: the fixture cores (made by scripts/make-cores from real python3.11
// processes), and the built CLI run as a user runs it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/base/paths.js';
import { makeCores } from '../scripts/make-cores.js';
import type { FixtureCore } from '../scripts/lib/fixture-cores.js';

export const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

let cores: Promise<FixtureCore[]> | null = null;

/** The fixture cores, made once (and reused while the workloads are unchanged). */
export function fixtureCores(): Promise<FixtureCore[]> {
  cores ??= makeCores().then((m) => m.cores);
  return cores;
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
  expect: { states?: Record<string, string>; findings?: string[]; absent_findings?: string[]; deadlocked?: string[]; depth?: number };
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
    python_frames: { function: string; file: string; line: number; native_index: number; locals: Record<string, string> }[];
    native_frames: { function: string | null; library: string | null; file: string | null; line: number | null }[];
  }[];
  census: unknown[];
  memory: object;
  findings: { kind: string; severity: string; title: string; detail: string; evidence: string[] }[];
}

export function showJson(db: string, ref: string): ShownDump {
  const r = runCli(['show', ref, '--db', db, '--json']);
  if (r.code !== 0) throw new Error(`show failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ShownDump;
}
