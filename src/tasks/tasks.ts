// asyncio tasks, from what gdb read to the model: each task with what it waits on in words, who
// awaits it, and its coroutine chain (outermost first); the loops with the thread that runs them.
import type { AsyncTask, AwaitedFuture, EventLoop, TaskFrame } from '../model/types.js';
import type { RawFuture, RawLoop, RawTask } from '../model/raw.js';
import { basename, frameAt } from '../base/file-name.js';

const hex = (n: number): string => `0x${n.toString(16)}`;


/** asyncio's own modules: the machinery a task waits in, not the place the user awaits at. */
const ASYNCIO = /(^|\/)asyncio\/[a-z_]+\.py$/;

export function isAsyncioFrame(f: Pick<TaskFrame, 'file'>): boolean {
  return ASYNCIO.test(f.file);
}

/** The class of an object from its repr: <Lock at 0x...>, <asyncio.locks.Lock object at 0x...>. */
export function classOfRepr(repr: string): string | null {
  const m = /^<(?:[\w.]+\.)?([A-Za-z_]\w*)(?: object)? at 0x[0-9a-f]+(?: \[[^\]]*\])?>$/.exec(repr);
  return m ? m[1]! : null;
}

/** The address in an object's default repr, or null. */
export function addressOfRepr(repr: string): number | null {
  const m = / at 0x([0-9a-f]+)/.exec(repr);
  return m ? parseInt(m[1]!, 16) : null;
}

export interface TaskSet {
  tasks: AsyncTask[];
  loops: EventLoop[];
}

export function buildTasks(raw: RawTask[], rawLoops: RawLoop[]): TaskSet {
  const names = new Map(raw.map((t) => [t.address, taskName(t)]));
  const loops: EventLoop[] = rawLoops.map((l) => ({
    address: l.address, type: l.type, threadTid: l.thread_lwp, threadIdent: l.thread_ident, ready: l.ready, scheduled: l.scheduled,
    stopping: l.stopping, closed: l.closed, currentTask: l.current_task, selectStartedAt: l.select_started_at,
  }));
  const future = (f: RawFuture): AwaitedFuture => ({
    address: f.address, type: f.type, kind: f.kind, state: f.state,
    taskName: f.kind === 'task' ? names.get(f.address) ?? `task ${hex(f.address)}` : null,
    children: Array.isArray(f.children) ? f.children.map(future) : null,
    executorTid: f.executor_lwp ?? null,
  });
  const tasks: AsyncTask[] = raw.map((t) => {
    const loop = loops.find((l) => l.address === t.loop);
    const chain: TaskFrame[] = t.chain.map((f) => ({
      function: f.function, file: f.file, line: f.line, kind: f.kind, state: f.frame_state,
      locals: f.locals.map((l) => ({ name: l.name, kind: l.kind, repr: l.repr })), timerWhen: f.timer_when,
    }));
    const task: AsyncTask = {
      address: t.address, name: names.get(t.address)!, type: t.type, state: t.state,
      running: loop?.currentTask === t.address || chain.some((f) => f.state === 'running'),
      loop: t.loop, exception: t.exception, exceptionRetrieved: t.exception_retrieved, logDestroyPending: t.log_destroy_pending,
      waitsOn: t.fut_waiter ? future(t.fut_waiter) : null, waitsOnText: '', awaitedBy: [], chain,
      awaitable: t.awaitable ? t.awaitable.type : null,
    };
    task.waitsOnText = waitsOnText(task, loop ?? null);
    return task;
  });
  const byAddress = new Map(tasks.map((t) => [t.address, t]));
  for (const t of tasks) {
    for (const child of awaitedTasks(t.waitsOn)) {
      const c = byAddress.get(child);
      if (c && !c.awaitedBy.includes(t.name)) c.awaitedBy.push(t.name);
    }
  }
  for (const t of tasks) t.awaitedBy.sort();
  return { tasks, loops };
}

