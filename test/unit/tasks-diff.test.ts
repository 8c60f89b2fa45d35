// The tasks part of a diff, without a core: counts by outermost coroutine, and the tasks that
// wait at the same await in both dumps (and those that only look alike).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffTasks } from '../../src/diff/tasks.js';
import { task } from './task-fixture.js';

test('tasks diff: counts per outermost coroutine, the largest change first', () => {
  const a = [task(1, 'h1', [['handler', 10], ['fetch', 20]]), task(2, 'w', [['worker', 5]])];
  const b = [...a, task(3, 'h2', [['handler', 10], ['fetch', 20]]), task(4, 'h3', [['handler', 10]])];
  const d = diffTasks(a, b)!;
  assert.equal(d.countA, 2);
  assert.equal(d.countB, 4);
  assert.deepEqual(d.byCoroutine, [{ coroutine: 'handler (service.py)', a: 1, b: 3, delta: 2 }]);
});

test('tasks diff: stuck means the same task, pending, at the same line, on the same future', () => {
  const a = [
    task(1, 'same', [['handler', 10], ['fetch', 20]]),
    task(2, 'moved-on', [['handler', 10], ['fetch', 20]]),
    task(3, 'new-future', [['handler', 10], ['fetch', 20]]),
    task(4, 'finished-since', [['handler', 10], ['fetch', 20]]),
    task(5, 'also-same', [['handler', 10], ['fetch', 20]]),
  ];
  const b = [
    task(1, 'same', [['handler', 10], ['fetch', 20]]),
    task(2, 'moved-on', [['handler', 10], ['fetch', 22]]),
    task(3, 'new-future', [['handler', 10], ['fetch', 20]], 0x901),
    task(4, 'finished-since', [], 0, 'finished'),
    task(5, 'also-same', [['handler', 10], ['fetch', 20]]),
    task(6, 'not-in-a', [['handler', 10], ['fetch', 20]]),
  ];
  const d = diffTasks(a, b)!;
  assert.deepEqual(d.stuck, [{ where: 'service.py:20 in fetch', waitsOn: 'a future', names: ['same', 'also-same'] }]);
});

test('tasks diff: none unless both dumps have their tasks read', () => {
  assert.equal(diffTasks(null, []), null);
  assert.equal(diffTasks([], null), null);
  assert.deepEqual(diffTasks([], []), { countA: 0, countB: 0, byCoroutine: [], stuck: [] });
});
