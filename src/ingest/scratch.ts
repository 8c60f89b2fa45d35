// The temporary folder of one ingest: archive members and standard input are written here, once
// each, under names coroner makes up (never a name from an archive); the folder goes when the
// ingest ends, whether it went well or not, and also when the process exits or is interrupted.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atInterrupt } from '../interrupt.js';

export class Scratch {
  private count = 0;

  private constructor(
    readonly dir: string,
    private readonly release: () => void,
  ) {}

  static async create(): Promise<Scratch> {
    const dir = await mkdtemp(join(tmpdir(), 'coroner-ingest-'));
    return new Scratch(dir, atInterrupt(() => rmSync(dir, { recursive: true, force: true })));
  }

  /** A fresh path inside the folder, for a file or a sub-folder. */
  next(kind: string): string {
    this.count += 1;
    return join(this.dir, `${this.count}.${kind}`);
  }

  async remove(): Promise<void> {
    this.release();
    await rm(this.dir, { recursive: true, force: true });
  }
}
