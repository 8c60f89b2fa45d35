// Threads that are doing the same thing (same state, same Python stack) read as one entry: "4
// threads pool-worker-1…4 waiting on a lock at threads.py:43", as a pool of workers should.
import { andList, plural } from '../base/prose.js';
import { basename } from '../base/file-name.js';
import { WAIT_MACHINERY } from './classify.js';
import type { Thread, ThreadState } from '../model/types.js';

export const STATE_WORDS: Record<ThreadState, string> = {
  running: 'running', 'holding-gil': 'in native code with the GIL', 'waiting-gil': 'waiting for the GIL', 'waiting-lock': 'waiting on a lock',
  sleeping: 'sleeping', 'waiting-io': 'waiting on I/O', gc: 'collecting garbage', idle: 'idle',
};

/** Where in the user's code a thread is: its innermost frame outside the wait machinery, "x.py:19". */
export function userLine(t: Thread): string | null {
  const f = t.pythonFrames.find((p) => !WAIT_MACHINERY.test(p.file)) ?? t.pythonFrames[0];
  return f ? `${basename(f.file)}:${f.line}` : null;
}

/** Same state and same Python stack; a thread without Python frames, by its native functions. */
function key(t: Thread): string {
  const frames = t.pythonFrames.length
    ? t.pythonFrames.map((f) => `${f.function}\t${f.file}\t${f.line}`)
    : t.nativeFrames.map((f) => f.function ?? '??');
  return `${t.state}\n${t.holdsGil}\n${t.pythonFrames.length > 0}\n${frames.join('\n')}`;
}

/** The threads in groups of identical ones, each group where its first thread was. */
export function groupThreads(threads: Thread[]): Thread[][] {
  const groups = new Map<string, Thread[]>();
  for (const t of threads) {
    const k = key(t);
    const g = groups.get(k);
    if (g) g.push(t);
    else groups.set(k, [t]);
  }
  return [...groups.values()];
}

/** NAMES as "PREFIX{first}" and "{last}" when they are one prefix numbered in a row (at least 3), else null. */
export function numberedRun(names: string[]): { prefix: string; first: number; last: number } | null {
  const numbered = names.map((n) => /^(.*?)(\d+)$/.exec(n));
  const prefix = numbered[0]?.[1];
  if (prefix === undefined || names.length < 3 || !numbered.every((m) => m !== null && m[1] === prefix)) return null;
  const numbers = numbered.map((m) => Number(m![2])).sort((a, b) => a - b);
  return numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1) ? { prefix, first: numbers[0]!, last: numbers.at(-1)! } : null;
}

/** "pool-worker-1…4" for names numbered in a row, else "a, b and c"; unnamed threads by LWP. */
export function groupNames(group: Thread[]): string {
  const names = group.map((t) => t.name ?? `LWP ${t.tid}`);
  const run = numberedRun(names);
  return run ? `${run.prefix}${run.first}…${run.last}` : andList(names, 4);
}

/** "4 threads pool-worker-1…4 waiting on a lock at threads.py:43". */
export function groupTitle(group: Thread[]): string {
  const t = group[0]!;
  const at = userLine(t);
  return `${plural(group.length, 'thread')} ${groupNames(group)} ${STATE_WORDS[t.state] ?? t.state}${at ? ` at ${at}` : ''}`;
}
