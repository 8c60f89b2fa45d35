// The one sentence that answers "why is this process stuck, big or dead", put on top of `show` and
// of the dump page: the most telling finding, said with the thread names, the user's own line and
// the sizes that prove it. Here, the lowest layer that sees the thread, task and memory findings,
// so that the text view and the HTML view say the same words.
import { basename } from '../base/file-name.js';
import { STATE_WORDS, userLine } from '../threads/groups.js';
import { andList } from '../base/prose.js';
import { crashingThread } from '../threads/crash.js';
import { humanBytes } from '../base/units.js';
import type { Dump, Finding, MemoryReport, Thread, ThreadState } from '../model/types.js';

export type VerdictKind = 'crashed' | 'stuck' | 'big' | 'warning' | 'waiting' | 'healthy' | 'growing' | 'steady';

export interface Verdict {
  kind: VerdictKind;
  /** "Stuck: worker-a and worker-b deadlock on two locks at deadlock.py:26" */
  text: string;
}

export type VerdictInput = Pick<Dump, 'core' | 'threads' | 'findings' | 'memory'>;

const HEAD: Record<VerdictKind, string> = {
  crashed: 'Crashed', stuck: 'Stuck', big: 'Big', warning: 'Warning', waiting: 'Waiting', healthy: 'No problem found', growing: 'Growing', steady: 'Steady',
};

const NUMBERS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** "Stuck: " + TEXT: the head word of each kind. */
export function say(kind: VerdictKind, text: string): Verdict {
  return { kind, text: `${HEAD[kind]}: ${text}` };
}

function nameOf(t: Thread): string {
  return t.name ?? `LWP ${t.tid}`;
}

function count(n: number, word: string): string {
  return `${NUMBERS[n] ?? n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

function threadsOf(f: Finding, threads: Thread[]): Thread[] {
  return (f.threads ?? []).map((tid) => threads.find((t) => t.tid === tid)).filter((t): t is Thread => t !== undefined);
}

function places(ts: Thread[]): string {
  const lines = [...new Set(ts.map(userLine).filter((l): l is string => l !== null))];
  return lines.length ? ` at ${andList(lines, 3)}` : '';
}

function crashed(d: VerdictInput, f: Finding): Verdict {
  const t = threadsOf(f, d.threads)[0] ?? crashingThread(d.core, d.threads);
  const signal = d.core.signalName ?? `signal ${d.core.signal}`;
  if (!t) return say('crashed', `${signal} in a thread gdb did not read`);
  const py = t.pythonFrames[0];
  const native = t.nativeFrames.find((n) => n.function)?.function;
  const where = py ? `${basename(py.file)}:${py.line}` : `native code${native ? ` (${native})` : ''}`;
  return say('crashed', `${signal} in ${nameOf(t)} at ${where}`);
}

function deadlocked(d: VerdictInput, deadlocks: Finding[]): Verdict {
  const [f, ...rest] = deadlocks as [Finding, ...Finding[]];
  const ts = threadsOf(f, d.threads);
  const others = [...new Set(rest.flatMap((r) => threadsOf(r, d.threads)).filter((t) => !ts.includes(t)).map(nameOf))];
  const also = others.length ? `; also stuck: ${andList(others)}` : rest.length ? ` (and ${count(rest.length, 'more deadlock')})` : '';
  if (ts.length === 0) return say('stuck', `${f.title.replace(/^Deadlock: /, '')}${also}`);
  const locks = new Set(ts.map((t) => t.waitsOn?.address).filter((a) => a !== undefined)).size;
  const lockWords = locks > 1 ? count(locks, 'lock') : 'a lock';
  const cycle = f.title.endsWith('wait for each other');
  const what = cycle ? `deadlock on ${lockWords}` : `${ts.length > 1 ? 'wait' : 'waits'} on ${lockWords} no thread is left to release`;
  return say('stuck', `${andList(ts.map(nameOf))} ${what}${places(ts)}${also}`);
}

function part(m: MemoryReport, kind: MemoryReport['breakdown'][number]['kind']): number {
  return m.breakdown.find((p) => p.kind === kind)?.bytes ?? 0;
}

function big(m: MemoryReport, f: Finding): Verdict | null {
  const of = `of ${humanBytes(m.writableBytes)}`;
  switch (f.kind) {
    case 'allocator-fragmentation':
      return say('big', `${humanBytes(part(m, 'malloc-free'))} ${of} is free memory glibc keeps (fragmentation)`);
    case 'native-memory':
      return say('big', `${humanBytes(m.native?.bytes ?? part(m, 'malloc-native'))} ${of} is malloc memory no Python object owns (native code)`);
    case 'cyclic-garbage':
      return m.cycles
        ? say('big', `${humanBytes(m.cycles.bytes)} ${of} is garbage kept only by reference cycles (${m.cycles.objects.toLocaleString('en-US')} objects)`)
        : null;
    default:
      return null;
  }
}

function healthy(d: VerdictInput): Verdict {
  const states = new Map<ThreadState, number>();
  for (const t of d.threads) states.set(t.state, (states.get(t.state) ?? 0) + 1);
  const parts = [...states].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${n} ${STATE_WORDS[s] ?? s}`);
  const threads = `${d.threads.length} thread${d.threads.length === 1 ? '' : 's'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
  const m = d.memory;
  const largest = m ? [...m.breakdown].sort((a, b) => b.bytes - a.bytes)[0] : undefined;
  const memory = m ? `; ${humanBytes(m.writableBytes)} of memory${largest ? `, the most in ${LARGEST[largest.kind]} (${humanBytes(largest.bytes)})` : ''}` : '';
  return say('healthy', `${threads}${memory}`);
}

const LARGEST: Record<MemoryReport['breakdown'][number]['kind'], string> = {
  'python-objects': 'Python objects', 'pymalloc-free': "pymalloc's free blocks", 'malloc-free': 'free memory malloc keeps',
  'malloc-python': 'Python objects in malloc chunks', 'malloc-native': 'malloc memory no Python object owns', stacks: 'thread stacks', other: 'other memory',
};

/** The verdict of one dump: the first that applies of crashed, stuck, big, warning, waiting, healthy. */
export function dumpVerdict(d: VerdictInput): Verdict {
  const of = (kind: string): Finding[] => d.findings.filter((f) => f.kind === kind);
  const crash = of('crash')[0];
  if (crash) return crashed(d, crash);
  const deadlocks = of('deadlock');
  if (deadlocks.length) return deadlocked(d, deadlocks);
  const stuck = [...of('async-deadlock'), ...of('event-loop-blocked')][0];
  if (stuck) return say('stuck', stuck.title.replace(/^Async deadlock: /, ''));
  const m = d.memory;
  if (m) {
    for (const f of d.findings) {
      const v = big(m, f);
      if (v) return v;
    }
  }
  const rank = { critical: 0, warning: 1, info: 2 };
  const serious = [...d.findings].filter((f) => f.severity !== 'info' && f.kind !== 'lock-wait').sort((a, b) => rank[a.severity] - rank[b.severity])[0];
  if (serious) return say('warning', serious.title);
  const wait = of('lock-wait')[0];
  if (wait) {
    const ts = threadsOf(wait, d.threads);
    if (ts.length === 0) return say('waiting', wait.title);
    const who = ts.length > 2 ? `${ts.length} threads wait on locks` : `${andList(ts.map(nameOf))} ${ts.length > 1 ? 'wait' : 'waits'} on a lock`;
    return say('waiting', `${who}${places(ts)}; other threads can still release ${ts.length > 1 ? 'them' : 'it'}`);
  }
  return healthy(d);
}
