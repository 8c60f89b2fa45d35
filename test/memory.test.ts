// Memory accounting and its findings, against what each memory workload said about itself just
// before its core was taken (fixtures/workloads/{fragmentation,native_leak,gc_cycles,healthy_cache}.py,
// and fragmentation run with tcmalloc and jemalloc preloaded): glibc's own malloc_info figures,
// the blocks a ctypes loop leaked, the reference cycles left with the collector off, gc.garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readElfCore } from '../src/core/core-file.js';
import { analyzedPythons, coreOf, ingestFresh, runCli, tempDir } from './helpers.js';
import type { FixtureCore } from '../scripts/lib/fixture-cores.js';

const KINDS = ['allocator-fragmentation', 'native-memory', 'cyclic-garbage', 'uncollectable'] as const;
const BREAKDOWN_KINDS = ['python-objects', 'pymalloc-free', 'malloc-free', 'malloc-python', 'malloc-native', 'stacks', 'other'];
const GLIBC_WORKLOADS = ['fragmentation', 'native_leak', 'gc_cycles', 'healthy_cache'] as const;
const OTHER_ALLOCATORS = { fragmentation_tcmalloc: 'tcmalloc', fragmentation_jemalloc: 'jemalloc' } as const;
const WORKLOADS = [...GLIBC_WORKLOADS, ...Object.keys(OTHER_ALLOCATORS)];

// ------------------------------------------------------------------------------- the truth

/** glibc's malloc_info figures (see fixtures/workloads/_mallinfo.py for what each one counts). */
interface MallocInfoFigures {
  fast_count: number;
  fast_size: number;
  rest_count: number; // chunks in bins + 1 per arena (the top chunk)
  rest_size: number; // their sizes, top included (+1 per binned chunk: glibc adds the PREV_INUSE bit)
  system_current: number;
  system_max: number;
  aspace_total: number;
  aspace_mprotect: number;
}

interface MallocInfoTruth {
  heaps: (MallocInfoFigures & { nr: number; main: boolean; unsorted_count: number; unsorted_size: number; aspace_subheaps?: number })[];
  totals: MallocInfoFigures & { mmap_count: number; mmap_size: number };
  arenas: number;
  /** mallinfo2(): uordblks = bytes in use (tcache'd chunks included), fordblks = free bytes (exact); glibc before 2.33 (bullseye's chroot) has mallinfo() only, the same figures in ints. */
  mallinfo2?: Mallinfo;
  mallinfo?: Mallinfo;
}

interface Mallinfo {
  arena: number; ordblks: number; smblks: number; hblks: number; hblkhd: number; uordblks: number; fordblks: number; keepcost: number;
}

/** mallinfo2()'s figures, or mallinfo()'s where the process's glibc is older. */
function mallinfoOf(mi: MallocInfoTruth): Mallinfo {
  const m = mi.mallinfo2 ?? mi.mallinfo;
  assert.ok(m, 'the truth has mallinfo2 or mallinfo');
  return m;
}

interface GcTruth {
  enabled: boolean;
  thresholds: number[];
  counts: number[];
}

interface MemoryTruth {
  workload: string;
  gc_enabled: boolean;
  expect: { findings: string[]; absent_findings: string[]; allocator: string };
  extra: {
    allocator?: string;
    status?: { VmRSS: number };
    malloc_info?: MallocInfoTruth;
    // fragmentation
    kept_objects?: number;
    kept_bytes?: number;
    kept_chunk_bytes?: number;
    arenas_expected?: number | null;
    // native_leak
    leaks?: { request: number; count: number; mmapped: boolean; chunk_size: number; usable_size: number; chunk_bytes: number }[];
    leaked_chunk_bytes?: number;
    // gc_cycles
    cyclic?: Record<string, number>;
    cyclic_objects?: number;
    garbage?: number;
    /** gc.garbage's objects by class, and (2.7) the ones there because of __del__ in a cycle. */
    garbage_types?: Record<string, number>;
    uncollectable_finalizers?: Record<string, number>;
    gc?: GcTruth;
  };
}

function truthOf(core: FixtureCore): MemoryTruth {
  return JSON.parse(readFileSync(core.truth, 'utf8')) as MemoryTruth;
}

// ------------------------------------------------------------------------------- coroner's view

interface Finding {
  kind: string;
  severity: string;
  title: string;
  detail: string;
  evidence: string[];
  remedy: string;
}

