// The verdict sentence, on inputs shaped as the fixture cores give them (thread stacks, lock waits,
// the fragmentation core's memory figures), with the findings made by the real finding code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpVerdict } from '../../src/memory/verdict.js';
import { andList } from '../../src/base/prose.js';
import { seriesVerdict, span } from '../../src/diff/verdict.js';
import { lockFindings } from '../../src/threads/locks.js';
import { crashFinding } from '../../src/threads/crash.js';
import { memoryFindings } from '../../src/memory/findings.js';
import type { CoreFacts, MemoryReport, PythonFrame, Thread, ThreadState } from '../../src/model/types.js';

const THREADING = '/usr/lib/python3.11/threading.py';
const APP = '/srv/app/deadlock.py';

function frame(fn: string, file: string, line: number, locals: Record<string, string> = {}): PythonFrame {
  return { function: fn, file, line, nativeIndex: 13, isEntry: false, locals: Object.entries(locals).map(([name, repr]) => ({ name, kind: 'object', repr })) };
}

function thread(tid: number, name: string, state: ThreadState, frames: PythonFrame[], extra: Partial<Thread> = {}): Thread {
  return {
    tid, name, ident: tid * 1000, threadObject: null, state, stateDetail: state, holdsGil: false, pythonFrames: frames,
    nativeFrames: [{ function: 'futex_wait', library: '/usr/lib/x86_64-linux-gnu/libc.so.6', file: null, line: null, pc: 0x7f00 }],
    waitsOn: null, heldLocks: [], ...extra,
  };
}

const bootstrap = [frame('run', THREADING, 975), frame('_bootstrap_inner', THREADING, 1038), frame('_bootstrap', THREADING, 995)];
const lock = (address: number) => ({ kind: 'lock', address, ownerIdent: null, count: null, condition: null });

function core(signal: number, signalName: string | null, lwps: number[]): CoreFacts {
  return {
    path: '/cores/core.1', size: 1, sha256: 'x', pid: lwps[0] ?? 1, signal, signalName, executable: '/usr/bin/python3.11', cmdline: 'python3.11 app.py',
    fname: 'python3.11', takenAt: '2026-11-29T20:00:00Z', lwps, mappedFiles: [], file: null, sysroot: null,
  };
}

function memory(parts: [MemoryReport['breakdown'][number]['kind'], number][], extra: Partial<MemoryReport> = {}): MemoryReport {
  return {
    allocator: 'glibc', writableBytes: parts.reduce((n, [, b]) => n + b, 0), breakdown: parts.map(([kind, bytes]) => ({ kind, bytes, detail: '' })),
    glibc: null, pymalloc: null, gc: null, native: null, cycles: null, stacks: { threads: 1, bytes: 135168 },
    mappings: { total: 0, fileBacked: 0, anonymousWritable: 0, notWritable: 0, threadStacks: 0, pymallocArenas: 0, glibcHeaps: 0, dumped: 0 },
    ...extra,
  };
}

test('verdict: a lock-order deadlock names both threads, counts the locks, and gives the user\'s line', () => {
  const threads = [
    thread(21626, 'worker-a', 'waiting-lock', [frame('transfer', APP, 26, { first: '<_thread.lock object at 0x7f789c67f680>' }), ...bootstrap], { waitsOn: lock(0x7f789c712ac0) }),
    thread(21627, 'worker-b', 'waiting-lock', [frame('transfer', APP, 26, { first: '<_thread.lock object at 0x7f789c712ac0>' }), ...bootstrap], { waitsOn: lock(0x7f789c67f680) }),
    thread(21621, 'MainThread', 'sleeping', [frame('main', APP, 44)]),
  ];
  const findings = lockFindings(threads);
  assert.equal(findings[0]?.kind, 'deadlock');
  const v = dumpVerdict({ core: core(0, null, threads.map((t) => t.tid)), threads, findings, memory: null });
  assert.deepEqual(v, { kind: 'stuck', text: 'Stuck: worker-a and worker-b deadlock on two locks at deadlock.py:26' });
});

test('verdict: a second deadlock and a thread joining them are named after the first', () => {
  const threads = [
    thread(1, 'MainThread', 'waiting-lock', [frame('_wait_for_tstate_lock', THREADING, 1132), frame('join', THREADING, 1112), frame('main', APP, 46)], { waitsOn: lock(0x10) }),
    thread(2, 'worker-a', 'waiting-lock', [frame('transfer', APP, 26, { first: '<_thread.lock object at 0x20>' }), ...bootstrap], { waitsOn: lock(0x30) }),
    thread(3, 'worker-b', 'waiting-lock', [frame('transfer', APP, 26, { first: '<_thread.lock object at 0x30>' }), ...bootstrap], { waitsOn: lock(0x20) }),
  ];
  const findings = lockFindings(threads);
  assert.equal(findings.filter((f) => f.kind === 'deadlock').length, 2);
  const v = dumpVerdict({ core: core(0, null, [1, 2, 3]), threads, findings, memory: null });
  assert.equal(v.text, 'Stuck: worker-a and worker-b deadlock on two locks at deadlock.py:26; also stuck: MainThread');
});

