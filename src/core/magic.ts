// What a file or a stream holds, told by its first bytes: an ELF file, a gzip stream or a tar
// archive (names are not trusted: a core may be called anything, an archive too).
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

export type Magic = 'elf' | 'gzip' | 'tar' | 'unknown';

/** Enough bytes to tell them apart: tar's "ustar" sits at offset 257. */
export const MAGIC_BYTES = 512;

export function magicOf(head: Buffer): Magic {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return 'elf';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return 'unknown';
}

/** An ELF header of type CORE (e_type 4 at offset 16). */
export function isElfCoreHead(head: Buffer): boolean {
  return head.length >= 18 && magicOf(head) === 'elf' && head.readUInt16LE(16) === 4;
}

const asBuffer = (v: Buffer | Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

export async function headOfFile(path: string, bytes = MAGIC_BYTES): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(head, 0, bytes, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The first bytes of a stream, and a stream of all of it (those bytes included). onBytes counts
 * what is read from the source, as it is read.
 */
export async function peekStream(
  source: AsyncIterable<Buffer | Uint8Array>, bytes = MAGIC_BYTES, onBytes?: (n: number) => void,
): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let got = 0;
  let ended = false;
  while (got < bytes) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const chunk = asBuffer(r.value);
    onBytes?.(chunk.length);
    chunks.push(chunk);
    got += chunk.length;
  }
  const first = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const chunk = asBuffer(r.value);
      onBytes?.(chunk.length);
      yield chunk;
    }
  }
  return { head: first.subarray(0, bytes), stream: Readable.from(all(), { objectMode: false }) };
}
