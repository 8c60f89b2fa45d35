// The SQLite database: opened in WAL mode (readers never block the writer, and a killed writer
// leaves only whole transactions), schema versioned with PRAGMA user_version and migrated forward.
// Commands that only read open it read-only, so that they work on a read-only copy or mount;
// commands that write check that they can before any core is analyzed.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CoronerError } from '../base/errors.js';
import { MIGRATIONS } from './schema.js';

export type Db = Database.Database;

// Read at the first open: lets a read-only open fall back to an `immutable=1` URI. Every path
// given to SQLite is made absolute first, so that a user's file named "file:..." stays a file.
process.env.SQLITE_USE_URI ??= '1';

export interface OpenOptions {
  mustExist?: boolean;
  /** Only read: opened read-only, works where the file or its folder cannot be written. */
  readonly?: boolean;
}

export function openDb(path: string, opts: OpenOptions = {}): Db {
  if ((opts.mustExist || opts.readonly) && !existsSync(path)) {
    throw new CoronerError(`${path}: no coroner database here; ingest a core first (coroner ingest core.PID) or pass --db FILE`, 'no-db');
  }
  if (!existsSync(dirname(path) || '.')) {
    throw new CoronerError(`${path}: the folder ${dirname(path)} does not exist`, 'no-db');
  }
  return opts.readonly ? openReadOnly(path) : openWritable(path);
}

function cannotOpen(path: string, err: unknown): CoronerError {
  return new CoronerError(`${path}: cannot open the database (${(err as Error).message}); check that it is a coroner database`, 'bad-db');
}

function openWritable(path: string): Db {
  let db: Db;
  try {
    db = new Database(resolve(path));
    db.pragma('busy_timeout = 10000');
    if (db.readonly) throw readOnlyError(path);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // A write lock taken and given back: an immutable file, a read-only mount or a folder where
    // the journal cannot be made fails here, before any core is analyzed, not at the first save.
    // (SQLite opens a file it may not write read-only without a word, and only a page written tells.)
    const version = db.pragma('user_version', { simple: true }) as number;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.pragma(`user_version = ${version}`);
    } finally {
      db.exec('ROLLBACK');
    }
  } catch (err) {
    if (err instanceof CoronerError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (/READONLY|CANTOPEN|PERM|IOERR/.test(code)) throw readOnlyError(path, (err as Error).message);
    throw cannotOpen(path, err);
  }
  migrate(db, path);
  return db;
}

function readOnlyError(path: string, detail?: string): CoronerError {
  return new CoronerError(
    `${path}: the database cannot be written${detail ? ` (${detail})` : ''}: the file, its folder or the disk is read-only or immutable (lsattr); make it writable or pass --db FILE elsewhere`,
    'db-readonly',
  );
}

function openReadOnly(path: string): Db {
  const abs = resolve(path);
  let db: Db;
  try {
    db = new Database(abs, { readonly: true, fileMustExist: true });
    db.pragma('user_version');
  } catch (first) {
    // A WAL database needs its -shm file, which a read-only folder cannot get: no writer can be
    // there either, so the file is read as immutable.
    try {
      db = new Database(`file:${encodeURI(abs).replace(/\?/g, '%3F').replace(/#/g, '%23')}?immutable=1`, { readonly: true });
      db.pragma('user_version');
    } catch {
      throw cannotOpen(path, first);
    }
  }
  db.pragma('busy_timeout = 10000');
  const current = db.pragma('user_version', { simple: true }) as number;
  checkNotNewer(path, current);
  if (current < MIGRATIONS.length) {
    db.close();
    throw new CoronerError(`${path}: the database is of an older coroner (schema ${current} of ${MIGRATIONS.length}); run coroner ingest on it once where it can be written, to upgrade it`, 'bad-db');
  }
  return db;
}

function checkNotNewer(path: string, current: number): void {
  if (current > MIGRATIONS.length) {
    throw new CoronerError(`${path}: database schema version ${current} is newer than this coroner knows (${MIGRATIONS.length}); upgrade coroner`, 'bad-db');
  }
}

function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  checkNotNewer(path, current);
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

/** Run fn on an existing database, opened read-only, closing it afterwards whatever happens. */
export function withDb<T>(path: string, fn: (db: Db) => T): T {
  const db = openDb(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
