// Who points at a chunk of native memory: the process's writable memory searched for the chunk's
// address, each hit named by where it lies (a thread's stack, a malloc chunk, a pymalloc arena, a
// library's data). No hit at all says something too: the memory is leaked, or only an encoded
// value (a Python int holding the address, say) refers to it.
import { basename } from 'node:path';
import type { ElfCore } from '../core/core-file.js';
import type { CoreMemory } from '../core/core-memory.js';
import { hi32, lo32 } from '../base/words.js';

const WINDOW = 4 << 20;
const PF_W = 2;
const MAX_HITS = 3;

export interface Region {
  start: number;
  end: number;
  what: string;
}

/** For each target address, up to three places in writable memory that hold it. */
export function findPointers(memory: CoreMemory, core: ElfCore, targets: number[], where: (addr: number) => string): Map<number, string[]> {
  const hits = new Map<number, string[]>(targets.map((t) => [t, []]));
  const lo = new Map<number, number[]>();
  for (const t of targets) lo.set(lo32(t), [...(lo.get(lo32(t)) ?? []), t]);
  const buf = Buffer.allocUnsafe(WINDOW);
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, WINDOW >>> 2);
  for (const seg of core.segments) {
    if (!(seg.flags & PF_W) || seg.filesz === 0) continue;
    for (let at = seg.vaddr; at < seg.vaddr + seg.filesz; at += WINDOW) {
      const got = memory.readUpTo(at, Math.min(WINDOW, seg.vaddr + seg.filesz - at), buf);
      for (let i = 0; i + 1 < got >>> 2; i += 2) {
        const candidates = lo.get(u32[i]!);
        if (!candidates) continue;
        for (const t of candidates) {
          const list = hits.get(t)!;
          if (hi32(t) === u32[i + 1] && list.length < MAX_HITS) list.push(where(at + i * 4));
        }
      }
      if (got === 0) break;
    }
  }
  return hits;
}

/** A namer of addresses from what is known of the process: stacks, arenas, heaps, mapped files. */
export function addressNamer(core: ElfCore, regions: Region[], chunkOf: (addr: number) => string | null): (addr: number) => string {
  return (addr) => {
    const hex = `0x${addr.toString(16)}`;
    const chunk = chunkOf(addr);
    if (chunk) return `${hex}, inside ${chunk}`;
    const region = regions.find((r) => r.start <= addr && addr < r.end);
    if (region) return `${hex}, in ${region.what}`;
    const file = core.mappedFiles.find((m) => m.start <= addr && addr < m.end);
    if (file) return `${hex}, in the data of ${basename(file.path)}`;
    // A library's .bss follows its last file-backed mapping, as anonymous memory of its own.
    const seg = core.segments.find((s) => s.vaddr <= addr && addr < s.vaddr + s.memsz);
    const owner = seg && core.mappedFiles.find((m) => m.end === seg.vaddr);
    if (owner) return `${hex}, in the zero-initialised data (.bss) of ${basename(owner.path)}`;
    return `${hex}, in anonymous memory`;
  };
}
