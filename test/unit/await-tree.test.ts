// Who awaits whom, without a core: a task above the tasks it awaits (directly or through a
// gather), tasks in no await left out, a cycle drawn once from one of its tasks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awaitForest, type AwaitNode } from '../../src/tasks/tree.js';
import type { AsyncTask, AwaitedFuture } from '../../src/model/types.js';
import { task } from './task-fixture.js';

const onTask = (address: number): AwaitedFuture => ({ address, type: '_asyncio.Task', kind: 'task', state: 'pending', taskName: null, children: null });
const gather = (...children: AwaitedFuture[]): AwaitedFuture => ({ address: 0x999, type: '_GatheringFuture', kind: 'gather', state: 'pending', taskName: null, children });
const awaiting = (t: AsyncTask, f: AwaitedFuture): AsyncTask => ({ ...t, waitsOn: f });

/** "a[b c[d]]": a node, its children in brackets; a repeated node ends with *. */
const drawn = (nodes: AwaitNode[]): string =>
  nodes.map((n) => `${n.task.name}${n.repeated ? '*' : ''}${n.children.length ? `[${drawn(n.children)}]` : ''}`).join(' ');

test('await forest: awaiters above the tasks they await, gathers flattened, lone tasks left out, a cycle once', () => {
  const tasks = [
    awaiting(task(1, 'a', [['main', 1]]), onTask(2)),
    task(2, 'b', [['worker', 5]]),
    awaiting(task(3, 'c', [['fan_out', 9]]), gather(onTask(4), gather(onTask(5)))),
    task(4, 'd', [['leaf', 3]]),
    task(5, 'e', [['leaf', 3]]),
    awaiting(task(6, 'f', [['other', 2]]), onTask(7)),
    awaiting(task(7, 'g', [['other', 2]]), onTask(6)),
    task(8, 'h', [['idle', 1]]),
  ];
  assert.equal(drawn(awaitForest(tasks)), 'a[b] c[d e] f[g[f*]]');
});

test('await forest: a task awaited by two tasks is drawn under the first, marked under the second', () => {
  const tasks = [awaiting(task(1, 'x', [['m', 1]]), onTask(3)), awaiting(task(2, 'y', [['m', 1]]), onTask(3)), task(3, 'shared', [['s', 1]])];
  assert.equal(drawn(awaitForest(tasks)), 'x[shared] y[shared*]');
});
