// 64-bit words as JavaScript numbers. Addresses and sizes in a core fit in 53 bits, so a double
// holds them exactly; a Uint32Array view reads a word as two halves without a BigInt per read.

export const TWO32 = 4294967296;

/** The low and high 32 bits of a number below 2^53. */
export const lo32 = (x: number): number => x % TWO32;
export const hi32 = (x: number): number => Math.floor(x / TWO32);

/** The little-endian 64-bit word at byte offset `off` (4-aligned) of a 32-bit view. */
export function u64At(u32: Uint32Array, off: number): number {
  const i = off >>> 2;
  return u32[i + 1]! * TWO32 + u32[i]!;
}

/** The same word read as signed (ob_size, Py_ssize_t fields). */
export function i64At(u32: Uint32Array, off: number): number {
  const i = off >>> 2;
  const hi = u32[i + 1]!;
  const lo = u32[i]!;
  return hi >= 0x80000000 ? (hi - TWO32) * TWO32 + lo : hi * TWO32 + lo;
}

/** x ^ y for numbers below 2^53. */
export function xor64(x: number, y: number): number {
  return ((hi32(x) ^ hi32(y)) >>> 0) * TWO32 + ((lo32(x) ^ lo32(y)) >>> 0);
}