interface GlibcFigures {
  fast_count: number;
  fast_size: number;
  rest_count: number;
  rest_size: number;
}

interface Memory {
  allocator: 'glibc' | 'tcmalloc' | 'jemalloc' | 'unknown';
  writable_bytes: number;
  breakdown: { kind: string; bytes: number; detail: string }[];
  glibc: null | {
    arenas: (GlibcFigures & { address: number; main: boolean; system_mem: number; top_size: number; in_use_bytes: number })[];
    totals: GlibcFigures & { mmap_count: number; mmap_size: number; system_current: number; in_use_bytes: number; trimmable_bytes: number };
  };
  pymalloc: { arenas: number; pools_used: number; blocks_used: number; blocks_free: number; size_classes: unknown[] };
  gc: null | { enabled: boolean; thresholds: number[]; counts: number[]; garbage: number };
  native: null | { bytes: number; chunks: number; top_sizes: { size: number; count: number }[] };
  /** Not in the contract the tests are written against; checked only when present. */
  cycles?: null | { objects: number; by_type: { type: string; module: string | null; count: number }[] };
}

interface Shown {
  memory: Memory;
  findings: Finding[];
}

interface Case {
  core: FixtureCore;
  truth: MemoryTruth;
  shown: Shown;
}

/** Every memory core of one Python ingested once into one database, each shown as JSON. */
const cases = new Map<string, Promise<Map<string, Case>>>();

/** The workloads made with a Python: the tcmalloc and jemalloc variants only with 3.11 (the host's libraries). */
const workloadsOf = (python: string): string[] => (python === '3.11' ? WORKLOADS : [...GLIBC_WORKLOADS]);

function allCases(python: string): Promise<Map<string, Case>> {
  if (!cases.has(python)) cases.set(python, (async () => {
    const cores = await Promise.all(workloadsOf(python).map((w) => coreOf(python, w)));
    const db = ingestFresh(cores.map((c) => c.core), cores[0]!.ingestArgs);
    const listed = JSON.parse(cli(['list', '--json', '--db', db])) as { id: number; path: string }[];
    const out = new Map<string, Case>();
    for (const core of cores) {
      const dump = listed.find((d) => d.path === core.core);
      assert.ok(dump, `${core.core} is listed`);
      out.set(core.workload, { core, truth: truthOf(core), shown: JSON.parse(cli(['show', String(dump.id), '--json', '--db', db])) as Shown });
    }
    return out;
  })());
  return cases.get(python)!;
}

async function caseOf(python: string, workload: string): Promise<Case> {
  const c = (await allCases(python)).get(workload);
  assert.ok(c, `a fixture core for ${workload}`);
  return c;
}

