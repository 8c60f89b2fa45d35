// What an allocation of n bytes takes, and whether an object that asked for n bytes can be the one
// in a block the walk found: pymalloc's size classes for small requests, glibc's chunks above.
import { chunkFor } from './glibc.js';

export type BlockAllocator = 'pymalloc' | 'malloc' | 'mmap' | 'static';

/** pymalloc's rounding and threshold (from the heap record); threshold 0: everything goes to malloc. */
export interface SmallRequests {
  alignment: number;
  threshold: number;
}

export const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/** The allocation an out-of-line buffer of n bytes takes: a pymalloc block, or a malloc chunk. */
export function bufferBytes(n: number, small: SmallRequests): number {
  if (n <= 0) return 0;
  return n <= small.threshold ? roundUp(n, small.alignment) : chunkFor(n);
}

/** Whether an object that asked for `request` bytes can be the one in a block of `capacity`. */
export function blockFits(request: number, capacity: number, allocator: BlockAllocator, fixed: boolean, alignment: number): boolean {
  switch (allocator) {
    case 'pymalloc':
      // pymalloc gives the size class of the request; realloc keeps a block while the new size
      // is above three quarters of it.
      return request <= capacity && (capacity === roundUp(request, alignment) || (!fixed && request * 4 > capacity * 3));
    case 'malloc': {
      // capacity is the chunk size; a shrinking realloc keeps a remainder below the minimum chunk size.
      const chunk = chunkFor(request);
      return capacity >= chunk && capacity < chunk + (fixed ? 16 : 48);
    }
    case 'mmap':
      return capacity >= request + 16 && capacity < request + 16 + 8192;
    case 'static':
      return true;
  }
}
