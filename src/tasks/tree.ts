// Who awaits whom, as a forest: each task that awaits other tasks (directly or through gathers)
// above them, as `python -m asyncio pstree` draws a live process (3.14). Tasks that take part in
// no await between tasks are left out (they are in the task list); tasks awaiting each other in a
// cycle are drawn from one of them, the repeat marked.
import { awaitedTasks } from './tasks.js';
import type { AsyncTask } from '../model/types.js';

export interface AwaitNode {
  task: AsyncTask;
  /** The tasks it awaits. */
  children: AwaitNode[];
  /** Already drawn above (a cycle, or a task awaited twice): its children are not repeated. */
  repeated: boolean;
}

/** The forest: roots are tasks that await others and that no task awaits; then any cycle left. */
export function awaitForest(tasks: AsyncTask[]): AwaitNode[] {
  const byAddress = new Map(tasks.map((t) => [t.address, t]));
  const awaits = new Map(tasks.map((t) => [t, awaitedTasks(t.waitsOn).map((a) => byAddress.get(a)).filter((c): c is AsyncTask => c !== undefined)]));
  const awaited = new Set([...awaits.values()].flat());
  const drawn = new Set<AsyncTask>();
  const node = (t: AsyncTask): AwaitNode => {
    if (drawn.has(t)) return { task: t, children: [], repeated: true };
    drawn.add(t);
    return { task: t, children: awaits.get(t)!.map(node), repeated: false };
  };
  const forest = tasks.filter((t) => awaits.get(t)!.length > 0 && !awaited.has(t)).map(node);
  // What is left of the relations: cycles, with no task outside them awaiting in.
  for (const t of tasks) if (!drawn.has(t) && awaits.get(t)!.length > 0) forest.push(node(t));
  return forest;
}
