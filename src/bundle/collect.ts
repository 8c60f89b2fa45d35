// What goes into a bundle: the core, every file it mapped that is still on this machine, the
// thread library gdb loads beside libc, the separate debug files found by build-id, and the
// links by which the loader named those files (/lib -> /usr/lib, sonames, the interpreter).
// A core is untrusted: its list of mapped files may name anything (/etc/shadow). A file is taken
// only when it is the one the process mapped: an ELF file whose build-id is the one the core's
// memory shows for that mapping, or a data file of the kinds a Python process maps (locale data,
// iconv's cache) in its system place. Every other entry is listed as not packed, with why.
import { existsSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { executableOf, type ElfCore } from '../core/core-file.js';
import { DEBUG_DIR, sysrootEntry, type BundleFile, type BundleManifest } from './manifest.js';
import { readElfIds } from './elf-ids.js';
import { MappedBuildIds } from './mapped-ids.js';

/** A file to pack, and where to read it from. */
export interface PackFile extends BundleFile {
  source: string;
}

export interface BundlePlan {
  files: PackFile[];
  links: BundleManifest['links'];
  missing: BundleManifest['missing'];
  /** Packed ELF files with no separate debug file in the debug folder. */
  noDebug: string[];
}

const LIBC = /\/lib(c|pthread)(\.so\.\d+|-[\d.]+\.so)$/;

async function unusable(path: string): Promise<string | null> {
  if (!path.startsWith('/')) return 'not a file path';
  if (path.endsWith(' (deleted)')) return 'deleted after it was mapped';
  const info = await stat(path).catch(() => null);
  if (!info) return 'no longer on this machine';
  return info.isFile() ? null : 'not a regular file';
}

class Planner {
  readonly plan: BundlePlan = { files: [], links: [], missing: [], noDebug: [] };
  private readonly entries = new Set<string>();

  constructor(private readonly debugRoot: string) {}

  async add(file: Omit<PackFile, 'size'>): Promise<void> {
    if (this.entries.has(file.entry)) return;
    this.entries.add(file.entry);
    this.plan.files.push({ ...file, size: (await stat(file.source)).size });
  }

  /** A file of the machine, with its debug file (and that one's dwz file) when there is one. */
  async addWithDebug(path: string, kind: PackFile['kind']): Promise<void> {
    const ids = await readElfIds(path).catch(() => null);
    await this.add({ entry: sysrootEntry(path), path, source: path, kind, build_id: ids?.buildId ?? undefined });
    if (!ids) return;
    const debug = ids.buildId ? await this.addDebug(ids.buildId) : null;
    if (!debug) this.plan.noDebug.push(path);
    const alt = debug ? (await readElfIds(debug).catch(() => null))?.altlink : null;
    if (alt) await this.addDebug(alt.buildId);
  }

  private async addDebug(buildId: string): Promise<string | null> {
    const rel = join('.build-id', buildId.slice(0, 2), `${buildId.slice(2)}.debug`);
    const source = join(this.debugRoot, rel);
    if (!existsSync(source)) return null;
    await this.add({ entry: sysrootEntry(join('/', DEBUG_DIR, rel)), path: source, source, kind: 'debug', build_id: buildId });
    return source;
  }

  packed(path: string): boolean {
    return this.entries.has(sysrootEntry(path));
  }
}

/** Symbolic links in DIR that lead to a packed file. */
async function linksTo(dir: string, planner: Planner): Promise<BundleManifest['links']> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const links: BundleManifest['links'] = [];
  for (const e of entries) {
    if (!e.isSymbolicLink()) continue;
    const path = join(dir, e.name);
    const target = await realpath(path).catch(() => null);
    if (target && target !== path && planner.packed(target)) links.push({ path, target });
  }
  return links;
}

/** Top-level links of / (merged /usr: /lib -> /usr/lib) under which packed files lie. */
async function rootLinks(files: PackFile[]): Promise<BundleManifest['links']> {
  const links: BundleManifest['links'] = [];
  for (const e of await readdir('/', { withFileTypes: true })) {
    if (!e.isSymbolicLink()) continue;
    const target = await realpath(`/${e.name}`).catch(() => null);
    if (target && target !== '/' && files.some((f) => f.kind !== 'core' && f.path.startsWith(`${target}/`))) links.push({ path: `/${e.name}`, target });
  }
  return links;
}

/** Data files (not ELF) a Python process maps, by where they really are: glibc's locale data and iconv's cache. */
const DATA_PLACES = [
  /^\/usr\/lib\/locale\/(locale-archive|[\w.@-]+\/LC_[A-Z_]+)$/,
  /^\/usr\/share\/locale\/[\w.@-]+\/LC_MESSAGES\/[\w.@+-]+\.mo$/,
  /^\/usr\/lib(64|\/x86_64-linux-gnu)?\/gconv\/gconv-modules\.cache$/,
];

/** Why PATH (a regular file) is not taken as the file the process mapped; null when it is. */
async function notTheMappedFile(path: string, shown: MappedBuildIds): Promise<string | null> {
  const ids = await readElfIds(path).catch(() => null);
  if (!ids) {
    const real = await realpath(path);
    if (DATA_PLACES.some((place) => place.test(real))) return null;
    return 'not an ELF file, nor locale or iconv data in its system place: a file the core names is not taken on its word';
  }
  const inCore = shown.of(path);
  if (!inCore) return "the core's memory shows no build-id for it (no ELF header at its first mapping), so it cannot be told to be the file the process mapped";
  if (!ids.buildId) return `it has no build-id to check against the ${inCore} the core's memory shows`;
  if (ids.buildId !== inCore) return `a different file: its build-id is ${ids.buildId}, the core's memory shows ${inCore}`;
  return null;
}

export async function planBundle(core: ElfCore, debugRoot: string): Promise<BundlePlan> {
  const planner = new Planner(debugRoot);
  await planner.add({ entry: `core/${basename(core.path)}`, path: core.path, source: core.path, kind: 'core' });
  const shown = new MappedBuildIds(core);
  try {
    for (const path of [...new Set(core.mappedFiles.map((m) => m.path))]) {
      const why = (await unusable(path)) ?? (await notTheMappedFile(path, shown));
      if (why) planner.plan.missing.push({ path, reason: why });
      else await planner.addWithDebug(path, 'mapped');
    }
  } finally {
    shown.close();
  }
  // Only beside a libc that was taken: the folder comes from the core's word.
  const libc = core.mappedFiles.find((m) => LIBC.test(m.path) && planner.packed(m.path));
  const threadDb = libc ? await realpath(join(dirname(libc.path), 'libthread_db.so.1')).catch(() => null) : null;
  if (threadDb) await planner.addWithDebug(threadDb, 'thread-db');
  const exe = executableOf(core);
  const interp = exe && planner.packed(exe) ? (await readElfIds(exe).catch(() => null))?.interp : null;
  const interpDir = interp ? await realpath(dirname(interp)).catch(() => null) : null;
  const dirs = new Set(planner.plan.files.filter((f) => f.kind === 'mapped' || f.kind === 'thread-db').map((f) => dirname(f.path)));
  if (interpDir) dirs.add(interpDir);
  const links = await rootLinks(planner.plan.files);
  for (const dir of dirs) links.push(...(await linksTo(dir, planner)));
  planner.plan.links = links;
  return planner.plan;
}