test('verdict: a crash names the signal, the crashing thread (listed first in the core) and its innermost Python line', () => {
  const threads = [
    thread(21610, 'MainThread', 'idle', [frame('handle_request', '/srv/app/crash.py', 21), frame('<module>', '/srv/app/crash.py', 40)], {
      nativeFrames: [{ function: '__pthread_kill_implementation', library: 'libc.so.6', file: null, line: null, pc: 1 }],
    }),
    thread(21611, 'background', 'sleeping', [frame('sleeper', '/srv/app/crash.py', 16)]),
  ];
  const c = core(6, 'SIGABRT', [21610, 21611]);
  const crash = crashFinding(c, threads)!;
  // A deadlock found in the same core does not hide the crash.
  const v = dumpVerdict({ core: c, threads, findings: [...lockFindings(threads), crash], memory: null });
  assert.deepEqual(v, { kind: 'crashed', text: 'Crashed: SIGABRT in MainThread at crash.py:21' });
});

test('verdict: the fragmentation core\'s figures say how much of the memory glibc keeps free', () => {
  // As the fragmentation fixture's core measures it (bytes).
  const m = memory([['python-objects', 3324351], ['pymalloc-free', 813072], ['malloc-free', 323203136], ['malloc-python', 8123088], ['malloc-native', 1828880], ['stacks', 135168], ['other', 4961041]], {
    glibc: {
      arenas: Array.from({ length: 7 }, (_, i) => ({ address: i, main: i === 0, systemMem: 47357952, fastCount: 0, fastSize: 0, restCount: 378, restSize: 46160592, topSize: 0, inUseBytes: 1197346 })),
      totals: { fastCount: 2, fastSize: 96, restCount: 2647, restSize: 323124144, mmapCount: 4, mmapSize: 1662976, systemCurrent: 331505664, inUseBytes: 8381424, trimmableBytes: 312737792 },
      tcache: { count: 186, bytes: 78896 },
    },
  });
  const findings = memoryFindings(m);
  assert.deepEqual(findings.map((f) => f.kind), ['allocator-fragmentation']);
  const v = dumpVerdict({ core: core(0, null, [1]), threads: [thread(1, 'MainThread', 'running', [frame('<module>', '/srv/app/frag.py', 70)])], findings, memory: m });
  assert.deepEqual(v, { kind: 'big', text: 'Big: 323.2 MB of 342.4 MB is free memory glibc keeps (fragmentation)' });
});

test('verdict: native memory no Python object owns', () => {
  const m = memory([['python-objects', 2_000_000], ['malloc-native', 100_200_000], ['other', 7_100_000]], {
    native: { bytes: 100_200_000, chunks: 100_360, topSizes: [{ size: 1040, count: 96_000, bytes: 99_840_000 }], biggest: [] },
  });
  const v = dumpVerdict({ core: core(0, null, [1]), threads: [], findings: memoryFindings(m), memory: m });
  assert.deepEqual(v, { kind: 'big', text: 'Big: 100.2 MB of 109.3 MB is malloc memory no Python object owns (native code)' });
});

test('verdict: threads waiting on a lock others can release are "waiting"; nothing wrong says what the process holds', () => {
  const threads = [
    thread(1, 'lock-waiter', 'waiting-lock', [frame('acquire_it', '/srv/app/threads.py', 35)], { waitsOn: lock(0x40) }),
    thread(2, 'MainThread', 'sleeping', [frame('main', '/srv/app/threads.py', 90)]),
    thread(3, 'io', 'waiting-io', [frame('serve', '/srv/app/threads.py', 70)]),
  ];
  const waiting = dumpVerdict({ core: core(0, null, [1, 2, 3]), threads, findings: lockFindings(threads), memory: null });
  assert.deepEqual(waiting, { kind: 'waiting', text: 'Waiting: lock-waiter waits on a lock at threads.py:35; other threads can still release it' });
  const m = memory([['python-objects', 108_900_000], ['other', 28_800_000]]);
  const healthy = dumpVerdict({ core: core(0, null, [2, 3]), threads: threads.slice(1), findings: [], memory: m });
  assert.deepEqual(healthy, { kind: 'healthy', text: 'No problem found: 2 threads (1 sleeping, 1 waiting on I/O); 137.7 MB of memory, the most in Python objects (108.9 MB)' });
});

test('andList: "a", "a and b", "a, b and c", and a long list cut short', () => {
  assert.equal(andList(['a']), 'a');
  assert.equal(andList(['a', 'b']), 'a and b');
  assert.equal(andList(['a', 'b', 'c']), 'a, b and c');
  assert.equal(andList(['a', 'b', 'c', 'd'], 3), 'a, b and 2 more');
});

test('series verdict: steady below 1 MB or 5% of growth; the spans of time as people say them', () => {
  const dump = (id: number, writable: number, at: string) => ({
    id, core: { ...core(0, null, [1]), takenAt: at }, census: [], censusStats: null,
    memory: memory([['python-objects', writable]]), threads: [], findings: [],
  }) as unknown as Parameters<typeof seriesVerdict>[0][number];
  const steady = seriesVerdict([dump(1, 100_000_000, '2026-11-29T20:00:00Z'), dump(2, 104_000_000, '2026-11-29T21:30:00Z')]);
  assert.deepEqual(steady, { kind: 'steady', text: 'Steady: 100.0 MB → 104.0 MB over 2 dumps in 90 min' });
  const growing = seriesVerdict([dump(1, 100_000_000, '2026-11-29T20:00:00Z'), dump(2, 150_000_000, '2026-11-29T20:00:03Z')]);
  assert.deepEqual(growing, { kind: 'growing', text: 'Growing: +50.0 MB (100.0 MB → 150.0 MB) over 2 dumps in 3 s' });
  assert.deepEqual([span(3000), span(600_000), span(9_000_000), span(4 * 86_400_000)], ['3 s', '10 min', '2.5 h', '4 days']);
});
