// What changed in the asyncio tasks between two dumps of one process: how many tasks each
// coroutine has (a handler whose tasks pile up is the async form of a leak), and which tasks wait
// at the very same await in both (stuck, not slow: the same task, the same line, the same future).
import { basename, frameAt } from '../base/file-name.js';
import { waitsAt } from '../tasks/tasks.js';
import type { AsyncTask } from '../model/types.js';

export interface TaskCountDelta {
  /** The task's outermost coroutine: "handler (service.py)". */
  coroutine: string;
  a: number;
  b: number;
  delta: number;
}

export interface StuckTasks {
  /** Where they wait in the program's own code: "service.py:42 in fetch" (asyncio's frames below it left out). */
  where: string;
  /** What they wait on, in words (the first task's). */
  waitsOn: string;
  names: string[];
}

export interface TasksDiff {
  countA: number;
  countB: number;
  /** Per outermost coroutine whose count changed, the largest change first. */
  byCoroutine: TaskCountDelta[];
  /** Tasks pending in both dumps at the same await on the same future, grouped by where. */
  stuck: StuckTasks[];
}

const coroutineOf = (t: AsyncTask): string => {
  const f = t.chain[0];
  return f ? `${f.function} (${basename(f.file)})` : `${t.type} without a coroutine`;
};

const innermost = (t: AsyncTask): string | null => {
  const f = t.chain.at(-1);
  return f ? frameAt(f) : null;
};

/** The tasks diff, or null when either dump has no tasks read. */
export function diffTasks(a: AsyncTask[] | null, b: AsyncTask[] | null): TasksDiff | null {
  if (!a || !b) return null;
  const counts = new Map<string, TaskCountDelta>();
  const entry = (key: string): TaskCountDelta => {
    let d = counts.get(key);
    if (!d) counts.set(key, (d = { coroutine: key, a: 0, b: 0, delta: 0 }));
    return d;
  };
  for (const t of a) entry(coroutineOf(t)).a++;
  for (const t of b) entry(coroutineOf(t)).b++;
  for (const d of counts.values()) d.delta = d.b - d.a;
  const byCoroutine = [...counts.values()].filter((d) => d.delta !== 0)
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.coroutine.localeCompare(y.coroutine));

  // The same task (address and coroutine) pending at the same line on the same future.
  const before = new Map(a.map((t) => [t.address, t]));
  const stuck = new Map<string, StuckTasks>();
  for (const t of b) {
    const old = before.get(t.address);
    const where = innermost(t);
    if (!old || !where || t.state !== 'pending' || old.state !== 'pending' || t.running) continue;
    if (coroutineOf(old) !== coroutineOf(t) || innermost(old) !== where || (old.waitsOn?.address ?? 0) !== (t.waitsOn?.address ?? 0)) continue;
    const own = waitsAt(t)!;
    let group = stuck.get(own);
    if (!group) stuck.set(own, (group = { where: own, waitsOn: t.waitsOnText, names: [] }));
    group.names.push(t.name);
  }
  return {
    countA: a.length,
    countB: b.length,
    byCoroutine,
    stuck: [...stuck.values()].sort((x, y) => y.names.length - x.names.length || x.where.localeCompare(y.where)),
  };
}
