// An archive file unpacked in a worker thread. Inflating, hashing and copying gigabytes goes
// through a fresh buffer per chunk; on the main thread, whose heap holds the whole program, V8
// answered that with a full collection every 25 MB or so (63 in a dozen-core archive, most of
// it on other CPUs than the one unpacking), while a worker's small heap frees them cheaply.
// The worker hands over one item at a time and waits to be asked for the next, so the ingest's
// queue still decides how far ahead unpacking runs.
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { streamSources } from './archive.js';
import { namesIn } from './scratch.js';
import type { CoreSource } from './source.js';
import { UnpackBudget } from './unpack-budget.js';

export interface WorkerTask {
  path: string;
  name: string;
  dir: string;
  /** --max-unpacked, in bytes. */
  maxUnpacked: number;
}

export type WorkerMessage =
  | { source: CoreSource }
  | { problem: { name: string; message: string; kind: string } }
  | { bytes: number }
  | { done: true }
  | { failed: string };

const task = workerData as WorkerTask;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);

/** Byte counts go out in batches: a message per chunk would cost more than the count is worth. */
let unsent = 0;
const onBytes = (n: number): void => {
  unsent += n;
  if (unsent >= 16 << 20) flush();
};
const flush = (): void => {
  if (unsent > 0) post({ bytes: unsent });
  unsent = 0;
};

const asked = (): Promise<void> => new Promise((resolve) => port.once('message', () => resolve()));

try {
  const input = createReadStream(task.path, { highWaterMark: 1 << 20 });
  for await (const item of streamSources(input, task.name, namesIn(task.dir), new UnpackBudget(task.dir, task.maxUnpacked), onBytes)) {
    flush();
    post('problem' in item ? { problem: { name: item.problem.name, message: item.problem.error.message, kind: item.problem.error.kind } } : item);
    await asked();
  }
  flush();
  post({ done: true });
} catch (err) {
  post({ failed: err instanceof Error ? err.message : String(err) });
}
