// The interpreters the fixture cores are made with, as data: the host's python3.11, Debian's 2.7
// and 3.9 (a bullseye chroot) and 3.13 (a trixie chroot), plus any CPython build with DWARF named
// by CORONER_TEST_PYTHONS (comma-separated paths, run on the host; their id is their X.Y).
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CHROOTS, chrootDir, chrootReady, ensureChroot } from './chroots.js';

const run = promisify(execFile);

export interface FixturePython {
  /** X.Y (or X.Y-N when two builds share a version): the cores' folder is py<id>. */
  id: string;
  /** The interpreter's path (inside the chroot when there is one). */
  python: string;
  /** A chroot of scripts/lib/chroots.ts, or null for the host. */
  chroot: string | null;
}

/** The id of the interpreter whose cores keep the original folders (.cores/WORKLOAD). */
export const DEFAULT_PYTHON_ID = '3.11';

export const FIXTURE_PYTHONS: FixturePython[] = [
  { id: '3.11', python: '/usr/bin/python3.11', chroot: null },
  { id: '2.7', python: '/usr/bin/python2.7', chroot: 'bullseye' },
  { id: '3.9', python: '/usr/bin/python3.9', chroot: 'bullseye' },
  { id: '3.13', python: '/usr/bin/python3.13', chroot: 'trixie' },
];

/** A fixture interpreter and whether it can run here: where, what version, or why not. */
export interface ResolvedPython extends FixturePython {
  /** The chroot's folder (gdb's sysroot for its cores), or null. */
  sysroot: string | null;
  /** The chroot's /usr/lib/debug, or null (the host's default). */
  debugDir: string | null;
  /** X.Y.Z as the interpreter says, or null when it cannot run. */
  version: string | null;
  /** sys.version, whole (in the cores' stamp). */
  fullVersion: string | null;
  available: boolean;
  reason: string | null;
}

const VERSION_CODE = 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.version.replace("\\n", " "))';

/**
 * argv that runs COMMAND (a path inside the chroot and its arguments) chrooted in DIR, with /proc
 * mounted inside it (the workloads read /proc/self/...) in a mount namespace of its own: the mount
 * goes when the process ends, whatever happens. No fork: the pid spawned is the workload's. CWD
 * (inside the chroot) is where it runs: where the kernel writes its core if it crashes.
 */
export function chrootedCommand(dir: string, command: string[], cwd: string | null = null): string[] {
  // chroot(1) goes to the new root's /: a CWD (a path inside the chroot) is gone to after it.
  const inside = cwd ? ['/bin/sh', '-c', 'cd "$0" && exec "$@"', cwd, ...command] : command;
  return [
    '/usr/bin/unshare', '--mount', '--propagation', 'private', '--',
    '/bin/sh', '-c', '/bin/mount -t proc proc "$0/proc" && exec /usr/sbin/chroot "$0" "$@"', dir, ...inside,
  ];
}

