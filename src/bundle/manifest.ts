// The manifest of a bundle (`coroner pack`): the first entry of the tar.gz, which is how
// `coroner ingest` recognises a bundle. Written by pack, read (and checked) by ingest.
import { isAbsolute, normalize } from 'node:path';
import { CoronerError } from '../base/errors.js';

export const MANIFEST_NAME = 'coroner-bundle.json';
/** Entries under this folder are the files of the core's machine, at their own paths. */
export const SYSROOT_DIR = 'sysroot';
/** Separate debug files, inside the sysroot (.build-id/xx/yyyy.debug below it). */
export const DEBUG_DIR = 'usr/lib/debug';

export interface BundleFile {
  /** The tar entry: "core/core.123" or "sysroot/usr/lib/....". */
  entry: string;
  /** Where the file was on the machine the core was taken on. */
  path: string;
  size: number;
  kind: 'core' | 'mapped' | 'thread-db' | 'debug';
  build_id?: string;
}

export interface BundleManifest {
  format: 'coroner-bundle';
  version: 1;
  /** The core's entry. */
  core: string;
  created_at: string;
  coroner_version: string;
  host: string;
  files: BundleFile[];
  /** Symbolic links of that machine the loader named files by (/lib -> /usr/lib, sonames), made again on unpacking. */
  links: { path: string; target: string }[];
  /** Mapped files that could not be packed, with why. */
  missing: { path: string; reason: string }[];
}

/** An absolute path with nothing to resolve: no "..", no ".", no doubled slashes. */
export function isPlainAbsolute(p: string): boolean {
  return typeof p === 'string' && p.length > 1 && isAbsolute(p) && normalize(p) === p && !p.endsWith('/') && !p.includes('\0');
}

export function sysrootEntry(path: string): string {
  return `${SYSROOT_DIR}${path}`;
}

export function parseManifest(text: string, where: string): BundleManifest {
  const bad = (why: string): CoronerError =>
    new CoronerError(`${where}: not a usable coroner bundle manifest (${why}); make the bundle again with coroner pack`, 'bad-bundle');
  let m: BundleManifest;
  try {
    m = JSON.parse(text) as BundleManifest;
  } catch {
    throw bad('not JSON');
  }
  if (m?.format !== 'coroner-bundle') throw bad('no "format": "coroner-bundle"');
  if (m.version !== 1) throw bad(`version ${String(m.version)}; this coroner reads version 1`);
  const relative = (e: unknown): boolean => typeof e === 'string' && isPlainAbsolute(`/${e}`);
  if (!relative(m.core)) throw bad('no core entry');
  if (!Array.isArray(m.files) || !m.files.every((f) => relative(f?.entry))) throw bad('a file entry with an unusable name');
  if (!Array.isArray(m.links) || !m.links.every((l) => isPlainAbsolute(l?.path) && isPlainAbsolute(l?.target))) throw bad('a link with an unusable path');
  return m;
}