function taskName(t: RawTask): string {
  return t.name ?? `task ${hex(t.address)}`;
}

/** The tasks a future stands for: itself, or a gather's children, all the way down. */
export function awaitedTasks(f: AwaitedFuture | null): number[] {
  if (!f) return [];
  if (f.kind === 'task') return [f.address];
  return (f.children ?? []).flatMap(awaitedTasks);
}

function futureText(f: AwaitedFuture): string {
  if (f.kind === 'task') return `task "${f.taskName}"${f.state && f.state !== 'pending' ? ` (${f.state})` : ''}`;
  if (f.kind === 'gather') return `gather of ${f.children!.length}: ${f.children!.map(futureText).join(', ')}`;
  if (f.executorTid) return `run_in_executor: its work runs in thread LWP ${f.executorTid}`;
  return `a future (${f.type.replace(/^_asyncio\./, 'asyncio.')})`;
}

/** Where the user's code awaits: the innermost frame outside asyncio. */
export function userFrame(t: Pick<AsyncTask, 'chain'>): TaskFrame | null {
  for (let i = t.chain.length - 1; i >= 0; i--) if (!isAsyncioFrame(t.chain[i]!)) return t.chain[i]!;
  return t.chain[0] ?? null;
}

/** Where a task waits in the program's own code, "service.py:42 in fetch" (userFrame's), or null. */
export function waitsAt(t: Pick<AsyncTask, 'chain'>): string | null {
  const f = userFrame(t);
  return f ? frameAt(f) : null;
}

/** The asyncio primitive a task waits in: its innermost asyncio frame, e.g. Lock.acquire on <Lock at 0x...>. */
export function primitive(t: Pick<AsyncTask, 'chain'>): { api: string; self: string | null; frame: TaskFrame } | null {
  const last = t.chain[t.chain.length - 1];
  if (!last || !isAsyncioFrame(last)) return null;
  const self = last.locals.find((l) => l.name === 'self')?.repr ?? null;
  const cls = self ? classOfRepr(self) : null;
  return { api: cls ? `${cls}.${last.function}` : `asyncio.${last.function}`, self, frame: last };
}

function seconds(s: number): string {
  return `${Math.abs(s) < 10 ? s.toFixed(1) : Math.round(s)} s`;
}

/** What a task waits on, in words. */
export function waitsOnText(t: AsyncTask, loop: EventLoop | null): string {
  if (t.state === 'finished') {
    if (!t.exception) return 'finished';
    return `finished with ${t.exception}${t.exceptionRetrieved ? '' : ', never retrieved'}`;
  }
  if (t.state === 'cancelled') return 'cancelled';
  if (t.running) return 'running: its step is under way';
  const user = userFrame(t);
  const at = user ? ` at ${basename(user.file)}:${user.line} (${user.function})` : '';
  if (!t.waitsOn) {
    if (t.chain[0]?.state === 'created') return 'not started yet: scheduled to run';
    return `ready to run (scheduled on the loop)${at}`;
  }
  if (t.waitsOn.kind === 'task' || t.waitsOn.kind === 'gather') return `awaits ${futureText(t.waitsOn)}${at}`;
  const p = primitive(t);
  if (p) {
    if (p.api === 'asyncio.sleep') {
      const delay = p.frame.locals.find((l) => l.name === 'delay')?.repr;
      const when = p.frame.timerWhen;
      const due = when !== null && loop?.selectStartedAt != null
        ? `, due at loop time ${when.toFixed(1)} (${seconds(when - loop.selectStartedAt)} after the loop last went to wait)`
        : when !== null ? `, due at loop time ${when.toFixed(1)}` : '';
      return `asyncio.sleep(${delay ?? '?'})${due}${at}`;
    }
    return `${p.api}${p.self && classOfRepr(p.self) ? ` on ${p.self}` : ''}${at}`;
  }
  return `awaits ${futureText(t.waitsOn)}${at}`;
}
