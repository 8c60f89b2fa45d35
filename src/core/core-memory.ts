// The process's memory as the core holds it: virtual addresses mapped to file offsets through
// the PT_LOAD program headers. Pages a core leaves out (read-only file-backed text and data that
// gcore and the kernel skip) are read from the mapped files the NT_FILE note names, when present.
// Reads are positioned reads of whole ranges: a core is never loaded into memory.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ElfCore, Segment } from './core-file.js';
import type { MappedFile } from '../model/types.js';

interface Source {
  start: number;
  end: number;
  fd: number;
  /** File offset of `start`. */
  offset: number;
}

/**
 * A file the core names, opened for reading only if it is a regular file: a FIFO's open would
 * block, a device's may do anything. Checked again on the open descriptor, against a swap.
 */
function openRegularFile(path: string): number | null {
  try {
    if (!statSync(path).isFile()) return null;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    if (fstatSync(fd).isFile()) return fd;
    closeSync(fd);
  } catch {
    // not on this machine, or not readable: those pages stay unknown
  }
  return null;
}

export class CoreMemory {
  private readonly sources: Source[] = [];
  private readonly fds: number[] = [];

  constructor(core: ElfCore, opts: { sysroot?: string } = {}) {
    const coreFd = openSync(core.path, 'r');
    this.fds.push(coreFd);
    for (const seg of core.segments) {
      if (seg.filesz > 0) this.sources.push({ start: seg.vaddr, end: seg.vaddr + seg.filesz, fd: coreFd, offset: seg.offset });
    }
    const opened = new Map<string, number | null>();
    for (const m of core.mappedFiles) {
      for (const gap of gapsIn(m, core.segments)) {
        const path = opts.sysroot ? join(opts.sysroot, m.path) : m.path;
        if (!opened.has(path)) opened.set(path, openRegularFile(path));
        const fd = opened.get(path);
        if (fd == null) continue;
        this.sources.push({ start: gap.start, end: gap.end, fd, offset: m.fileOffset + (gap.start - m.start) });
      }
    }
    for (const fd of opened.values()) if (fd !== null && fd !== undefined) this.fds.push(fd);
    this.sources.sort((a, b) => a.start - b.start);
  }

  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }

  private find(addr: number): Source | undefined {
    let lo = 0;
    let hi = this.sources.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.sources[mid]!;
      if (addr < s.start) hi = mid - 1;
      else if (addr >= s.end) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** `length` bytes at `addr` into `into` (or a new buffer); null when any of it is not in the core. */
  read(addr: number, length: number, into?: Buffer): Buffer | null {
    const out = into ?? Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const at = addr + done;
      const src = this.find(at);
      if (!src) return null;
      const n = Math.min(length - done, src.end - at);
      const got = readSync(src.fd, out, done, n, src.offset + (at - src.start));
      if (got !== n) return null;
      done += n;
    }
    return out;
  }

  /**
   * Up to `max` bytes from `addr` into `into`, as many as are readable in one run from there;
   * returns how many (0 when addr itself is not in the core).
   */
  readUpTo(addr: number, max: number, into: Buffer): number {
    let done = 0;
    while (done < max) {
      const at = addr + done;
      const src = this.find(at);
      if (!src) break;
      const n = Math.min(max - done, src.end - at);
      const got = readSync(src.fd, into, done, n, src.offset + (at - src.start));
      done += got;
      if (got !== n) break;
    }
    return done;
  }

  readU64(addr: number): number | null {
    const b = this.read(addr, 8);
    return b === null ? null : Number(b.readBigUInt64LE(0));
  }

  /** Whether `addr` is backed by the core or a mapped file. */
  has(addr: number): boolean {
    return this.find(addr) !== undefined;
  }
}

/** The parts of a file mapping that no PT_LOAD segment of the core holds bytes for. */
function gapsIn(m: MappedFile, segments: Segment[]): { start: number; end: number }[] {
  const covered = segments
    .filter((s) => s.filesz > 0 && s.vaddr < m.end && s.vaddr + s.filesz > m.start)
    .map((s) => ({ start: Math.max(s.vaddr, m.start), end: Math.min(s.vaddr + s.filesz, m.end) }))
    .sort((a, b) => a.start - b.start);
  const gaps: { start: number; end: number }[] = [];
  let at = m.start;
  for (const c of covered) {
    if (c.start > at) gaps.push({ start: at, end: c.start });
    at = Math.max(at, c.end);
  }
  if (at < m.end) gaps.push({ start: at, end: m.end });
  return gaps;
}
