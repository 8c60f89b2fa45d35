// The temporary folder of one ingest: archive members and standard input are written here, once
// each, under names coroner makes up (never a name from an archive); the folder goes when the
// ingest ends, whether it went well or not, and also when the process exits or is interrupted.
import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { atInterrupt } from '../base/interrupt.js';
import { ownTempDir, sweepStaleTempDirs } from '../base/temp-dirs.js';

/** Fresh paths inside one folder, for files or sub-folders. */
export interface ScratchNames {
  next(kind: string): string;
}

export function namesIn(dir: string): ScratchNames {
  let count = 0;
  return { next: (kind) => join(dir, `${++count}.${kind}`) };
}

export class Scratch implements ScratchNames {
  private readonly names: ScratchNames;

  private constructor(
    readonly dir: string,
    private readonly release: () => void,
  ) {
    this.names = namesIn(dir);
  }

  static async create(): Promise<Scratch> {
    // The leftovers of runs killed outright go first: nothing else ever removes them.
    await sweepStaleTempDirs();
    const dir = await ownTempDir('ingest');
    return new Scratch(dir, atInterrupt(() => rmSync(dir, { recursive: true, force: true })));
  }

  next(kind: string): string {
    return this.names.next(kind);
  }

  /** A new sub-folder, for another thread to name its own files in; it goes with the folder. */
  async folder(kind: string): Promise<string> {
    const dir = this.next(kind);
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  async remove(): Promise<void> {
    this.release();
    await rm(this.dir, { recursive: true, force: true });
  }
}
