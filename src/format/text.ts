// The text view of `coroner show` and `coroner list`: findings first, then every thread with its
// state and its merged stack (each Python frame under the _PyEval_EvalFrameDefault that runs it).
// Every string read from the core goes through printable() (p) where it enters a line.
import { basename } from '../base/file-name.js';
import { holderOf, label, lockName, locksHeldBy } from '../threads/locks.js';
import type { AsyncTask, CensusRow, Dump, DumpSummary, EventLoop, Finding, MemoryReport, NativeFrame, PythonFrame, Thread } from '../model/types.js';
import { pythonFirst, tracebackEntry } from '../threads/traceback.js';
import { groupThreads, groupTitle, numberedRun } from '../threads/groups.js';
import { groupTasks } from '../tasks/groups.js';
import { awaitForest, type AwaitNode } from '../tasks/tree.js';
import { waitsAt } from '../tasks/tasks.js';
import { hexAddr, humanBytes, seconds, shortSha } from '../base/units.js';
import { printable as p } from '../base/printable.js';
import { CoronerError } from '../base/errors.js';
import { scriptOf } from './script.js';
import { dumpVerdict } from '../memory/verdict.js';
import { plural } from '../base/prose.js';

export interface TextOptions {
  locals: boolean;
  /** The merged stack (every native frame, each Python frame under the eval loop that runs it) instead of the Python-first one. */
  native?: boolean;
}

/** The dumps by id, one line each within WIDTH: the finding kinds last, cut short to fit (list --json has them all, and the core's path). */
export function formatList(dumps: DumpSummary[], width = 0): string {
  if (dumps.length === 0) return 'no dumps yet: coroner ingest core.PID';
  const sorted = [...dumps].sort((a, b) => a.id - b.id);
  const head = ['ID', 'PID', 'SCRIPT', 'PYTHON', 'TAKEN AT (UTC)', 'SIZE', 'THREADS'];
  const rows = sorted.map((d) => [
    String(d.id), String(d.pid), p(scriptOf(d.cmdline)), p(d.pythonVersion), d.takenAt.replace('T', ' ').replace(/(\.\d+)?Z$/, ''),
    humanBytes(d.size), String(d.threads),
  ]);
  const used = table(head, rows).split('\n').reduce((n, l) => Math.max(n, [...l].length), 0) + 2;
  const room = width > 0 ? Math.max(16, width - used) : Infinity;
  // Kinds that do not fit go on lines of their own under the first, in the same column.
  const out = rows.flatMap((r, i) => {
    const cells = findingKinds(sorted[i]!.findingKinds).split(', ').reduce<string[]>((acc, k) => {
      const last = acc.at(-1);
      if (last !== undefined && [...`${last}, ${k}`].length <= room) acc[acc.length - 1] = `${last}, ${k}`;
      else acc.push(k);
      return acc;
    }, []);
    const clip = (c: string): string => ([...c].length > room ? `${[...c].slice(0, room - 1).join('')}…` : c);
    return cells.map((c, j) => [...(j === 0 ? r : r.map(() => '')), clip(`${c}${j < cells.length - 1 ? ',' : ''}`)]);
  });
  return table([...head, 'FINDINGS'], out);
}

