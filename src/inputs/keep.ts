// Copies coroner made (archive members, standard input, uploads) are deleted once analyzed,
// unless the user keeps them (--keep-cores DIR): a diff needs the core again to find who holds
// the growth. A kept core is named by its sha256, so a core kept twice is one file.
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { CoreSource } from './source.js';

/** Where a kept core is, and the files it mapped when they came with it (a bundle's). */
export interface Kept {
  file: string;
  sysroot: string | null;
}

/** Moves a temporary source into DIR; returns where its core now is, or null if it is not a copy. */
export async function keepCopy(source: CoreSource, sha256: string, dir: string | null): Promise<Kept | null> {
  if (!dir || !source.copied || !source.temporary) return null;
  const whole = source.temporary === source.path;
  const into = resolve(dir);
  // A bundle is kept whole: its core with the files it mapped.
  const dest = join(into, whole ? `${sha256}.core` : sha256);
  await mkdir(into, { recursive: true });
  await rm(dest, { recursive: true, force: true });
  await rename(source.temporary, dest).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EXDEV') throw err;
    await cp(source.temporary!, dest, { recursive: true, verbatimSymlinks: true });
  });
  const moved = (path: string): string => join(dest, relative(source.temporary!, path));
  return whole ? { file: dest, sysroot: null } : { file: moved(source.path), sysroot: source.sysroot ? moved(source.sysroot) : null };
}
