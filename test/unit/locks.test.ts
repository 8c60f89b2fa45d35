// Lock findings on hand-made threads: holders from with blocks, a Condition's released lock and
// its waiter, the fallback inference from locals, cycles while other threads run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holderOf, lockFindings, locksHeldBy } from '../../src/threads/locks.js';
import type { HeldLock, LockWait, Thread, ThreadState } from '../../src/model/types.js';

const LOCK_A = 0x7f0000001000;
const LOCK_B = 0x7f0000002000;
const COND = 0x7f0000003000;

function thread(tid: number, name: string, state: ThreadState, waitsOn: Partial<LockWait> | null, heldLocks: HeldLock[] = [],
  locals: { name: string; repr: string }[] = []): Thread {
  return {
    tid, name, ident: tid * 16, threadObject: null, state, stateDetail: state, holdsGil: state === 'running',
    pythonFrames: [
      { function: 'inner', file: '/app/work.py', line: 20, nativeIndex: 0, isEntry: true, locals: locals.map((l) => ({ ...l, kind: 'local' })) },
      { function: 'outer', file: '/app/work.py', line: 10, nativeIndex: 1, isEntry: true, locals: [] },
    ],
    nativeFrames: [],
    waitsOn: waitsOn && { kind: 'lock', address: 0, ownerIdent: null, count: null, condition: null, ...waitsOn },
    heldLocks,
  };
}

const held = (address: number, frame = 1, extra: Partial<HeldLock> = {}): HeldLock => ({ address, kind: 'lock', frame, condition: null, released: false, ...extra });

test('a two-thread lock-order cycle through with blocks is a certain deadlock while another thread runs', () => {
  const one = thread(1, 'one', 'waiting-lock', { address: LOCK_B }, [held(LOCK_A)]);
  const two = thread(2, 'two', 'waiting-lock', { address: LOCK_A }, [held(LOCK_B)]);
  const main = thread(3, 'MainThread', 'running', null);
  const findings = lockFindings([main, one, two]);
  assert.deepEqual(findings.map((f) => f.kind), ['deadlock']);
  assert.match(findings[0]!.title, /one, two wait for each other/);
  assert.ok(!/likely|inferred/.test(findings[0]!.detail), findings[0]!.detail);
  assert.match(findings[0]!.evidence[0]!, /held by two \(LWP 2\) \(holds it in a with block at work\.py:10 in outer\)/);
  const h = holderOf(one, [main, one, two])!;
  assert.equal(h.holder, two);
  assert.equal(h.certain, true);
  assert.deepEqual(locksHeldBy(one, [main, one, two]).map((x) => [x.address, x.wantedBy.map((t) => t.name)]), [[LOCK_A, ['two']]]);
});

test('a lock held through a Condition names the holder; a released one (Condition.wait) does not', () => {
  const holder = thread(1, 'holder', 'sleeping', null, [held(LOCK_A, 1, { condition: COND })]);
  const waiter = thread(2, 'waiter', 'waiting-lock', { address: LOCK_A });
  assert.match(holderOf(waiter, [holder, waiter])!.how, /through Condition 0x7f0000003000/);
  const gaveUp = thread(1, 'gave-up', 'waiting-lock', { address: LOCK_B, condition: COND }, [held(LOCK_A, 1, { condition: COND, released: true })]);
  assert.equal(holderOf(waiter, [gaveUp, waiter]), null);
  // The Condition's own waiter: released by a notify, nobody holds it.
  assert.equal(holderOf(gaveUp, [gaveUp, waiter]), null);
  const [f] = lockFindings([gaveUp, waiter, thread(3, 'main', 'sleeping', null)]);
  assert.equal(f?.kind, 'lock-wait');
  assert.ok(f.evidence.some((e) => /gave-up .* waits on Condition 0x7f0000003000 .* to be notified/.test(e)), f.evidence.join('\n'));
  assert.match(f.detail, /can still run and release or notify/);
});

test('without a with block, a Lock referenced by another thread\'s frame is its likely holder', () => {
  const one = thread(1, 'one', 'waiting-lock', { address: LOCK_B }, [], [{ name: 'mine', repr: `<unlocked _thread.lock object at 0x${LOCK_A.toString(16)}>` }]);
  const two = thread(2, 'two', 'waiting-lock', { address: LOCK_A }, [], [{ name: 'mine', repr: `<locked _thread.lock object at 0x${LOCK_B.toString(16)}>` }]);
  const h = holderOf(one, [one, two])!;
  assert.equal(h.certain, false);
  assert.match(h.how, /^likely: /);
  const [f] = lockFindings([one, two, thread(3, 'main', 'running', null)]);
  assert.equal(f?.kind, 'deadlock');
  assert.match(f.detail, /inferred/);
});

test('a thread waiting on a Lock its own with block holds is a deadlock of its own', () => {
  const self = thread(1, 'again', 'waiting-lock', { address: LOCK_A }, [held(LOCK_A)]);
  const [f] = lockFindings([self, thread(2, 'main', 'running', null)]);
  assert.equal(f?.kind, 'deadlock');
  assert.match(f.title, /again waits for a lock it holds itself/);
});

test('an RLock held in a with block and recorded as owned says both', () => {
  const owner = thread(1, 'owner', 'sleeping', null, [held(LOCK_A, 1, { kind: 'rlock' })]);
  const waiter = thread(2, 'waiter', 'waiting-lock', { kind: 'rlock', address: LOCK_A, ownerIdent: 16, count: 2 });
  assert.match(holderOf(waiter, [owner, waiter])!.how, /with block .*; owner recorded in the RLock \(count 2\)/);
  // Owned without a with block (rlock.acquire()): still known, and listed among what the owner holds.
  const bare = thread(1, 'owner', 'sleeping', null);
  assert.equal(holderOf(waiter, [bare, waiter])!.how, 'owner recorded in the RLock (count 2)');
  assert.deepEqual(locksHeldBy(bare, [bare, waiter]).map((h) => [h.address, h.frame, h.wantedBy.map((t) => t.name)]), [[LOCK_A, null, ['waiter']]]);
});
