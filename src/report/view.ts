// From the Dump model to what the HTML templates show: plain data, every string still raw (the
// templates escape it), grouped and ordered the way the report reads.
import { basename } from '../base/file-name.js';
import { holderOf, lockName, locksHeldBy } from '../threads/locks.js';
import type { Dump, Finding, Local, PythonFrame, Severity, Thread, ThreadState, CensusRow, MemoryReport } from '../model/types.js';
import { BREAKDOWN_LABELS, CENSUS_TOP, taskGroupTitle } from '../format/text.js';
import { groupTasks } from '../tasks/groups.js';
import { awaitForest, type AwaitNode } from '../tasks/tree.js';
import { waitsAt } from '../tasks/tasks.js';
import { dumpVerdict, type Verdict } from '../memory/verdict.js';
import { pythonFirst, repeatedLine, tracebackText } from '../threads/traceback.js';
import { groupThreads, groupTitle } from '../threads/groups.js';
import { hexAddr, humanBytes, seconds, shortSha } from '../base/units.js';

/** The order thread groups appear in: the threads that explain a hang first. */
export const STATE_ORDER: readonly ThreadState[] = [
  'waiting-lock',
  'waiting-gil',
  'running',
  'holding-gil',
  'gc',
  'waiting-io',
  'sleeping',
  'idle',
];

const STATE_LABEL: Record<ThreadState, string> = {
  'waiting-lock': 'Waiting on a lock',
  'waiting-gil': 'Waiting for the GIL',
  running: 'Running Python',
  'holding-gil': 'Holding the GIL in native code',
  gc: 'Collecting garbage',
  'waiting-io': 'Waiting on I/O',
  sleeping: 'Sleeping',
  idle: 'Idle / native code',
};

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export interface LocalView {
  name: string;
  kind: string;
  repr: string;
}

export interface PyFrameView {
  function: string;
  file: string;
  fileBase: string;
  line: number;
  isEntry: boolean;
  locals: LocalView[];
  source: string | null;
}

/** The Python-first stack: a traceback (most recent call last), the folded count, the native frames under it. */
export interface TracebackView {
  items: { frame: PyFrameView | null; repeated: string | null }[];
  foldedNative: number;
  nativeTail: NativeRowView[];
  /** The traceback in Python's own format, for "copy as text". */
  text: string;
}

export interface NativeRowView {
  index: number;
  pc: string;
  function: string;
  known: boolean;
  library: string | null;
  libraryPath: string | null;
  location: string | null;
  python: PyFrameView[];
}

export interface ThreadRef {
  tid: number;
  label: string;
  anchor: string;
}

export interface ThreadView {
  anchor: string;
  tid: number;
  name: string | null;
  ident: string | null;
  state: ThreadState;
  stateLabel: string;
  stateDetail: string;
  holdsGil: boolean;
  /** Open on load: the threads that most likely explain the dump. */
  open: boolean;
  top: PyFrameView | null;
  python: PyFrameView[];
  native: NativeRowView[];
  /** Python frames not matched to any native frame. */
  unplaced: PyFrameView[];
  traceback: TracebackView;
  waits: {
    kind: string;
    address: string;
    ownerIdent: string | null;
    owner: ThreadRef | null;
    /** How the holder is known ("holds it in a with block at ...", "likely: ..."). */
    ownerHow: string | null;
    count: number | null;
    /** The Condition whose wait() this is (its waiter lock), or null. */
    condition: string | null;
  } | null;
  /** The locks this thread holds, where, and who waits for each. */
  holds: { lock: string; how: string; released: boolean; wantedBy: ThreadRef[] }[];
}

export interface StateGroupView {
  state: ThreadState;
  label: string;
  anchor: string;
  count: number;
  threads: ThreadView[];
  /** The threads as shown: each alone, or identical ones (same state and Python stack) as one group. */
  entries: ThreadEntryView[];
}

export interface ThreadEntryView {
  /** null for a thread on its own. */
  group: { title: string; anchor: string; count: number } | null;
  threads: ThreadView[];
}

export interface FindingView extends Finding {
  anchor: string;
  /** The threads it is about, linked to their cards. */
  threadLinks: ThreadRef[];
}

export interface CensusView {
  rows: CensusRow[];
  /** Rows shown until "show all": the heaviest. */
  top: number;
  more: number;
  objects: number;
  bytes: number;
  walkMs: number | null;
}

