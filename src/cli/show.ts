// `coroner list` and `coroner show`.
import { censusJson, dumpJson, listJson } from '../format/json.js';
import { formatCensus, formatDump, formatList } from '../format/text.js';
import { openDb } from '../store/db.js';
import { listDumps, loadCensus, loadDump, resolveDumpRef } from '../store/dumps.js';
import { EXIT_OK } from './exit.js';

export function listCommand(a: { db: string; json: boolean }): number {
  const db = openDb(a.db, { mustExist: true });
  try {
    const dumps = listDumps(db);
    console.log(a.json ? JSON.stringify(listJson(dumps), null, 2) : formatList(dumps));
    return EXIT_OK;
  } finally {
    db.close();
  }
}

export function showCommand(a: { db: string; dump: string; locals: boolean; json: boolean }): number {
  const db = openDb(a.db, { mustExist: true });
  try {
    const dump = loadDump(db, resolveDumpRef(db, a.dump));
    console.log(a.json ? JSON.stringify(dumpJson(dump), null, 2) : formatDump(dump, { locals: a.locals }));
    return EXIT_OK;
  } finally {
    db.close();
  }
}

export function censusCommand(a: { db: string; dump: string; top: number; json: boolean }): number {
  const db = openDb(a.db, { mustExist: true });
  try {
    const rows = loadCensus(db, resolveDumpRef(db, a.dump));
    console.log(a.json ? JSON.stringify(censusJson(rows.slice(0, a.top)), null, 2) : formatCensus(rows, a.top));
    return EXIT_OK;
  } finally {
    db.close();
  }
}
