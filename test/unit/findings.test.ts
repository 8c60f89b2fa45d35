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

test('memory-corrupt: said first with where, and the findings read from the damaged heap are not critical', () => {
  const glibc: MemoryReport['glibc'] = {
    arenas: [{ address: 0x7f0000000000, main: true, systemMem: 512 << 20, fastCount: 0, fastSize: 0, restCount: 10, restSize: 400 << 20, topSize: 0, inUseBytes: 112 << 20 }],
    totals: { fastCount: 0, fastSize: 0, restCount: 10, restSize: 400 << 20, mmapCount: 0, mmapSize: 0, systemCurrent: 512 << 20, inUseBytes: 112 << 20, trimmableBytes: 0 },
    tcache: { count: 0, bytes: 0 },
  };
  const m: MemoryReport = { ...report(null), allocator: 'glibc', glibc, breakdown: [{ kind: 'malloc-free', bytes: 400 << 20, detail: '' }] };
  const healthy = memoryFindings(m);
  assert.deepEqual(healthy.map((f) => [f.kind, f.severity]), [['allocator-fragmentation', 'critical']]);
  const damage = Array.from({ length: 12 }, (_, i) => `glibc free lists: arena 0x7f0000000000: bin ${i + 1} is corrupt at 0x10 (a misaligned link); counted up to there (0 chunks)`);
  const found = memoryFindings({ ...m, damage });
  assert.deepEqual(found.map((f) => [f.kind, f.severity]), [['memory-corrupt', 'warning'], ['allocator-fragmentation', 'warning']]);
  assert.equal(found[0]!.title, 'The heap is damaged: 12 allocator structures cannot be what they say');
  assert.deepEqual(found[0]!.evidence.slice(-2), [damage[9], 'and 2 more']);
  assert.match(found[1]!.detail, /Computed from a damaged heap: see memory-corrupt/);
});
