// The heap stage of one core in a worker thread: the census and the accounting are CPU-bound, and
// with --jobs N they run beside each other (and beside gdb) instead of one after another on the
// thread that also unpacks archives and writes the database.
import { parentPort, workerData } from 'node:worker_threads';
import type { ElfCore } from '../ingest/core-file.js';
import type { RawExtraction } from '../model/types.js';
import { analyzeHeap } from './analyze.js';

interface Task {
  core: ElfCore;
  raw: RawExtraction;
  sysroot?: string;
}

const task = workerData as Task;
analyzeHeap(task.core, task.raw, { sysroot: task.sysroot }).then(
  (result) => parentPort!.postMessage({ result }),
  (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
