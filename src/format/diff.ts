// The text and JSON views of `coroner diff`. Strings read from a core go through printable() (p) in the text.
import type { DumpDiff, TypeDelta } from '../diff/diff.js';
import type { GateCheck } from '../diff/gate.js';
import type { Holding } from '../diff/holders.js';
import { BREAKDOWN_LABELS, table } from './text.js';
import { humanBytes, signed, typeName } from '../base/units.js';
import { printable as p } from '../base/printable.js';

/** The relative change from a to b with one decimal: " (+12.5%)", nothing when a is 0. */
const growth = (a: number, b: number): string => (a > 0 ? ` (${signed(Math.round((1000 * (b - a)) / a) / 10)}%)` : '');

function typeTable(rows: TypeDelta[]): string[] {
  const cells = rows.map((t) => [
    p(typeName(t)), t.countA.toLocaleString('en-US'), t.countB.toLocaleString('en-US'), signed(t.countDelta),
    humanBytes(t.bytesA), humanBytes(t.bytesB), signed(t.bytesDelta, humanBytes),
  ]);
  return table(['TYPE', 'COUNT A', 'COUNT B', 'Δ COUNT', 'BYTES A', 'BYTES B', 'Δ BYTES'], cells).split('\n');
}

/** At most this many names per group of stuck tasks. */
const STUCK_NAMES = 3;

function tasksLines(t: DumpDiff['tasks']): string[] {
  if (!t || (t.countA === t.countB && t.byCoroutine.length === 0 && t.stuck.length === 0)) return [];
  const lines = ['', `Tasks: ${t.countA.toLocaleString('en-US')} → ${t.countB.toLocaleString('en-US')} (${signed(t.countB - t.countA)})`];
  for (const c of t.byCoroutine.slice(0, 10)) lines.push(`  ${signed(c.delta).padStart(7)}  ${p(c.coroutine)}: ${c.a.toLocaleString('en-US')} → ${c.b.toLocaleString('en-US')}`);
  if (t.stuck.length) {
    const n = t.stuck.reduce((k, s) => k + s.names.length, 0);
    lines.push(`Stuck at the same await in both dumps: ${n.toLocaleString('en-US')} task${n === 1 ? '' : 's'}`);
    for (const s of t.stuck.slice(0, 10)) {
      const names = s.names.slice(0, STUCK_NAMES).map((x) => `"${p(x)}"`).join(', ') + (s.names.length > STUCK_NAMES ? ` and ${s.names.length - STUCK_NAMES} more` : '');
      lines.push(`  ${s.names.length} at ${p(s.where)}: ${p(s.waitsOn)} (${names})`);
    }
  }
  return lines;
}

export function formatDiff(d: DumpDiff, top: number, holdings: Holding[], gate: GateCheck[]): string {
  const lines = [
    `diff of dump ${d.a.id} → dump ${d.b.id}: ${p(d.a.core.path)} (${d.a.core.takenAt}) → ${p(d.b.core.path)} (${d.b.core.takenAt})`,
    '',
  ];
  if (!d.grew) lines.push('No growth: no type and no part of the memory grew between these dumps.', '');
  const census = d.memory.find((m) => m.kind === 'census')!;
  lines.push(`Python objects (their own blocks): ${humanBytes(census.a)} → ${humanBytes(census.b)}: ${signed(census.delta, humanBytes)}${growth(census.a, census.b)}`);
  const writable = d.memory.find((m) => m.kind === 'writable');
  if (writable) {
    lines.push(`Memory: ${humanBytes(writable.a)} → ${humanBytes(writable.b)} writable: ${signed(writable.delta, humanBytes)}${growth(writable.a, writable.b)}`);
    for (const m of d.memory) {
      if (m.kind === 'writable' || m.kind === 'census') continue;
      lines.push(`  ${BREAKDOWN_LABELS[m.kind].padEnd(26)} ${humanBytes(m.a).padStart(9)} → ${humanBytes(m.b).padStart(9)}  ${signed(m.delta, humanBytes)}`);
    }
  }
  const changed = d.types.filter((t) => t.change !== 'same');
  lines.push('', `Types by growth in bytes (${Math.min(top, changed.length)} of ${changed.length} that changed):`);
  lines.push(...typeTable(changed.slice(0, top)).map((l) => `  ${l}`));
  const appeared = d.types.filter((t) => t.change === 'appeared');
  const vanished = d.types.filter((t) => t.change === 'vanished');
  if (appeared.length) lines.push(`Appeared: ${appeared.slice(0, 20).map((x) => p(typeName(x))).join(', ')}${appeared.length > 20 ? ` and ${appeared.length - 20} more` : ''}`);
  if (vanished.length) lines.push(`Vanished: ${vanished.slice(0, 20).map((x) => p(typeName(x))).join(', ')}${vanished.length > 20 ? ` and ${vanished.length - 20} more` : ''}`);
  if (holdings.length) {
    lines.push('', 'Who holds the growth:');
    for (const h of holdings) lines.push(`  ${p(h.summary)}`, ...h.path.map((step) => `      ${p(step)}`));
  }
  const t = d.threads;
  if (t.appeared.length || t.vanished.length) {
    lines.push('', `Threads: ${t.appeared.length} appeared${t.appeared.length ? ` (${t.appeared.map((x) => p(x.name ?? `LWP ${x.tid}`)).join(', ')})` : ''}, ${t.vanished.length} vanished${t.vanished.length ? ` (${t.vanished.map((x) => p(x.name ?? `LWP ${x.tid}`)).join(', ')})` : ''}`);
  }
  lines.push(...tasksLines(d.tasks));
  if (d.findings.new.length) lines.push('', 'New findings:', ...d.findings.new.map((f) => `  [${f.severity}] ${f.kind}: ${p(f.title)}`));
  if (gate.length) {
    lines.push('', gate.some((g) => g.tripped) ? 'Gate: TRIPPED' : 'Gate: ok');
    for (const g of gate) lines.push(`  ${g.tripped ? 'FAIL' : 'ok  '} ${p(g.spec)}: ${p(g.reason)}`);
  }
  return lines.join('\n');
}

export function diffJson(d: DumpDiff, top: number, holdings: Holding[], gate: GateCheck[]): object {
  const dump = (x: DumpDiff['a']): object => ({ id: x.id, path: x.core.path, pid: x.core.pid, taken_at: x.core.takenAt });
  return {
    a: dump(d.a),
    b: dump(d.b),
    grew: d.grew,
    types: d.types.filter((t) => t.change !== 'same').slice(0, top).map((t) => ({
      type: t.type, module: t.module, count_a: t.countA, count_b: t.countB, count_delta: t.countDelta,
      bytes_a: t.bytesA, bytes_b: t.bytesB, bytes_delta: t.bytesDelta, change: t.change,
    })),
    memory: Object.fromEntries(d.memory.map((m) => [m.kind, { a: m.a, b: m.b, delta: m.delta }])),
    threads: d.threads,
    findings: d.findings.new.map((f) => ({ kind: f.kind, severity: f.severity, title: f.title, detail: f.detail, evidence: f.evidence, remedy: f.remedy })),
    holders: holdings,
    tasks: d.tasks && { count_a: d.tasks.countA, count_b: d.tasks.countB, by_coroutine: d.tasks.byCoroutine, stuck: d.tasks.stuck.map((s) => ({ where: s.where, waits_on: s.waitsOn, names: s.names })) },
    gate: { tripped: gate.some((g) => g.tripped), checks: gate },
  };
}
