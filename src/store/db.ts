// The SQLite database: opened in WAL mode (readers never block the writer, and a killed writer
// leaves only whole transactions), schema versioned with PRAGMA user_version and migrated forward.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { CoronerError } from '../base/errors.js';
import { MIGRATIONS } from './schema.js';

export type Db = Database.Database;

export function openDb(path: string, opts: { mustExist?: boolean } = {}): Db {
  if (opts.mustExist && !existsSync(path)) {
    throw new CoronerError(`${path}: no coroner database here; ingest a core first (coroner ingest core.PID) or pass --db FILE`, 'no-db');
  }
  if (!existsSync(dirname(path) || '.')) {
    throw new CoronerError(`${path}: the folder ${dirname(path)} does not exist`, 'no-db');
  }
  let db: Db;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 10000');
  } catch (err) {
    throw new CoronerError(`${path}: cannot open the database (${(err as Error).message})`, 'bad-db');
  }
  migrate(db, path);
  return db;
}

function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new CoronerError(`${path}: database schema version ${current} is newer than this coroner knows (${MIGRATIONS.length}); upgrade coroner`, 'bad-db');
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

/** Run fn on an existing database, closing it afterwards whatever happens. */
export function withDb<T>(path: string, fn: (db: Db) => T): T {
  const db = openDb(path, { mustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
