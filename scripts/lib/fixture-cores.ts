// Runs a fixture workload with one of the fixture interpreters (scripts/lib/pythons.ts: the host's
// python3.11, or one in a Debian chroot), takes a core at each checkpoint with gcore (from the
// host, also for a chrooted process), and keeps the in-process truth the workload printed beside
// each core.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { copyFile, mkdir, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
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
  /** The fixture interpreter's id (scripts/lib/pythons.ts), or null for the core of a non-Python process. */
  python: string | null;
  /** The chroot the process ran in: gdb's sysroot for this core (coroner ingest --sysroot), or null. */
  sysroot: string | null;
  /** Where the debug files of that sysroot are (coroner ingest --debug-dir), or null. */
  debugDir: string | null;
}

/** Which interpreter a core comes from, and where its files are. */
export type CoreOrigin = Pick<FixtureCore, 'python' | 'sysroot' | 'debugDir'>;

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
  /** Recorded in each core's entry; default: the host's python3.11. */
  origin?: CoreOrigin;
  /**
   * The folder the process runs in (default: its output folder). A chrooted process's must be
   * inside its chroot: a crash core is written by the kernel to the crashing process's cwd.
   */
  cwd?: string;
  /** The whole environment (default: this process's, with ENV added). */
  fullEnv?: Record<string, string>;
  /**
   * Punch holes where the core is zeros (fallocate --dig-holes: the bytes read the same, the disk
   * keeps only the rest): a thread arena's 64 MiB reservation is written whole by gcore. Cores of
   * 3.11 are kept as they always were.
   */
  sparse?: boolean;
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

/**
 * gcore writes PREFIX.PID; return that path. With a SYSROOT (the process runs chrooted there), gdb
 * is run as gcore runs it, told to read the process's files (libraries, libthread_db) from there.
 */
export async function gcore(pid: number, prefix: string, sysroot: string | null = null): Promise<string> {
  if (sysroot) {
    await run('gdb', [
      '--nx', '--batch', '--readnever', '-iex', 'set debuginfod enabled off', '-iex', `set sysroot ${sysroot}`,
      '-ex', 'set pagination off', '-ex', 'set height 0', '-ex', 'set width 0',
      '-ex', `attach ${pid}`, '-ex', `gcore ${prefix}.${pid}`, '-ex', 'detach', '-ex', 'quit',
    ], { maxBuffer: 16 << 20 });
  } else {
    await run('gcore', ['-o', prefix, String(pid)], { maxBuffer: 16 << 20 });
  }
  const path = `${prefix}.${pid}`;
  if (!existsSync(path)) throw new Error(`gcore did not write ${path}`);
  return path;
}

const PT_NOTE = 4;
const NT_FILE = 0x46494c45;

/**
 * Make the mapped-file paths of a gcore'd core of a chrooted process read as the process saw them.
 * gdb takes them from the host's /proc/PID/maps, where they read SYSROOT/usr/bin/python2.7; the
 * kernel, writing a crashed process's core, and gcore run inside the chroot write /usr/bin/python2.7.
 * The fixture cores are read with --sysroot SYSROOT, so each kind has the paths the kernel gives:
 * the NT_FILE note's names under SYSROOT lose that prefix (the note is rewritten; gdb writes the
 * note segment last in the file, so a shorter one ends the file earlier). Returns how many names
 * changed.
 */
export async function rebaseFileNote(core: string, sysroot: string): Promise<number> {
  const prefix = sysroot.replace(/\/+$/, '');
  const fh = await open(core, 'r+');
  try {
    const { size } = await fh.stat();
    const eh = Buffer.alloc(64);
    await fh.read(eh, 0, 64, 0);
    if (eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) throw new Error(`${core} is not a 64-bit little-endian ELF file`);
    const phoff = Number(eh.readBigUInt64LE(0x20));
    const phentsize = eh.readUInt16LE(0x36);
    const phnum = eh.readUInt16LE(0x38);
    const ph = Buffer.alloc(phentsize * phnum);
    await fh.read(ph, 0, ph.length, phoff);
    let changed = 0;
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (ph.readUInt32LE(at) !== PT_NOTE) continue;
      const offset = Number(ph.readBigUInt64LE(at + 8));
      const filesz = Number(ph.readBigUInt64LE(at + 32));
      const data = Buffer.alloc(filesz);
      await fh.read(data, 0, filesz, offset);
      const notes: Buffer[] = [];
      let pos = 0;
      let touched = false;
      while (pos + 12 <= filesz) {
        const namesz = data.readUInt32LE(pos);
        const descsz = data.readUInt32LE(pos + 4);
        const type = data.readUInt32LE(pos + 8);
        const nameEnd = pos + 12 + ((namesz + 3) & ~3);
        const descEnd = nameEnd + ((descsz + 3) & ~3);
        let note = data.subarray(pos, descEnd);
        if (type === NT_FILE) {
          const desc = data.subarray(nameEnd, nameEnd + descsz);
          const count = Number(desc.readBigUInt64LE(0));
          const tableEnd = 16 + 24 * count;
          const names = desc.subarray(tableEnd).toString('latin1').split('\0').slice(0, count);
          const rebased = names.map((n) => (n.startsWith(prefix + '/') ? n.slice(prefix.length) : n));
          const n = rebased.filter((r, k) => r !== names[k]).length;
          if (n > 0) {
            changed += n;
            touched = true;
            const newDesc = Buffer.concat([desc.subarray(0, tableEnd), Buffer.from(rebased.map((r) => r + '\0').join(''), 'latin1')]);
            const head = Buffer.from(data.subarray(pos, nameEnd));
            head.writeUInt32LE(newDesc.length, 4);
            note = Buffer.concat([head, newDesc, Buffer.alloc(((newDesc.length + 3) & ~3) - newDesc.length)]);
          }
        }
        notes.push(note);
        pos = descEnd;
      }
      if (!touched) continue;
      const out = Buffer.concat(notes);
      const last = offset + filesz === size;
      if (!last && out.length > filesz) throw new Error(`${core}: the rewritten note does not fit`);
      await fh.write(out, 0, out.length, offset);
      if (last) await fh.truncate(offset + out.length);
      else await fh.write(Buffer.alloc(filesz - out.length), 0, filesz - out.length, offset + out.length);
      const sz = Buffer.alloc(8);
      sz.writeBigUInt64LE(BigInt(out.length));
      await fh.write(sz, 0, 8, phoff + at + 32);
    }
    return changed;
  } finally {
    await fh.close();
  }
}

