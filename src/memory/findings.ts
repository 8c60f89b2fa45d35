// Findings about memory, each only with the figures that prove it: a healthy process holding a
// large live cache gets none of these.
import { humanBytes, percent, typeName } from '../base/units.js';
import type { Finding, MemoryReport } from '../model/types.js';

const MiB = 1 << 20;
/** malloc keeps at least this much free, and at least this share of what it got from the system. */
export const FRAGMENTATION_FLOOR = 64 * MiB;
export const FRAGMENTATION_RATIO = 0.5;
/** Memory malloc hands out that no Python object owns, above the interpreter's own few MB. */
export const NATIVE_FLOOR = 48 * MiB;
/** Cyclic garbage worth a word: the collector's first generation alone holds up to 700 new objects. */
export const CYCLES_FLOOR = 1000;


function part(m: MemoryReport, kind: MemoryReport['breakdown'][number]['kind']): number {
  return m.breakdown.find((p) => p.kind === kind)?.bytes ?? 0;
}

function fragmentation(m: MemoryReport): Finding | null {
  const g = m.glibc;
  if (!g) return null;
  const free = part(m, 'malloc-free');
  const system = g.totals.systemCurrent + g.totals.mmapSize;
  if (free < FRAGMENTATION_FLOOR || free < FRAGMENTATION_RATIO * system) return null;
  const worst = [...g.arenas].sort((a, b) => b.fastSize + b.restSize - (a.fastSize + a.restSize))[0]!;
  return {
    kind: 'allocator-fragmentation',
    severity: 'critical',
    title: `glibc malloc keeps ${humanBytes(free)} free (${percent(free, system)} of its memory) and does not give it back`,
    detail:
      `malloc holds ${humanBytes(system)} from the system in ${g.arenas.length} arenas, but only ${humanBytes(g.totals.inUseBytes - g.tcache.bytes)} of it is in use; ` +
      `live Python objects take ${humanBytes(part(m, 'python-objects') + part(m, 'malloc-python'))}. ` +
      'The freed memory is scattered between chunks still in use, so the process RSS stays high although Python holds little.',
    evidence: [
      `free in bins and top chunks: ${humanBytes(g.totals.restSize)} in ${g.totals.restCount.toLocaleString('en-US')} chunks; in fastbins: ${humanBytes(g.totals.fastSize)}; in thread caches: ${humanBytes(g.tcache.bytes)}`,
      `${g.arenas.length} arenas (${g.arenas.filter((a) => !a.main).length} for threads); the arena with the most free memory keeps ${humanBytes(worst.fastSize + worst.restSize)} free of ${humanBytes(worst.systemMem)}`,
      `malloc_trim(0) could return about ${humanBytes(g.totals.trimmableBytes)} of whole free pages`,
      `Python objects (census): ${humanBytes(part(m, 'python-objects') + part(m, 'malloc-python'))}`,
    ],
    remedy:
      'Run the service with another allocator: LD_PRELOAD=libtcmalloc.so.4 (Debian: libgoogle-perftools4) or libjemalloc.so.2 (libjemalloc2); ' +
      'or limit glibc to fewer arenas with MALLOC_ARENA_MAX=2; or call malloc_trim(0) (ctypes.CDLL("libc.so.6").malloc_trim(0)) after large frees.',
  };
}

function nativeMemory(m: MemoryReport): Finding | null {
  const n = m.native;
  if (!n || n.bytes < NATIVE_FLOOR) return null;
  const sizes = n.topSizes.slice(0, 5).map((s) => `${s.count.toLocaleString('en-US')} chunks of ${s.size.toLocaleString('en-US')} bytes (malloc(≈${(s.size - 8).toLocaleString('en-US')})): ${humanBytes(s.bytes)}`);
  return {
    kind: 'native-memory',
    severity: 'warning',
    title: `${humanBytes(n.bytes)} of malloc memory in use that no Python object owns`,
    detail:
      `${n.chunks.toLocaleString('en-US')} malloc chunks are in use but belong to no Python object the census found (objects too large for pymalloc and the buffers of lists, dicts, sets and bytearrays). ` +
      'Memory like this is held by C extensions, ctypes, or native libraries: a native leak when it grows from dump to dump.',
    evidence: [
      `the sizes that take the most: ${sizes.join('; ')}`,
      ...(n.biggest ?? []).slice(0, 3).map((c) =>
        `the chunk of ${c.size.toLocaleString('en-US')} bytes at 0x${c.address.toString(16)}: ` +
        (c.pointedFrom.length ? `its address is held at ${c.pointedFrom.join('; ')}` : 'no pointer to it anywhere in writable memory (leaked, or known only by an encoded value such as a Python int)'),
      ),
      `Python objects (census): ${humanBytes(part(m, 'python-objects') + part(m, 'malloc-python'))}`,
    ],
    remedy: 'Find the C code that allocates these sizes (a C extension, ctypes calls to malloc, a native library) and check that it frees them; compare two dumps of the process to see whether the amount grows.',
  };
}

