// What a thread is doing, from its stacks (src/threads/classify.ts), on hand-made frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../src/threads/classify.js';
import { basename } from '../../src/base/file-name.js';
import type { RawThread } from '../../src/model/raw.js';

type Py = [fn: string, file: string, line: number, self?: string];

/** A thread from native function names and Python frames, innermost first. */
function thread(native: (string | null)[], python: Py[] = [], holdsGil = false): RawThread {
  return {
    num: 1,
    lwp: 100,
    ident: null,
    name: null,
    holds_gil: holdsGil,
    native_frames: native.map((f, i) => ({ function: f, library: null, file: null, line: null, pc: 0x1000 + i })),
    python_frames: python.map(([fn, file, line, self]) => ({
      function: fn, file, line, native_index: -1, is_entry: false,
      locals: self === undefined ? [] : [{ name: 'self', kind: 'arg', repr: self }],
    })),
    waits_on: null,
  };
}

const THREADING = '/usr/lib/python3.11/threading.py';

test('a lock wait names the API (from self in the outermost machinery frame) and the user line', () => {
  const t = thread(
    ['__futex_abstimed_wait_common', 'do_futex_wait', 'PyThread_acquire_lock_timed', 'acquire_timed', 'lock_PyThread_acquire_lock'],
    [
      ['wait', THREADING, 324, '<Condition(<unlocked _thread.lock object at 0x7f0>, 0)>'],
      ['wait', THREADING, 622, '<threading.Event object at 0x7f3a2b1c0d90>'],
      ['event_waiter', '/app/threads.py', 45],
      ['run', THREADING, 975],
    ],
  );
  assert.deepEqual(classify(t), {
    state: 'waiting-lock',
    detail: 'waiting on a lock in threading.Event.wait at threads.py:45 (event_waiter) (PyThread_acquire_lock_timed)',
  });
});

test('the innermost native frame with a rule decides: a woken sleeper waiting for the GIL waits for the GIL', () => {
  const t = thread(['__futex_abstimed_wait_common', 'take_gil', 'PyEval_RestoreThread', 'pysleep', 'time_sleep'], [['main', '/app/sleepy.py', 10]]);
  assert.deepEqual(classify(t), { state: 'waiting-gil', detail: 'waiting for the GIL (take_gil)' });
});

test('sleeping, with the user line and no API when the user calls time.sleep itself', () => {
  const t = thread([null, 'clock_nanosleep', 'pysleep', 'time_sleep'], [['main', '/app/sleepy.py', 10], ['<module>', '/app/sleepy.py', 20]]);
  assert.deepEqual(classify(t), { state: 'sleeping', detail: 'sleeping at sleepy.py:10 (main) (clock_nanosleep)' });
});

test('I/O inside the stdlib only: no place named', () => {
  const t = thread(['epoll_wait', 'select_epoll_poll_impl'], [
    ['select', '/usr/lib/python3.11/selectors.py', 468],
    ['recv_bytes', '/usr/lib/python3.11/multiprocessing/connection.py', 216],
  ]);
  assert.deepEqual(classify(t), { state: 'waiting-io', detail: 'waiting on I/O (epoll_wait)' });
});

test('an API from a repr without "object", and the garbage collector', () => {
  const t = thread(['read'], [['recv', '/usr/lib/python3.11/socket.py', 700, '<Conn at 0x7f00>'], ['serve', '/app/server.py', 9]]);
  assert.deepEqual(classify(t), { state: 'waiting-io', detail: 'waiting on I/O in Conn.recv at server.py:9 (serve) (read)' });
  const gc = thread(['visit_reachable', 'gc_collect_main', 'gc_collect_with_callback'], [['alloc', '/app/a.py', 3]], true);
  assert.deepEqual(classify(gc), { state: 'gc', detail: 'collecting garbage (gc_collect_main)' });
});

test('without a rule: running, holding the GIL in native code, or idle', () => {
  assert.deepEqual(classify(thread(['_PyEval_EvalFrameDefault'], [['compute', '/app/work.py', 12]], true)), {
    state: 'running', detail: 'running Python in compute (work.py:12)',
  });
  assert.deepEqual(classify(thread([null, 'PyObject_Call'], [], true)), {
    state: 'holding-gil', detail: 'holding the GIL in native code (PyObject_Call)',
  });
  assert.deepEqual(classify(thread(['some_c_call'], [['main', '/app/app.py', 3]])), {
    state: 'idle', detail: 'in native code without the GIL (some_c_call) under main (app.py:3)',
  });
  assert.deepEqual(classify(thread([null, null])), { state: 'idle', detail: 'no Python code (unknown function)' });
  // A function merely named like a rule's, but not exactly: no rule.
  assert.equal(classify(thread(['take_gil_fast'])).state, 'idle');
});

test('basename', () => {
  assert.equal(basename('/usr/lib/python3.11/threading.py'), 'threading.py');
  assert.equal(basename('app.py'), 'app.py');
  assert.equal(basename('/app/'), '');
});

test('a thread blocked inside a garbage collection (a __del__ waiting on a lock) keeps its state and says it is inside one', () => {
  const t = thread(
    ['__futex_abstimed_wait_common', 'PyThread_acquire_lock_timed', 'acquire_timed', 'lock_PyThread_acquire_lock', '_PyEval_EvalFrameDefault', 'slot_tp_finalize', 'finalize_garbage', 'gc_collect_main', 'gc_collect_with_callback'],
    [['__del__', '/app/res.py', 12], ['make', '/app/res.py', 30]],
  );
  assert.deepEqual(classify(t), {
    state: 'waiting-lock',
    detail: 'waiting on a lock at res.py:12 (__del__) (PyThread_acquire_lock_timed), inside a garbage collection (gc_collect_main)',
  });
});
