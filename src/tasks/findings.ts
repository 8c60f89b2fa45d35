// What the asyncio tasks of a core say is wrong: a task that died of an exception nobody
// retrieved, tasks that wait for each other (awaiting each other, or asyncio Locks each holds),
// and a loop whose thread runs synchronous code in a task's step instead of waiting in its selector.
import { basename } from '../base/file-name.js';
import { awaitedTasks, primitive, waitsAt } from './tasks.js';
import type { AsyncTask, EventLoop, Finding, Thread } from '../model/types.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

export function taskFindings(tasks: AsyncTask[], loops: EventLoop[], threads: Thread[]): Finding[] {
  return [...neverRetrieved(tasks), ...deadlocks(tasks), ...blockedLoops(tasks, loops, threads)];
}

function where(t: AsyncTask): string {
  return waitsAt(t) ?? 'no coroutine frame';
}

function neverRetrieved(tasks: AsyncTask[]): Finding[] {
  return tasks.filter((t) => t.state === 'finished' && t.exception && t.exceptionRetrieved === false).map((t) => ({
    kind: 'task-exception-never-retrieved',
    severity: 'warning',
    title: `task "${t.name}" died of ${t.exception} and nobody retrieved it`,
    detail: `The task finished with an exception that no await, result() or exception() has read: whatever was meant to react to its failure never learned of it. ` +
      'asyncio logs "Task exception was never retrieved" only when the task is garbage-collected; this one is still referenced.',
    evidence: [`task "${t.name}" (${t.type} ${hex(t.address)}): finished with ${t.exception}`],
    remedy: 'Await the task (or gather it), or add a done callback that calls task.exception(); keep a reference to every task you create.',
  }));
}

interface Edge {
  to: AsyncTask;
  how: string;
}

/** The asyncio Lock a task waits to acquire, as its repr, or null. */
function lockWaitedOn(t: AsyncTask): string | null {
  const p = primitive(t);
  return p && p.self && /\.acquire$/.test(p.api) && p.api.split('.')[0] === 'Lock' ? p.self : null;
}

/** Who a pending task waits for: the tasks it awaits, and the likely holder of the lock it waits on. */
function edges(t: AsyncTask, tasks: AsyncTask[], byAddress: Map<number, AsyncTask>): Edge[] {
  const out: Edge[] = [];
  for (const a of awaitedTasks(t.waitsOn)) {
    const to = byAddress.get(a);
    if (to && to.state === 'pending') out.push({ to, how: `awaits task "${to.name}"` });
  }
  const lock = lockWaitedOn(t);
  if (lock) {
    for (const other of tasks) {
      if (other === t || other.state !== 'pending' || lockWaitedOn(other) === lock) continue;
      // A Lock records no owner: its likely holder is a task whose frames reference it while
      // they wait elsewhere (the `async with first:` of a lock-order deadlock).
      const frame = other.chain.find((f) => f.locals.some((l) => l.repr === lock));
      if (frame) {
        const local = frame.locals.find((l) => l.repr === lock)!;
        out.push({
          to: other,
          how: `waits on ${lock} at ${where(t)}; held by task "${other.name}" (likely: its frame ${frame.function} (${basename(frame.file)}:${frame.line}) holds it as \`${local.name}\`)`,
        });
      }
    }
  }
  return out;
}

