// Growth over time on a real process dumped three times while its cache grows: the series, the
// diff's exact growth of the cached class, who holds it, and the CI gate both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { archiveOfCores } from '../scripts/lib/archive-bench.js';
import { analyzedPythons, coreOf, fixture, ingestFresh, runCli, tempDb, tempDir, truthOf } from './helpers.js';

interface DiffJson {
  a: { id: number };
  b: { id: number };
  grew: boolean;
  types: { type: string; module: string | null; count_a: number; count_b: number; count_delta: number; bytes_delta: number }[];
  memory: Record<string, { a: number; b: number; delta: number }>;
  findings: unknown[];
  holders: { type: string; held: number; instances: number; summary: string; path: string[] }[];
  notes: string[];
  gate: { tripped: boolean; checks: { spec: string; tripped: boolean; reason: string }[] };
}

async function censusSeries(python = '3.11') {
  const cores = [await coreOf(python, 'census', 1), await coreOf(python, 'census', 2), await coreOf(python, 'census', 3)];
  const db = ingestFresh(cores.map((c) => c.core), cores[0]!.ingestArgs);
  const series = JSON.parse(runCli(['series', '--db', db, '--json']).stdout) as { name: string; dumps: number[] }[];
  const list = JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number; path: string }[];
  const idOf = (core: string): number => list.find((d) => d.path === core)!.id;
  return { cores, db, series, ids: cores.map((c) => idOf(c.core)) };
}

const count = (truth: ReturnType<typeof truthOf>, cls: string): number =>
  (truth as unknown as { extra: { classes: Record<string, { count: number }> } }).extra.classes[cls]!.count;

test('a process dumped three times is one series, ordered by capture time', async () => {
  const { series, ids } = await censusSeries();
  assert.equal(series.length, 1);
  assert.deepEqual(series[0]!.dumps, ids, 'first, second, third checkpoint');
});

for (const py of await analyzedPythons()) {
  test(`diff first → last [python ${py.id}]: the exact growth of the cached class, and the dict and module global that hold it`, async () => {
    const { cores, db, ids } = await censusSeries(py.id);
    const [first, , last] = cores.map(truthOf);
    const r = runCli(['diff', String(ids[0]), String(ids[2]), '--db', db, '--json', '--top', '50']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as DiffJson;
    assert.ok(d.grew);
    const rec = d.types.find((t) => t.type === 'OrderRecord' && t.module === '__main__')!;
    assert.equal(rec.count_a, count(first!, 'OrderRecord'));
    assert.equal(rec.count_b, count(last!, 'OrderRecord'));
    assert.equal(rec.count_delta, count(last!, 'OrderRecord') - count(first!, 'OrderRecord'));
    assert.ok(rec.bytes_delta > 0);
    assert.ok(d.memory.census!.delta > 0 && d.memory.writable!.delta > 0, 'the memory breakdown grew');
    const holder = d.holders.find((h) => h.type === 'OrderRecord')!;
    assert.ok(holder, `holders: ${JSON.stringify(d.holders)}`);
    assert.equal(holder.held, count(last!, 'OrderRecord'), 'every record is held by the cache');
    assert.match(holder.summary, /dict with [\d,]+ entries.*the global `CACHE` of module `__main__`/);
    assert.deepEqual(holder.path.slice(0, 1), ['module __main__']);
    assert.ok(holder.path.some((p) => p.startsWith('["CACHE"] → dict')), holder.path.join('\n'));
    const text = runCli(['diff', String(ids[0]), String(ids[2]), '--db', db]);
    assert.match(text.stdout, /Who holds the growth:\n.*OrderRecord are held by one dict/);
  });
}

test('the growth gate exits 1 and says why when growth is over a limit, 0 when it is within', async () => {
  const { db, ids } = await censusSeries();
  const diff = (...limits: string[]) => runCli(['diff', String(ids[0]), String(ids[2]), '--db', db, '--no-holders', ...limits.flatMap((l) => ['--fail-on-growth', l])]);
  const over = diff('20%');
  assert.equal(over.code, 1);
  assert.match(over.stdout, /Gate: TRIPPED\n\s+FAIL 20%: writable memory grew from .* limit 20%/);
  assert.equal(diff('10000%').code, 0);
  assert.equal(diff('10GB').code, 0);
  assert.equal(diff('1MB').code, 1);
  assert.equal(diff('OrderRecord:+100000').code, 0, 'exactly at the limit is within it');
  const type = diff('OrderRecord:+99999');
  assert.equal(type.code, 1);
  assert.match(type.stdout, /FAIL OrderRecord:\+99999: OrderRecord grew from 20,000 objects to 120,000 objects/);
  const bad = diff('lots');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--fail-on-growth lots: not a limit/);
});

