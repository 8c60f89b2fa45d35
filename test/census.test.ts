// The census of every live object, checked against what the census workload said about itself at
// each of its three checkpoints (fixtures/workloads/census.py: 20k, 60k, 120k order records).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzedPythons, coreOf, ingestFresh, runCli } from './helpers.js';
import type { FixtureCore } from '../scripts/lib/fixture-cores.js';

const CHECKPOINTS = [1, 2, 3];
/** The builtins compared within 1%, and which types hold text and bytes: 2.7's str is its bytes. */
const TYPES = {
  py3: { builtins: ['str', 'int', 'dict', 'list', 'tuple', 'bytes', 'float'], text: 'str', bytes: 'bytes' },
  py2: { builtins: ['str', 'unicode', 'int', 'long', 'dict', 'list', 'tuple', 'float'], text: 'unicode', bytes: 'str' },
};

interface CensusRow {
  type: string;
  module: string | null;
  count: number;
  bytes: number;
  bytes_with_buffers: number;
}

interface CensusTruth {
  extra: {
    step: number;
    records: number;
    classes: Record<string, { module: string; count: number }>;
    /** Exact-type counts of the objects reachable in-process (gc.get_objects() and the closure). */
    builtins: Record<string, number>;
    /** The part of `builtins` whose address is in the executable's image (not the heap). */
    builtins_static: Record<string, number>;
    /** Every object of these types in the executable's writable image, referenced or not. */
    static_all: Record<string, number> | null;
    /** The same, inside _PyRuntime only: the runtime's singletons (small ints, one-byte bytes, ...). */
    runtime_all: Record<string, number> | null;
    big: { str_over_512: number; big_str_bytes: number; bytes_over_512: number; big_bytes_bytes: number; huge_dict_attrs: number };
    notes: string;
  };
}

function truthOf(core: FixtureCore): CensusTruth {
  return JSON.parse(readFileSync(core.truth, 'utf8')) as CensusTruth;
}

