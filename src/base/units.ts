// Numbers as people read them; shared by the text view and the HTML report.

export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function hexAddr(n: number): string {
  return `0x${n.toString(16)}`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 12);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const SIZE_FACTORS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 };

/**
 * A size as people write it: "8G", "500M", "1.5GB", "64KiB", "1024". Decimal like humanBytes, so
 * that a limit given as 8G is printed back as 8.0 GB; the "i" forms are binary. null if unreadable.
 */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$/i.exec(text);
  if (!m) return null;
  return Math.floor(Number(m[1]) * SIZE_FACTORS[(m[2] ?? '').toLowerCase()]!);
}

/** A change with its sign: "+1,234", "-5.0 MB", "±0 B". */
export function signed(n: number, unit: (n: number) => string = (x) => x.toLocaleString('en-US')): string {
  return `${n > 0 ? '+' : n < 0 ? '-' : '±'}${unit(Math.abs(n))}`;
}

/** part of whole as a whole percentage: "61%". */
export function percent(part: number, whole: number): string {
  return `${whole > 0 ? Math.round((100 * part) / whole) : 0}%`;
}

/** A type as people name it: module.Name for classes, the bare name for builtins. */
export function typeName(t: { type: string; module: string | null }): string {
  return t.module ? `${t.module}.${t.type}` : t.type;
}