function deadlocks(tasks: AsyncTask[]): Finding[] {
  const pending = tasks.filter((t) => t.state === 'pending' && !t.running);
  const byAddress = new Map(tasks.map((t) => [t.address, t]));
  const out = new Map(pending.map((t) => [t, edges(t, tasks, byAddress)]));
  const inCycle = new Set<AsyncTask>();
  const findings: Finding[] = [];
  // Depth-first along the edges; a path that comes back to one of its own tasks is a cycle.
  const visit = (path: AsyncTask[], how: string[]): void => {
    const cur = path[path.length - 1]!;
    for (const e of out.get(cur) ?? []) {
      const i = path.indexOf(e.to);
      if (i >= 0) {
        const cycle = path.slice(i);
        if (cycle.some((c) => inCycle.has(c))) continue;
        cycle.forEach((c) => inCycle.add(c));
        const hows = [...how.slice(i), e.how];
        const names = cycle.map((c) => `"${c.name}"`);
        const locks = hows.some((h) => h.startsWith('waits on'));
        findings.push({
          kind: 'async-deadlock',
          severity: 'critical',
          title: `Async deadlock: tasks ${names.join(', ')} wait for each other`,
          detail: `${[...names, names[0]].join(' → ')}: each task waits for the next one ` +
            `(${locks ? 'an asyncio Lock it holds' : 'to finish'}), so none of them will ever go on.` +
            (locks ? ' asyncio Locks record no owner: the holders are inferred from the frames that reference each lock.' : ''),
          evidence: cycle.map((c, k) => `task "${c.name}" ${hows[k]!.startsWith('awaits') ? `${hows[k]} at ${where(c)}` : hows[k]}`),
          remedy: locks
            ? 'Acquire the locks in one global order in every task, or bound the wait (asyncio.wait_for(lock.acquire(), timeout)).'
            : 'Tasks that await each other never finish: break the cycle (one side must not await the other), or bound the waits with asyncio.wait_for.',
        });
      } else if (out.has(e.to) && path.length < 64) {
        visit([...path, e.to], [...how, e.how]);
      }
    }
  };
  for (const t of pending) if (!inCycle.has(t)) visit([t], []);
  return findings;
}

const SELECTOR_WAIT = new Set(['epoll_wait', 'epoll_pwait', 'select', '__select', 'poll', '__poll', '__GI___poll', 'ppoll', '__ppoll', 'kevent']);

function blockedLoops(tasks: AsyncTask[], loops: EventLoop[], threads: Thread[]): Finding[] {
  const findings: Finding[] = [];
  for (const loop of loops) {
    if (loop.currentTask === null || loop.threadTid === null) continue;
    const thread = threads.find((t) => t.tid === loop.threadTid);
    const task = tasks.find((t) => t.address === loop.currentTask);
    if (!thread || !task) continue;
    const inSelector = thread.nativeFrames.some((f) => f.function && SELECTOR_WAIT.has(f.function)) &&
      thread.pythonFrames[0]?.function === 'select' && /(^|\/)selectors\.py$/.test(thread.pythonFrames[0].file);
    if (inSelector) continue;
    const py = thread.pythonFrames[0];
    const own = task.chain[task.chain.length - 1];
    const at = py ? `${py.function} (${basename(py.file)}:${py.line})` : 'native code';
    // The thread's Python frames from the innermost down to the task's own coroutine frame.
    const step = own ? thread.pythonFrames.findIndex((f) => f.function === own.function && f.file === own.file && f.line === own.line) : -1;
    const stack = thread.pythonFrames.slice(0, step >= 0 ? step + 1 : 1).map((f) => `${f.function} (${basename(f.file)}:${f.line})`);
    findings.push({
      kind: 'event-loop-blocked',
      severity: 'critical',
      title: `the event loop is blocked in ${at}, in the step of task "${task.name}"`,
      detail: `The thread that runs the event loop (${thread.name ?? 'unnamed'}, LWP ${thread.tid}) is not waiting in its selector but ` +
        `running synchronous code under task "${task.name}": ${thread.stateDetail}. While it does, no other task and no callback runs` +
        `${loop.ready !== null ? ` (${loop.ready} ready callbacks and ${loop.scheduled ?? '?'} timers wait)` : ''}.`,
      evidence: [
        `task "${task.name}" is running its step${own ? `: ${own.function} (${basename(own.file)}:${own.line})` : ''}`,
        `the loop's thread runs, innermost first: ${stack.join(' ← ') || 'no Python frame'}`,
        `loop ${hex(loop.address)} (${loop.type}) run by LWP ${thread.tid}: ${thread.state}, ${thread.stateDetail}`,
      ],
      remedy: 'Move blocking calls out of the loop: await loop.run_in_executor(None, fn, ...) or asyncio.to_thread(fn, ...), and use the asyncio versions of sleep, locks and I/O.',
    });
  }
  return findings;
}