function cli(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.code, 0, `coroner ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

function rowOf(rows: CensusRow[], type: string, module: string | null): CensusRow | undefined {
  return rows.find((r) => r.type === type && r.module === module);
}

/**
 * What a census of a builtin type may find, each within 1%. The in-process truth is a reachability
 * census; the difference to a walk of the core, explained:
 * - objects in the executable's own image, not the heap: the runtime's singletons (small ints, the
 *   256 one-byte bytes, one-character and _Py_ID strs, the empty tuple) and deep-frozen modules'
 *   constants. They exist whether or not anything references them, so a walk that reads them finds
 *   all of them (`runtime_all`, `static_all`, from a scan of the image), while the closure only
 *   finds the referenced ones (`builtins_static`). A census may read none of the image, only
 *   _PyRuntime, or all of it: each is right, and each gives one of these expectations;
 * - objects referenced only from frames or C state (the checkpoint's own truth dict and JSON line,
 *   extension modules' C caches; the interned-strings dict before 3.12, when it is no root: from
 *   3.12 on the workload reads it with ctypes): a few hundred at most, inside the 1%.
 */
function expectations(truth: CensusTruth, type: string): { label: string; count: number }[] {
  const x = truth.extra;
  const heap = x.builtins[type]! - x.builtins_static[type]!;
  const out = [{ label: 'reachable objects in the heap', count: heap }];
  const runtime = x.runtime_all?.[type];
  const image = x.static_all?.[type];
  if (runtime) out.push({ label: 'heap + every object in _PyRuntime', count: heap + runtime });
  if (image) out.push({ label: 'heap + every object in the image', count: heap + image });
  return out;
}

for (const py of await analyzedPythons()) {
  const types = py.id === '2.7' ? TYPES.py2 : TYPES.py3;
  test(`census [python ${py.id}]: every checkpoint of a growing process, by type, against in-process truth`, async () => {
    const cores = await Promise.all(CHECKPOINTS.map((n) => coreOf(py.id, 'census', n)));
    const truths = cores.map(truthOf);
    const db = ingestFresh(cores.map((c) => c.core), cores[0]!.ingestArgs);
    const listed = JSON.parse(cli(['list', '--json', '--db', db])) as { id: number; path: string }[];
    const censuses: CensusRow[][] = [];

    cores.forEach((core, i) => {
      const truth = truths[i]!;
      const where = `checkpoint ${core.checkpoint} (${truth.extra.records} records)`;
      const dump = listed.find((d) => d.path === core.core);
      assert.ok(dump, `${core.core} is listed`);
      const id = String(dump.id);
      const rows = JSON.parse(cli(['census', id, '--json', '--db', db])) as CensusRow[];
      censuses.push(rows);

      // The shape: {type, module, count, bytes, bytes_with_buffers}, sorted by bytes, heaviest first.
      assert.ok(rows.length > 20, `${where}: a row per type (${rows.length})`);
      for (const r of rows) {
        assert.equal(typeof r.type, 'string');
        assert.ok(r.module === null || typeof r.module === 'string', `module of ${r.type}`);
        for (const k of ['count', 'bytes', 'bytes_with_buffers'] as const) {
          assert.ok(Number.isInteger(r[k]) && r[k] > 0, `${where}: ${r.type}.${k} = ${r[k]}`);
        }
        assert.ok(r.bytes_with_buffers >= r.bytes, `${where}: ${r.type} bytes_with_buffers >= bytes`);
      }
      for (let j = 1; j < rows.length; j++) {
        assert.ok(rows[j - 1]!.bytes >= rows[j]!.bytes, `${where}: sorted by bytes at row ${j} (${rows[j - 1]!.type}, ${rows[j]!.type})`);
      }

      // The workload's own classes: exactly as many as gc.get_objects() counted.
      for (const [name, want] of Object.entries(truth.extra.classes)) {
        const row = rowOf(rows, name, want.module);
        assert.ok(row, `${where}: a row for ${want.module}.${name}`);
        assert.equal(row.count, want.count, `${where}: instances of ${name}`);
      }

      // Builtins: within 1% of the reachability census (see expectations() for what differs and why).
      for (const type of types.builtins) {
        const row = rowOf(rows, type, null);
        assert.ok(row, `${where}: a row for ${type}`);
        const options = expectations(truth, type);
        const near = options.some((o) => Math.abs(row.count - o.count) <= 0.01 * o.count);
        assert.ok(near, `${where}: ${row.count} ${type} objects, expected within 1% of ${options.map((o) => `${o.count} (${o.label})`).join(' or ')}`);
      }

      // Objects over 512 bytes live in malloc chunks, not pymalloc: they are counted too.
      const big = truth.extra.big;
      const str = rowOf(rows, types.text, null)!;
      const bytes = rowOf(rows, types.bytes, null)!;
      // 2.7's unicode keeps its text in a buffer of its own; a 3.x str carries it.
      const strBytes = py.id === '2.7' ? str.bytes_with_buffers : str.bytes;
      assert.ok(str.count >= big.str_over_512, `${where}: str count ${str.count} >= ${big.str_over_512} big strs`);
      assert.ok(strBytes >= big.big_str_bytes, `${where}: str bytes ${strBytes} >= the ${big.str_over_512} big strs' ${big.big_str_bytes}`);
      assert.ok(bytes.count >= big.bytes_over_512, `${where}: bytes count ${bytes.count} >= ${big.bytes_over_512} big bytes`);
      assert.ok(bytes.bytes >= big.big_bytes_bytes, `${where}: bytes bytes ${bytes.bytes} >= the big bytes' ${big.big_bytes_bytes}`);
      // The instance with a huge __dict__: its table (16-byte entries of str keys) is a dict's buffer.
      const dict = rowOf(rows, 'dict', null)!;
      assert.ok(
        dict.bytes_with_buffers - dict.bytes >= 16 * big.huge_dict_attrs,
        `${where}: dict buffers ${dict.bytes_with_buffers - dict.bytes} hold the ${big.huge_dict_attrs}-attribute __dict__`,
      );

      // --top N is the head of the same table; show --json carries the whole table as `census`.
      const top = JSON.parse(cli(['census', id, '--top', '5', '--json', '--db', db])) as CensusRow[];
      assert.deepEqual(top, rows.slice(0, 5), `${where}: --top 5`);
      const shown = JSON.parse(cli(['show', id, '--json', '--db', db])) as { census: CensusRow[] };
      assert.deepEqual(shown.census, rows, `${where}: show --json has the same census`);
    });

    // Growth between dumps of the same process: each class grows exactly as the process says.
    for (let i = 1; i < cores.length; i++) {
      for (const [name, want] of Object.entries(truths[i]!.extra.classes)) {
        const before = truths[i - 1]!.extra.classes[name]!.count;
        const got = rowOf(censuses[i]!, name, want.module)!.count - rowOf(censuses[i - 1]!, name, want.module)!.count;
        assert.equal(got, want.count - before, `growth of ${name} from checkpoint ${i} to ${i + 1}`);
      }
    }
    assert.ok(truths[2]!.extra.classes.OrderRecord!.count > truths[0]!.extra.classes.OrderRecord!.count, 'the workload grew');
  });

  test(`census [python ${py.id}]: the text table names the heaviest types`, async () => {
    const core = await coreOf(py.id, 'census', 3);
    const db = ingestFresh([core.core], core.ingestArgs);
    const out = cli(['census', '1', '--top', '10', '--db', db]);
    const rows = JSON.parse(cli(['census', '1', '--top', '10', '--json', '--db', db])) as CensusRow[];
    assert.equal(rows.length, 10);
    for (const r of rows) assert.ok(out.includes(r.type), `the text table shows ${r.type}:\n${out}`);
    assert.ok(out.includes('OrderRecord'), 'the workload class is among the ten heaviest');
  });
}