export interface MemoryView {
  writable: number;
  allocator: string;
  parts: { kind: string; label: string; bytes: number; detail: string; x: number; width: number; share: string }[];
  glibc: MemoryReport['glibc'];
  gc: MemoryReport['gc'];
  native: MemoryReport['native'];
  pymalloc: MemoryReport['pymalloc'];
}

export interface TaskGroupView {
  title: string;
  count: number;
  state: string;
  running: boolean;
  waitsOn: string;
  awaitedBy: string[];
  chain: { kind: string; function: string; file: string; fileBase: string; line: number }[];
}

/** One task of the await tree, above the tasks it awaits. */
export interface AwaitTreeView {
  name: string;
  /** Where it waits in the program's own code: "service.py:12 in fetch". */
  where: string | null;
  /** Drawn above already (a cycle, or awaited by two): its children are not repeated. */
  repeated: boolean;
  children: AwaitTreeView[];
}

export interface TasksView {
  count: number;
  loops: { address: string; type: string; thread: ThreadRef | null; ready: number | null; scheduled: number | null }[];
  groups: TaskGroupView[];
  /** Who awaits whom, as asyncio pstree draws it; empty when no task awaits another. */
  tree: AwaitTreeView[];
}

function awaitTreeView(nodes: AwaitNode[]): AwaitTreeView[] {
  return nodes.map((n) => ({ name: n.task.name, where: waitsAt(n.task), repeated: n.repeated, children: awaitTreeView(n.children) }));
}

/** The page's sections in the order they come, for the sticky navigation. */
export interface NavLink {
  anchor: string;
  label: string;
  count: string | null;
}

export interface DumpView {
  id: number;
  page: string;
  title: string;
  core: {
    path: string;
    fileBase: string;
    sha256: string;
    shortSha: string;
    size: number;
    sizeHuman: string;
    pid: number;
    signal: number;
    signalName: string | null;
    executable: string | null;
    fname: string;
    cmdline: string;
    takenAt: string;
  };
  series: string | null;
  verdict: Verdict;
  ingestedAt: string;
  analysis: string;
  python: { version: string; layout: string; gilLocked: boolean; gilHolder: ThreadRef | null };
  findings: FindingView[];
  worstSeverity: Severity | null;
  threadCount: number;
  stateCounts: { state: ThreadState; label: string; anchor: string; count: number }[];
  groups: StateGroupView[];
  warnings: string[];
  census: CensusView | null;
  memory: MemoryView | null;
  tasks: TasksView | null;
  nav: NavLink[];
}

export interface IndexRowView {
  id: number;
  page: string;
  pid: number;
  executable: string | null;
  fname: string;
  coreBase: string;
  corePath: string;
  pythonVersion: string;
  takenAt: string;
  size: number;
  sizeHuman: string;
  threads: number;
  findings: number;
  worstSeverity: Severity | null;
  /** For sorting by worst finding: 3 critical, 2 warning, 1 info, 0 none. */
  worstRank: number;
  /** Sort key of the findings column: worst severity, then count. */
  findingsRank: number;
  series: string | null;
}

export function dumpPage(id: number): string {
  return `dump-${id}.html`;
}

function threadLabel(t: Thread): string {
  return `${t.name ?? 'unnamed thread'} (LWP ${t.tid})`;
}

function threadRef(t: Thread): ThreadRef {
  return { tid: t.tid, label: threadLabel(t), anchor: threadAnchor(t) };
}

function threadAnchor(t: Thread): string {
  return `thread-${t.tid}`;
}

function localView(l: Local): LocalView {
  return { name: l.name, kind: l.kind, repr: l.repr };
}

function pyFrameView(f: PythonFrame): PyFrameView {
  return {
    function: f.function, file: f.file, fileBase: basename(f.file), line: f.line, isEntry: f.isEntry, locals: f.locals.map(localView), source: f.source ?? null,
  };
}

function worst(findings: Finding[]): Severity | null {
  let best: Severity | null = null;
  for (const f of findings) if (best === null || SEVERITY_RANK[f.severity] < SEVERITY_RANK[best]) best = f.severity;
  return best;
}

