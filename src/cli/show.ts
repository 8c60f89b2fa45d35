// `coroner list` and `coroner show`.
import { dumpJson, listJson } from '../format/json.js';
import { formatDump, formatList } from '../format/text.js';
import { openDb } from '../store/db.js';
import { listDumps, loadDump, resolveDumpRef } from '../store/dumps.js';
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
