// `coroner list`, `coroner show` and `coroner census`.
import { censusJson, dumpJson, listJson } from '../format/json.js';
import { CENSUS_TOP, formatCensus, formatDump, formatList, formatThreads, selectThreads } from '../format/text.js';
import { forTerminal, outputWidth } from '../format/terminal.js';
import { withDb } from '../store/db.js';
import { listDumps, loadCensus, loadDump, resolveDumpRef } from '../store/dumps.js';
import { EXIT_OK } from './exit.js';

export function listCommand(a: { db: string; json: boolean }): number {
  // The text by id; --json keeps the order it always had (capture time, then id).
  const dumps = withDb(a.db, listDumps);
  console.log(a.json ? JSON.stringify(listJson(dumps), null, 2) : forTerminal(formatList(dumps, outputWidth(process.env, process.stdout))));
  return EXIT_OK;
}

export function showCommand(a: { db: string; dump: string; locals: boolean; native: boolean; thread?: string; json: boolean }): number {
  const dump = withDb(a.db, (db) => loadDump(db, resolveDumpRef(db, a.dump)));
  const opts = { locals: a.locals, native: a.native };
  if (a.json) {
    const threads = a.thread === undefined ? dump.threads : selectThreads(dump, a.thread);
    console.log(JSON.stringify(dumpJson(dump, threads), null, 2));
  } else {
    console.log(forTerminal(a.thread === undefined ? formatDump(dump, opts) : formatThreads(dump, a.thread, opts)));
  }
  return EXIT_OK;
}

export function censusCommand(a: { db: string; dump: string; top?: number; all: boolean; json: boolean }): number {
  const rows = withDb(a.db, (db) => loadCensus(db, resolveDumpRef(db, a.dump)));
  // --json keeps every type unless told otherwise, as it always has.
  const top = a.all ? rows.length : a.top ?? (a.json ? rows.length : CENSUS_TOP);
  console.log(a.json ? JSON.stringify(censusJson(rows.slice(0, top)), null, 2) : forTerminal(formatCensus(rows, top)));
  return EXIT_OK;
}
