// Cores inside a stream (an archive file, or standard input): a tar or tar.gz archive, a gzip'd
// core, or a bare core. Each core is written once to a temporary file as it streams by, never
// held in memory; entries are checked by tar-rules, and a bundle is handed to unpack-bundle.
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { archiveFailure } from './archive-damage.js';
import { MANIFEST_NAME } from '../bundle/manifest.js';
import { isElfCoreHead, magicOf, peekStream } from '../core/magic.js';
import type { ScratchNames } from './scratch.js';
import { sparseCopy } from './sparse-copy.js';
import { problem, type InputItem } from './source.js';
import { drain, entryName, entryRefusal, isFileEntry, type TarEntry } from './tar-rules.js';
import { bundleSources } from './unpack-bundle.js';
import type { UnpackBudget } from './unpack-budget.js';

/**
 * Copy a core out of the stream, hashing it on the way (the copy is then never read just to hash
 * it). A copy that runs out of room (the budget's ceiling, or the disk) fails this core only: the
 * stream is read to its end all the same, so that an archive goes on to its next member.
 */
async function copyCore(
  stream: AsyncIterable<Buffer>, where: string, scratch: ScratchNames, budget: UnpackBudget, size: number | null, takenAt?: string,
): Promise<InputItem> {
  const path = scratch.next('core');
  try {
    const { sha256, bytes } = await sparseCopy(stream, path, budget.member(size));
    budget.spent(bytes);
    return { source: { path, name: where, sha256, copied: true, temporary: path, ...(takenAt ? { takenAt } : {}) } };
  } catch (err) {
    const failure = archiveFailure(err, '');
    if (failure.damaged) throw err;
    await rm(path, { force: true });
    await drain(stream);
    return problem(where, failure.what, failure.kind);
  }
}

/** The cores a stream holds, in order; NAME is how the user knows the stream (a path, or "stdin"). */
export async function* streamSources(
  input: AsyncIterable<Buffer>, name: string, scratch: ScratchNames, budget: UnpackBudget, onBytes?: (n: number) => void,
): AsyncGenerator<InputItem> {
  let where = '';
  try {
    let { head, stream } = await peekStream(input, undefined, onBytes);
    if (magicOf(head) === 'gzip') {
      // zlib's default 16 KiB output chunks made inflating a 1.4 GB archive of cores 4x slower
      // (half of it system time in small writes); 1 MiB chunks cost the same memory as the reads.
      const gunzip = createGunzip({ chunkSize: 1 << 20 });
      stream.on('error', (err) => gunzip.destroy(err));
      ({ head, stream } = await peekStream(stream.pipe(gunzip)));
    }
    const magic = magicOf(head);
    if (magic === 'elf') {
      yield await copyCore(stream, name, scratch, budget, null);
    } else if (magic === 'tar') {
      for await (const item of tarSources(stream, name, scratch, budget)) {
        if ('source' in item) where = item.source.name;
        yield item;
      }
    } else {
      yield problem(name, 'neither a core (ELF) nor a tar or gzip archive; give a core, a folder of cores or a .tar/.tar.gz of them', 'not-core');
    }
  } catch (err) {
    const failure = archiveFailure(err, where);
    yield problem(name, failure.what, failure.kind);
  }
}

async function* tarSources(stream: Readable, name: string, scratch: ScratchNames, budget: UnpackBudget): AsyncGenerator<InputItem> {
  const extract = tar.extract();
  stream.on('error', (err) => extract.destroy(err));
  stream.pipe(extract);
  const entries = extract[Symbol.asyncIterator]() as AsyncIterator<TarEntry>;
  let sawFile = false;
  const passedOver: string[] = [];
  let cores = 0;
  let refused = 0;
  for (let r = await entries.next(); !r.done; r = await entries.next()) {
    const entry = r.value;
    const where = `${name}:${entryName(entry.header)}`;
    const refusal = entryRefusal(entry.header);
    if (refusal) {
      refused++;
      await drain(entry);
      yield problem(where, `refused, ${refusal}`, 'refused-entry');
      continue;
    }
    if (!isFileEntry(entry.header)) {
      await drain(entry);
      continue;
    }
    if (!sawFile && entryName(entry.header) === MANIFEST_NAME) {
      yield* bundleSources(entry, entries, name, scratch);
      return;
    }
    sawFile = true;
    const item = await memberSource(entry, where, scratch, budget);
    if (item) {
      cores++;
      yield item;
    } else {
      passedOver.push(entryName(entry.header));
    }
  }
  if (cores === 0 && (refused === 0 || passedOver.length > 0)) yield problem(name, noCores(passedOver), 'no-cores');
}

/** Why an archive gave no core: what it held instead, in a few names. */
function noCores(names: string[]): string {
  if (names.length === 0) return 'no core files in this archive (it holds no files); give an archive of cores (tar -czf cores.tar.gz core.*)';
  const nested = names.filter((n) => /\.(tar|tgz|tar\.gz|gz)$/.test(n));
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, and ${names.length - 3} more` : '');
  const why = nested.length > 0 ? '; archives inside an archive are not unpacked: unpack it and ingest the inner archives' : '';
  return `no core files in this archive (${names.length} file${names.length === 1 ? '' : 's'}, none an ELF core: ${shown})${why}`;
}

/** A tar member that is an ELF core, copied out; any other file is passed over (null). */
async function memberSource(entry: TarEntry, where: string, scratch: ScratchNames, budget: UnpackBudget): Promise<InputItem | null> {
  const { head, stream } = await peekStream(entry, 18);
  if (!isElfCoreHead(head)) {
    await drain(stream);
    return null;
  }
  return copyCore(stream, where, scratch, budget, entry.header.size ?? null, entry.header.mtime?.toISOString());
}
