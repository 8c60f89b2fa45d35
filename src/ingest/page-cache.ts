// Random reads of 8-byte words from the core through a direct-mapped cache of 16 KiB pages:
// following pointers object to object (as the collector does) touches the same pages again and
// again, and one positioned read per word would cost a system call each.
import type { CoreMemory } from './core-memory.js';

const PAGE = 16384;
const SLOTS = 4096; // 64 MiB at most
const TWO32 = 4294967296;

export class PageCache {
  private readonly pageOf = new Float64Array(SLOTS).fill(-1);
  private readonly words: (Uint32Array | null)[] = new Array(SLOTS).fill(null);

  constructor(private readonly memory: CoreMemory) {}

  /** The 32-bit words of the page holding addr (loaded if needed), or null. */
  private pageWords(addr: number): Uint32Array | null {
    const page = Math.floor(addr / PAGE);
    const slot = page % SLOTS;
    let words = this.words[slot]!;
    if (this.pageOf[slot] !== page) {
      if (!words) {
        words = new Uint32Array(PAGE >>> 2);
        this.words[slot] = words;
      }
      const into = Buffer.from(words.buffer, words.byteOffset, PAGE);
      if (this.memory.readUpTo(page * PAGE, PAGE, into) < PAGE) {
        this.pageOf[slot] = -1;
        return null;
      }
      this.pageOf[slot] = page;
    }
    return words;
  }

  /** The word at an 8-aligned address, or -1 when the core does not have it. */
  u64(addr: number): number {
    const words = this.pageWords(addr);
    if (!words) return -1;
    const i = (addr % PAGE) >>> 2;
    return words[i + 1]! * TWO32 + words[i]!;
  }

  /** A signed 8-byte word (ob_size, Py_ssize_t fields). */
  i64(addr: number): number {
    const v = this.u64(addr);
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  /** One byte, or -1. */
  u8(addr: number): number {
    const words = this.pageWords(addr);
    if (!words) return -1;
    const off = addr % PAGE;
    return (words[off >>> 2]! >>> ((off % 4) * 8)) & 0xff;
  }
}
