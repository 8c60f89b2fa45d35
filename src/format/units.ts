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
