// The files gdb may open for a core: a folder given to gdb as its sysroot that holds links to the
// regular files the core's mapped-file list names, and nothing else. A core is untrusted input:
// its list (and the library names in its memory) may name a FIFO, whose open would block gdb
// until the timeout, or a device, whose open may do anything. gdb finds the libraries the core
// loaded through the same names (or through links beside them, libz.so.1 -> libz.so.1.2.13, and
// the top-level folder links of a merged /usr, /lib -> usr/lib), and finds nothing else.
import { lstat, mkdir, readdir, readlink, realpath, stat, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';

export interface MappedView {
  /** The folder to give gdb as its sysroot. */
  root: string;
  /** The entries of the list gdb is not shown, with the reason. */
  skipped: { path: string; why: string }[];
}

/** Folders the dynamic loader is found through, though no mapped file lies in them. */
const LOADER_DIRS = ['/lib64', '/usr/lib64'];

/** What a path that is not a regular file is, for the reason it is left out. */
function kindOf(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/**
 * Make the view in ROOT (a new folder) of the files PATHS name (absolute paths as the core has
 * them) below BASE ('/' or a sysroot).
 */
export async function makeMappedView(root: string, base: string, paths: Iterable<string>): Promise<MappedView> {
  const skipped: MappedView['skipped'] = [];
  /** Real path -> where the view shows it. */
  const shown = new Map<string, string>();
  await mkdir(root, { recursive: true, mode: 0o700 });
  for (const path of new Set(paths)) {
    const clean = normalize(path);
    if (!isAbsolute(clean) || clean === sep) {
      skipped.push({ path, why: 'not an absolute path' });
      continue;
    }
    const onDisk = join(base, clean);
    let real: string;
    try {
      real = await realpath(onDisk);
      const info = await stat(real);
      if (!info.isFile()) {
        skipped.push({ path, why: kindOf(info) });
        continue;
      }
    } catch {
      continue; // not on this machine: gdb would not find it either
    }
    const at = join(root, clean);
    await mkdir(dirname(at), { recursive: true });
    await symlink(real, at).catch(() => {});
    shown.set(real, clean);
  }
  await linkSiblings(root, base, shown);
  await linkTopFolders(root, base);
  return { root, skipped };
}

/** Links beside the mapped files (and in the loader's folders) that lead to one of them. */
async function linkSiblings(root: string, base: string, shown: Map<string, string>): Promise<void> {
  const folders = new Set([...shown.values()].map((p) => dirname(p)));
  for (const d of LOADER_DIRS) folders.add(d);
  for (const folder of folders) {
    const entries = await readdir(join(base, folder), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isSymbolicLink()) continue;
      const real = await realpath(join(base, folder, e.name)).catch(() => null);
      if (real === null || !shown.has(real)) continue;
      const at = join(root, folder, e.name);
      await mkdir(dirname(at), { recursive: true });
      await symlink(real, at).catch(() => {});
    }
  }
}

/** The top-level folder links of BASE (merged /usr: /lib -> usr/lib), kept inside the view. */
async function linkTopFolders(root: string, base: string): Promise<void> {
  for (const e of await readdir(base, { withFileTypes: true }).catch(() => [])) {
    if (!e.isSymbolicLink()) continue;
    const target = await readlink(join(base, e.name)).catch(() => null);
    if (target === null) continue;
    const inside = normalize(isAbsolute(target) ? target : join(sep, target));
    const folder = join(root, inside);
    if (!(await lstat(folder).catch(() => null))?.isDirectory()) continue;
    await symlink(relative(root, folder) || '.', join(root, e.name)).catch(() => {});
  }
}