function cli(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.code, 0, `coroner ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

function part(m: Memory, kind: string): number {
  return m.breakdown.find((p) => p.kind === kind)?.bytes ?? 0;
}

/** Whether a text gives the number n, as 100000 or 100,000 (not as a part of a longer number). */
function mentions(text: string, n: number): boolean {
  const forms = [String(n), n.toLocaleString('en-US')].map((f) => f.replace(/[.,]/g, '\\$&'));
  return new RegExp(`(?<![\\d,.])(?:${forms.join('|')})(?![\\d]|[,.]\\d)`).test(text);
}

/**
 * How close a figure read from the core must be to malloc_info's: 1%, and never closer than a few
 * chunks. malloc_info ran just before the checkpoint, which then allocates a little (the parsing of
 * the XML, the truth's JSON line) before the stop; on the cores this moves 0 to 3 chunks, under
 * 4 KB, between the main arena's bins and its top chunk or an in-use chunk (measured with a gdb
 * walk of the same arenas). Counts of a small heap (a hundred free chunks) need the absolute slack.
 */
function near(got: number, want: number, what: string, slack: number): void {
  assert.equal(typeof got, 'number', `${what} is a number`);
  const tolerance = Math.max(0.01 * Math.abs(want), slack);
  assert.ok(Math.abs(got - want) <= tolerance, `${what}: ${got}, malloc_info says ${want} (tolerance ${tolerance})`);
}
const COUNT_SLACK = 8;
const SIZE_SLACK = 64 << 10;

function findingOf(shown: Shown, kind: string): Finding {
  const f = shown.findings.find((x) => x.kind === kind);
  assert.ok(f, `a ${kind} finding among ${JSON.stringify(shown.findings.map((x) => x.kind))}`);
  return f;
}

/** A finding worth its name: a title, words, evidence and a remedy. */
function assertWellFormed(f: Finding, where: string): void {
  assert.ok(['critical', 'warning', 'info'].includes(f.severity), `${where}: ${f.kind} severity ${f.severity}`);
  for (const k of ['title', 'detail', 'remedy'] as const) assert.ok(typeof f[k] === 'string' && f[k].length > 10, `${where}: ${f.kind} has a ${k}`);
  assert.ok(Array.isArray(f.evidence) && f.evidence.length > 0, `${where}: ${f.kind} has evidence`);
  for (const e of f.evidence) assert.ok(typeof e === 'string' && e.length > 0, `${where}: ${f.kind} evidence is text`);
}

/** What every memory core's truth expects: the findings present (well formed) and the ones absent. */
function assertExpectedFindings(c: Case): void {
  const where = c.core.workload;
  const kinds = c.shown.findings.map((f) => f.kind);
  for (const kind of c.truth.expect.findings) assertWellFormed(findingOf(c.shown, kind), where);
  for (const kind of c.truth.expect.absent_findings) {
    assert.ok(!kinds.includes(kind), `${where}: no ${kind} finding, got ${JSON.stringify(c.shown.findings.filter((f) => f.kind === kind))}`);
  }
  // Of the four memory kinds, exactly the expected ones.
  assert.deepEqual(
    kinds.filter((k) => (KINDS as readonly string[]).includes(k)).sort(),
    [...c.truth.expect.findings].sort(),
    `${where}: memory findings`,
  );
}

/** The shape of `memory`, and a breakdown that adds up to the writable memory of the core. */
function assertMemoryShape(c: Case): void {
  const where = c.core.workload;
  const m = c.shown.memory;
  assert.ok(m && typeof m === 'object', `${where}: show --json has memory`);
  assert.equal(m.allocator, c.truth.expect.allocator, `${where}: allocator`);
  assert.ok(Number.isInteger(m.writable_bytes) && m.writable_bytes > 0, `${where}: writable_bytes ${m.writable_bytes}`);
  assert.ok(Array.isArray(m.breakdown) && m.breakdown.length > 0, `${where}: a breakdown`);
  for (const p of m.breakdown) {
    assert.ok(BREAKDOWN_KINDS.includes(p.kind), `${where}: breakdown kind ${p.kind}`);
    assert.ok(Number.isInteger(p.bytes) && p.bytes >= 0, `${where}: ${p.kind} bytes ${p.bytes}`);
    assert.equal(typeof p.detail, 'string', `${where}: ${p.kind} detail`);
  }
  assert.equal(new Set(m.breakdown.map((p) => p.kind)).size, m.breakdown.length, `${where}: each kind once`);
  const sum = m.breakdown.reduce((n, p) => n + p.bytes, 0);
  assert.ok(Math.abs(sum - m.writable_bytes) <= 0.01 * m.writable_bytes, `${where}: the breakdown adds up to ${sum}, writable ${m.writable_bytes}`);
  // RSS counts only the pages touched; the core holds every writable page.
  if (c.truth.extra.status) {
    assert.ok(m.writable_bytes >= 0.9 * c.truth.extra.status.VmRSS - (64 << 20), `${where}: writable ${m.writable_bytes} vs VmRSS ${c.truth.extra.status.VmRSS}`);
  }
  assert.ok(m.pymalloc && m.pymalloc.arenas > 0 && m.pymalloc.blocks_used > 0, `${where}: pymalloc figures`);
  assert.ok(Array.isArray(m.pymalloc.size_classes), `${where}: pymalloc size classes`);
}

// ------------------------------------------------------------------------------- the tests
for (const py of await analyzedPythons()) {

  test(`memory [python ${py.id}]: glibc figures agree with malloc_info printed inside the process just before the core`, { timeout: 900_000 }, async () => {
    for (const workload of GLIBC_WORKLOADS) {
      const { truth, shown } = await caseOf(py.id, workload);
      const mi = truth.extra.malloc_info;
      assert.ok(mi, `${workload}: the truth has malloc_info`);
      const g = shown.memory.glibc;
      assert.ok(g, `${workload}: glibc figures`);
      const where = `${workload}: glibc totals`;

      near(g.totals.fast_count, mi.totals.fast_count, `${where}: fast_count`, COUNT_SLACK);
      near(g.totals.fast_size, mi.totals.fast_size, `${where}: fast_size`, SIZE_SLACK);
      near(g.totals.rest_count, mi.totals.rest_count, `${where}: rest_count`, COUNT_SLACK);
      near(g.totals.rest_size, mi.totals.rest_size, `${where}: rest_size`, SIZE_SLACK);
      near(g.totals.mmap_count, mi.totals.mmap_count, `${where}: mmap_count`, 1);
      near(g.totals.mmap_size, mi.totals.mmap_size, `${where}: mmap_size`, SIZE_SLACK);
      near(g.totals.system_current, mi.totals.system_current, `${where}: system_current`, 0);
      // In use: what mallinfo2 says (system memory minus free chunks; tcache'd chunks count as in use);
      // with or without the mmapped chunks, as coroner chooses to count them.
      const inUse = mallinfoOf(mi).uordblks;
      assert.ok(
        [inUse, inUse + mallinfoOf(mi).hblkhd].some((want) => Math.abs(g.totals.in_use_bytes - want) <= Math.max(0.01 * want, SIZE_SLACK)),
        `${where}: in_use_bytes ${g.totals.in_use_bytes}, mallinfo2 says ${inUse} (+ ${mallinfoOf(mi).hblkhd} mmapped)`,
      );
      // malloc_trim(0) gives back whole free pages only: never more than what is free.
      assert.ok(g.totals.trimmable_bytes >= 0 && g.totals.trimmable_bytes <= mallinfoOf(mi).fordblks + SIZE_SLACK, `${where}: trimmable ${g.totals.trimmable_bytes} <= free ${mallinfoOf(mi).fordblks}`);

      // Every arena: as many as malloc_info printed, one of them the main arena, each arena's
      // system_mem exactly (arenas matched by system_mem: coroner may list them in another order).
      // Nothing touches a thread arena after malloc_info (the workload waits until its threads are
      // gone, their tcaches flushed), so those agree exactly: counts, and sizes up to malloc_info's
      // quirk of adding each binned chunk's PREV_INUSE bit to rest_size (at most 1 byte per chunk).
      assert.equal(g.arenas.length, mi.heaps.length, `${workload}: arenas`);
      assert.equal(g.arenas.filter((a) => a.main).length, 1, `${workload}: one main arena`);
      const main = g.arenas.find((a) => a.main)!;
      const miMain = mi.heaps.find((h) => h.main)!;
      near(main.system_mem, miMain.system_current, `${workload}: main arena system_mem`, 0);
      near(main.rest_count, miMain.rest_count, `${workload}: main arena rest_count`, COUNT_SLACK);
      near(main.rest_size, miMain.rest_size, `${workload}: main arena rest_size`, SIZE_SLACK);
      const others = g.arenas.filter((a) => !a.main).sort((a, b) => a.system_mem - b.system_mem);
      const miOthers = mi.heaps.filter((h) => !h.main).sort((a, b) => a.system_current - b.system_current);
      others.forEach((a, i) => {
        const h = miOthers[i]!;
        const at = `${workload}: thread arena 0x${a.address.toString(16)} (malloc_info heap ${h.nr})`;
        assert.equal(a.system_mem, h.system_current, `${at}: system_mem`);
        assert.equal(a.fast_count, h.fast_count, `${at}: fast_count`);
        assert.equal(a.fast_size, h.fast_size, `${at}: fast_size`);
        assert.equal(a.rest_count, h.rest_count, `${at}: rest_count (bins + the top chunk)`);
        // Seen on bullseye's glibc 2.31 (no mallinfo2): a thread arena's chunks add their flag bits
        // too, NON_MAIN_ARENA with PREV_INUSE, up to 5 per chunk; glibc 2.36 adds PREV_INUSE only.
        const bits = mi.mallinfo2 ? 1 : 5;
        assert.ok(a.rest_size <= h.rest_size && a.rest_size >= h.rest_size - bits * h.rest_count, `${at}: rest_size ${a.rest_size}, malloc_info ${h.rest_size} (which adds up to ${bits} flag bits on each of ${h.rest_count - 1} chunks)`);
        assert.ok(a.top_size > 0 && a.top_size <= a.rest_size, `${at}: top chunk ${a.top_size} is part of rest`);
        assert.ok(a.in_use_bytes >= 0 && a.in_use_bytes <= a.system_mem, `${at}: in use ${a.in_use_bytes}`);
      });
      const arenaSum = g.arenas.reduce((n, a) => n + a.system_mem, 0);
      assert.equal(arenaSum, g.totals.system_current, `${workload}: the arenas' system_mem add up to the total`);
    }
  });

  test(`memory [python ${py.id}]: many threads keeping a few of many malloc-sized objects: allocator-fragmentation`, { timeout: 900_000 }, async () => {
    const c = await caseOf(py.id, 'fragmentation');
    const { truth, shown } = c;
    const m = shown.memory;
    assertMemoryShape(c);
    assertExpectedFindings(c);
    const mi = truth.extra.malloc_info!;

    // One arena per thread that allocated, plus the main arena.
    assert.equal(m.glibc!.arenas.length, truth.extra.arenas_expected, 'arenas: main + one per thread');
    // What malloc keeps free (bins, fastbins, tcache, top) is what mallinfo2 called free, give or take
    // the thread caches (not in fordblks) and the checkpoint's few chunks.
    const free = part(m, 'malloc-free');
    assert.ok(Math.abs(free - mallinfoOf(mi).fordblks) <= 0.02 * mallinfoOf(mi).fordblks + (2 << 20), `malloc-free ${free} vs mallinfo2 fordblks ${mallinfoOf(mi).fordblks}`);
    // The kept bytes objects are Python's: their malloc chunks are attributed to Python objects.
    const python = part(m, 'malloc-python');
    assert.ok(python >= 0.99 * truth.extra.kept_chunk_bytes!, `malloc-python ${python} holds the ${truth.extra.kept_objects} kept objects (${truth.extra.kept_chunk_bytes} bytes of chunks)`);
    assert.ok(free > 20 * truth.extra.kept_bytes!, `free ${free} dwarfs the live data ${truth.extra.kept_bytes}`);
    // Most of the free memory is in whole pages malloc_trim(0) could give back.
    assert.ok(m.glibc!.totals.trimmable_bytes >= 0.5 * mallinfoOf(mi).fordblks, `trimmable ${m.glibc!.totals.trimmable_bytes} of ${mallinfoOf(mi).fordblks} free`);

    const f = findingOf(shown, 'allocator-fragmentation');
    assert.match(f.remedy, /LD_PRELOAD/, 'remedy: LD_PRELOAD');
    assert.match(f.remedy, /tcmalloc/i, 'remedy: tcmalloc');
    assert.match(f.remedy, /jemalloc/i, 'remedy: jemalloc');
    assert.match(f.remedy, /MALLOC_ARENA_MAX/, 'remedy: MALLOC_ARENA_MAX');
    assert.match(f.remedy, /malloc_trim/, 'remedy: malloc_trim');
  });

  // tcmalloc and jemalloc are the host's libraries: those variants are made with 3.11 only.
  if (py.id === '3.11') test(`memory [python ${py.id}]: the same workload with tcmalloc or jemalloc preloaded: that allocator, no glibc figures, no fragmentation finding`, { timeout: 900_000 }, async () => {
    for (const [workload, allocator] of Object.entries(OTHER_ALLOCATORS)) {
      const c = await caseOf(py.id, workload);
      assert.equal(c.truth.extra.allocator, allocator, `${workload}: the process ran with ${allocator}`);
      assertMemoryShape(c);
      assertExpectedFindings(c);
      assert.equal(c.shown.memory.allocator, allocator, `${workload}: allocator`);
      assert.equal(c.shown.memory.glibc, null, `${workload}: glibc figures would be wrong with ${allocator}`);
      assert.equal(part(c.shown.memory, 'malloc-free'), 0, `${workload}: no glibc free memory in the breakdown`);
    }
  });

  test(`memory [python ${py.id}]: a ctypes malloc loop never freed: native-memory with the sizes it leaked`, { timeout: 900_000 }, async () => {
    const c = await caseOf(py.id, 'native_leak');
    const { truth, shown } = c;
    assertMemoryShape(c);
    assertExpectedFindings(c);
    const leaks = truth.extra.leaks!;
    const inHeap = leaks.filter((l) => !l.mmapped);
    const heapBytes = inHeap.reduce((n, l) => n + l.chunk_bytes, 0);

    const native = shown.memory.native;
    assert.ok(native, 'native figures');
    // Everything leaked in the heap, plus the interpreter's own C allocations (a few MB), and the
    // mmapped blocks if coroner counts them here.
    assert.ok(native.bytes >= 0.99 * heapBytes, `native bytes ${native.bytes} >= the ${heapBytes} leaked in the heap`);
    assert.ok(native.bytes <= truth.extra.leaked_chunk_bytes! + (24 << 20), `native bytes ${native.bytes}: the leak (${truth.extra.leaked_chunk_bytes}) and not much more`);
    assert.equal(part(shown.memory, 'malloc-native'), native.bytes, 'the breakdown shows the native bytes');
    // Each leaked size is among the top sizes, with (about) as many chunks as were leaked: a size may
    // be given as the chunk size or the usable size (the request here).
    for (const leak of inHeap) {
      const row = native.top_sizes.find((s) => s.size === leak.chunk_size || s.size === leak.usable_size);
      assert.ok(row, `native top sizes list ${leak.chunk_size}-byte chunks: ${JSON.stringify(native.top_sizes.slice(0, 8))}`);
      assert.ok(row.count >= leak.count && row.count <= leak.count * 1.01 + 5, `${row.count} chunks of ${leak.chunk_size} bytes, ${leak.count} leaked`);
    }

    const f = findingOf(shown, 'native-memory');
    const text = f.evidence.join('\n');
    for (const leak of inHeap) {
      assert.ok(mentions(text, leak.chunk_size) || mentions(text, leak.usable_size), `native-memory evidence names the ${leak.chunk_size}-byte chunks:\n${text}`);
    }
  });

  test(`memory [python ${py.id}]: reference cycles with the collector off: cyclic-garbage by class, gc.garbage: uncollectable, the collector state`, { timeout: 900_000 }, async () => {
    const c = await caseOf(py.id, 'gc_cycles');
    const { truth, shown } = c;
    assertMemoryShape(c);
    assertExpectedFindings(c);
    const x = truth.extra;

    // The collector's state, as the process saw it when the truth was made. Generation 0's count is
    // the number of tracked objects made since the last collection: the checkpoint itself makes and
    // keeps a few dozen after the truth is taken (53 on the fixture), so it may only be a little higher.
    const gc = shown.memory.gc;
    assert.ok(gc, 'gc figures');
    assert.equal(gc.enabled, false, 'gc.disable() was called');
    assert.equal(gc.enabled, x.gc!.enabled, 'gc.isenabled()');
    assert.deepEqual(gc.thresholds, x.gc!.thresholds, 'gc.get_threshold()');
    assert.equal(gc.counts.length, 3, 'three generations');
    assert.ok(gc.counts[0]! >= x.gc!.counts[0]! && gc.counts[0]! <= x.gc!.counts[0]! + 500, `generation 0 count ${gc.counts[0]}, ${x.gc!.counts[0]} when the truth was made`);
    assert.deepEqual(gc.counts.slice(1), x.gc!.counts.slice(1), 'generations 1 and 2 counts');
    assert.equal(gc.garbage, x.garbage, 'len(gc.garbage)');

    // Cyclic garbage: exactly the Node pairs and the self-referencing lists (nothing else is
    // unreachable: `gc_cycles.py --verify` collects at the same point and finds exactly these).
    const f = findingOf(shown, 'cyclic-garbage');
    const text = [f.title, f.detail, ...f.evidence].join('\n');
    for (const [type, count] of Object.entries(x.cyclic!)) {
      const line = f.evidence.find((e) => new RegExp(`\\b${type}\\b`).test(e));
      assert.ok(line, `cyclic-garbage evidence names ${type}:\n${f.evidence.join('\n')}`);
      assert.ok(mentions(line, count), `cyclic-garbage evidence counts ${count} ${type}: ${line}`);
    }
    assert.ok(mentions(text, x.cyclic_objects!), `cyclic-garbage says ${x.cyclic_objects} objects in all:\n${text}`);
    assert.match(f.detail, /disabled|gc\.disable/i, 'cyclic-garbage says the collector is off');
    assert.match(f.remedy, /gc\.enable|gc\.collect/, 'remedy: gc.enable() or gc.collect()');
    const cycles = shown.memory.cycles;
    if (cycles) {
      assert.equal(cycles.objects, x.cyclic_objects, 'memory.cycles.objects');
      for (const [type, count] of Object.entries(x.cyclic!)) {
        assert.equal(cycles.by_type.find((t) => t.type === type)?.count, count, `memory.cycles: ${type}`);
      }
    }

    // gc.garbage is not empty: the Orphans collected with DEBUG_SAVEALL.
    const u = findingOf(shown, 'uncollectable');
    assert.ok(mentions([u.title, u.detail, ...u.evidence].join('\n'), x.garbage!), `uncollectable says ${x.garbage} objects`);
    // By class: what gc.garbage holds, and on 2.7 the objects with __del__ its collector could not free.
    for (const [type, count] of Object.entries(x.garbage_types ?? {})) {
      const line = u.evidence.find((e) => new RegExp(`\\b${type}\\b`).test(e));
      assert.ok(line && mentions(line, count), `uncollectable evidence counts ${count} ${type}:\n${u.evidence.join('\n')}`);
    }
    if (Object.keys(x.uncollectable_finalizers ?? {}).length) assert.match([u.detail, ...u.evidence].join('\n'), /__del__/, 'uncollectable says why: __del__ in a cycle');
  });

  test(`memory [python ${py.id}]: a healthy process with a large live cache gets none of the memory findings`, { timeout: 900_000 }, async () => {
    const c = await caseOf(py.id, 'healthy_cache');
    const { truth, shown } = c;
    assertMemoryShape(c);
    assertExpectedFindings(c);
    const kinds = shown.findings.map((f) => f.kind);
    for (const kind of KINDS) assert.ok(!kinds.includes(kind), `healthy_cache: no ${kind} finding, got ${kinds.join(', ')}`);
    const gc = shown.memory.gc;
    assert.ok(gc, 'gc figures');
    // The collector ran all along (its counts move with every allocation, the checkpoint's too).
    assert.equal(gc.enabled, true, 'gc enabled');
    assert.deepEqual(gc.thresholds, truth.extra.gc!.thresholds, 'thresholds');
    assert.equal(gc.garbage, 0, 'gc.garbage is empty');
    if (shown.memory.cycles) assert.equal(shown.memory.cycles.objects, 0, 'nothing unreachable (healthy_cache.py --verify)');
  });
}

