// `coroner diff A B` (what grew, who holds it, the CI gate) and `coroner series`.
import { diffDumps, type DumpDiff } from '../diff/diff.js';
import { applyGate, parseLimits, type GateCheck } from '../diff/gate.js';
import { holdersOfGrowth, type Holding } from '../diff/holders.js';
import { diffJson, formatDiff } from '../format/diff.js';
import { withDb } from '../store/db.js';
import { loadDump, loadHeapLayout, resolveDumpRef } from '../store/dumps.js';
import { listSeries } from '../store/series.js';
import { EXIT_OK, EXIT_TRIPPED } from './exit.js';
import { printable } from '../base/printable.js';
import { CoronerError } from '../base/errors.js';
import { seriesVerdict } from '../diff/verdict.js';
import { forTerminal } from '../format/terminal.js';

export interface DiffResult {
  diff: DumpDiff;
  holdings: Holding[];
  gate: GateCheck[];
  notes: string[];
}

/** The diff of two stored dumps, with holders found in the later core when it is still on disk. */
export async function diffStored(db: string, refA: string, refB: string, limits: string[], holders: boolean): Promise<DiffResult> {
  const gateLimits = parseLimits(limits);
  const { a, b, heap } = withDb(db, (conn) => {
    const idA = resolveDumpRef(conn, refA);
    const idB = resolveDumpRef(conn, refB);
    return { a: loadDump(conn, idA), b: loadDump(conn, idB), heap: loadHeapLayout(conn, idB) };
  });
  if (gateLimits.length) {
    const corrupt = [a, b].find((d) => d.findings.some((f) => f.kind === 'memory-corrupt'));
    if (corrupt) {
      throw new CoronerError(
        `dump ${corrupt.id} (${corrupt.core.path}) is marked memory-corrupt: its figures cannot gate growth; take another core of the process and gate on that`,
        'corrupt-dump',
      );
    }
  }
  const diff = diffDumps(a, b);
  const found = holders ? await holdersOfGrowth(diff, heap) : { holdings: [], note: null };
  return { diff, holdings: found.holdings, gate: applyGate(diff, gateLimits), notes: found.note ? [found.note] : [] };
}

export async function diffCommand(a: { db: string; a: string; b: string; top: number; json: boolean; failOnGrowth?: string[]; holders: boolean }): Promise<number> {
  const r = await diffStored(a.db, a.a, a.b, a.failOnGrowth ?? [], a.holders);
  if (a.json) console.log(JSON.stringify({ ...diffJson(r.diff, a.top, r.holdings, r.gate), notes: r.notes }, null, 2));
  else console.log([formatDiff(r.diff, a.top, r.holdings, r.gate), ...r.notes].join('\n'));
  return r.gate.some((g) => g.tripped) ? EXIT_TRIPPED : EXIT_OK;
}

export function seriesCommand(a: { db: string; json: boolean }): number {
  const { series, verdicts } = withDb(a.db, (conn) => {
    const found = listSeries(conn);
    return { series: found, verdicts: found.map((s) => seriesVerdict(s.dumps.map((id) => loadDump(conn, id)))) };
  });
  if (a.json) {
    console.log(JSON.stringify(series.map((s, i) => ({ name: s.name, key: s.key, dumps: s.dumps, taken_at: s.takenAt, verdict: verdicts[i] })), null, 2));
    return EXIT_OK;
  }
  if (series.length === 0) console.log('no dumps yet: coroner ingest core.PID');
  const lines = series.flatMap((s, i) => [
    `${printable(s.name)}: ${s.dumps.length} dump${s.dumps.length === 1 ? '' : 's'} (${s.dumps.join(', ')}), ${s.takenAt[0]} → ${s.takenAt.at(-1)}`,
    `  ${printable(verdicts[i]!.text)}`,
  ]);
  if (lines.length) console.log(forTerminal(lines.join('\n')));
  return EXIT_OK;
}
