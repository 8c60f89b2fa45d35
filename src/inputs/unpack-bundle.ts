// A bundle (`coroner pack`) met in an archive: its files are unpacked into a folder of the scratch
// space, the links its manifest lists are made again inside it, and its core is analyzed with that
// folder as gdb's sysroot and its usr/lib/debug as the debug-file directory.
import { createWriteStream, existsSync } from 'node:fs';
import { lstat, mkdir, realpath, symlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DEBUG_DIR, MANIFEST_NAME, SYSROOT_DIR, parseManifest, type BundleManifest } from '../bundle/manifest.js';
import { CoronerError, errorLine } from '../base/errors.js';
import type { ScratchNames } from './scratch.js';
import { problem, type InputItem } from './source.js';
import { drain, entryName, entryRefusal, isFileEntry, pathInside, type TarEntry } from './tar-rules.js';

const MAX_MANIFEST = 16 << 20;

async function readManifest(entry: TarEntry, where: string): Promise<BundleManifest> {
  if (entry.header.size > MAX_MANIFEST) {
    await drain(entry);
    throw new CoronerError(`${where}: a bundle manifest of ${entry.header.size} bytes; make the bundle again with coroner pack`, 'bad-bundle');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk);
  return parseManifest(Buffer.concat(chunks).toString('utf8'), where);
}

/** The core of the bundle whose manifest is FIRST; the other entries follow from ENTRIES. */
export async function* bundleSources(
  first: TarEntry, entries: AsyncIterator<TarEntry>, name: string, scratch: ScratchNames,
): AsyncGenerator<InputItem> {
  let manifest: BundleManifest;
  try {
    manifest = await readManifest(first, `${name}:${MANIFEST_NAME}`);
  } catch (err) {
    if (!(err instanceof CoronerError)) throw err;
    yield { problem: { name, error: err } };
    for (let r = await entries.next(); !r.done; r = await entries.next()) await drain(r.value);
    return;
  }
  const dir = scratch.next('bundle');
  const wanted = new Set(manifest.files.map((f) => f.entry));
  const coreName = `${name}:${manifest.core}`;
  let takenAt: string | undefined;
  for (let r = await entries.next(); !r.done; r = await entries.next()) {
    const entry = r.value;
    const en = entryName(entry.header);
    const refusal = entryRefusal(entry.header);
    const path = !refusal && isFileEntry(entry.header) && wanted.has(en) ? pathInside(dir, en) : null;
    if (!path) {
      await drain(entry);
      if (refusal) yield problem(`${name}:${en}`, `refused, ${refusal}`, 'refused-entry');
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await pipeline(entry, createWriteStream(path, { mode: 0o600 }));
    if (en === manifest.core) takenAt = entry.header.mtime?.toISOString();
  }
  const core = join(dir, manifest.core);
  if (!existsSync(core)) {
    yield problem(coreName, 'the bundle does not hold the core its manifest names; make the bundle again with coroner pack', 'bad-bundle');
    return;
  }
  const sysroot = join(dir, SYSROOT_DIR);
  try {
    await mkdir(sysroot, { recursive: true });
    await makeLinks(sysroot, manifest.links);
  } catch (err) {
    yield problem(coreName, `the bundle's links cannot be made (${errorLine(err)}); make the bundle again with coroner pack`, 'bad-bundle');
    return;
  }
  yield { source: { path: core, name: coreName, takenAt, sysroot, debugDir: join(sysroot, DEBUG_DIR), copied: true, temporary: dir,
    aliases: [[sysroot, `${name}:${SYSROOT_DIR}`]] } };
}

/**
 * The links, made inside SYSROOT only: each path and target was checked to be a plain absolute
 * path, and the folder a link goes in is checked, resolved, to be inside the sysroot.
 */
async function makeLinks(sysroot: string, links: BundleManifest['links']): Promise<void> {
  const root = await realpath(sysroot);
  for (const { path, target } of links) {
    const at = pathInside(root, path.slice(1));
    const to = pathInside(root, target.slice(1));
    if (!at || !to || (await lstat(at).catch(() => null))) continue;
    await mkdir(dirname(at), { recursive: true });
    const folder = await realpath(dirname(at));
    const within = relative(root, folder);
    if (within.startsWith('..') || isAbsolute(within)) continue;
    await symlink(relative(folder, to), join(folder, basename(at)));
  }
}
