// The heap stage of a core in a worker thread: the census and the accounting are CPU-bound, and
// with --jobs N they run beside each other (and beside gdb) instead of one after another on the
// thread that also unpacks archives and writes the database.
import { serveTasks } from '../base/worker-pool.js';
import { analyzeHeap, type HeapAnalysis, type HeapTask } from './heap-stage.js';

serveTasks<HeapTask, HeapAnalysis>(async (task) => ({ result: await analyzeHeap(task.core, task.raw, { sysroot: task.sysroot }) }));
