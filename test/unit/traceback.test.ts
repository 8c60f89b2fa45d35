// Python-first stacks without a core: Python's folding of a repeated frame, the native frames under
// the innermost Python frame, and the traceback text, on frames shaped as the recursion core's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pythonFirst, tracebackItems, tracebackText } from '../../src/threads/traceback.js';
import type { NativeFrame, PythonFrame, Thread } from '../../src/model/types.js';

const F = '/srv/app/recursion.py';
const frame = (fn: string, line: number, nativeIndex = 5, source: string | null = null): PythonFrame =>
  ({ function: fn, file: F, line, nativeIndex, isEntry: false, locals: [], source });
const native = (fn: string): NativeFrame => ({ function: fn, library: 'python3.11', file: null, line: null, pc: 1 });

/** innermost first, as the model keeps them: leaf, then DEPTH recurse frames, then <module>. */
function recursion(depth: number): PythonFrame[] {
  return [frame('leaf', 65), ...Array.from({ length: depth }, () => frame('recurse', 32)), frame('<module>', 72)];
}

test('tracebackItems: outermost first; a frame repeated past 3 is folded as Python folds it', () => {
  const items = tracebackItems(recursion(40));
  const shown = items.map((i) => (i.kind === 'frame' ? `${i.frame.function}:${i.frame.line}` : `+${i.count}`));
  assert.deepEqual(shown, ['<module>:72', 'recurse:32', 'recurse:32', 'recurse:32', '+37', 'leaf:65']);
  // Three or fewer: nothing folded; four: "1 more time".
  assert.equal(tracebackItems(recursion(3)).filter((i) => i.kind === 'repeated').length, 0);
  assert.match(tracebackText(recursion(4)), /\n {2}\[Previous line repeated 1 more time\]\n/);
  // A run at the innermost end is folded too.
  assert.deepEqual(tracebackItems(recursion(5).slice(1)).at(-1), { kind: 'repeated', count: 2 });
});

test('tracebackText: Python\'s format, with the source line under each frame when it is known', () => {
  const frames = [frame('transfer', 26, 13, 'with second:'), frame('run', 975, 18, null)];
  assert.equal(tracebackText(frames), [
    'Traceback (most recent call last):',
    `  File "${F}", line 975, in run`,
    `  File "${F}", line 26, in transfer`,
    '    with second:',
  ].join('\n'));
});

test('pythonFirst: the native frames under the innermost Python frame, outermost first; the rest counted', () => {
  const natives = ['futex_wait', 'sem_wait', 'PyThread_acquire_lock_timed', '_PyEval_EvalFrameDefault', 'start_thread', 'clone3'].map(native);
  const t = { nativeFrames: natives, pythonFrames: [frame('transfer', 26, 3)] } as Pick<Thread, 'nativeFrames' | 'pythonFrames'> as Thread;
  const s = pythonFirst(t);
  assert.deepEqual(s.nativeTail.map((n) => n.function), ['PyThread_acquire_lock_timed', 'sem_wait', 'futex_wait']);
  assert.equal(s.foldedNative, 3);
  // No Python frames: every native frame is shown; a Python frame not placed (-1): none under it.
  assert.equal(pythonFirst({ ...t, pythonFrames: [] }).nativeTail.length, 6);
  assert.deepEqual([pythonFirst({ ...t, pythonFrames: [frame('f', 1, -1)] }).nativeTail.length, pythonFirst({ ...t, pythonFrames: [frame('f', 1, -1)] }).foldedNative], [0, 6]);
});