/** "deadlock ×3, lock-wait", in the order the kinds first come; "-" for none. */
export function findingKinds(kinds: string[]): string {
  if (kinds.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${p(k)} ×${n}` : p(k))).join(', ');
}

const NUMBER = /^[-+±]?[\d,.]+( [KMGT]?B)?$/;

/** Columns padded to their widest cell; columns of numbers aligned right. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = head.map((_, i) => rows.some((r) => r[i] !== '') && rows.every((r) => r[i] === '' || NUMBER.test(r[i]!)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function formatFinding(f: Finding): string[] {
  return [
    `[${f.severity}] ${f.kind}: ${p(f.title)}`,
    `    ${p(f.detail)}`,
    ...f.evidence.map((e) => `    - ${p(e)}`),
    `    remedy: ${p(f.remedy)}`,
  ];
}

export function threadHeader(t: Thread): string {
  return `Thread ${t.tid}${t.name !== null ? ` "${p(t.name)}"` : ''}  ${t.state}${t.holdsGil ? '  [holds GIL]' : ''}  ${p(t.stateDetail)}`;
}

function nativeLine(n: NativeFrame): string {
  const where = n.file ? ` at ${p(n.file)}:${n.line ?? '?'}` : '';
  const lib = n.library ? ` (${p(basename(n.library))})` : '';
  return `${hexAddr(n.pc)} ${p(n.function ?? '??')}${lib}${where}`;
}

function localLines(f: PythonFrame, indent: string, opts: TextOptions): string[] {
  return opts.locals ? f.locals.map((l) => `${indent}${p(l.name)} = ${p(l.repr)}`) : [];
}

/** Python's frames as a traceback (most recent call last), then the native frames under the innermost one. */
function pythonFirstLines(t: Thread, opts: TextOptions): string[] {
  const stack = pythonFirst(t);
  const out: string[] = [];
  for (const item of stack.items) {
    out.push(...tracebackEntry(item).map((l) => `  ${p(l)}`));
    if (item.kind === 'frame') out.push(...localLines(item.frame, '      ', opts));
  }
  if (stack.foldedNative > 0) out.push(`  … ${stack.foldedNative} interpreter frame${stack.foldedNative > 1 ? 's' : ''} (show --native shows them)`);
  if (stack.nativeTail.length) {
    if (stack.items.length) out.push('  native, under the last Python frame:');
    out.push(...stack.nativeTail.map((n) => `    ${nativeLine(n)}`));
  }
  return out;
}

/** Every native frame, innermost first, each Python frame under the eval loop that runs it. */
function mergedLines(t: Thread, opts: TextOptions): string[] {
  const out: string[] = [];
  const pyAt = new Map<number, typeof t.pythonFrames>();
  for (const f of t.pythonFrames) pyAt.set(f.nativeIndex, [...(pyAt.get(f.nativeIndex) ?? []), f]);
  const pyLines = (frames: typeof t.pythonFrames, indent: string): string[] =>
    frames.flatMap((f) => [`${indent}py ${p(f.function)} (${p(f.file)}:${f.line})`, ...localLines(f, `${indent}     `, opts)]);
  t.nativeFrames.forEach((n, i) => {
    out.push(`  #${String(i).padEnd(3)} ${nativeLine(n)}`);
    out.push(...pyLines(pyAt.get(i) ?? [], '        '));
  });
  const unplaced = pyAt.get(-1) ?? [];
  if (unplaced.length) out.push('  Python frames not matched to a native frame:', ...pyLines(unplaced, '    '));
  return out;
}

/** Which lock the thread waits on and who holds it; which locks it holds and who waits for them. */
function formatLocks(t: Thread, threads: Thread[]): string[] {
  const out: string[] = [];
  const w = t.waitsOn;
  if (w) {
    const h = holderOf(t, threads);
    const what = w.condition !== null ? `Condition ${hexAddr(w.condition)} (waiter ${lockName(w.kind, w.address)})` : lockName(w.kind, w.address);
    const who = h ? `held by ${p(label(h.holder))}: ${p(h.how)}` : w.condition !== null ? 'until notified' : 'holder not known';
    out.push(`  waits on ${what}; ${who}`);
  }
  for (const h of locksHeldBy(t, threads)) {
    const via = h.released ? ', released while it waits in Condition.wait' : '';
    const wanted = h.wantedBy.length ? `; wanted by ${h.wantedBy.map((o) => p(label(o))).join(', ')}` : '';
    out.push(`  holds ${lockName(h.kind, h.address)} (${p(h.how)}${via})${wanted}`);
  }
  return out;
}

function stackLines(t: Thread, opts: TextOptions): string[] {
  return opts.native ? mergedLines(t, opts) : pythonFirstLines(t, opts);
}

export function formatThread(t: Thread, opts: TextOptions, threads: Thread[] = [t]): string[] {
  return [threadHeader(t), ...formatLocks(t, threads), ...stackLines(t, opts)];
}

/** A thread, or identical threads as one entry: what they do, their LWPs, each one's locks, the stack once. */
export function formatGroup(g: Thread[], opts: TextOptions, threads: Thread[] = g): string[] {
  if (g.length === 1) return formatThread(g[0]!, opts, threads);
  return [
    p(groupTitle(g)),
    `  LWPs ${g.map((t) => t.tid).join(', ')}; ${p(g[0]!.stateDetail)}`,
    ...g.flatMap((t) => formatLocks(t, threads).map((l) => `  LWP ${t.tid}:${l.slice(1)}`)),
    ...stackLines(g[0]!, opts),
  ];
}

