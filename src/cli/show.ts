// `coroner list`, `coroner show` and `coroner census`.
import { censusJson, dumpJson, listJson } from '../format/json.js';
import { formatCensus, formatDump, formatList } from '../format/text.js';
import { withDb } from '../store/db.js';
import { listDumps, loadCensus, loadDump, resolveDumpRef } from '../store/dumps.js';
import { EXIT_OK } from './exit.js';

export function listCommand(a: { db: string; json: boolean }): number {
  const dumps = withDb(a.db, listDumps);
  console.log(a.json ? JSON.stringify(listJson(dumps), null, 2) : formatList(dumps));
  return EXIT_OK;
}

export function showCommand(a: { db: string; dump: string; locals: boolean; json: boolean }): number {
  const dump = withDb(a.db, (db) => loadDump(db, resolveDumpRef(db, a.dump)));
  console.log(a.json ? JSON.stringify(dumpJson(dump), null, 2) : formatDump(dump, { locals: a.locals }));
  return EXIT_OK;
}

export function censusCommand(a: { db: string; dump: string; top: number; json: boolean }): number {
  const rows = withDb(a.db, (db) => loadCensus(db, resolveDumpRef(db, a.dump)));
  console.log(a.json ? JSON.stringify(censusJson(rows.slice(0, a.top)), null, 2) : formatCensus(rows, a.top));
  return EXIT_OK;
}