test('memory [python 3.11]: a scribbled malloc free list makes the dump memory-corrupt, no finding critical, and the growth gate refuses it', async () => {
  const core = (await coreOf('3.11', 'fragmentation')).core;
  const db = ingestFresh([core]);
  const layout = JSON.parse((new Database(db, { readonly: true }).prepare('SELECT heap_layout FROM dumps WHERE id = 1').get() as { heap_layout: string }).heap_layout) as {
    glibc: { main_arena: number; malloc_state: { bins: number } };
  };
  // The main arena's first bin (the unsorted one) gets a misaligned forward link.
  const at = layout.glibc.main_arena + layout.glibc.malloc_state.bins;
  const seg = (await readElfCore(core)).segments.find((s) => s.vaddr <= at && at + 8 <= s.vaddr + s.filesz)!;
  const scribbled = join(tempDir(), 'core.31337');
  copyFileSync(core, scribbled);
  const fd = openSync(scribbled, 'r+');
  const word = Buffer.alloc(8);
  word.writeBigUInt64LE(0x12345679n);
  writeSync(fd, word, 0, 8, seg.offset + (at - seg.vaddr));
  closeSync(fd);
  assert.equal(runCli(['ingest', scribbled, '--db', db]).code, 0);
  const shown = JSON.parse(cli(['show', '2', '--db', db, '--json'])) as { findings: { kind: string; severity: string; evidence: string[] }[] };
  const corrupt = shown.findings.find((f) => f.kind === 'memory-corrupt');
  assert.ok(corrupt, `memory-corrupt among ${shown.findings.map((f) => f.kind).join(', ')}`);
  assert.match(corrupt.evidence[0]!, /bin 1 is corrupt at 0x12345679 \(a misaligned link\)/);
  assert.deepEqual(shown.findings.filter((f) => f.severity === 'critical'), [], 'nothing critical from a damaged heap');
  const gate = runCli(['diff', '1', '2', '--db', db, '--fail-on-growth', '1%']);
  assert.equal(gate.code, 2, gate.stdout + gate.stderr);
  assert.match(gate.stderr, /dump 2 \(.*core\.31337\) is marked memory-corrupt: its figures cannot gate growth; take another core/);
  assert.equal(gate.stderr.trim().split('\n').length, 1, 'one line');
  assert.equal(runCli(['diff', '1', '2', '--db', db]).code, 0, 'without a gate the diff is shown');
});
