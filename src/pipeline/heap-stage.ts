// The heap stage of the pipeline: the census, then the memory accounting built on what it saw.
import { takeCensus } from '../census/census.js';
import type { ElfCore } from '../core/core-file.js';
import type { CensusRow, CensusStats, MemoryReport, PymallocClass } from '../model/types.js';
import { accountMemory, type AccountInput } from '../memory/account.js';

export interface HeapAnalysis {
  rows: CensusRow[];
  pymalloc: PymallocClass[];
  stats: CensusStats | null;
  memory: MemoryReport | null;
  warnings: string[];
}

export async function analyzeHeap(core: ElfCore, raw: AccountInput, opts: { sysroot?: string } = {}): Promise<HeapAnalysis> {
  if (!raw.heap) {
    return { rows: [], pymalloc: [], stats: null, memory: null, warnings: ['census: the gdb script could not describe the heap'] };
  }
  const census = await takeCensus(core, raw.heap, opts);
  const memory = accountMemory(core, raw, census, opts);
  return { rows: census.rows, pymalloc: census.pymalloc, stats: census.stats, memory, warnings: census.warnings };
}

export interface HeapTask {
  core: ElfCore;
  raw: AccountInput;
  sysroot?: string;
}
