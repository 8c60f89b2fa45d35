// The memory findings that need no core: what the uncollectable finding says about gc.garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryFindings } from '../../src/memory/findings.js';
import type { MemoryReport } from '../../src/model/types.js';

function report(gc: MemoryReport['gc']): MemoryReport {
  return {
    allocator: 'unknown', writableBytes: 0, breakdown: [], glibc: null, pymalloc: null, gc, native: null, cycles: null,
    stacks: { threads: 1, bytes: 0 },
    mappings: { total: 0, fileBacked: 0, anonymousWritable: 0, notWritable: 0, threadStacks: 0, pymallocArenas: 0, glibcHeaps: 0, dumped: 0 },
  };
}

const state = { enabled: false, collecting: false, thresholds: [700, 10, 10], counts: [0, 0, 0] };

test('uncollectable: names the classes in gc.garbage (2.7: objects with __del__ in a cycle), most first', () => {
  const [f] = memoryFindings(report({ ...state, garbage: 2003, garbageTypes: [{ type: 'Leaky', module: '__main__', count: 2000 }, { type: 'dict', module: null, count: 3 }] }));
  assert.equal(f?.kind, 'uncollectable');
  assert.deepEqual(f.evidence.slice(0, 3), ['len(gc.garbage) == 2003', '2,000 __main__.Leaky in gc.garbage', '3 dict in gc.garbage']);
  assert.match(f.detail, /__del__/);
});

test('uncollectable: a report stored before the types were kept still reads', () => {
  const [f] = memoryFindings(report({ ...state, garbage: 5 }));
  assert.deepEqual(f?.evidence, ['len(gc.garbage) == 5', 'collector disabled, thresholds 700/10/10']);
  assert.deepEqual(memoryFindings(report({ ...state, garbage: 0, garbageTypes: [] })), []);
});
