// Writes a stream to a new file, hashing every byte and leaving runs of zeros as holes.
// Cores are often mostly zero pages (untouched thread stacks and heaps): those are neither
// copied into the page cache nor written to disk, and read back as zeros all the same.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Zero runs shorter than this are written: a hole is only worth a write call saved. */
const BLOCK = 64 << 10;
const ZERO = Buffer.alloc(BLOCK);

/** Byte ranges [start, end) of CHUNK to write, skipping whole zero blocks. */
function dataRuns(chunk: Buffer): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let at = 0; at < chunk.length; at += BLOCK) {
    const end = Math.min(at + BLOCK, chunk.length);
    // Buffer.compare is a native memcmp: far cheaper than looking at the bytes from JavaScript.
    const zero = end - at === BLOCK && Buffer.compare(chunk.subarray(at, end), ZERO) === 0;
    if (zero && start >= 0) {
      runs.push([start, at]);
      start = -1;
    } else if (!zero && start < 0) {
      start = at;
    }
  }
  if (start >= 0) runs.push([start, chunk.length]);
  return runs;
}

/**
 * Copy SOURCE to a new file at PATH; returns the sha256 of everything read. BEFORE, when given,
 * is asked before each chunk is written (with the bytes it would reach) and may throw to refuse
 * it. A write that fails (a full disk) or is refused still reads SOURCE to its end, so that
 * an archive can go on to its next member, then throws.
 */
export async function sparseCopy(
  source: AsyncIterable<Buffer>, path: string, before?: (reach: number) => void | Promise<void>,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const file = await open(path, 'wx', 0o600);
  let bytes = 0;
  let failed: { err: unknown } | null = null;
  try {
    for await (const chunk of source) {
      if (!failed) {
        try {
          await before?.(bytes + chunk.length);
          hash.update(chunk);
          for (const [start, end] of dataRuns(chunk)) await file.write(chunk, start, end - start, bytes + start);
        } catch (err) {
          failed = { err };
        }
      }
      bytes += chunk.length;
    }
    if (failed) throw failed.err;
    // A trailing run of zeros was never written: the length makes it part of the file.
    await file.truncate(bytes);
  } finally {
    await file.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}
