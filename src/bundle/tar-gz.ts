// Writes a tar.gz from files on disk (streamed: a core is never held in memory) and small
// in-memory bodies. The archive appears whole or not at all: it is written beside OUT and
// renamed at the end, and removed if anything fails.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

export type EntryHeader = Parameters<tar.Pack['entry']>[0];

/** An entry: a file's contents (size and mtime its own unless the header says), or a body, or none (links, folders). */
export interface TarItem {
  header: EntryHeader;
  file?: string;
  body?: Buffer;
}

async function addEntry(pack: tar.Pack, item: TarItem): Promise<void> {
  const info = item.file ? await stat(item.file) : null;
  const header = info ? { size: info.size, mtime: info.mtime, mode: 0o644, ...item.header } : item.header;
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (!item.file) {
      pack.entry(header, item.body ?? Buffer.alloc(0), done);
      return;
    }
    const source = createReadStream(item.file, { highWaterMark: 1 << 20 });
    const sink = pack.entry(header, done);
    source.on('error', (err) => {
      sink.destroy(err);
      reject(err);
    });
    source.pipe(sink);
  });
}

export async function writeTarGz(out: string, items: Iterable<TarItem>, opts: { level?: number } = {}): Promise<void> {
  return writeTar(out, items, { ...opts, gzip: true });
}

/** A tar archive, gzip'd or not, written to a side file and renamed into place when whole. */
export async function writeTar(out: string, items: Iterable<TarItem>, opts: { level?: number; gzip: boolean }): Promise<void> {
  const part = `${out}.part-${process.pid}`;
  const pack = tar.pack();
  const written = opts.gzip
    ? pipeline(pack, createGzip({ level: opts.level }), createWriteStream(part))
    : pipeline(pack, createWriteStream(part));
  written.catch((err: Error) => pack.destroy(err));
  try {
    for (const item of items) await addEntry(pack, item);
    pack.finalize();
    await written;
    await rename(part, out);
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => {});
    await rm(part, { force: true });
    throw err;
  }
}
