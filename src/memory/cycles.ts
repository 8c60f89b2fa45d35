// Cyclic garbage, found the way CPython's collector finds it: what is referenced from outside
// the tracked objects is alive, and so is everything reachable from it; the rest is garbage held
// only by reference cycles.
import type { ObjectGraph } from './graph.js';

export interface CycleReport {
  /** Tracked objects the walk saw. */
  tracked: number;
  objects: number;
  bytes: number;
  byType: { type: string; module: string | null; count: number; bytes: number }[];
}

export function cyclicGarbage(g: ObjectGraph): CycleReport {
  const { n, gcRefs, types } = g;
  const alive = new Uint8Array(n);
  // Each node is pushed once at most: a stack of n entries is enough.
  const stack = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) {
    if (gcRefs[i]! > 0) {
      alive[i] = 1;
      stack[top++] = i;
    }
  }
  const reach = (j: number): void => {
    if (!alive[j]) {
      alive[j] = 1;
      stack[top++] = j;
    }
  };
  while (top > 0) g.forEachReferent(stack[--top]!, reach);
  const count = new Float64Array(types.length);
  const bytes = new Float64Array(types.length);
  let objects = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (alive[i]) continue;
    const ti = g.type[i]!;
    const b = g.bytes(i);
    count[ti]!++;
    bytes[ti]! += b;
    objects++;
    total += b;
  }
  const byType: CycleReport['byType'] = [];
  for (let ti = 0; ti < types.length; ti++) {
    if (count[ti]) byType.push({ type: types.names[ti]!, module: types.modules[ti]!, count: count[ti]!, bytes: bytes[ti]! });
  }
  byType.sort((a, b) => b.bytes - a.bytes || b.count - a.count);
  return { tracked: n, objects, bytes: total, byType };
}
