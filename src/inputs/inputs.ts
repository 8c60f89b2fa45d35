// What the user named on the command line, turned into the cores to analyze, one at a time as
// they are found: files as they are, folders searched recursively for ELF cores (recognised by
// their header, not their name), tar/tar.gz archives and bundles (archive.ts), and "-" for
// standard input (stdin.ts).
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { archiveSources } from './archive-unpack.js';
import { headOfFile, isElfCoreHead, magicOf } from '../core/magic.js';
import type { Scratch } from './scratch.js';
import { problem, type InputItem } from './source.js';
import { isStdin, stdinSources } from './stdin.js';
import { DEFAULT_MAX_UNPACKED } from './unpack-budget.js';

export type { CoreSource, InputItem } from './source.js';

async function isElfCore(path: string): Promise<boolean> {
  return isElfCoreHead(await headOfFile(path, 18));
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path, out);
    else if (e.isFile() && (await isElfCore(path).catch(() => false))) out.push(path);
  }
}

/** Why a path the user named cannot be looked at. */
function statProblem(given: string, err: NodeJS.ErrnoException): InputItem {
  if (err.code === 'ELOOP') return problem(given, 'a loop of symbolic links (or too many links in a row); point at the core itself', 'symlink-loop');
  if (err.code === 'EACCES') return problem(given, 'permission denied on the path; make it readable (cores are often root\'s: sudo)', 'unreadable');
  if (err.code === 'ENOTDIR') return problem(given, 'a part of the path is not a folder', 'not-found');
  if (err.code === 'ENOENT') return problem(given, 'no such file or folder', 'not-found');
  return problem(given, `cannot look at it (${err.code ?? err.message})`, 'unreadable');
}

export interface ExpandOptions {
  /** Where archive members and standard input are copied. */
  scratch: Scratch;
  /** Counts the bytes read from archives and standard input as they stream by. */
  onBytes?: (n: number) => void;
  /** The files named are coroner's own copies (temporary, like archive members), not the user's. */
  owned?: boolean;
  /** The most bytes of cores one archive (or standard input) may unpack: --max-unpacked. */
  maxUnpacked?: number;
}

/** The cores the inputs hold, in order, each once; and a problem for each unusable input. */
export async function* expandInputs(paths: string[], opts: ExpandOptions): AsyncGenerator<InputItem> {
  const seen = new Set<string>();
  const once = (name: string): boolean => !seen.has(name) && Boolean(seen.add(name));
  for (const given of paths) {
    if (isStdin(given)) {
      if (once('-')) yield* stdinSources(opts.scratch, opts.maxUnpacked ?? DEFAULT_MAX_UNPACKED, opts.onBytes);
      continue;
    }
    const path = resolve(given);
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => err);
    if (info instanceof Error) {
      yield statProblem(given, info);
    } else if (info.isDirectory()) {
      const found: string[] = [];
      await walk(path, found);
      if (found.length === 0) yield problem(given, 'no core files in this folder (cores are ELF files of type CORE)', 'no-cores');
      for (const core of found.filter(once)) yield { source: { path: core, name: core } };
    } else if (once(path)) {
      const magic = info.isFile() ? magicOf(await headOfFile(path).catch(() => Buffer.alloc(0))) : 'unknown';
      if (magic === 'gzip' || magic === 'tar') yield* archiveSources(path, opts.scratch, opts.maxUnpacked ?? DEFAULT_MAX_UNPACKED, opts.onBytes);
      else yield { source: opts.owned ? { path, name: path, copied: true, temporary: path } : { path, name: path } };
    }
  }
}
