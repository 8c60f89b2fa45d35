// Runs a fixture workload with Debian's python3.11, takes a core at each checkpoint with gcore,
// and keeps the in-process truth the workload printed beside each core.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The interpreter the fixtures are made with: Debian's, whose debug info python3.11-dbg ships. */
export const FIXTURE_PYTHON = '/usr/bin/python3.11';

export interface FixtureCore {
  workload: string;
  checkpoint: number;
  core: string;
  truth: string;
}

export interface WorkloadRun {
  /** Name used for the output folder. */
  name: string;
  /** argv[0] and the rest; defaults to FIXTURE_PYTHON with the workload file. */
  command: string[];
  env?: Record<string, string>;
  /**
   * How the core is taken at a checkpoint: the workload stops itself and gcore dumps it ('stop');
   * it blocks for good (a deadlock) and gcore dumps it after settleMs ('settle'); or it crashes and
   * the kernel writes the core ('crash').
   */
  mode: 'stop' | 'settle' | 'crash';
  settleMs?: number;
}

function processState(pid: number): string | null {
  try {
    // Field 3 of /proc/PID/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** gcore writes PREFIX.PID; return that path. */
export async function gcore(pid: number, prefix: string): Promise<string> {
  await run('gcore', ['-o', prefix, String(pid)], { maxBuffer: 16 << 20 });
  const path = `${prefix}.${pid}`;
  if (!existsSync(path)) throw new Error(`gcore did not write ${path}`);
  return path;
}

/**
 * Run one workload to its end, taking a core at each checkpoint line it prints.
 * Cores go to OUT/NAME/core.PID (the first checkpoint) and OUT/NAME/core.PID.N (the next ones).
 */
export async function coresOfWorkload(spec: WorkloadRun, outDir: string): Promise<FixtureCore[]> {
  const dir = join(outDir, spec.name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const [cmd, ...args] = spec.mode === 'crash'
    ? ['/bin/bash', '-c', 'ulimit -c unlimited && exec "$@"', 'workload', ...spec.command]
    : spec.command;
  const child: ChildProcess = spawn(cmd!, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...spec.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const pid = child.pid!;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const made: FixtureCore[] = [];
  try {
    const lines = createInterface({ input: child.stdout! });
    let checkpoint = 0;
    for await (const line of lines) {
      if (!line.startsWith('{')) continue;
      checkpoint += 1;
      const core = join(dir, checkpoint === 1 ? `core.${pid}` : `core.${pid}.${checkpoint}`);
      if (spec.mode === 'crash') {
        await exited;
        await rename(kernelCore(dir, pid), core);
      } else {
        if (spec.mode === 'settle') await new Promise((r) => setTimeout(r, spec.settleMs ?? 500));
        else await waitFor(() => processState(pid) === 'T', 30_000, `${spec.name} (pid ${pid}) to stop itself`);
        await rename(await gcore(pid, join(dir, 'tmp')), core);
      }
      const truth = `${core}.truth.json`;
      await writeFile(truth, JSON.stringify({ ...JSON.parse(line), checkpoint }, null, 1));
      made.push({ workload: spec.name, checkpoint, core, truth });
      if (spec.mode !== 'stop') break; // a deadlocked or crashed process never goes on
      process.kill(pid, 'SIGCONT');
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
  if (made.length === 0) throw new Error(`workload ${spec.name} printed no checkpoint`);
  return made;
}

/** The core the kernel wrote for a crashed process, with core_pattern "core" (with or without .PID). */
function kernelCore(dir: string, pid: number): string {
  for (const name of [`core.${pid}`, 'core']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  throw new Error(`the kernel wrote no core for pid ${pid} in ${dir} (kernel.core_pattern is "${pattern}"; the crash fixture needs "core")`);
}

/** A core of a process that is not Python at all (coreutils' sleep). */
export async function coreOfNativeProcess(outDir: string): Promise<FixtureCore> {
  const dir = join(outDir, 'native');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const child = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  const pid = child.pid!;
  try {
    await waitFor(() => processState(pid) === 'S', 10_000, 'sleep to start');
    const written = await gcore(pid, join(dir, 'tmp'));
    const core = join(dir, `core.${pid}`);
    await rename(written, core);
    const truth = `${core}.truth.json`;
    await writeFile(truth, JSON.stringify({ workload: 'native', pid, checkpoint: 1 }));
    return { workload: 'native', checkpoint: 1, core, truth };
  } finally {
    child.kill('SIGKILL');
  }
}

export async function readTruth<T = unknown>(fixture: FixtureCore): Promise<T> {
  return JSON.parse(await readFile(fixture.truth, 'utf8')) as T;
}