/** rename, or copy and delete when FROM is on another file system. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(from, to);
    await unlink(from);
  }
}

const HOST_3_11: CoreOrigin = { python: '3.11', sysroot: null, debugDir: null };

/**
 * Run one workload to its end, taking a core at each checkpoint line it prints.
 * Cores go to OUT/NAME/core.PID (the first checkpoint) and OUT/NAME/core.PID.N (the next ones).
 */
export async function coresOfWorkload(spec: WorkloadRun, outDir: string): Promise<FixtureCore[]> {
  const dir = join(outDir, spec.name);
  const origin = spec.origin ?? HOST_3_11;
  const cwd = spec.cwd ?? dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  if (cwd !== dir) {
    await rm(cwd, { recursive: true, force: true });
    await mkdir(cwd, { recursive: true });
  }
  const [cmd, ...args] = spec.mode === 'crash'
    ? ['/bin/bash', '-c', 'ulimit -c unlimited && exec "$@"', 'workload', ...spec.command]
    : spec.command;
  const child: ChildProcess = spawn(cmd!, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...(spec.fullEnv ?? process.env), ...spec.env, PYTHONDONTWRITEBYTECODE: '1' },
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
        await move(kernelCore(cwd, pid), core);
      } else {
        if (spec.mode === 'settle') await new Promise((r) => setTimeout(r, spec.settleMs ?? 500));
        else await waitFor(() => processState(pid) === 'T', 30_000, `${spec.name} (pid ${pid}) to stop itself`);
        await rename(await gcore(pid, join(dir, 'tmp'), origin.sysroot), core);
        if (origin.sysroot) await rebaseFileNote(core, origin.sysroot);
      }
      if (spec.sparse) await run('fallocate', ['--dig-holes', core]);
      const truth = `${core}.truth.json`;
      await writeFile(truth, JSON.stringify({ ...JSON.parse(line), checkpoint }, null, 1));
      made.push({ workload: spec.name, checkpoint, core, truth, ...origin });
      if (spec.mode !== 'stop') break; // a deadlocked or crashed process never goes on
      process.kill(pid, 'SIGCONT');
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    if (cwd !== dir) await rm(cwd, { recursive: true, force: true }); // no core left behind in a chroot
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

/** A process that is not a fixture workload, cored while it idles. */
export interface IdleProcess {
  workload: string;
  command: string[];
  env?: Record<string, string>;
  /** The chroot it runs in (command is then chrootedCommand's), recorded as the core's sysroot. */
  origin?: Pick<FixtureCore, 'sysroot' | 'debugDir'>;
  /** A line it prints once it idles; without one, it idles once it first sleeps. */
  readyLine?: string;
}

/** The core of an idle process coroner should refuse in one line (coreutils' sleep, PyPy). */
export async function coreOfIdleProcess(outDir: string, p: IdleProcess): Promise<FixtureCore> {
  const dir = join(outDir, p.workload);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const child = spawn(p.command[0]!, p.command.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], env: p.env ?? process.env });
  const exited = new Promise((r) => child.once('exit', r));
  let said = '';
  child.stdout.on('data', (d: Buffer) => { said += d.toString(); });
  const pid = child.pid!;
  const sysroot = p.origin?.sysroot ?? null;
  try {
    await waitFor(() => (p.readyLine ? said.includes(p.readyLine) : processState(pid) === 'S'), 60_000, `${p.workload} to idle`);
    const written = await gcore(pid, join(dir, 'tmp'), sysroot);
    if (sysroot) await rebaseFileNote(written, sysroot);
    const core = join(dir, `core.${pid}`);
    await rename(written, core);
    const truth = `${core}.truth.json`;
    await writeFile(truth, JSON.stringify({ workload: p.workload, pid, checkpoint: 1 }));
    return { workload: p.workload, checkpoint: 1, core, truth, python: null, sysroot, debugDir: p.origin?.debugDir ?? null };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}

export async function readTruth<T = unknown>(fixture: FixtureCore): Promise<T> {
  return JSON.parse(await readFile(fixture.truth, 'utf8')) as T;
}
