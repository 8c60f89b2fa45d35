// A str object's text, read through random access: what dict keys, attribute and module names
// are (3.x: PEP 393's compact forms; 2.7: byte strings).
import type { RawHeap } from '../model/raw.js';
import type { WordReader } from '../core/page-cache.js';
import { lo32 } from '../base/words.js';

/** The text of the str at `addr`, at most `limit` characters, or null when it is not a compact str. */
export function strValue(mem: WordReader, heap: RawHeap, addr: number, limit = 200): string | null {
  const s = heap.str;
  if (s.format === 'py2') {
    // 2.7's names and keys are byte strings.
    const length = mem.i64(addr + heap.object.size);
    if (length < 0) return null;
    let out = '';
    for (let i = 0; i < Math.min(length, limit); i++) out += String.fromCharCode(Math.max(0, mem.u8(addr + s.bytes_data + i)));
    return out;
  }
  const word = mem.u64(addr + s.state);
  if (word < 0) return null;
  const state = lo32(word);
  if (!((state >>> s.compact[0]) & 1)) return null;
  const ascii = (state >>> s.ascii[0]) & 1;
  const kind = (state >>> s.kind[0]) & ((1 << s.kind[1]) - 1);
  const length = Math.min(mem.i64(addr + s.length), limit);
  const data = addr + (ascii ? s.ascii_size : s.compact_size);
  let out = '';
  for (let i = 0; i < length; i++) {
    let code = 0;
    for (let b = kind - 1; b >= 0; b--) code = code * 256 + mem.u8(data + i * kind + b);
    out += String.fromCodePoint(code);
  }
  return out;
}
