// A worker thread of the census: walks its share of the pymalloc arenas and sends back its tally.
// The census splits the arenas between workers because the walk is CPU-bound and the core is
// read through the page cache: two cores walk a heap nearly twice as fast.
import { parentPort, workerData } from 'node:worker_threads';
import type { ElfCore } from '../core/core-file.js';
import { CoreMemory } from '../core/core-memory.js';
import type { RawHeap } from '../model/raw.js';
import { TypeTable } from '../cpython/types.js';
import { ObjectRecognizer } from './recognizer.js';
import { walkPymalloc, type PymallocWalk } from '../allocators/pymalloc.js';
import { Tally, type TallyParts } from './tally.js';

export interface WorkerTask {
  core: ElfCore;
  heap: RawHeap;
  slots: number[];
  sysroot?: string;
}

export interface WorkerResult {
  walk: PymallocWalk;
  parts: TallyParts;
}

const task = workerData as WorkerTask;
const memory = new CoreMemory(task.core, { sysroot: task.sysroot });
try {
  const types = new TypeTable(task.heap);
  const tally = new Tally(types, task.heap);
  const walk = walkPymalloc(memory, task.heap.pymalloc!, tally.pymallocVisitor(new ObjectRecognizer(types, task.heap)), task.slots);
  tally.resolveDictKeys(memory);
  const parts = tally.parts();
  const result: WorkerResult = { walk, parts };
  const transfer = [parts.count, parts.bytes, parts.buffers, parts.owned, parts.tracked.address].map((a) => a.buffer as ArrayBuffer);
  parentPort!.postMessage(result, transfer);
} finally {
  memory.close();
}