test('a dump diffed with itself: no growth, said so, exit 0 even under a tight gate', async () => {
  const { db, ids } = await censusSeries();
  const r = runCli(['diff', String(ids[1]), String(ids[1]), '--db', db, '--fail-on-growth', '0.1%']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /No growth: no type and no part of the memory grew/);
  const j = JSON.parse(runCli(['diff', String(ids[1]), String(ids[1]), '--db', db, '--json']).stdout) as DiffJson;
  assert.equal(j.grew, false);
  assert.deepEqual(j.types, []);
});

test('check DIR: ingests the artifacts and gates each process from its first dump to its last', async () => {
  const cores = [await fixture('census', 1), await fixture('census', 2), await fixture('census', 3)];
  const dir = tempDir();
  mkdirSync(join(dir, 'artifacts'));
  for (const c of cores) linkSync(c.core, join(dir, 'artifacts', basename(c.core)));
  const db = join(dir, 'ci.db');
  const tripped = runCli(['check', join(dir, 'artifacts'), '--db', db]);
  assert.equal(tripped.code, 1, tripped.stdout + tripped.stderr);
  assert.match(tripped.stdout, /3 ingested, 0 skipped as duplicates, 0 failed/);
  assert.match(tripped.stdout, /FAIL pid \d+ .*census\.py: dumps \d+ → \d+ \(3 dumps\)\n\s+over 25%: writable memory grew/);
  const ok = runCli(['check', join(dir, 'artifacts'), '--db', db, '--fail-on-growth', '10000%']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /ok {3}pid \d+/);
});

test('cores from an archive: with --keep-cores the diff still finds who holds the growth; without, it says how', async () => {
  const cores = [await fixture('census', 1), await fixture('census', 3)];
  const work = tempDir();
  const archive = await archiveOfCores(cores.map((c) => c.core), join(work, 'cores.tar.gz'));
  const kept = join(work, 'kept');
  const diffOf = (db: string): DiffJson => {
    const ids = (JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number; path: string }[]).map((d) => d.id);
    const r = runCli(['diff', String(ids[0]), String(ids[1]), '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as DiffJson;
  };

  const keeping = tempDb();
  assert.equal(runCli(['ingest', archive, '--db', keeping, '--keep-cores', kept]).code, 0);
  assert.equal(readdirSync(kept).filter((f) => /^[0-9a-f]{64}\.core$/.test(f)).length, 2, 'each core kept once, by sha256');
  for (const c of cores) {
    const bytes = readFileSync(c.core);
    const copy = join(kept, `${createHash('sha256').update(bytes).digest('hex')}.core`);
    assert.ok(readFileSync(copy).equals(bytes), `${copy}: the copy out of the archive is the core, byte for byte`);
  }
  const d = diffOf(keeping);
  assert.deepEqual(d.notes, []);
  const holder = d.holders.find((h) => h.type === 'OrderRecord');
  assert.ok(holder && /the global `CACHE` of module `__main__`/.test(holder.summary), JSON.stringify(d.holders));

  const plain = tempDb();
  assert.equal(runCli(['ingest', archive, '--db', plain]).code, 0);
  const without = diffOf(plain);
  assert.deepEqual(without.holders, []);
  assert.match(without.notes[0] ?? '', /cores\.tar\.gz:cores\/core\.\d+(\.3)? is not on disk any more.*--keep-cores DIR/);
  assert.ok(existsSync(kept), 'the kept copies are left alone by a later ingest without the flag');
});
