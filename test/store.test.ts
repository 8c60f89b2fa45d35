// The database: one row per core (by sha256), --force re-analyzes in place, lookups by id, path
// and hash prefix, and a kill -9 in the middle of an ingest leaves only whole dumps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fixture, ingestFresh, runCli, showJson, startCli, tempDb, tempDir } from './helpers.js';

test('the same core ingested twice is stored once; --force analyzes it again under the same id', async () => {
  const { core } = await fixture('recursion');
  const copy = join(tempDir(), 'core.777');
  copyFileSync(core, copy);
  const db = ingestFresh([core]);
  const again = runCli(['ingest', copy, '--db', db]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /skipped .*core\.777: already stored as dump 1/);
  const list = JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number }[];
  assert.equal(list.length, 1);
  const forced = runCli(['ingest', core, '--db', db, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /as dump 1:/);
  assert.equal((JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as unknown[]).length, 1);
});

test('show finds a dump by id, by path and by sha256 prefix; list and show print the public JSON shapes', async () => {
  const a = await fixture('recursion');
  const b = await fixture('threads');
  const db = ingestFresh([a.core, b.core], ['--jobs', '2']);
  const list = JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number; path: string; sha256: string; pid: number; threads: number }[];
  assert.equal(list.length, 2);
  for (const d of list) {
    for (const ref of [String(d.id), d.path, d.sha256.slice(0, 10)]) assert.equal(showJson(db, ref).id, d.id, `show ${ref}`);
  }
  const shown = showJson(db, b.core);
  assert.deepEqual(Object.keys(shown.core).filter((k) => ['path', 'sha256', 'size', 'pid', 'signal', 'executable', 'cmdline', 'taken_at'].includes(k)).length, 8);
  for (const key of ['id', 'core', 'python', 'threads', 'census', 'memory', 'findings']) assert.ok(key in shown, key);
  for (const t of shown.threads) {
    for (const key of ['tid', 'name', 'state', 'holds_gil', 'python_frames', 'native_frames']) assert.ok(key in t, `thread.${key}`);
  }
  // With --jobs 2 the ids follow the order the analyses end in: find the threads core's by path.
  const threadsId = list.find((d) => d.path === b.core)!.id;
  const text = runCli(['show', String(threadsId), '--db', db, '--locals']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /Thread \d+ "sleeper" {2}sleeping/);
  assert.match(text.stdout, /File ".*threads\.py", line \d+, in sleeper\n/);
  const missing = runCli(['show', '99', '--db', db]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /99: no such dump/);
});

test('kill -9 during an ingest leaves a database that opens and holds only complete dumps', async () => {
  const cores = [await fixture('threads'), await fixture('deadlock'), await fixture('recursion')].map((c) => c.core);
  for (const delayMs of [300, 1500, 2600, 4000]) {
    const db = tempDb();
    const child = startCli(['ingest', ...cores, '--db', db, '--jobs', '1']);
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    let conn: Database.Database;
    try {
      conn = new Database(db);
    } catch {
      continue; // killed before the database was created: nothing to check
    }
    try {
      assert.equal(conn.pragma('integrity_check', { simple: true }), 'ok');
      const version = conn.pragma('user_version', { simple: true }) as number;
      if (version === 0) {
        // Killed after the file was opened, before the first migration committed: nothing at all.
        assert.deepEqual(conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), []);
        continue;
      }
      const dumps = conn.prepare('SELECT id, path FROM dumps').all() as { id: number; path: string }[];
      for (const d of dumps) {
        const threads = (conn.prepare('SELECT COUNT(*) AS n FROM threads WHERE dump_id = ?').get(d.id) as { n: number }).n;
        const frames = (conn.prepare('SELECT COUNT(*) AS n FROM python_frames p JOIN threads t ON p.thread_id = t.id WHERE t.dump_id = ?').get(d.id) as { n: number }).n;
        assert.ok(threads > 0 && frames > 0, `dump ${d.id} (${d.path}) is whole: ${threads} threads, ${frames} frames`);
      }
    } finally {
      conn.close();
    }
  }
});
