// The heap stage in pooled worker threads (src/pipeline/heap-stage-worker.ts), beside gdb and the
// other cores of a batch.
import type { ElfCore } from '../core/core-file.js';
import type { RawExtraction } from '../model/raw.js';
import { WorkerPool } from '../base/worker-pool.js';
import { accountInputOf } from '../memory/account.js';
import type { HeapAnalysis, HeapTask } from './heap-stage.js';

const pool = new WorkerPool<HeapTask, HeapAnalysis>(new URL('./heap-stage-worker.js', import.meta.url));

/**
 * Above this, a core's heap stage costs far more than starting a worker, and a worker kept after
 * it held on to its memory: a batch of a 2 GB core and a 460 MB one peaked at 555 MB, 470 alone.
 */
const KEEP_WORKER_BELOW = 1 << 30;

/** The same, in a pooled worker thread (beside gdb and the other cores of a batch). */
export function analyzeHeapInWorker(core: ElfCore, raw: RawExtraction, opts: { sysroot?: string } = {}): Promise<HeapAnalysis> {
  return pool.run({ core, raw: accountInputOf(raw), sysroot: opts.sysroot }, { keep: core.size < KEEP_WORKER_BELOW });
}
