// Line charts as inline SVG view models: the template draws what this computes (coordinates,
// ticks, labels), so no chart library and no script is needed, and every label stays escaped.
import { humanBytes } from '../base/units.js';

export interface ChartLine {
  name: string;
  values: number[];
}

export interface ChartView {
  title: string;
  width: number;
  height: number;
  lines: { name: string; color: string; polyline: string; points: { x: number; y: number; label: string }[] }[];
  yTicks: { y: number; label: string }[];
  xTicks: { x: number; label: string }[];
  plot: { left: number; top: number; right: number; bottom: number };
}

const COLORS = ['#2563eb', '#dc2626', '#d97706', '#059669', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];
const W = 640;
const H = 240;
const PAD = { left: 72, right: 16, top: 12, bottom: 40 };

export function lineChart(title: string, xLabels: string[], lines: ChartLine[], unit: 'bytes' | 'count'): ChartView {
  const fmt = unit === 'bytes' ? humanBytes : (n: number) => Math.round(n).toLocaleString('en-US');
  const top = Math.max(...lines.flatMap((l) => l.values), 0);
  // Counts get whole-number ticks: a scale of at least 4 split in quarters.
  const max = unit === 'count' ? Math.max(4, Math.ceil(top / 4) * 4) : Math.max(1, top);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const n = xLabels.length;
  const x = (i: number): number => PAD.left + (n === 1 ? plotW / 2 : (plotW * i) / (n - 1));
  const y = (v: number): number => PAD.top + plotH - (plotH * v) / max;
  const round = (v: number): number => Math.round(v * 10) / 10;
  return {
    title,
    width: W,
    height: H,
    plot: { left: PAD.left, top: PAD.top, right: W - PAD.right, bottom: H - PAD.bottom },
    lines: lines.map((l, k) => {
      const points = l.values.map((v, i) => ({ x: round(x(i)), y: round(y(v)), label: `${l.name} at ${xLabels[i]}: ${fmt(v)}` }));
      return { name: l.name, color: COLORS[k % COLORS.length]!, polyline: points.map((p) => `${p.x},${p.y}`).join(' '), points };
    }),
    yTicks: [0, 0.25, 0.5, 0.75, 1].map((f) => ({ y: round(y(max * f)), label: fmt(max * f) })),
    xTicks: xLabels.map((label, i) => ({ x: round(x(i)), label })),
  };
}
