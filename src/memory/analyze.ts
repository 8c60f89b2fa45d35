// The heap stage of the pipeline: the census, then the memory accounting built on what it saw.
import { Worker } from 'node:worker_threads';
import { takeCensus } from '../census/census.js';
import type { ElfCore } from '../ingest/core-file.js';
import type { CensusRow, CensusStats, MemoryReport, PymallocClass, RawExtraction } from '../model/types.js';
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

/** The same, in a worker thread of its own. */
export function analyzeHeapInWorker(core: ElfCore, raw: RawExtraction, opts: { sysroot?: string } = {}): Promise<HeapAnalysis> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./analyze-worker.js', import.meta.url), { workerData: { core, raw, sysroot: opts.sysroot } });
    worker.once('message', (m: { result?: HeapAnalysis; error?: string }) => {
      if (m.result) resolve(m.result);
      else reject(new Error(m.error ?? 'the heap analysis failed'));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the heap analysis stopped with code ${code}`)));
  });
}
