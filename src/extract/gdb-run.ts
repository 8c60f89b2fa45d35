// Runs gdb in batch mode on one core with coroner's own gdb-side script, and returns what the
// script printed. gdb resolves symbols, DWARF layouts and unwinds stacks; nothing the core
// names is auto-loaded (an analyzer of untrusted cores must not run scripts they point at).
import { spawn } from 'node:child_process';
import { existsSync, rmSync, statSync, type Stats } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CoronerError } from '../base/errors.js';
import { findProgram, gdbScriptDir } from '../base/paths.js';
import { atInterrupt } from '../base/interrupt.js';
import { ownTempDir } from '../base/temp-dirs.js';
import { extractionProblem, type RawExtraction } from '../model/raw.js';
import { makeMappedView } from './mapped-view.js';

export interface GdbOptions {
  /** The executable to load instead of the one the core names. */
  exe?: string;
  /** Where the core's shared libraries (and executable) are found, as gdb's `set sysroot`. */
  sysroot?: string;
  /** Where separate debug info is found, as gdb's `set debug-file-directory`. */
  debugDir?: string;
  /** Let gdb ask debuginfod servers for missing debug info. */
  debuginfod?: boolean;
  timeoutMs: number;
  gdb?: string;
  /** Aborting kills gdb (an ingest that learns the core is a duplicate stops its analysis). */
  signal?: AbortSignal;
  /**
   * The files the core's list names: gdb is then shown only those that are regular files, through
   * a view (mapped-view.ts) as its sysroot. Without it gdb may open any file the core names.
   */
  mappedFiles?: string[];
}

interface ScriptError {
  error: { kind: string; message: string };
}

/** The executable gdb should load, checked to exist (inside the sysroot when one is given). */
export function resolveExecutable(corePath: string, named: string | null, opts: GdbOptions): string {
  if (opts.exe) {
    if (!existsSync(opts.exe)) throw new CoronerError(`${corePath}: --exe ${opts.exe} does not exist`, 'no-executable');
    return opts.exe;
  }
  if (!named) {
    throw new CoronerError(`${corePath}: the core does not say which executable it ran; pass --exe PATH (e.g. --exe /usr/bin/python3.11)`, 'no-executable');
  }
  const path = opts.sysroot ? join(opts.sysroot, named) : named;
  const info = statOrNull(path);
  if (info && !info.isFile()) {
    throw new CoronerError(`${corePath}: the executable the core names, ${path}, is not a regular file; pass --exe PATH`, 'no-executable');
  }
  if (!info) {
    throw new CoronerError(
      `${corePath}: the executable ${path} is not on this machine; pass --exe PATH or --sysroot DIR with the files of the machine the core came from`,
      'no-executable',
    );
  }
  return path;
}

/**
 * Where gdb keeps the symbol indexes it builds for this machine's own files (by build-id), so
 * that each run after the first skips indexing python's and libc's DWARF.
 */
export function gdbIndexCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'coroner', 'gdb-index');
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** gdb's command line; VIEW, when given, is the sysroot gdb sees instead of opts.sysroot. */
export function gdbArgs(corePath: string, exe: string, outPath: string, opts: GdbOptions, view?: string): string[] {
  const early = ['set auto-load off', `set debuginfod enabled ${opts.debuginfod ? 'on' : 'off'}`, 'set pagination off', 'set confirm off', 'set width 0'];
  // coroner runs one gdb per core in parallel already; gdb's own indexing threads only compete
  // with those (and, measured on 2 CPUs, made even a lone run slower).
  early.push('maint set worker-threads 0');
  const sysroot = view ?? opts.sysroot;
  if (sysroot) early.push(`set sysroot ${sysroot}`);
  if (opts.debugDir) early.push(`set debug-file-directory ${opts.debugDir}`);
  // Only for this machine's own files: an index built from a bundle's files would be found by
  // build-id for later cores too, and a bundle is not to be trusted that far.
  if (!opts.sysroot && !opts.debugDir && process.env.CORONER_GDB_INDEX_CACHE !== 'off') {
    early.push(`set index-cache directory ${gdbIndexCacheDir()}`, 'set index-cache enabled on');
  }
  const late = [
    `python import sys; sys.path.insert(0, ${JSON.stringify(gdbScriptDir)})`,
    `python import coroner_gdb; coroner_gdb.main(${JSON.stringify(outPath)})`,
  ];
  return ['-nx', '-batch', ...early.flatMap((c) => ['-iex', c]), ...late.flatMap((c) => ['-ex', c]), exe, corePath];
}

