// What changed between two dumps: per type, in the memory breakdown, in the threads and tasks, in the findings.
import type { CensusRow, Dump, Finding, MemoryReport } from '../model/types.js';
import { diffTasks, type TasksDiff } from './tasks.js';

export interface TypeDelta {
  type: string;
  module: string | null;
  countA: number;
  countB: number;
  countDelta: number;
  bytesA: number;
  bytesB: number;
  bytesDelta: number;
  /** 'appeared' (none in A), 'vanished' (none in B), or 'changed'. */
  change: 'appeared' | 'vanished' | 'changed' | 'same';
}

export interface MemoryDelta {
  kind: MemoryReport['breakdown'][number]['kind'] | 'writable' | 'census';
  a: number;
  b: number;
  delta: number;
}

export interface DumpDiff {
  a: Dump;
  b: Dump;
  types: TypeDelta[];
  memory: MemoryDelta[];
  threads: { appeared: ThreadRef[]; vanished: ThreadRef[] };
  findings: { new: Finding[]; gone: Finding[] };
  /** The asyncio tasks by coroutine and those stuck at one await; null unless both dumps have tasks read. */
  tasks: TasksDiff | null;
  /** Whether anything grew at all (types or memory). */
  grew: boolean;
}

export interface ThreadRef {
  tid: number;
  name: string | null;
  state: string;
}

const typeKey = (r: CensusRow): string => `${r.module ?? ''}\u0000${r.type}`;

export function diffTypes(a: CensusRow[], b: CensusRow[]): TypeDelta[] {
  const rows = new Map<string, TypeDelta>();
  const entry = (r: CensusRow): TypeDelta => {
    let d = rows.get(typeKey(r));
    if (!d) {
      d = { type: r.type, module: r.module, countA: 0, countB: 0, countDelta: 0, bytesA: 0, bytesB: 0, bytesDelta: 0, change: 'same' };
      rows.set(typeKey(r), d);
    }
    return d;
  };
  for (const r of a) Object.assign(entry(r), { countA: r.count, bytesA: r.bytes });
  for (const r of b) Object.assign(entry(r), { countB: r.count, bytesB: r.bytes });
  for (const d of rows.values()) {
    d.countDelta = d.countB - d.countA;
    d.bytesDelta = d.bytesB - d.bytesA;
    d.change = d.countA === 0 ? 'appeared' : d.countB === 0 ? 'vanished' : d.countDelta !== 0 || d.bytesDelta !== 0 ? 'changed' : 'same';
  }
  return [...rows.values()].sort((x, y) => y.bytesDelta - x.bytesDelta || y.countDelta - x.countDelta || x.type.localeCompare(y.type));
}

function diffMemory(a: Dump, b: Dump): MemoryDelta[] {
  const out: MemoryDelta[] = [];
  const push = (kind: MemoryDelta['kind'], x: number, y: number): void => {
    out.push({ kind, a: x, b: y, delta: y - x });
  };
  push('census', a.censusStats?.bytes ?? 0, b.censusStats?.bytes ?? 0);
  if (a.memory && b.memory) {
    push('writable', a.memory.writableBytes, b.memory.writableBytes);
    for (const part of b.memory.breakdown) {
      push(part.kind, a.memory.breakdown.find((p) => p.kind === part.kind)?.bytes ?? 0, part.bytes);
    }
  }
  return out;
}

const threadKey = (t: { tid: number; name: string | null }): string => `${t.tid}:${t.name ?? ''}`;

export function diffDumps(a: Dump, b: Dump): DumpDiff {
  const types = diffTypes(a.census, b.census);
  const memory = diffMemory(a, b);
  const aThreads = new Set(a.threads.map(threadKey));
  const bThreads = new Set(b.threads.map(threadKey));
  const ref = (t: Dump['threads'][number]): ThreadRef => ({ tid: t.tid, name: t.name, state: t.state });
  const findingKey = (f: Finding): string => `${f.kind}\u0000${f.title.replace(/[\d.,]+( [KMGT]?B)?/g, '#')}`;
  const aFindings = new Set(a.findings.map(findingKey));
  const bFindings = new Set(b.findings.map(findingKey));
  return {
    a,
    b,
    types,
    memory,
    threads: {
      appeared: b.threads.filter((t) => !aThreads.has(threadKey(t))).map(ref),
      vanished: a.threads.filter((t) => !bThreads.has(threadKey(t))).map(ref),
    },
    findings: { new: b.findings.filter((f) => !aFindings.has(findingKey(f))), gone: a.findings.filter((f) => !bFindings.has(findingKey(f))) },
    tasks: diffTasks(a.tasks, b.tasks),
    grew: types.some((t) => t.bytesDelta > 0 || t.countDelta > 0) || memory.some((m) => m.delta > 0),
  };
}
