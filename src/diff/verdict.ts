// The verdict of a series: did the process grow from its first dump to its last, by how much, in
// how long, and which type grew the most. The words of a dump's verdict (memory/verdict.ts).
import { humanBytes, signed, typeName } from '../base/units.js';
import type { Dump } from '../model/types.js';
import { say, type Verdict } from '../memory/verdict.js';
import { diffDumps } from './diff.js';

/** Growth below this is noise of a live process: its allocator's top chunk, a new thread's stack. */
const MiB = 1 << 20;
export const GROWTH_FLOOR = MiB;
export const GROWTH_RATIO = 0.05;

/** "3 s", "4 min", "2.5 h", "3 days". */
export function span(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} days`;
}

const total = (d: Dump): number => d.memory?.writableBytes ?? d.censusStats?.bytes ?? 0;

/** DUMPS in the order they were taken (a series). */
export function seriesVerdict(dumps: Dump[]): Verdict {
  const first = dumps[0]!;
  const last = dumps.at(-1)!;
  const a = total(first);
  const b = total(last);
  const over = `over ${dumps.length} dump${dumps.length === 1 ? '' : 's'} in ${span(Date.parse(last.core.takenAt) - Date.parse(first.core.takenAt))}`;
  if (dumps.length < 2 || b - a < Math.max(GROWTH_FLOOR, GROWTH_RATIO * a)) {
    return say('steady', `${humanBytes(a)} → ${humanBytes(b)} ${over}`);
  }
  // The program's own classes say more than the ints and strs inside them: the first that grew, else the top type.
  const grown = diffDumps(first, last).types.filter((t) => t.bytesDelta > 0 && t.countDelta > 0);
  const top = grown.find((t) => t.module !== null && t.module !== 'builtins') ?? grown[0];
  const most = top ? `; among them ${signed(top.countDelta)} ${typeName(top)} (${signed(top.bytesDelta, humanBytes)}) since dump #${first.id}` : '';
  return say('growing', `${signed(b - a, humanBytes)} (${humanBytes(a)} → ${humanBytes(b)}) ${over}${most}`);
}
