// Random reads of 8-byte words from the core through a direct-mapped cache of 16 KiB pages:
// following pointers object to object (as the collector does) touches the same pages again and
// again, and one positioned read per word would cost a system call each. What the core holds is
// known per 4 KiB (the granularity of mappings): a cached page may be partly readable, as at the
// start of an mmapped chunk, and a word is only given where the core has it.
import type { CoreMemory } from './core-memory.js';

const PAGE = 16384;
const SUB = 4096;
const SLOTS = 4096; // 64 MiB at most
const TWO32 = 4294967296;

export class PageCache {
  private readonly pageOf = new Float64Array(SLOTS).fill(-1);
  private readonly words: (Uint32Array | null)[] = new Array(SLOTS).fill(null);
  /** Bit s: the core holds bytes [s * SUB, (s + 1) * SUB) of the slot's page. */
  private readonly held = new Uint32Array(SLOTS);
  private lastPage = -1;
  private lastWords: Uint32Array | null = null;
  private lastHeld = 0;

  constructor(private readonly memory: CoreMemory) {}

  /** The 32-bit words of the page holding addr (loaded if needed), or null when the core lacks addr. */
  private pageWords(addr: number): Uint32Array | null {
    const page = Math.floor(addr / PAGE);
    const sub = (addr % PAGE) >>> 12;
    // Most reads follow one another within an object or an array: the page of the last one.
    if (page === this.lastPage) return (this.lastHeld >>> sub) & 1 ? this.lastWords : null;
    const slot = page % SLOTS;
    let words = this.words[slot]!;
    if (!words) {
      words = new Uint32Array(PAGE >>> 2);
      this.words[slot] = words;
    }
    if (this.pageOf[slot] !== page) {
      this.held[slot] = this.load(page, words);
      this.pageOf[slot] = page;
    }
    this.lastPage = page;
    this.lastWords = words;
    this.lastHeld = this.held[slot]!;
    return (this.lastHeld >>> sub) & 1 ? words : null;
  }

  /** Reads what the core has of the page; returns which 4 KiB parts it had in full. */
  private load(page: number, words: Uint32Array): number {
    const into = Buffer.from(words.buffer, words.byteOffset, PAGE);
    let held = 0;
    for (let off = 0; off < PAGE; ) {
      const got = this.memory.readUpTo(page * PAGE + off, PAGE - off, into.subarray(off));
      const end = off + got;
      for (let s = Math.ceil(off / SUB); (s + 1) * SUB <= end; s++) held |= 1 << s;
      // Past what was read, or past a 4 KiB it lacks: the core may have more of the page after a gap.
      off = got > 0 ? Math.ceil(end / SUB) * SUB : off + SUB;
    }
    return held;
  }

  /** The word at an 8-aligned address, or -1 when the core does not have it. */
  u64(addr: number): number {
    const words = this.pageWords(addr);
    if (!words) return -1;
    const i = (addr % PAGE) >>> 2;
    return words[i + 1]! * TWO32 + words[i]!;
  }

  /** A signed 8-byte word (ob_size, Py_ssize_t fields), or -1 when the core does not have it. */
  i64(addr: number): number {
    // From the signed high half: through u64, -1 (2^64 - 1) rounds to 2^64 and came back as 0.
    const words = this.pageWords(addr);
    if (!words) return -1;
    const i = (addr % PAGE) >>> 2;
    return (words[i + 1]! | 0) * TWO32 + words[i]!;
  }

  /** One byte, or -1. */
  u8(addr: number): number {
    const words = this.pageWords(addr);
    if (!words) return -1;
    const off = addr % PAGE;
    return (words[off >>> 2]! >>> ((off % 4) * 8)) & 0xff;
  }
}
