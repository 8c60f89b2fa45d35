// What the series pages and the diff pages show: a process over time as charts, and what changed
// between two of its dumps.
import type { DumpDiff } from '../diff/diff.js';
import { seriesVerdict } from '../diff/verdict.js';
import type { Verdict } from '../memory/verdict.js';
import type { Holding } from '../diff/holders.js';
import { BREAKDOWN_LABELS } from '../format/text.js';
import { humanBytes, signed, typeName } from '../base/units.js';
import type { Dump } from '../model/types.js';
import type { Series } from '../store/series.js';
import { lineChart, type ChartView } from './charts.js';
import { displayTime } from './templates.js';

export interface DiffLink {
  page: string;
  label: string;
}

export interface SeriesView {
  page: string;
  name: string;
  verdict: Verdict;
  dumps: { id: number; page: string; takenAt: string; threads: number; objects: number; writable: number }[];
  charts: ChartView[];
  diffs: DiffLink[];
}

export const seriesPage = (index: number): string => `series-${index + 1}.html`;
export const diffPage = (a: number, b: number): string => `diff-${a}-${b}.html`;

/** The pairs a series page links to: each consecutive pair, and first → last. */
export function seriesPairs(s: Series): [number, number][] {
  const pairs: [number, number][] = s.dumps.slice(1).map((b, i) => [s.dumps[i]!, b]);
  if (s.dumps.length > 2) pairs.push([s.dumps[0]!, s.dumps.at(-1)!]);
  return pairs;
}

const TOP_TYPES = 5;

export function seriesView(s: Series, index: number, byId: Map<number, Dump>): SeriesView {
  const dumps = s.dumps.map((id) => byId.get(id)!);
  const labels = dumps.map((d) => `#${d.id} ${displayTime(d.core.takenAt).slice(11, 19)}`);
  const kinds = dumps.at(-1)!.memory?.breakdown.map((p) => p.kind) ?? [];
  const memory = lineChart(
    'Memory breakdown',
    labels,
    [
      { name: 'writable (all)', values: dumps.map((d) => d.memory?.writableBytes ?? 0) },
      ...kinds.map((k) => ({ name: BREAKDOWN_LABELS[k], values: dumps.map((d) => d.memory?.breakdown.find((p) => p.kind === k)?.bytes ?? 0) })),
    ],
    'bytes',
  );
  const last = dumps.at(-1)!;
  const topTypes = last.census.slice(0, TOP_TYPES);
  const types = lineChart(
    `Top ${topTypes.length} types by bytes (in the last dump)`,
    labels,
    topTypes.map((t) => ({
      name: typeName(t),
      values: dumps.map((d) => d.census.find((r) => r.type === t.type && r.module === t.module)?.bytes ?? 0),
    })),
    'bytes',
  );
  const threads = lineChart('Threads', labels, [{ name: 'threads', values: dumps.map((d) => d.threads.length) }], 'count');
  return {
    page: seriesPage(index),
    name: s.name,
    verdict: seriesVerdict(dumps),
    dumps: dumps.map((d) => ({
      id: d.id, page: `dump-${d.id}.html`, takenAt: d.core.takenAt, threads: d.threads.length,
      objects: d.censusStats?.objects ?? 0, writable: d.memory?.writableBytes ?? 0,
    })),
    charts: [memory, types, threads],
    diffs: seriesPairs(s).map(([a, b]) => ({ page: diffPage(a, b), label: `#${a} → #${b}${a === s.dumps[0] && b === s.dumps.at(-1) && s.dumps.length > 2 ? ' (first → last)' : ''}` })),
  };
}

export interface DiffView {
  title: string;
  a: { id: number; page: string; takenAt: string };
  b: { id: number; page: string; takenAt: string };
  grew: boolean;
  memory: { label: string; a: string; b: string; delta: string; up: boolean }[];
  types: { name: string; countA: number; countB: number; countDelta: string; bytesA: string; bytesB: string; bytesDelta: string; bytesDeltaRaw: number; change: string; up: boolean }[];
  appeared: string[];
  vanished: string[];
  threadsAppeared: string[];
  threadsVanished: string[];
  findings: Dump['findings'];
  holders: Holding[];
}

const count = (n: number): string => n.toLocaleString('en-US');

export function diffView(d: DumpDiff, holders: Holding[], top = 40): DiffView {
  const label = (k: DumpDiff['memory'][number]['kind']): string =>
    k === 'writable' ? 'writable memory (all)' : k === 'census' ? 'Python objects (census)' : BREAKDOWN_LABELS[k];
  const changed = d.types.filter((t) => t.change !== 'same');
  return {
    title: `Dump #${d.a.id} → #${d.b.id}`,
    a: { id: d.a.id, page: `dump-${d.a.id}.html`, takenAt: d.a.core.takenAt },
    b: { id: d.b.id, page: `dump-${d.b.id}.html`, takenAt: d.b.core.takenAt },
    grew: d.grew,
    memory: d.memory.map((m) => ({ label: label(m.kind), a: humanBytes(m.a), b: humanBytes(m.b), delta: signed(m.delta, humanBytes), up: m.delta > 0 })),
    types: changed.slice(0, top).map((t) => ({
      name: typeName(t), countA: t.countA, countB: t.countB, countDelta: signed(t.countDelta, count),
      bytesA: humanBytes(t.bytesA), bytesB: humanBytes(t.bytesB), bytesDelta: signed(t.bytesDelta, humanBytes), bytesDeltaRaw: t.bytesDelta,
      change: t.change, up: t.bytesDelta > 0,
    })),
    appeared: changed.filter((t) => t.change === 'appeared').map(typeName),
    vanished: changed.filter((t) => t.change === 'vanished').map(typeName),
    threadsAppeared: d.threads.appeared.map((t) => t.name ?? `LWP ${t.tid}`),
    threadsVanished: d.threads.vanished.map((t) => t.name ?? `LWP ${t.tid}`),
    findings: d.findings.new,
    holders,
  };
}
