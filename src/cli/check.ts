// `coroner check DIR`: what a CI job runs over its artifacts. Every core in DIR is ingested, the
// dumps are grouped into series (one process over time), and the growth gate is applied to each
// series from its first dump to its last.
import { resolve } from 'node:path';
import { printable } from '../base/printable.js';
import { diffJson } from '../format/diff.js';
import { withDb } from '../store/db.js';
import { listDumps } from '../store/dumps.js';
import { listSeries } from '../store/series.js';
import { diffStored } from './diff.js';
import { EXIT_ERROR, EXIT_OK, EXIT_TRIPPED } from './exit.js';
import { ingestCommand, type IngestArgs } from './ingest.js';

export interface CheckArgs extends Omit<IngestArgs, 'cores'> {
  dir: string;
  failOnGrowth?: string[];
}

/** Limits used when the job gives none: a quarter more memory between first and last dump. */
export const DEFAULT_LIMITS = ['25%'];

export async function checkCommand(a: CheckArgs): Promise<number> {
  const ingested = await ingestCommand({ ...a, cores: [a.dir], json: false });
  const dir = resolve(a.dir);
  const inDir = new Set(withDb(a.db, listDumps).filter((d) => d.path === dir || d.path.startsWith(`${dir}/`) || d.path.startsWith(`${dir}:`)).map((d) => d.id));
  const series = withDb(a.db, listSeries)
    .map((s) => ({ ...s, dumps: s.dumps.filter((id) => inDir.has(id)) }))
    .filter((s) => s.dumps.length >= 2);
  const limits = a.failOnGrowth?.length ? a.failOnGrowth : DEFAULT_LIMITS;
  let tripped = false;
  const results: object[] = [];
  if (series.length === 0) console.log(`check: no process has two dumps or more in ${a.dir}: nothing to compare`);
  for (const s of series) {
    const first = String(s.dumps[0]);
    const last = String(s.dumps.at(-1));
    const r = await diffStored(a.db, first, last, limits, false);
    const failed = r.gate.filter((g) => g.tripped);
    tripped ||= failed.length > 0;
    console.log(`${failed.length ? 'FAIL' : 'ok  '} ${printable(s.name)}: dumps ${first} → ${last} (${s.dumps.length} dumps)`);
    for (const g of r.gate) console.log(`     ${g.tripped ? 'over' : 'within'} ${printable(g.spec)}: ${printable(g.reason)}`);
    results.push({ series: s.name, dumps: s.dumps, diff: diffJson(r.diff, 10, r.holdings, r.gate) });
  }
  if (a.json) console.log(JSON.stringify(results, null, 2));
  if (ingested !== EXIT_OK) return EXIT_ERROR;
  return tripped ? EXIT_TRIPPED : EXIT_OK;
}