/** 'task "a"', '20 tasks "sleeper-0"…"sleeper-19"', '3 tasks "a", "b", "c"'. */
export function taskGroupTitle(group: AsyncTask[]): string {
  const names = group.map((g) => `"${g.name}"`);
  const run = numberedRun(group.map((g) => g.name));
  const shown = run ? `"${run.prefix}${run.first}"…"${run.prefix}${run.last}"`
    : names.length > 8 ? `${names.slice(0, 8).join(', ')} and ${names.length - 8} more` : names.join(', ');
  return group.length > 1 ? `${group.length} tasks ${shown}` : `task ${shown}`;
}

/** The asyncio tasks: the loops, then each group of identical tasks (same state, wait and chain) once. */
export function formatTasks(tasks: AsyncTask[], loops: EventLoop[], opts: TextOptions): string[] {
  const out = [`Tasks (${tasks.length})`];
  const name = (a: number | null): string => p(tasks.find((t) => t.address === a)?.name ?? (a === null ? 'none' : hexAddr(a)));
  for (const l of loops) {
    out.push(`  loop ${hexAddr(l.address)} ${p(l.type)}: ${l.threadTid !== null ? `run by LWP ${l.threadTid}` : 'not running'}, ` +
      `${l.ready ?? '?'} ready callbacks, ${l.scheduled ?? '?'} timers${l.currentTask !== null ? `, running task "${name(l.currentTask)}"` : ''}`);
  }
  for (const group of groupTasks(tasks)) {
    const t = group[0]!;
    out.push('', `  ${p(taskGroupTitle(group))}  ${t.state}${t.running ? ' (running)' : ''}`);
    out.push(`    ${p(t.waitsOnText)}`);
    if (t.awaitedBy.length) out.push(`    awaited by ${t.awaitedBy.map((n) => `"${p(n)}"`).join(', ')}`);
    for (const f of t.chain) {
      out.push(`    ${f.kind === 'coroutine' ? 'coro' : 'gen '} ${p(f.function)} (${p(f.file)}:${f.line})`);
      if (opts.locals && group.length === 1) out.push(...f.locals.map((l) => `         ${p(l.name)} = ${p(l.repr)}`));
    }
    if (t.awaitable && t.waitsOn === null) out.push(`    awaits a ${p(t.awaitable)}`);
  }
  const forest = awaitForest(tasks);
  if (forest.length) out.push('', '  Who awaits whom (as asyncio pstree draws it: each task above the tasks it awaits)', ...awaitTreeLines(forest, '  '));
  return out;
}

/** The forest as a tree drawing: "└── (T) name  file.py:12 in fn", children indented under. */
function awaitTreeLines(nodes: AwaitNode[], indent: string): string[] {
  return nodes.flatMap((n, i) => {
    const last = i === nodes.length - 1;
    const at = waitsAt(n.task);
    const where = at ? `  ${p(at)}` : '';
    return [
      `${indent}${last ? '└── ' : '├── '}(T) ${p(n.task.name)}${where}${n.repeated ? '  (drawn above)' : ''}`,
      ...awaitTreeLines(n.children, `${indent}${last ? '    ' : '│   '}`),
    ];
  });
}

/** The heaviest types `census` and the dump page show until asked for all (report.css hides rows past it). */
export const CENSUS_TOP = 25;

export function formatCensus(rows: CensusRow[], top: number): string {
  if (rows.length === 0) return 'no census for this dump';
  const shown = rows.slice(0, top);
  const total = { count: rows.reduce((n, r) => n + r.count, 0), bytes: rows.reduce((n, r) => n + r.bytes, 0) };
  const body = table(
    ['TYPE', 'MODULE', 'COUNT', 'BYTES', 'WITH BUFFERS'],
    shown.map((r) => [p(r.type), p(r.module ?? ''), r.count.toLocaleString('en-US'), humanBytes(r.bytes), humanBytes(r.bytesWithBuffers)]),
  );
  const rest = rows.length > shown.length ? `\n... ${rows.length - shown.length} more types (coroner census --all shows them all)` : '';
  return `${body}${rest}\n${total.count.toLocaleString('en-US')} objects of ${rows.length} types, ${humanBytes(total.bytes)}`;
}