function cyclicGarbage(m: MemoryReport): Finding | null {
  const c = m.cycles;
  if (!c || c.objects < CYCLES_FLOOR) return null;
  const gc = m.gc;
  const state = gc
    ? `the collector is ${gc.enabled ? 'enabled' : 'DISABLED (gc.disable())'}; thresholds ${gc.thresholds.join('/')}, counts ${gc.counts.join('/')}`
    : 'the collector state is unknown';
  return {
    kind: 'cyclic-garbage',
    severity: gc && !gc.enabled ? 'critical' : 'warning',
    title: `${c.objects.toLocaleString('en-US')} objects (${humanBytes(c.bytes)}) are garbage kept only by reference cycles`,
    detail: `Nothing outside their own cycles references them (their refcounts are all accounted for by references from other tracked objects), so the next full collection would free them; ${state}.`,
    evidence: c.byType.slice(0, 8).map((t) => `${t.count.toLocaleString('en-US')} ${typeName(t)} (${humanBytes(t.bytes)})`),
    remedy: gc && !gc.enabled
      ? 'Enable the collector again (gc.enable()) or call gc.collect() periodically; better, break the cycles (weakref, or clearing the back references when done).'
      : 'Call gc.collect() (or lower the thresholds with gc.set_threshold) and break the cycles: use weakref for back references, or clear them when an object is done.',
  };
}

function uncollectable(m: MemoryReport): Finding | null {
  const gc = m.gc;
  if (!gc || gc.garbage <= 0) return null;
  return {
    kind: 'uncollectable',
    severity: 'warning',
    title: `gc.garbage holds ${gc.garbage.toLocaleString('en-US')} objects`,
    detail: 'The collector put objects in gc.garbage: they are never freed while they stay there (gc.DEBUG_SAVEALL, or objects the collector could not free: before 3.4, objects with __del__ in a reference cycle).',
    evidence: [
      `len(gc.garbage) == ${gc.garbage}`,
      ...(gc.garbageTypes ?? []).slice(0, 8).map((t) => `${t.count.toLocaleString('en-US')} ${typeName(t)} in gc.garbage`),
      `collector ${gc.enabled ? 'enabled' : 'disabled'}, thresholds ${gc.thresholds.join('/')}`,
    ],
    remedy: 'Inspect gc.garbage, break the cycles that put objects there, turn off gc.DEBUG_SAVEALL, and clear the list (del gc.garbage[:]).',
  };
}

/** At most this many places of damage are listed in the finding. */
const DAMAGE_SHOWN = 10;

/**
 * The heap is damaged: said first, with where. The other memory findings rest on figures read
 * from it, so none of them is critical then, and each says so.
 */
function memoryCorrupt(m: MemoryReport): Finding | null {
  const damage = m.damage ?? [];
  if (damage.length === 0) return null;
  return {
    kind: 'memory-corrupt',
    severity: 'warning',
    title: `The heap is damaged: ${damage.length} allocator structure${damage.length === 1 ? '' : 's'} cannot be what ${damage.length === 1 ? 'it says' : 'they say'}`,
    detail:
      'Reading malloc\'s chunks and free lists met sizes and links no healthy heap has, so the memory figures are what could be read up to there. ' +
      'A C extension writing past its buffers, or a use after free, does this; so does a core cut short or copied badly.',
    evidence: [...damage.slice(0, DAMAGE_SHOWN), ...(damage.length > DAMAGE_SHOWN ? [`and ${damage.length - DAMAGE_SHOWN} more`] : [])],
    remedy: 'Take another core to tell a scribbled heap from a damaged file; if it is damaged again, run the service under a memory checker (PYTHONMALLOC=debug, or valgrind/ASan) to find the writer. Growth gates refuse dumps marked so.',
  };
}

export function memoryFindings(m: MemoryReport): Finding[] {
  const found = [fragmentation(m), nativeMemory(m), cyclicGarbage(m), uncollectable(m)].filter((f): f is Finding => f !== null);
  const corrupt = memoryCorrupt(m);
  if (!corrupt) return found;
  return [corrupt, ...found.map((f) => ({
    ...f,
    severity: f.severity === 'critical' ? 'warning' as const : f.severity,
    detail: `${f.detail} (Computed from a damaged heap: see memory-corrupt.)`,
  }))];
}