/** Run gdb on one core; throws CoronerError with a line the user can act on. */
export async function extractWithGdb(corePath: string, exe: string, opts: GdbOptions): Promise<RawExtraction> {
  const dir = await ownTempDir('gdb');
  const outPath = join(dir, 'out.json');
  const release = atInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const view = opts.mappedFiles ? await makeMappedView(join(dir, 'root'), opts.sysroot ?? '/', opts.mappedFiles) : null;
    const { code, stderr, timedOut } = await runGdb(opts.gdb ?? 'gdb', gdbArgs(corePath, exe, outPath, opts, view?.root), opts.timeoutMs, corePath, opts.signal);
    if (opts.signal?.aborted) throw new CoronerError(`${corePath}: analysis cancelled`, 'cancelled');
    if (timedOut) {
      throw new CoronerError(`${corePath}: gdb did not finish within ${opts.timeoutMs / 1000} s; raise --timeout, or check that the core is not damaged`, 'timeout');
    }
    if (!existsSync(outPath)) {
      const why = lastMeaningfulLine(stderr) ?? `gdb exited with code ${code}`;
      throw new CoronerError(`${corePath}: gdb could not read the core: ${why}`, 'gdb-failed');
    }
    // The libraries gdb names are in the view: shown by the names the core gave them.
    const text = await readFile(outPath, 'utf8');
    const raw = readExtraction(corePath, exe, view ? text.split(`${view.root}/`).join('/') : text);
    for (const s of view?.skipped ?? []) raw.warnings.push(`the core maps ${s.path}, ${s.why}: not read`);
    return raw;
  } finally {
    release();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The document gdb's script wrote, checked against the contract; its error or a mismatch as one line. */
export function readExtraction(corePath: string, exe: string, text: string): RawExtraction {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CoronerError(`${corePath}: gdb's script wrote no readable result (${(err as Error).message}); run the ingest again, and report it if it persists`, 'bad-extraction');
  }
  const error = (doc as Partial<ScriptError> | null)?.error;
  if (error && typeof error === 'object') throw scriptError(corePath, exe, error);
  const problem = extractionProblem(doc);
  if (problem) {
    throw new CoronerError(
      `${corePath}: gdb's script wrote a result coroner does not expect (${problem}): the script in ${gdbScriptDir} and this coroner are out of step; reinstall coroner`,
      'bad-extraction',
    );
  }
  return doc as RawExtraction;
}

function scriptError(corePath: string, exe: string, error: ScriptError['error']): CoronerError {
  switch (error.kind) {
    case 'not-python':
      return new CoronerError(`${corePath}: not a Python process (${exe}): ${error.message}`, 'not-python');
    default:
      return new CoronerError(`${corePath}: ${error.message}`, error.kind);
  }
}

function lastMeaningfulLine(stderr: string): string | null {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('warning: ') && !l.startsWith('['));
  return lines.at(-1) ?? null;
}

function runGdb(
  gdb: string, args: string[], timeoutMs: number, corePath: string, signal?: AbortSignal,
): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  const program = findProgram(gdb);
  if (!program) return Promise.reject(new CoronerError(`${corePath}: gdb is not installed (or not on PATH); apt-get install gdb`, 'no-gdb'));
  // gdb dies with coroner even when coroner is killed outright (SIGKILL runs no clean-up):
  // setpriv (util-linux) sets the parent-death signal, then runs gdb in its place.
  const setpriv = findProgram('setpriv');
  const [command, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', program, ...args]] : [program, args];
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout kills gdb and anything it started.
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 1 << 20) stderr += chunk;
    });
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    signal?.addEventListener('abort', killGroup, { once: true });
    // gdb runs in a process group of its own: an interrupted coroner must take it along.
    const release = atInterrupt(killGroup);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      release();
      reject(
        err.code === 'ENOENT'
          ? new CoronerError(`${corePath}: gdb is not installed (or not on PATH); apt-get install gdb`, 'no-gdb')
          : err,
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      release();
      signal?.removeEventListener('abort', killGroup);
      resolve({ code, stderr, timedOut });
    });
  });
}
