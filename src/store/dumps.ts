// Writing and reading whole dumps. A dump is written in one transaction, so a reader (or a
// database left by a killed ingest) sees it whole or not at all.
import { resolve } from 'node:path';
import { CoronerError } from '../base/errors.js';
import type { AsyncTask, EventLoop, CensusRow, MemoryReport, PymallocClass, Dump, DumpSummary, Finding, HeldLock, LockWait, NativeFrame, PythonFrame, Thread, ThreadState, Severity } from '../model/types.js';
import { HEAP_LAYOUT_VERSION, heapLayoutProblem, type RawHeap } from '../model/raw.js';
import type { Db } from './db.js';

const bool = (b: boolean): number => (b ? 1 : 0);

export function findBySha(db: Db, sha256: string): number | null {
  const row = db.prepare('SELECT id FROM dumps WHERE sha256 = ?').get(sha256) as { id: number } | undefined;
  return row?.id ?? null;
}

/**
 * Store the dump of a core unless another ingest (another process on the same database) stored
 * the same core meanwhile: looked up inside the write, so two ingests of one core store it once.
 * With force the stored one is replaced under its id.
 */
export function storeDump(db: Db, dump: Dump, force: boolean): { id: number; stored: boolean } {
  return db.transaction(() => {
    const existing = findBySha(db, dump.core.sha256);
    if (existing !== null && !force) return { id: existing, stored: false };
    return { id: saveDump(db, dump, existing), stored: true };
  }).immediate();
}

