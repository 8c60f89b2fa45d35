// The heap stage of the pipeline: the census, then the memory accounting built on what it saw.
import { takeCensus } from '../census/census.js';
import type { ElfCore } from '../ingest/core-file.js';
import type { CensusRow, CensusStats, MemoryReport, PymallocClass, RawExtraction } from '../model/types.js';
import { WorkerPool } from '../worker-pool.js';
import { accountMemory } from './account.js';

export interface HeapAnalysis {
  rows: CensusRow[];
  pymalloc: PymallocClass[];
  stats: CensusStats | null;
  memory: MemoryReport | null;
  warnings: string[];
}

export async function analyzeHeap(core: ElfCore, raw: RawExtraction, opts: { sysroot?: string } = {}): Promise<HeapAnalysis> {
  if (!raw.heap) {
    return { rows: [], pymalloc: [], stats: null, memory: null, warnings: ['census: the gdb script could not describe the heap'] };
  }
  const census = await takeCensus(core, raw.heap, opts);
  const memory = accountMemory(core, raw, census, opts);
  return { rows: census.rows, pymalloc: census.pymalloc, stats: census.stats, memory, warnings: census.warnings };
}

export interface HeapTask {
  core: ElfCore;
  raw: RawExtraction;
  sysroot?: string;
}

const pool = new WorkerPool<HeapTask, HeapAnalysis>(new URL('./analyze-worker.js', import.meta.url));

/**
 * Above this, a core's heap stage costs far more than starting a worker, and a worker kept after
 * it held on to its memory: a batch of a 2 GB core and a 460 MB one peaked at 555 MB, 470 alone.
 */
const KEEP_WORKER_BELOW = 1 << 30;

/** The same, in a pooled worker thread (beside gdb and the other cores of a batch). */
export function analyzeHeapInWorker(core: ElfCore, raw: RawExtraction, opts: { sysroot?: string } = {}): Promise<HeapAnalysis> {
  return pool.run({ core, raw, sysroot: opts.sysroot }, { keep: core.size < KEEP_WORKER_BELOW });
}