/** Environment for a chrooted process: none of the host's (PYTHONPATH, LD_PRELOAD...). */
export function chrootEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...extra };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CORONER_TEST_PYTHONS: other CPython builds on this machine; their id is read by running them. */
export async function extraPythons(taken: string[] = FIXTURE_PYTHONS.map((p) => p.id)): Promise<(FixturePython | { python: string; error: string })[]> {
  const paths = (process.env.CORONER_TEST_PYTHONS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const ids = new Set(taken);
  const out: (FixturePython | { python: string; error: string })[] = [];
  for (const python of paths) {
    try {
      const { stdout } = await run(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { timeout: 30_000 });
      const base = stdout.trim();
      let id = base;
      for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
      ids.add(id);
      out.push({ id, python, chroot: null });
    } catch (e) {
      out.push({ python, error: `CORONER_TEST_PYTHONS names ${python}, which does not run: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  return out;
}

/**
 * Every fixture interpreter (FIXTURE_PYTHONS, then CORONER_TEST_PYTHONS), each resolved: its chroot
 * made if missing (unless makeChroots is false), its version read by running it; or the reason it
 * cannot be used here. IDS, when given, limits the list (unknown ids come back unavailable).
 */
export async function resolvePythons(
  ids: string[] | null = null,
  opts: { makeChroots?: boolean; log?: (s: string) => void } = {},
): Promise<ResolvedPython[]> {
  const log = opts.log ?? (() => {});
  const all: (FixturePython | { python: string; error: string })[] = [...FIXTURE_PYTHONS, ...(await extraPythons())];
  const out: ResolvedPython[] = [];
  const chrootErrors = new Map<string, string>();
  for (const entry of all) {
    if ('error' in entry) {
      if (!ids) out.push({ id: entry.python, python: entry.python, chroot: null, sysroot: null, debugDir: null, version: null, fullVersion: null, available: false, reason: entry.error });
      continue;
    }
    if (ids && !ids.includes(entry.id)) continue;
    out.push(await resolveOne(entry, opts.makeChroots ?? true, chrootErrors, log));
  }
  for (const id of ids ?? []) {
    if (!out.some((p) => p.id === id)) {
      out.push({ id, python: '?', chroot: null, sysroot: null, debugDir: null, version: null, fullVersion: null, available: false, reason: `no fixture interpreter has the id ${id} (known: ${all.filter((p): p is FixturePython => 'id' in p).map((p) => p.id).join(', ')}; others come from CORONER_TEST_PYTHONS)` });
    }
  }
  return out;
}

async function resolveOne(p: FixturePython, makeChroots: boolean, chrootErrors: Map<string, string>, log: (s: string) => void): Promise<ResolvedPython> {
  const unavailable = (reason: string): ResolvedPython => ({ ...p, sysroot: null, debugDir: null, version: null, fullVersion: null, available: false, reason });
  let sysroot: string | null = null;
  if (p.chroot) {
    if (!CHROOTS[p.chroot]) return unavailable(`no chroot named ${p.chroot}`);
    const known = chrootErrors.get(p.chroot);
    if (known) return unavailable(known);
    if (!chrootReady(p.chroot)) {
      if (!makeChroots) return unavailable(`chroot ${p.chroot} is not made (npm run chroots makes it at ${chrootDir(p.chroot)})`);
      try {
        await ensureChroot(p.chroot, log);
      } catch (e) {
        const reason = `chroot ${p.chroot} could not be made: ${(e as Error).message}`;
        chrootErrors.set(p.chroot, reason);
        return unavailable(reason);
      }
    }
    sysroot = chrootDir(p.chroot);
  }
  const hostPath = sysroot ? join(sysroot, p.python) : p.python;
  if (!isExecutable(hostPath)) return unavailable(`${hostPath} is not there${sysroot ? ` (chroot ${p.chroot} lacks it)` : ''}`);
  const argv = sysroot ? chrootedCommand(sysroot, [p.python, '-c', VERSION_CODE]) : [p.python, '-c', VERSION_CODE];
  try {
    const { stdout } = await run(argv[0]!, argv.slice(1), { timeout: 60_000, ...(sysroot ? { env: chrootEnv() } : {}) });
    const [version, fullVersion] = stdout.trim().split('\n');
    return { ...p, sysroot, debugDir: sysroot ? join(sysroot, 'usr', 'lib', 'debug') : null, version: version ?? null, fullVersion: fullVersion ?? null, available: true, reason: null };
  } catch (e) {
    return unavailable(`${p.python}${sysroot ? ` in chroot ${p.chroot}` : ''} does not run: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}`);
  }
}

/** One line per interpreter: what it is, or why it is not covered. */
export function coverageLines(pythons: ResolvedPython[]): string[] {
  return pythons.map((p) =>
    p.available
      ? `${p.id}: ${p.version} (${p.chroot ? `chroot ${p.chroot}: ${p.sysroot}` : 'host'}: ${p.python})`
      : `${p.id}: not covered: ${p.reason}`,
  );
}

/**
 * What the census workload's truth reads through C pointers (fixtures/workloads/census.py), where
 * this interpreter keeps it: read from its DWARF with gdb (the chroot's debug info for a chrooted
 * one), passed to the workload as JSON in CORONER_TRUTH_LAYOUT, so that the workload itself holds
 * no offsets. Each place is a path of offsets: from a base address, read the pointer at base +
 * path[0], then at that + path[1], ...; the last one read is the object.
 */
export interface TruthLayout {
  /**
   * The interned-strings dict, when the version keeps its strs alive through it (3.12 on: interned
   * strs are immortal or, from 3.13, counted as the interpreter's): from the main interpreter
   * (PyInterpreterState_Main(), 3.13 on) or from _PyRuntime (3.12). null before 3.12: an interned
   * str there is mortal, the dict's two references to it are not counted, it lives only while
   * something else holds it.
   */
  interned: { base: 'interp' | 'runtime'; path: number[] } | null;
  /**
   * A code object's members that are not exposed as they are stored (from the code object), by
   * name: `co_consts` and `co_name` to check the others against, then those this version has.
   */
  code: Record<string, number[]>;
}

/** Where the interned dict may be, newest first: the first one whose field is a PyObject * is it. */
const INTERNED_FIELDS: { base: 'interp' | 'runtime'; steps: [string, string][] }[] = [
  { base: 'interp', steps: [['PyInterpreterState', 'cached_objects.interned_strings']] }, // 3.13 on
  // 3.12.0 (3.13's field of that name, and 3.12.1's, is a _Py_hashtable_t of the runtime's static
  // strs: not it; 3.12.1 keeps the dict in the interpreter, as 3.13, found by the line above)
  { base: 'runtime', steps: [['struct pyruntimestate', 'cached_objects.interned_strings']] },
];

/**
 * The code object's stored members that neither tp_traverse (code objects are not GC-tracked) nor
 * an attribute gives as they are (co_varnames and co_code are built from them, or cached in them):
 * each is kept when this version has it. 3.11 has the first three; 3.12 on, co_code, co_varnames,
 * co_cellvars and co_freevars are cached in a _PyCoCached the code object points to.
 */
const CODE_FIELDS: Record<string, [string, string][]> = {
  co_consts: [['PyCodeObject', 'co_consts']],
  co_name: [['PyCodeObject', 'co_name']],
  co_localsplusnames: [['PyCodeObject', 'co_localsplusnames']],
  co_localspluskinds: [['PyCodeObject', 'co_localspluskinds']],
  _co_code: [['PyCodeObject', '_co_code']],
  '_co_cached._co_code': [['PyCodeObject', '_co_cached'], ['_PyCoCached', '_co_code']],
  '_co_cached._co_varnames': [['PyCodeObject', '_co_cached'], ['_PyCoCached', '_co_varnames']],
  '_co_cached._co_cellvars': [['PyCodeObject', '_co_cached'], ['_PyCoCached', '_co_cellvars']],
  '_co_cached._co_freevars': [['PyCodeObject', '_co_cached'], ['_PyCoCached', '_co_freevars']],
};

/**
 * TruthLayout of interpreter P, from its DWARF (null when gdb cannot read it: the workload then
 * reads nothing through pointers). One gdb run: for each step of each path, the field's type
 * (`whatis`) and offset; a path is kept when every step has both, the last is a `PyObject *` and
 * the others pointers.
 */
export async function truthLayout(p: ResolvedPython): Promise<TruthLayout | null> {
  const hostPath = p.sysroot ? join(p.sysroot, p.python) : p.python;
  const layout = await truthLayoutOf(p, hostPath);
  if (layout || p.chroot) return layout;
  // A shared build (--enable-shared, as pyenv's): the types' DWARF is libpython's, not the
  // executable's, and gdb does not load a library of a program it does not run.
  const lib = await sharedLibpython(p.python);
  return lib ? truthLayoutOf(p, lib) : null;
}

/** The libpython a host interpreter of a shared build runs from, or null. */
async function sharedLibpython(python: string): Promise<string | null> {
  const code = 'import os, sysconfig as s; v = s.get_config_var; print(os.path.join(v("LIBDIR"), v("INSTSONAME")) if v("Py_ENABLE_SHARED") else "")';
  try {
    const { stdout } = await run(python, ['-c', code], { timeout: 30_000 });
    const path = stdout.trim();
    if (!path) return null;
    accessSync(path, constants.R_OK);
    return path;
  } catch {
    return null;
  }
}

async function truthLayoutOf(p: ResolvedPython, hostPath: string): Promise<TruthLayout | null> {
  const steps = new Map<string, [string, string]>();
  const key = ([type, field]: [string, string]): string => `${type}::${field}`;
  for (const path of [...INTERNED_FIELDS.map((f) => f.steps), ...Object.values(CODE_FIELDS)]) {
    for (const s of path) steps.set(key(s), s);
  }
  const args = ['-nx', '-batch', '-iex', 'set auto-load off', '-iex', 'set debuginfod enabled off'];
  if (p.sysroot) args.push('-iex', `set sysroot ${p.sysroot}`);
  if (p.debugDir) args.push('-iex', `set debug-file-directory ${p.debugDir}`);
  const ids = [...steps.keys()];
  ids.forEach((id, i) => {
    const [type, field] = steps.get(id)!;
    const member = `((${type} *)0)->${field}`;
    args.push('-ex', `echo @step ${i}\\n`, '-ex', `whatis ${member}`, '-ex', `p/d (long)&${member}`);
  });
  args.push(hostPath);
  let out: string;
  try {
    ({ stdout: out } = await run('gdb', args, { timeout: 120_000, maxBuffer: 16 << 20 }));
  } catch (e) {
    // gdb exits with 1 when its last command failed (a field this version does not have).
    const stdout = (e as { stdout?: unknown }).stdout;
    if (typeof stdout !== 'string') return null;
    out = stdout;
  }
  const found = new Map<string, { type: string; offset: number }>();
  let current: string | null = null;
  let type: string | null = null;
  for (const line of out.split('\n')) {
    const marker = /^@step (\d+)$/.exec(line);
    const t = /^type = (.*)$/.exec(line);
    const v = /^\$\d+ = (-?\d+)$/.exec(line);
    if (marker) [current, type] = [ids[Number(marker[1])]!, null];
    else if (t && current) type = t[1]!.trim();
    else if (v && current && type) found.set(current, { type, offset: Number(v[1]) });
  }
  const pathOf = (path: [string, string][]): number[] | null => {
    const got = path.map((s) => found.get(key(s)));
    if (got.some((g) => !g)) return null;
    if (got.at(-1)!.type !== 'PyObject *' || got.slice(0, -1).some((g) => !g!.type.endsWith('*'))) return null;
    return got.map((g) => g!.offset);
  };
  let interned: TruthLayout['interned'] = null;
  for (const f of INTERNED_FIELDS) {
    const path = pathOf(f.steps);
    if (path) {
      interned = { base: f.base, path };
      break;
    }
  }
  const code: Record<string, number[]> = {};
  for (const [name, steps_] of Object.entries(CODE_FIELDS)) {
    const path = pathOf(steps_);
    if (path) code[name] = path;
  }
  if (!code.co_consts || !code.co_name) return null; // no DWARF for PyCodeObject: nothing is known
  return { interned, code };
}
