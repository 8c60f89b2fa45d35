// The temporary folder of one ingest: archive members and standard input are written here, once
// each, under names coroner makes up (never a name from an archive); the folder goes when the
// ingest ends, whether it went well or not, and also when the process exits or is interrupted.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The folders of the ingests under way (a server runs several at once): one set of listeners for all. */
const live = new Set<string>();

function removeAllSync(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
  unlisten();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles it (the server finishes its analyses first): the exit listener cleans up.
  if (process.listenerCount(signal) > 1) return;
  // Nobody else: clean up and die of the signal, as without this listener.
  removeAllSync();
  process.kill(process.pid, signal);
}

function listen(): void {
  process.on('exit', removeAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function unlisten(): void {
  process.off('exit', removeAllSync);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

export class Scratch {
  private count = 0;

  private constructor(readonly dir: string) {}

  static async create(): Promise<Scratch> {
    const dir = await mkdtemp(join(tmpdir(), 'coroner-ingest-'));
    if (live.size === 0) listen();
    live.add(dir);
    return new Scratch(dir);
  }

  /** A fresh path inside the folder, for a file or a sub-folder. */
  next(kind: string): string {
    this.count += 1;
    return join(this.dir, `${this.count}.${kind}`);
  }

  async remove(): Promise<void> {
    live.delete(this.dir);
    if (live.size === 0) unlisten();
    await rm(this.dir, { recursive: true, force: true });
  }
}