/** Store a dump; with replaceId, the old analysis of the same core is replaced under the same id. */
export function saveDump(db: Db, dump: Dump, replaceId: number | null = null): number {
  const insertDump = db.prepare(`INSERT INTO dumps (id, sha256, path, size, pid, signal, signal_name, executable, cmdline, fname,
      taken_at, ingested_at, analysis_ms, python_version, python_layout, python_hexversion, gil_holder, gil_locked, series, warnings, core_file, core_sysroot)
    VALUES (@id, @sha256, @path, @size, @pid, @signal, @signal_name, @executable, @cmdline, @fname,
      @taken_at, @ingested_at, @analysis_ms, @python_version, @python_layout, @python_hexversion, @gil_holder, @gil_locked, @series, @warnings, @core_file, @core_sysroot)`);
  const insertMap = db.prepare('INSERT INTO mapped_files (dump_id, start, end, file_offset, path) VALUES (?, ?, ?, ?, ?)');
  const insertThread = db.prepare(`INSERT INTO threads (dump_id, idx, tid, ident, thread_object, name, state, state_detail, holds_gil,
      wait_kind, wait_address, wait_owner, wait_count, wait_condition, held_locks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertNative = db.prepare('INSERT INTO native_frames (thread_id, idx, function, library, file, line, pc) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertPy = db.prepare('INSERT INTO python_frames (thread_id, idx, function, file, line, native_idx, is_entry, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertLocal = db.prepare('INSERT INTO locals (frame_id, idx, name, kind, repr) VALUES (?, ?, ?, ?, ?)');
  const insertCensus = db.prepare('INSERT INTO census (dump_id, type, module, count, bytes, bytes_with_buffers) VALUES (?, ?, ?, ?, ?, ?)');
  const insertClass = db.prepare(`INSERT INTO pymalloc_classes (dump_id, block_size, pools, blocks_used, blocks_free, object_blocks, object_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const setCensusStats = db.prepare(`UPDATE dumps SET census_objects = ?, census_bytes = ?, census_arenas = ?, census_pools = ?,
    census_malloc_chunks = ?, census_ms = ? WHERE id = ?`);
  const insertFinding = db.prepare(`INSERT INTO findings (dump_id, idx, kind, severity, title, detail, evidence, remedy, threads)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);

  return db.transaction((): number => {
    if (replaceId !== null) db.prepare('DELETE FROM dumps WHERE id = ?').run(replaceId);
    const c = dump.core;
    const id = Number(
      insertDump.run({
        id: replaceId, sha256: c.sha256, path: c.path, size: c.size, pid: c.pid, signal: c.signal, signal_name: c.signalName,
        executable: c.executable, cmdline: c.cmdline, fname: c.fname, taken_at: c.takenAt, ingested_at: dump.ingestedAt,
        analysis_ms: Math.round(dump.analysisMs), python_version: dump.python.version, python_layout: dump.python.layout, python_hexversion: dump.python.hexversion,
        gil_holder: dump.python.gilHolder, gil_locked: bool(dump.python.gilLocked), series: dump.series,
        warnings: JSON.stringify(dump.warnings), core_file: c.file, core_sysroot: c.sysroot,
      }).lastInsertRowid,
    );
    for (const m of c.mappedFiles) insertMap.run(id, m.start, m.end, m.fileOffset, m.path);
    dump.threads.forEach((t, i) => {
      const w = t.waitsOn;
      const threadId = Number(
        insertThread.run(id, i, t.tid, t.ident, t.threadObject, t.name, t.state, t.stateDetail, bool(t.holdsGil), w?.kind ?? null, w?.address ?? null, w?.ownerIdent ?? null, w?.count ?? null,
          w?.condition ?? null, JSON.stringify(t.heldLocks))
          .lastInsertRowid,
      );
      t.nativeFrames.forEach((f, j) => insertNative.run(threadId, j, f.function, f.library, f.file, f.line, f.pc));
      t.pythonFrames.forEach((f, j) => {
        const frameId = Number(insertPy.run(threadId, j, f.function, f.file, f.line, f.nativeIndex, bool(f.isEntry), f.source ?? null).lastInsertRowid);
        f.locals.forEach((l, k) => insertLocal.run(frameId, k, l.name, l.kind, l.repr));
      });
    });
    for (const r of dump.census) insertCensus.run(id, r.type, r.module, r.count, r.bytes, r.bytesWithBuffers);
    for (const c of dump.pymalloc) insertClass.run(id, c.blockSize, c.pools, c.blocksUsed, c.blocksFree, c.objectBlocks, c.objectBytes);
    const s = dump.censusStats;
    if (s) setCensusStats.run(s.objects, s.bytes, s.arenas, s.pools, s.mallocChunks, Math.round(s.walkMs), id);
    if (dump.memory) db.prepare('UPDATE dumps SET memory = ? WHERE id = ?').run(JSON.stringify(dump.memory), id);
    if (dump.tasks) db.prepare('UPDATE dumps SET tasks = ?, loops = ? WHERE id = ?').run(JSON.stringify(dump.tasks), JSON.stringify(dump.loops ?? []), id);
    if (dump.heapLayout) {
      db.prepare('UPDATE dumps SET heap_layout = ?, heap_layout_version = ? WHERE id = ?').run(JSON.stringify(dump.heapLayout), dump.heapLayout.layout_version, id);
    }
    dump.findings.forEach((f, i) =>
      insertFinding.run(id, i, f.kind, f.severity, f.title, f.detail, JSON.stringify(f.evidence), f.remedy, f.threads ? JSON.stringify(f.threads) : null),
    );
    return id;
  }).immediate();
}

interface DumpRow {
  id: number; sha256: string; path: string; size: number; pid: number; signal: number; signal_name: string | null;
  executable: string | null; cmdline: string; fname: string; taken_at: string; ingested_at: string; analysis_ms: number;
  python_version: string; python_layout: string; python_hexversion: number; gil_holder: number; gil_locked: number; series: string | null; warnings: string;
  census_objects: number | null; census_bytes: number | null; census_arenas: number | null; census_pools: number | null;
  census_malloc_chunks: number | null; census_ms: number | null; memory: string | null; core_file: string | null; core_sysroot: string | null;
  tasks: string | null; loops: string | null;
}

export function listDumps(db: Db): DumpSummary[] {
  const rows = db.prepare(`SELECT d.id, d.path, d.sha256, d.size, d.pid, d.executable, d.python_version, d.taken_at, d.cmdline,
      (SELECT COUNT(*) FROM threads t WHERE t.dump_id = d.id) AS threads,
      (SELECT COUNT(*) FROM findings f WHERE f.dump_id = d.id) AS findings,
      (SELECT json_group_array(kind) FROM (SELECT kind FROM findings f WHERE f.dump_id = d.id ORDER BY idx)) AS kinds
    FROM dumps d ORDER BY d.taken_at, d.id`).all() as (DumpRow & { threads: number; findings: number; kinds: string })[];
  return rows.map((r) => ({
    id: r.id, path: r.path, sha256: r.sha256, size: r.size, pid: r.pid, executable: r.executable,
    pythonVersion: r.python_version, takenAt: r.taken_at, threads: r.threads, findings: r.findings,
    cmdline: r.cmdline, findingKinds: JSON.parse(r.kinds) as string[],
  }));
}

/** A dump named by id, by the core's path, or by a prefix of its sha256. */
export function resolveDumpRef(db: Db, ref: string): number {
  if (/^\d+$/.test(ref)) {
    const row = db.prepare('SELECT id FROM dumps WHERE id = ?').get(Number(ref)) as { id: number } | undefined;
    if (row) return row.id;
  }
  const byPath = db.prepare('SELECT id FROM dumps WHERE path = ? ORDER BY id DESC').get(resolve(ref)) as { id: number } | undefined;
  if (byPath) return byPath.id;
  if (/^[0-9a-f]{4,64}$/i.test(ref)) {
    const rows = db.prepare("SELECT id FROM dumps WHERE sha256 LIKE ? || '%'").all(ref.toLowerCase()) as { id: number }[];
    if (rows.length === 1) return rows[0]!.id;
    if (rows.length > 1) throw new CoronerError(`${ref}: matches ${rows.length} dumps by sha256; give more of the hash`, 'ambiguous');
  }
  throw new CoronerError(`${ref}: no such dump (give an id, a core's path or a sha256 prefix; coroner list shows them)`, 'no-dump');
}

/** The heap layout gdb read for a dump; null when none was kept, or it is of another layout version than this coroner reads. */
export function loadHeapLayout(db: Db, id: number): RawHeap | null {
  const row = db.prepare('SELECT heap_layout, heap_layout_version FROM dumps WHERE id = ?').get(id) as
    { heap_layout: string | null; heap_layout_version: number | null } | undefined;
  if (!row?.heap_layout || row.heap_layout_version !== HEAP_LAYOUT_VERSION) return null;
  const heap: unknown = JSON.parse(row.heap_layout);
  return heapLayoutProblem(heap) === null ? (heap as RawHeap) : null;
}

/** The census of one dump, heaviest types first. */
export function loadCensus(db: Db, id: number): CensusRow[] {
  return db.prepare(`SELECT type, module, count, bytes, bytes_with_buffers AS bytesWithBuffers FROM census
    WHERE dump_id = ? ORDER BY bytes DESC, count DESC, type`).all(id) as CensusRow[];
}

export function loadDump(db: Db, id: number): Dump {
  // Every column but heap_layout: that one is large, and only a diff's holders read it.
  const r = db.prepare(`SELECT id, sha256, path, size, pid, signal, signal_name, executable, cmdline, fname, taken_at, ingested_at,
      analysis_ms, python_version, python_layout, python_hexversion, gil_holder, gil_locked, series, warnings, census_objects,
      census_bytes, census_arenas, census_pools, census_malloc_chunks, census_ms, memory, core_file, core_sysroot, tasks, loops FROM dumps WHERE id = ?`).get(id) as DumpRow | undefined;
  if (!r) throw new CoronerError(`dump ${id}: no such dump (coroner list shows them)`, 'no-dump');
  const maps = db.prepare('SELECT start, end, file_offset AS fileOffset, path FROM mapped_files WHERE dump_id = ? ORDER BY start').all(id) as Dump['core']['mappedFiles'];
  const threadRows = db.prepare('SELECT * FROM threads WHERE dump_id = ? ORDER BY idx').all(id) as {
    id: number; tid: number; ident: number | null; thread_object: number | null; name: string | null; state: string; state_detail: string; holds_gil: number;
    wait_kind: string | null; wait_address: number | null; wait_owner: number | null; wait_count: number | null;
    wait_condition: number | null; held_locks: string | null;
  }[];
  const nativeOf = db.prepare('SELECT function, library, file, line, pc FROM native_frames WHERE thread_id = ? ORDER BY idx');
  const pyOf = db.prepare('SELECT id, function, file, line, native_idx, is_entry, source FROM python_frames WHERE thread_id = ? ORDER BY idx');
  const localsOf = db.prepare('SELECT name, kind, repr FROM locals WHERE frame_id = ? ORDER BY idx');
  const threads: Thread[] = threadRows.map((t) => {
    const waitsOn: LockWait | null = t.wait_kind === null ? null
      : { kind: t.wait_kind, address: t.wait_address ?? 0, ownerIdent: t.wait_owner, count: t.wait_count, condition: t.wait_condition };
    const pythonFrames: PythonFrame[] = (pyOf.all(t.id) as { id: number; function: string; file: string; line: number; native_idx: number; is_entry: number; source: string | null }[])
      .map((f) => ({
        function: f.function, file: f.file, line: f.line, nativeIndex: f.native_idx, isEntry: f.is_entry === 1, source: f.source,
        locals: localsOf.all(f.id) as PythonFrame['locals'],
      }));
    return {
      tid: t.tid, name: t.name, ident: t.ident, threadObject: t.thread_object, state: t.state as ThreadState, stateDetail: t.state_detail,
      holdsGil: t.holds_gil === 1, waitsOn, heldLocks: t.held_locks ? (JSON.parse(t.held_locks) as HeldLock[]) : [],
      pythonFrames, nativeFrames: nativeOf.all(t.id) as NativeFrame[],
    };
  });
  const findings: Finding[] = (db.prepare('SELECT * FROM findings WHERE dump_id = ? ORDER BY idx').all(id) as {
    kind: string; severity: string; title: string; detail: string; evidence: string; remedy: string; threads: string | null;
  }[]).map((f) => ({
    kind: f.kind, severity: f.severity as Severity, title: f.title, detail: f.detail, evidence: JSON.parse(f.evidence) as string[], remedy: f.remedy,
    ...(f.threads !== null ? { threads: JSON.parse(f.threads) as number[] } : {}),
  }));
  return {
    id: r.id,
    core: {
      path: r.path, size: r.size, sha256: r.sha256, pid: r.pid, signal: r.signal, signalName: r.signal_name, executable: r.executable,
      cmdline: r.cmdline, fname: r.fname, takenAt: r.taken_at, lwps: threads.map((t) => t.tid), mappedFiles: maps,
      file: r.core_file,
      sysroot: r.core_sysroot,
    },
    series: r.series,
    ingestedAt: r.ingested_at,
    analysisMs: r.analysis_ms,
    python: { version: r.python_version, hexversion: r.python_hexversion, layout: r.python_layout, gilHolder: r.gil_holder, gilLocked: r.gil_locked === 1 },
    threads,
    findings,
    warnings: JSON.parse(r.warnings) as string[],
    census: loadCensus(db, id),
    pymalloc: db.prepare(`SELECT block_size AS blockSize, pools, blocks_used AS blocksUsed, blocks_free AS blocksFree,
        object_blocks AS objectBlocks, object_bytes AS objectBytes FROM pymalloc_classes WHERE dump_id = ? ORDER BY block_size`).all(id) as PymallocClass[],
    censusStats: r.census_objects === null ? null : {
      objects: r.census_objects, bytes: r.census_bytes ?? 0, arenas: r.census_arenas ?? 0, pools: r.census_pools ?? 0,
      mallocChunks: r.census_malloc_chunks ?? 0, walkMs: r.census_ms ?? 0,
    },
    memory: r.memory ? (JSON.parse(r.memory) as MemoryReport) : null,
    tasks: r.tasks ? (JSON.parse(r.tasks) as AsyncTask[]) : null,
    loops: r.tasks ? (JSON.parse(r.loops ?? '[]') as EventLoop[]) : null,
  };
}
