// What a thread was doing when the core was taken, read from its stacks: the innermost native
// frame that says "I block on X" decides, so a sleeper woken and waiting for the GIL reads as
// waiting for the GIL, not as sleeping.
import type { ThreadState } from '../model/types.js';
import type { RawThread } from '../model/raw.js';
import { basename } from '../base/file-name.js';

interface Rule {
  state: ThreadState;
  /** Native function names (exact) that mean this state. */
  functions: string[];
  what: string;
}

const RULES: Rule[] = [
  { state: 'waiting-gil', functions: ['take_gil'], what: 'waiting for the GIL' },
  {
    state: 'gc',
    functions: ['gc_collect_main', 'gc_collect_with_callback', 'gc_collect_generations', 'collect_with_callback', 'collect'],
    what: 'collecting garbage',
  },
  {
    state: 'waiting-lock',
    functions: ['PyThread_acquire_lock_timed', 'acquire_timed', 'lock_PyThread_acquire_lock', 'rlock_acquire', 'PyThread_acquire_lock'],
    what: 'waiting on a lock',
  },
  { state: 'sleeping', functions: ['pysleep', 'time_sleep', 'clock_nanosleep', '__clock_nanosleep', 'nanosleep', '__GI___nanosleep', 'usleep'], what: 'sleeping' },
  {
    state: 'waiting-io',
    functions: [
      'select', '__select', 'pselect', 'poll', '__poll', '__GI___poll', 'ppoll', '__ppoll', 'epoll_wait', 'epoll_pwait',
      'recv', '__libc_recv', 'recvfrom', '__libc_recvfrom', 'recvmsg', '__libc_recvmsg', 'accept', 'accept4', '__libc_accept',
      'read', '__libc_read', '__GI___libc_read', 'readv', 'connect', '__libc_connect', 'send', '__libc_send', 'sendto',
      'write', '__libc_write', '__GI___libc_write', 'waitpid', '__waitpid', 'wait4', '__GI___wait4',
      'sock_recv', 'sock_recv_into', 'sock_accept', 'sock_call_ex', 'select_select_impl', 'select_poll_poll_impl',
      'select_epoll_poll_impl', '_io_FileIO_readinto_impl', 'os_read_impl', 'os_waitpid_impl',
      // 2.7's own names (Modules/selectmodule.c, socketmodule.c). Not glibc's __GI___select: 2.7's
      // time.sleep sleeps in select() too, and is told by time_sleep further out.
      'select_select', 'poll_poll', 'pyepoll_poll', 'sock_recv_guts',
    ],
    what: 'waiting on I/O',
  },
];

const BY_FUNCTION = new Map<string, Rule>(RULES.flatMap((r) => r.functions.map((f) => [f, r] as const)));

/** Stdlib modules whose frames are the machinery of a wait, not the place the user waits at. */
export const WAIT_MACHINERY = /(^|\/)(threading|queue|Queue|selectors|socket|subprocess|multiprocessing\/[a-z_]+)\.py$/;

export interface Classification {
  state: ThreadState;
  detail: string;
}

export function classify(thread: RawThread): Classification {
  const own = innermostState(thread);
  // A collection further out: whatever the thread does now (a __del__, a weakref callback) runs
  // inside it, and while it blocks, every thread that allocates waits for the collection too.
  const gc = own.state === 'gc' ? undefined : thread.native_frames.find((f) => f.function && BY_FUNCTION.get(f.function)?.state === 'gc');
  return gc ? { state: own.state, detail: `${own.detail}, inside a garbage collection (${gc.function})` } : own;
}

function innermostState(thread: RawThread): Classification {
  for (const frame of thread.native_frames) {
    const rule = frame.function ? BY_FUNCTION.get(frame.function) : undefined;
    if (rule) return { state: rule.state, detail: `${rule.what}${waitPlace(thread, rule.state)} (${frame.function})` };
  }
  const py = thread.python_frames[0];
  if (thread.holds_gil) {
    return py
      ? { state: 'running', detail: `running Python in ${py.function} (${basename(py.file)}:${py.line})` }
      : { state: 'holding-gil', detail: `holding the GIL in native code (${innermostName(thread)})` };
  }
  return py
    ? { state: 'idle', detail: `in native code without the GIL (${innermostName(thread)}) under ${py.function} (${basename(py.file)}:${py.line})` }
    : { state: 'idle', detail: `no Python code (${innermostName(thread)})` };
}

/** " in Event.wait called at threads.py:45 (event_waiter)" — the user's own line that waits. */
function waitPlace(thread: RawThread, state: ThreadState): string {
  if (state === 'waiting-gil' || state === 'gc') return '';
  const frames = thread.python_frames;
  const own = frames.findIndex((f) => !WAIT_MACHINERY.test(f.file));
  if (own === -1) return '';
  const user = frames[own]!;
  // The outermost machinery frame under the user's call names the API, e.g. Event.wait.
  const api = own > 0 ? apiName(frames[own - 1]!) : null;
  return `${api ? ` in ${api}` : ''} at ${basename(user.file)}:${user.line} (${user.function})`;
}

function apiName(frame: RawThread['python_frames'][number]): string {
  const self = frame.locals.find((l) => l.name === 'self');
  const cls = self ? /^<([A-Za-z_][\w.]*) (?:object )?at 0x/.exec(self.repr)?.[1] : undefined;
  return cls ? `${cls}.${frame.function}` : frame.function;
}

function innermostName(thread: RawThread): string {
  return thread.native_frames.find((f) => f.function)?.function ?? 'unknown function';
}

