// The copy of an archive member: every byte as streamed (holes read back as the zeros they stand
// for), the sha256 of the stream, and zero blocks left unwritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sparseCopy } from '../src/inputs/sparse-copy.js';
import { tempDir } from './helpers.js';

const MiB = 1 << 20;

/** Data and zeros at odd offsets, a run of zeros across chunk ends, and zeros to the very end. */
function content(): Buffer {
  const parts = [randomBytes(1000), Buffer.alloc(3 * MiB + 17), randomBytes(64 << 10), Buffer.alloc(200), randomBytes(5), Buffer.alloc(2 * MiB)];
  return Buffer.concat(parts);
}

// eslint-disable-next-line @typescript-eslint/require-await -- sparseCopy reads an AsyncIterable: a stream's chunks
async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = sizes[k % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

test('sparseCopy writes every byte, hashes the stream, and leaves zero blocks as holes', async () => {
  const data = content();
  const dir = tempDir();
  for (const [i, sizes] of [[MiB], [100_000, 1, 65_536, 333_333], [7 * MiB]].entries()) {
    const path = join(dir, `copy.${i}`);
    const { sha256, bytes } = await sparseCopy(chunked(data, sizes), path);
    assert.equal(bytes, data.length);
    assert.equal(sha256, createHash('sha256').update(data).digest('hex'));
    assert.ok(readFileSync(path).equals(data), `chunks of ${sizes.join(', ')}: the copy is the stream, byte for byte`);
    // About 5 MB of the 5.1 MB are zeros: most of it must not be allocated on disk.
    assert.ok(statSync(path).blocks * 512 < 2 * MiB, `chunks of ${sizes.join(', ')}: ${statSync(path).blocks * 512} bytes allocated`);
  }
});
