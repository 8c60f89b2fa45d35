// `coroner report`: a static HTML site of the stored dumps.
import { resolve, join } from 'node:path';
import { diffDumps } from '../diff/diff.js';
import { holdersOfGrowth } from '../diff/holders.js';
import { writeReport } from '../report/render.js';
import { withDb } from '../store/db.js';
import { listDumps, loadDump, loadHeapLayout, resolveDumpRef } from '../store/dumps.js';
import { EXIT_OK } from './exit.js';

export async function reportCommand(a: { db: string; out: string; dump?: string[]; holders?: boolean }): Promise<number> {
  const dumps = withDb(a.db, (db) => {
    const ids = a.dump?.length ? a.dump.map((ref) => resolveDumpRef(db, ref)) : listDumps(db).map((d) => d.id);
    return ids.map((id) => loadDump(db, id));
  });
  const out = resolve(a.out);
  await writeReport(out, dumps, {
    holders: a.holders === false ? undefined : async (x, y) => (await holdersOfGrowth(diffDumps(x, y), withDb(a.db, (db) => loadHeapLayout(db, y.id)))).holdings,
  });
  console.log(`wrote ${join(out, 'index.html')} (${dumps.length} dump${dumps.length === 1 ? '' : 's'})`);
  return EXIT_OK;
}