export const BREAKDOWN_LABELS: Record<MemoryReport['breakdown'][number]['kind'], string> = {
  'python-objects': 'Python objects',
  'pymalloc-free': 'pymalloc free + overhead',
  'malloc-free': 'malloc free, retained',
  'malloc-python': 'malloc, Python objects',
  'malloc-native': 'malloc in use, no Python',
  stacks: 'thread stacks',
  other: 'other',
};

export function formatMemory(m: MemoryReport): string[] {
  const width = Math.max(...m.breakdown.map((p) => BREAKDOWN_LABELS[p.kind].length));
  const sizes = m.breakdown.map((p) => humanBytes(p.bytes));
  const sizeWidth = Math.max(...sizes.map((s) => s.length));
  const mp = m.mappings;
  return [
    `Memory in the core: ${humanBytes(m.writableBytes)} writable (allocator: ${m.allocator})`,
    ...(mp
      ? [`  mappings: ${humanBytes(mp.total)} in all (${humanBytes(mp.dumped)} in the core), ${humanBytes(mp.fileBacked)} file-backed, ` +
          `${humanBytes(mp.anonymousWritable)} anonymous writable, ${humanBytes(mp.notWritable)} not writable (read-only, or reserved with no access); ` +
          `pymalloc arenas ${humanBytes(mp.pymallocArenas)}, glibc heaps ${humanBytes(mp.glibcHeaps)}, thread stacks ${humanBytes(mp.threadStacks)}`]
      : []),
    ...m.breakdown.map((part, i) => `  ${BREAKDOWN_LABELS[part.kind].padEnd(width)}  ${sizes[i]!.padStart(sizeWidth)}   ${p(part.detail)}`),
  ];
}

/** The thread REF names: its LWP or its name (every thread of that name). */
export function selectThreads(d: Dump, ref: string): Thread[] {
  const found = d.threads.filter((t) => String(t.tid) === ref || t.name === ref);
  if (found.length) return found;
  const known = d.threads.map((t) => `${t.tid}${t.name !== null ? ` "${p(t.name)}"` : ''}`).join(', ');
  throw new CoronerError(`dump ${d.id} has no thread ${p(ref)} (name or LWP); its threads: ${known}`, 'no-thread');
}

function titleLines(d: Dump): string[] {
  const c = d.core;
  return [`dump ${d.id}  ${p(c.path)}  (${humanBytes(c.size)}, sha256 ${shortSha(c.sha256)})`, p(dumpVerdict(d).text)];
}

/** Only the threads REF names, under the dump's title and verdict. */
export function formatThreads(d: Dump, ref: string, opts: TextOptions): string {
  return [...titleLines(d), '', ...selectThreads(d, ref).flatMap((t) => [...formatThread(t, opts, d.threads), ''])].join('\n').trimEnd();
}

export function formatDump(d: Dump, opts: TextOptions): string {
  const c = d.core;
  const lines = [
    ...titleLines(d),
    `  pid ${c.pid}  ${p(c.executable ?? c.fname)}  signal ${p(c.signalName ?? 'none')}  taken at ${c.takenAt}`,
    `  command line: ${p(c.cmdline)}`,
    `  Python ${p(d.python.version)} (${p(d.python.layout)}), ${plural(d.threads.length, 'thread')}, analyzed in ${seconds(d.analysisMs)}`,
    '',
  ];
  if (d.memory) lines.push(...formatMemory(d.memory), '');
  lines.push(d.findings.length ? `Findings (${d.findings.length})` : 'Findings: none');
  for (const f of d.findings) lines.push(...formatFinding(f).map((l) => `  ${l}`));
  if (d.census.length) {
    lines.push('', 'Heaviest types (coroner census shows them all)', ...formatCensus(d.census, 10).split('\n').map((l) => `  ${l}`));
  }
  lines.push('', `Threads (${d.threads.length})`);
  // Identical threads once, unless each one's locals are asked for (they differ).
  const groups = opts.locals ? d.threads.map((t) => [t]) : groupThreads(d.threads);
  for (const g of groups) lines.push(...formatGroup(g, opts, d.threads).map((l) => `  ${l}`), '');
  if (d.tasks) lines.push(...formatTasks(d.tasks, d.loops ?? [], opts), '');
  if (d.warnings.length) lines.push(`Warnings (${d.warnings.length})`, ...d.warnings.map((w) => `  ${p(w)}`));
  return lines.join('\n').trimEnd();
}
