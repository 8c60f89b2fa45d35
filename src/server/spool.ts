// Where uploads land: a folder next to the database, one file per upload, written as the bytes
// arrive (never held in memory) and removed on every path that does not end in an analysis.
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { CoronerError } from '../base/errors.js';
import { humanBytes } from '../base/units.js';

export class Spool {
  constructor(readonly dir: string) {}

  /**
   * Create the folder and empty it: upload states live in memory, so files left by a server that
   * was killed belong to no upload and would only fill the disk.
   */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { recursive: true, force: true });
  }

  /** The file for an upload; its name keeps the client's (sanitized) so that `.tar.gz` stays visible. */
  pathFor(uploadId: string, clientName: string): string {
    return join(this.dir, `${uploadId}-${clientName}`);
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async files(): Promise<string[]> {
    return readdir(this.dir);
  }
}

export function tooLarge(maxBytes: number): CoronerError {
  return new CoronerError(`the upload is larger than this server accepts (${humanBytes(maxBytes)})`, 'too-large');
}

/** A full spool disk, as what the client is told (HTTP 507); null for any other error. */
function noSpace(err: unknown): CoronerError | null {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return null;
  return new CoronerError('the server has no space left to store the upload (its spool disk is full); try again later, or ask its operator to free space', 'no-space');
}

const interruptedError = (): CoronerError =>
  new CoronerError('the upload was interrupted before its end (the client went away)', 'interrupted');

const stalledError = (ms: number): CoronerError =>
  new CoronerError(`the upload stopped: no byte of its body came for ${ms / 1000} s`, 'stalled');

/**
 * Write the request body to path, at most maxBytes of it. On any failure (too large, client gone,
 * no byte for stallMs) the file is removed and the error thrown. The request itself is never
 * destroyed here, so that the caller can still answer (a 413 must reach a client that is still sending).
 */
export async function receiveBody(req: IncomingMessage, path: string, maxBytes: number, stallMs = 0): Promise<number> {
  let bytes = 0;
  let stall: NodeJS.Timeout | undefined;
  const progress = (): void => {
    if (!stallMs) return;
    clearTimeout(stall);
    stall = setTimeout(() => limiter.destroy(stalledError(stallMs)), stallMs);
    stall.unref();
  };
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      progress();
      done(bytes > maxBytes ? tooLarge(maxBytes) : null, chunk);
    },
  });
  const interrupted = (): void => {
    limiter.destroy(interruptedError());
  };
  progress();
  req.once('aborted', interrupted).once('error', interrupted);
  // Opened before piping, so the file exists (and is removed below) whatever happens next.
  const file = await open(path, 'wx');
  try {
    req.pipe(limiter);
    await pipeline(limiter, file.createWriteStream());
    if (!req.complete) throw interruptedError();
    return bytes;
  } catch (err) {
    req.unpipe(limiter);
    await file.close().catch(() => {});
    await rm(path, { force: true });
    throw noSpace(err) ?? err;
  } finally {
    clearTimeout(stall);
    req.off('aborted', interrupted).off('error', interrupted);
  }
}
