// Identical threads as one entry, on threads shaped as the threads fixture's pool of workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupNames, groupThreads, groupTitle } from '../../src/threads/groups.js';
import type { PythonFrame, Thread, ThreadState } from '../../src/model/types.js';

const frame = (fn: string, file: string, line: number): PythonFrame => ({ function: fn, file, line, nativeIndex: 13, isEntry: false, locals: [] });
const THREADING = '/usr/lib/python3.11/threading.py';
const boot = [frame('run', THREADING, 975), frame('_bootstrap_inner', THREADING, 1038), frame('_bootstrap', THREADING, 995)];

function thread(tid: number, name: string | null, state: ThreadState, frames: PythonFrame[]): Thread {
  return {
    tid, name, ident: tid, threadObject: null, state, stateDetail: '', holdsGil: false, pythonFrames: frames,
    nativeFrames: [{ function: 'futex_wait', library: null, file: null, line: null, pc: tid }], waitsOn: null, heldLocks: [],
  };
}

const worker = (i: number): Thread => thread(100 + i, `pool-worker-${i}`, 'waiting-lock', [frame('pool_worker', '/srv/threads.py', 43), ...boot]);

test('groupThreads: same state and same Python stack together, each group where its first thread was', () => {
  const main = thread(1, 'MainThread', 'running', [frame('main', '/srv/threads.py', 90)]);
  const lockWaiter = thread(2, 'lock-waiter', 'waiting-lock', [frame('lock_waiter', '/srv/threads.py', 37), ...boot]);
  const sleeping = { ...worker(9), tid: 200, name: 'pool-worker-9', state: 'sleeping' as const };
  const other = thread(300, 'pool-worker-5', 'waiting-lock', [frame('pool_worker', '/srv/threads.py', 44), ...boot]);
  const groups = groupThreads([main, worker(1), lockWaiter, worker(2), worker(3), sleeping, worker(4), other]);
  assert.deepEqual(groups.map((g) => g.map((t) => t.tid)), [[1], [101, 102, 103, 104], [2], [200], [300]]);
  // Threads with no Python frames group by their native functions.
  const a = thread(5, null, 'idle', []);
  const b = { ...thread(6, null, 'idle', []), nativeFrames: [{ function: 'epoll_wait', library: null, file: null, line: null, pc: 1 }] };
  assert.equal(groupThreads([a, b, thread(7, null, 'idle', [])]).length, 2);
});

test('groupNames and groupTitle: a numbered run as first…last, other names listed, unnamed by LWP', () => {
  const pool = [worker(3), worker(1), worker(4), worker(2)];
  assert.equal(groupNames(pool), 'pool-worker-1…4');
  assert.equal(groupTitle(pool), '4 threads pool-worker-1…4 waiting on a lock at threads.py:43');
  assert.equal(groupNames([worker(1), worker(2), worker(5)]), 'pool-worker-1, pool-worker-2 and pool-worker-5');
  assert.equal(groupNames([thread(7, null, 'idle', []), thread(8, null, 'idle', [])]), 'LWP 7 and LWP 8');
});