function threadView(t: Thread, all: Thread[]): ThreadView {
  const python = t.pythonFrames.map(pyFrameView);
  const at = new Map<number, PyFrameView[]>();
  const unplaced: PyFrameView[] = [];
  t.pythonFrames.forEach((f, i) => {
    const v = python[i]!;
    if (f.nativeIndex >= 0 && f.nativeIndex < t.nativeFrames.length) {
      const list = at.get(f.nativeIndex) ?? [];
      list.push(v);
      at.set(f.nativeIndex, list);
    } else {
      unplaced.push(v);
    }
  });
  const native: NativeRowView[] = t.nativeFrames.map((n, i) => ({
    index: i,
    pc: hexAddr(n.pc),
    function: n.function ?? '??',
    known: n.function !== null,
    library: n.library ? basename(n.library) : null,
    libraryPath: n.library,
    location: n.file ? `${n.file}:${n.line ?? '?'}` : null,
    python: at.get(i) ?? [],
  }));
  const stack = pythonFirst(t);
  const traceback: TracebackView = {
    items: stack.items.map((item) =>
      item.kind === 'frame' ? { frame: python[item.index]!, repeated: null } : { frame: null, repeated: repeatedLine(item.count) }),
    foldedNative: stack.foldedNative,
    // The tail is the innermost native frames, reversed: the same rows as the merged view's.
    nativeTail: native.slice(0, stack.nativeTail.length).reverse(),
    text: tracebackText(t.pythonFrames),
  };
  const w = t.waitsOn;
  const holder = holderOf(t, all);
  const held = locksHeldBy(t, all);
  return {
    anchor: threadAnchor(t),
    tid: t.tid,
    name: t.name,
    ident: t.ident !== null ? hexAddr(t.ident) : null,
    state: t.state,
    stateLabel: STATE_LABEL[t.state] ?? t.state,
    stateDetail: t.stateDetail,
    holdsGil: t.holdsGil,
    open: t.state === 'waiting-lock' || t.holdsGil,
    top: python[0] ?? null,
    python,
    native,
    unplaced,
    traceback,
    waits: w
      ? {
          kind: w.kind,
          address: hexAddr(w.address),
          ownerIdent: w.ownerIdent ? hexAddr(w.ownerIdent) : null,
          owner: holder ? threadRef(holder.holder) : null,
          ownerHow: holder?.how ?? null,
          count: w.count,
          condition: w.condition !== null ? hexAddr(w.condition) : null,
        }
      : null,
    holds: held.map((h) => ({
      lock: lockName(h.kind, h.address), how: h.how, released: h.released, wantedBy: h.wantedBy.map(threadRef),
    })),
  };
}

function tasksView(d: Dump): TasksView | null {
  if (!d.tasks || d.tasks.length === 0) return null;
  const byTid = new Map(d.threads.map((t) => [t.tid, t]));
  return {
    count: d.tasks.length,
    loops: (d.loops ?? []).map((l) => {
      const t = l.threadTid !== null ? byTid.get(l.threadTid) : undefined;
      return { address: hexAddr(l.address), type: l.type, thread: t ? threadRef(t) : null, ready: l.ready, scheduled: l.scheduled };
    }),
    groups: groupTasks(d.tasks).map((g) => {
      const t = g[0]!;
      return {
        title: taskGroupTitle(g), count: g.length, state: t.state, running: t.running, waitsOn: t.waitsOnText, awaitedBy: t.awaitedBy,
        chain: t.chain.map((f) => ({ kind: f.kind, function: f.function, file: f.file, fileBase: basename(f.file), line: f.line })),
      };
    }),
    tree: awaitTreeView(awaitForest(d.tasks)),
  };
}

function censusView(d: Dump): CensusView | null {
  if (d.census.length === 0) return null;
  return {
    rows: d.census,
    top: CENSUS_TOP,
    more: Math.max(0, d.census.length - CENSUS_TOP),
    objects: d.census.reduce((n, r) => n + r.count, 0),
    bytes: d.census.reduce((n, r) => n + r.bytes, 0),
    walkMs: d.censusStats ? Math.round(d.censusStats.walkMs) : null,
  };
}

