// Lists and counts as a sentence says them; shared by the verdict and the thread groups.

/** "a", "a and b", "a, b and c"; past MOST items, "a, b, c, d, e and 3 more". */
export function andList(items: string[], most = 6): string {
  if (items.length > most) return `${items.slice(0, most - 1).join(', ')} and ${items.length - most + 1} more`;
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;
}

/** "1 thread", "3 threads". */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}
