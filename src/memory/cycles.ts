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
  const { n, first, edges, gcRefs, tracked, types } = g;
  const alive = new Uint8Array(n);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    if (gcRefs[i]! > 0) {
      alive[i] = 1;
      stack.push(i);
    }
  }
  while (stack.length) {
    const i = stack.pop()!;
    for (let e = first[i]!; e < first[i + 1]!; e++) {
      const j = edges[e]!;
      if (!alive[j]) {
        alive[j] = 1;
        stack.push(j);
      }
    }
  }
  const count = new Float64Array(types.length);
  const bytes = new Float64Array(types.length);
  let objects = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (alive[i]) continue;
    const ti = tracked.type[i]!;
    count[ti]!++;
    bytes[ti]! += tracked.bytes[i]!;
    objects++;
    total += tracked.bytes[i]!;
  }
  const byType: CycleReport['byType'] = [];
  for (let ti = 0; ti < types.length; ti++) {
    if (count[ti]) byType.push({ type: types.names[ti]!, module: types.modules[ti]!, count: count[ti]!, bytes: bytes[ti]! });
  }
  byType.sort((a, b) => b.bytes - a.bytes || b.count - a.count);
  return { tracked: n, objects, bytes: total, byType };
}
