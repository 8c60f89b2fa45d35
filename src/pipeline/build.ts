// From what gdb read to the model of threads and frames that is stored, shown and reported.
import { classify } from '../threads/classify.js';
import { lockFindings } from '../threads/locks.js';
import { crashFinding, crashingThread } from '../threads/crash.js';
import { memoryFindings } from '../memory/findings.js';
import { buildTasks } from '../tasks/tasks.js';
import { taskFindings } from '../tasks/findings.js';
import type { HeapAnalysis } from './heap-stage.js';
import type { CoreFacts, Dump, Thread } from '../model/types.js';
import type { RawExtraction } from '../model/raw.js';

/** What the heap stage found (the census and the memory accounting). */
export type CensusPart = HeapAnalysis;

export function buildDump(core: CoreFacts, raw: RawExtraction, census: CensusPart, analysisMs: number, series: string | null): Dump {
  const threads: Thread[] = raw.threads.map((t) => {
    const { state, detail } = classify(t);
    return {
      tid: t.lwp,
      name: t.name,
      ident: t.ident,
      threadObject: t.thread_object ?? null,
      state,
      stateDetail: detail,
      holdsGil: t.holds_gil,
      waitsOn: t.waits_on && {
        kind: t.waits_on.kind, address: t.waits_on.address, ownerIdent: t.waits_on.owner_ident, count: t.waits_on.count, condition: t.waits_on.condition ?? null,
      },
      heldLocks: (t.held_locks ?? []).map((h) => ({
        address: h.address, kind: h.kind, frame: h.frame, condition: h.condition, context: h.context ?? null, released: h.released,
      })),
      nativeFrames: t.native_frames.map((f) => ({ function: f.function, library: f.library, file: f.file, line: f.line, pc: f.pc })),
      pythonFrames: t.python_frames.map((f) => ({
        function: f.function,
        file: f.file,
        line: f.line,
        nativeIndex: f.native_index,
        isEntry: f.is_entry,
        locals: f.locals.map((l) => ({ name: l.name, kind: l.kind, repr: l.repr })),
      })),
    };
  });
  // The thread that took a fatal signal comes first: it is the one to read.
  const crashed = crashingThread(core, threads);
  if (crashed) threads.unshift(...threads.splice(threads.indexOf(crashed), 1));
  const crash = crashFinding(core, threads);
  const asyncio = raw.tasks ? buildTasks(raw.tasks, raw.loops ?? []) : null;
  return {
    id: 0,
    core,
    series,
    ingestedAt: new Date().toISOString(),
    analysisMs,
    python: { version: raw.python.version, hexversion: raw.python.hexversion, layout: raw.python.layout, gilHolder: raw.python.gil_holder, gilLocked: raw.python.gil_locked },
    threads,
    findings: [
      ...(crash ? [crash] : []), ...lockFindings(threads), ...(asyncio ? taskFindings(asyncio.tasks, asyncio.loops, threads) : []),
      ...(census.memory ? memoryFindings(census.memory) : []),
    ],
    warnings: [...raw.warnings, ...census.warnings],
    census: census.rows,
    pymalloc: census.pymalloc,
    censusStats: census.stats,
    memory: census.memory,
    tasks: asyncio?.tasks ?? null,
    loops: asyncio?.loops ?? null,
    heapLayout: raw.heap ?? null,
  };
}
