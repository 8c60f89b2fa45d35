// The public JSON shapes of `show --json` and `list --json`. These field names are a promise to
// users: fields may be added, never renamed.
import { holderOf, locksHeldBy, type Holder } from '../threads/locks.js';
import type { CensusRow, Dump, DumpSummary } from '../model/types.js';
import { dumpVerdict } from '../memory/verdict.js';
import { scriptOf } from './script.js';

/** Who holds a lock a thread waits on: the thread, and whether that is known or inferred. */
function holderJson(h: Holder | null): object | null {
  return h && { tid: h.holder.tid, name: h.holder.name, certain: h.certain, how: h.how };
}

/** The model's camelCase field names as the public JSON's snake_case ones, all the way down. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(v)]));
}

export function censusJson(rows: CensusRow[]): object[] {
  return rows.map((r) => ({ type: r.type, module: r.module, count: r.count, bytes: r.bytes, bytes_with_buffers: r.bytesWithBuffers }));
}

/** The dump as `show --json` prints it; THREADS (show --thread) in place of all of them, the verdict still the whole dump's. */
export function dumpJson(d: Dump, threads: Dump['threads'] = d.threads): object {
  const c = d.core;
  return {
    id: d.id,
    core: {
      path: c.path, sha256: c.sha256, size: c.size, pid: c.pid, signal: c.signal, signal_name: c.signalName,
      executable: c.executable, cmdline: c.cmdline, taken_at: c.takenAt, file: c.file, sysroot: c.sysroot,
    },
    python: { version: d.python.version, layout: d.python.layout },
    series: d.series,
    analysis_ms: d.analysisMs,
    threads: threads.map((t) => ({
      tid: t.tid,
      name: t.name,
      ident: t.ident,
      state: t.state,
      state_detail: t.stateDetail,
      holds_gil: t.holdsGil,
      waits_on: t.waitsOn && { ...t.waitsOn, held_by: holderJson(holderOf(t, d.threads)) },
      held_locks: locksHeldBy(t, d.threads).map((h) => ({
        address: h.address, kind: h.kind, frame: h.frame && t.pythonFrames.indexOf(h.frame), condition: h.condition, context: h.context, released: h.released,
        how: h.how, wanted_by: h.wantedBy.map((o) => ({ tid: o.tid, name: o.name })),
      })),
      python_frames: t.pythonFrames.map((f) => ({
        function: f.function,
        file: f.file,
        line: f.line,
        native_index: f.nativeIndex,
        is_entry: f.isEntry,
        source: f.source ?? null,
        locals: Object.fromEntries(f.locals.map((l) => [l.name, l.repr])),
      })),
      native_frames: t.nativeFrames.map((f) => ({ function: f.function, library: f.library, file: f.file, line: f.line, pc: f.pc })),
    })),
    census: censusJson(d.census),
    census_stats: d.censusStats && {
      objects: d.censusStats.objects, bytes: d.censusStats.bytes, arenas: d.censusStats.arenas, pools: d.censusStats.pools,
      malloc_objects: d.censusStats.mallocChunks, walk_ms: Math.round(d.censusStats.walkMs),
    },
    memory: {
      ...(d.memory ? (snakeKeys(d.memory) as object) : {}),
      pymalloc: {
        ...(d.memory?.pymalloc ? (snakeKeys(d.memory.pymalloc) as object) : {}),
        size_classes: d.pymalloc.map((c) => ({
          block_size: c.blockSize, pools: c.pools, blocks_used: c.blocksUsed, blocks_free: c.blocksFree,
          object_blocks: c.objectBlocks, object_bytes: c.objectBytes,
          non_object_blocks: c.blocksUsed - c.objectBlocks, non_object_bytes: (c.blocksUsed - c.objectBlocks) * c.blockSize,
        })),
      },
    },
    // A coroutine frame's locals as a thread's Python frame has them: {NAME: REPR}.
    tasks: d.tasks && d.tasks.map((t) => ({
      ...(snakeKeys(t) as object),
      chain: t.chain.map((f) => ({
        function: f.function, file: f.file, line: f.line, kind: f.kind, state: f.state,
        locals: Object.fromEntries(f.locals.map((l) => [l.name, l.repr])), timer_when: f.timerWhen,
      })),
    })),
    loops: d.loops && (snakeKeys(d.loops) as object[]),
    findings: d.findings.map((f) => ({
      kind: f.kind, severity: f.severity, title: f.title, detail: f.detail, evidence: f.evidence, remedy: f.remedy, threads: f.threads ?? [],
    })),
    verdict: dumpVerdict(d),
    warnings: d.warnings,
  };
}

export function listJson(dumps: DumpSummary[]): object[] {
  return dumps.map((d) => ({
    id: d.id, path: d.path, sha256: d.sha256, size: d.size, pid: d.pid, executable: d.executable,
    python_version: d.pythonVersion, taken_at: d.takenAt, threads: d.threads, findings: d.findings,
    cmdline: d.cmdline, script: scriptOf(d.cmdline), finding_kinds: d.findingKinds,
  }));
}