export function dumpView(d: Dump): DumpView {
  const c = d.core;
  const threads = d.threads.map((t) => threadView(t, d.threads));
  const viewOf = new Map(d.threads.map((t, i) => [t, threads[i]!]));
  const identical = groupThreads(d.threads);
  const known = new Set<string>(STATE_ORDER);
  const states = [...STATE_ORDER, ...new Set(d.threads.map((t) => t.state).filter((s) => !known.has(s)))];
  const groups: StateGroupView[] = states
    .map((state) => {
      const members = threads.filter((t) => t.state === state);
      const entries: ThreadEntryView[] = identical.filter((g) => g[0]!.state === state).map((g) => {
        if (g.length === 1) return { group: null, threads: [viewOf.get(g[0]!)!] };
        // A group opens on its first thread; the others are the same stack, one line each.
        const views = g.map((t, i) => ({ ...viewOf.get(t)!, open: i === 0 }));
        return { group: { title: groupTitle(g), anchor: `group-${g[0]!.tid}`, count: g.length }, threads: views };
      });
      return { state, label: STATE_LABEL[state] ?? state, anchor: `state-${state}`, count: members.length, threads: members, entries };
    })
    .filter((g) => g.count > 0);
  const byTid = new Map(d.threads.map((t) => [t.tid, t]));
  const findings = [...d.findings]
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity])
    .map((f, i) => ({
      ...f,
      anchor: `finding-${i + 1}`,
      threadLinks: (f.threads ?? []).map((tid) => byTid.get(tid)).filter((t): t is Thread => t !== undefined).map(threadRef),
    }));
  const holder = d.threads.find((t) => t.holdsGil);
  return {
    id: d.id,
    page: dumpPage(d.id),
    title: `Dump ${d.id}: ${c.executable ? basename(c.executable) : c.fname} pid ${c.pid}`,
    core: {
      path: c.path,
      fileBase: basename(c.path),
      sha256: c.sha256,
      shortSha: shortSha(c.sha256),
      size: c.size,
      sizeHuman: humanBytes(c.size),
      pid: c.pid,
      signal: c.signal,
      signalName: c.signalName,
      executable: c.executable,
      fname: c.fname,
      cmdline: c.cmdline,
      takenAt: c.takenAt,
    },
    series: d.series,
    verdict: dumpVerdict(d),
    ingestedAt: d.ingestedAt,
    analysis: seconds(d.analysisMs),
    python: {
      version: d.python.version,
      layout: d.python.layout,
      gilLocked: d.python.gilLocked,
      gilHolder: holder ? threadRef(holder) : null,
    },
    findings,
    worstSeverity: worst(d.findings),
    threadCount: d.threads.length,
    stateCounts: groups.map((g) => ({ state: g.state, label: g.label, anchor: g.anchor, count: g.count })),
    groups,
    warnings: d.warnings,
    census: censusView(d),
    memory: memoryView(d),
    tasks: tasksView(d),
    nav: [
      { anchor: 'findings', label: 'Findings', count: String(d.findings.length) },
      { anchor: 'threads', label: 'Threads', count: String(d.threads.length) },
      ...(d.tasks?.length ? [{ anchor: 'tasks', label: 'Tasks', count: String(d.tasks.length) }] : []),
      ...(d.memory ? [{ anchor: 'memory', label: 'Memory', count: humanBytes(d.memory.writableBytes) }] : []),
      { anchor: 'facts', label: 'Core', count: null },
      ...(d.census.length ? [{ anchor: 'census', label: 'Census', count: `${d.census.length} types` }] : []),
    ],
  };
}

/** The breakdown as segments of a 1000-unit bar, for the inline SVG chart. */
function memoryView(d: Dump): MemoryView | null {
  const m = d.memory;
  if (!m) return null;
  const total = m.breakdown.reduce((n, p) => n + p.bytes, 0) || 1;
  let x = 0;
  const parts = m.breakdown.map((p) => {
    const width = (1000 * p.bytes) / total;
    const part = { kind: p.kind, label: BREAKDOWN_LABELS[p.kind], bytes: p.bytes, detail: p.detail, x, width, share: `${((100 * p.bytes) / total).toFixed(1)}%` };
    x += width;
    return part;
  });
  return { writable: m.writableBytes, allocator: m.allocator, parts, glibc: m.glibc, gc: m.gc, native: m.native, pymalloc: m.pymalloc };
}

export function indexRow(d: Dump): IndexRowView {
  const w = worst(d.findings);
  return {
    id: d.id,
    page: dumpPage(d.id),
    pid: d.core.pid,
    executable: d.core.executable,
    fname: d.core.fname,
    coreBase: basename(d.core.path),
    corePath: d.core.path,
    pythonVersion: d.python.version,
    takenAt: d.core.takenAt,
    size: d.core.size,
    sizeHuman: humanBytes(d.core.size),
    threads: d.threads.length,
    findings: d.findings.length,
    worstSeverity: w,
    worstRank: w === null ? 0 : 3 - SEVERITY_RANK[w],
    findingsRank: (w === null ? 0 : 3 - SEVERITY_RANK[w]) * 1_000_000 + d.findings.length,
    series: d.series,
  };
}
