// Identical asyncio tasks (same state, wait and chain) read as one entry, as identical threads do.
import type { AsyncTask } from '../model/types.js';

const chainKey = (t: AsyncTask): string => t.chain.map((f) => `${f.function} ${f.file}:${f.line}`).join('|');

/** Identical when everything shown but the name and a timer's deadline is: the wait and the chain. */
const key = (t: AsyncTask): string =>
  `${t.state}\n${t.waitsOnText.replace(/, due at loop time .*? at /, ' at ')}\n${chainKey(t)}\n${t.awaitedBy.join(',')}`;

/** The groups of identical tasks, the largest first (then by the first one's name). */
export function groupTasks(tasks: AsyncTask[]): AsyncTask[][] {
  const groups = new Map<string, AsyncTask[]>();
  for (const t of tasks) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return [...groups.values()].sort((a, b) => b.length - a.length || a[0]!.name.localeCompare(b[0]!.name));
}
