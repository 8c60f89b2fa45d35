// Series: the dumps of one process over time. Dumps belong together when they were given the
// same --series name at ingest, or else come from the same executable, command line and pid.
import type { Db } from './db.js';

export interface Series {
  key: string;
  name: string;
  /** Dump ids ordered by capture time. */
  dumps: number[];
  takenAt: string[];
}

export interface SeriesMember {
  id: number;
  pid: number;
  executable: string | null;
  cmdline: string;
  series: string | null;
  taken_at: string;
}

const keyOf = (r: SeriesMember): string => (r.series !== null ? `series:${r.series}` : `process:${r.pid}:${r.executable ?? ''}:${r.cmdline}`);
const nameOf = (r: SeriesMember): string => r.series ?? `pid ${r.pid} ${r.cmdline || r.executable || ''}`.trim();

export function listSeries(db: Db): Series[] {
  return groupSeries(db.prepare('SELECT id, pid, executable, cmdline, series, taken_at FROM dumps').all() as SeriesMember[]);
}

/** Dumps grouped into series, each ordered by capture time (then id). */
export function groupSeries(members: SeriesMember[]): Series[] {
  const rows = [...members].sort((a, b) => a.taken_at.localeCompare(b.taken_at) || a.id - b.id);
  const byKey = new Map<string, Series>();
  for (const r of rows) {
    const key = keyOf(r);
    let s = byKey.get(key);
    if (!s) {
      s = { key, name: nameOf(r), dumps: [], takenAt: [] };
      byKey.set(key, s);
    }
    s.dumps.push(r.id);
    s.takenAt.push(r.taken_at);
  }
  return [...byKey.values()];
}

/** The series a dump belongs to. */
export function seriesOf(db: Db, id: number): Series | undefined {
  return listSeries(db).find((s) => s.dumps.includes(id));
}
