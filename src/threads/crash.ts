// A core the kernel wrote because a signal killed the process: which signal, which thread took
// it (the kernel writes that thread's status first), and where it was in Python and in C.
import { basename, frameAt } from '../base/file-name.js';
import type { CoreFacts, Finding, Thread } from '../model/types.js';

/** Signals whose default action is to dump core because something went wrong, with what usually sends them. */
const FATAL: Record<number, { name: string; cause: string; remedy: string }> = {
  4: { name: 'SIGILL', cause: 'an illegal instruction', remedy: 'a native library built for another CPU, or a corrupted function pointer: look at the native frames' },
  5: { name: 'SIGTRAP', cause: 'a trap (a breakpoint or __builtin_trap)', remedy: 'a C assertion compiled as a trap: look at the native frames' },
  6: { name: 'SIGABRT', cause: 'abort()', remedy: 'os.abort(), a failed C assertion, or glibc finding its heap corrupted (malloc_printerr on the native stack): look at the native frames of the crashing thread' },
  7: { name: 'SIGBUS', cause: 'a bus error', remedy: 'often a memory-mapped file that was truncated while mapped: look at the native frames' },
  8: { name: 'SIGFPE', cause: 'an arithmetic error (integer division by zero)', remedy: 'a native library divided by zero: look at the native frames' },
  11: { name: 'SIGSEGV', cause: 'an invalid memory access', remedy: 'a C extension or ctypes call touched memory it does not own; run with PYTHONFAULTHANDLER=1 to print the Python stack when it happens again' },
  31: { name: 'SIGSYS', cause: 'a forbidden system call', remedy: 'a seccomp filter refused a system call: look at the native frames' },
};

const label = (t: Thread): string => `${t.name ?? 'unnamed thread'} (LWP ${t.tid})`;

/** The thread that took the fatal signal, or null when the core is not a crash's. */
export function crashingThread(core: CoreFacts, threads: Thread[]): Thread | null {
  if (!FATAL[core.signal]) return null;
  const lwp = core.lwps[0];
  return threads.find((t) => t.tid === lwp) ?? null;
}

export function crashFinding(core: CoreFacts, threads: Thread[]): Finding | null {
  const fatal = FATAL[core.signal];
  if (!fatal) return null;
  const t = crashingThread(core, threads);
  const py = t?.pythonFrames[0];
  const native = t?.nativeFrames.find((f) => f.function && !/^(__pthread_kill|pthread_kill|raise|__GI_raise|abort|__GI_abort)/.test(f.function)) ?? t?.nativeFrames[0];
  const where = py ? frameAt(py) : 'native code';
  const evidence = [
    `signal ${core.signal} (${fatal.name}): ${fatal.cause}`,
    t ? `crashing thread: ${label(t)}` : `crashing thread: LWP ${core.lwps[0] ?? '?'} (not among the threads gdb read)`,
  ];
  if (py) evidence.push(`innermost Python frame: ${py.function} at ${py.file}:${py.line}`);
  if (native?.function) evidence.push(`innermost native frame: ${native.function}${native.library ? ` in ${basename(native.library)}` : ''}`);
  return {
    kind: 'crash',
    severity: 'critical',
    title: `the process died of ${fatal.name} in ${t ? label(t) : 'a thread'} at ${where}`,
    detail: `The kernel wrote this core because ${fatal.name} (${fatal.cause}) killed the process. The crashing thread is listed first.`,
    evidence,
    remedy: fatal.remedy,
    ...(t ? { threads: [t.tid] } : {}),
  };
}
