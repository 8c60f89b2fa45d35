// Which tar entries coroner takes: nothing may land outside the folder it is unpacked in, and
// nothing is taken that tar-stream cannot give whole. Each refusal is the reason, worded for
// the line "ARCHIVE:ENTRY: refused, REASON". Entries not taken are read past (drain).
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Header } from 'tar-stream';

export type TarEntry = AsyncIterable<Buffer> & { header: Header };

/** Reads what is left of a stream, keeping nothing. */
export async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

const REMAKE = 'make the archive from inside the folder with the cores (tar -C DIR -czf cores.tar.gz .)';

export function entryRefusal(h: Header): string | null {
  if (h.type === 'symlink') return `a symbolic link (to ${h.linkname}); put the core itself in the archive (tar -h follows links)`;
  if (h.type === 'link') return `a hard link (to ${h.linkname}); put the core itself in the archive (tar --hard-dereference)`;
  const pax = (h.pax ?? {}) as Record<string, string>;
  if (h.type === null || Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) {
    return 'a GNU sparse entry, which coroner cannot read whole; make the archive without --sparse (-S)';
  }
  if (isAbsolute(h.name) || /^[A-Za-z]:[\\/]/.test(h.name)) return `an absolute path; ${REMAKE}`;
  if (h.name.split(/[\\/]/).includes('..')) return `a path with '..' that would leave the folder it is unpacked in; ${REMAKE}`;
  return null;
}

/** Whether an entry holds file data (a regular file: type 'file' or the rare 'contiguous-file'). */
export function isFileEntry(h: Header): boolean {
  return h.type === 'file' || h.type === 'contiguous-file';
}

/** The entry's name without a leading "./", as it is shown and matched. */
export function entryName(h: Header): string {
  return h.name.replace(/^(\.\/)+/, '');
}

/** Where an entry the rules accepted goes inside DIR; null if it would still leave DIR. */
export function pathInside(dir: string, name: string): string | null {
  const path = join(dir, name);
  const rel = relative(dir, path);
  return rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) ? null : path;
}
