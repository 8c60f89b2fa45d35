// Who holds the growth: for the types that grew most, the container that holds most of their
// instances, and the path from a root to it (a module's global, or an object referenced from
// outside the tracked objects: a frame, a C global), like objgraph's find_backref_chain, offline.
import { takeCensus } from '../census/census.js';
import { Kind } from '../cpython/types.js';
import { forEachDictEntry } from '../cpython/dicts.js';
import { itemCount } from '../cpython/objects.js';
import { strValue } from '../cpython/strings.js';
import { readElfCore } from '../core/core-file.js';
import { CoreMemory } from '../core/core-memory.js';
import { ObjectGraph } from '../memory/graph.js';
import { existsSync } from 'node:fs';
import { typeName } from '../base/units.js';
import type { DumpDiff } from './diff.js';
import type { RawHeap } from '../model/raw.js';

export interface Holding {
  type: string;
  module: string | null;
  /** Instances of the type in the later dump. */
  instances: number;
  /** How many of them the main holder references. */
  held: number;
  holder: { type: string; module: string | null; address: number; entries: number | null };
  summary: string;
  /** From the root down to the holder, one step a line. */
  path: string[];
}

const MAX_DEPTH = 8;

function describe(g: ObjectGraph, i: number): { text: string; entries: number | null } {
  const ti = g.type[i]!;
  const name = typeName({ type: g.types.names[ti]!, module: g.types.modules[ti]! });
  const kind = g.types.kind[ti];
  const addr = g.tracked.address[i]!;
  if (kind === Kind.Dict || kind === Kind.List || kind === Kind.Set || kind === Kind.Tuple) {
    const entries = kind === Kind.Set ? null : itemCount(g.mem, g.heap, kind, addr);
    return { text: `${name}${entries !== null ? ` with ${entries.toLocaleString('en-US')} ${kind === Kind.Dict ? 'entries' : 'items'}` : ''} at 0x${addr.toString(16)}`, entries };
  }
  return { text: `${name} at 0x${addr.toString(16)}`, entries: null };
}

/** How `parent` refers to `child`, in words: a dict key, a list index, a module's global. */
function step(g: ObjectGraph, parent: number, child: number): string {
  const pti = g.type[parent]!;
  const paddr = g.tracked.address[parent]!;
  const caddr = g.tracked.address[child]!;
  if (g.types.kind[pti] === Kind.Dict) {
    let hitKey = 0;
    forEachDictEntry(g.mem, g.heap, paddr, (key, value) => {
      if (key > 0 && value === caddr) hitKey = key;
      return hitKey !== 0;
    });
    if (hitKey) {
      const key = strValue(g.mem, g.heap, hitKey);
      return key !== null ? `[${JSON.stringify(key)}]` : '[a key]';
    }
  }
  if (g.types.kind[pti] === Kind.List || g.types.kind[pti] === Kind.Tuple) return '[an item]';
  if (g.types.kind[pti] === Kind.Module) return '.__dict__';
  return `(referenced by ${describe(g, parent).text})`;
}

function moduleName(g: ObjectGraph, i: number): string | null {
  if (g.types.kind[g.type[i]!] !== Kind.Module || !g.heap.module) return null;
  const at = g.tracked.address[i]!;
  if (g.heap.module.name !== null) return strValue(g.mem, g.heap, g.mem.u64(at + g.heap.module.name));
  // A 2.7 module's name is only its dict's __name__.
  let name: string | null = null;
  forEachDictEntry(g.mem, g.heap, g.mem.u64(at + g.heap.module.dict), (key, value) => {
    if (strValue(g.mem, g.heap, key, 9) !== '__name__') return false;
    name = strValue(g.mem, g.heap, value);
    return true;
  });
  return name;
}

/** The way up from node `from` to a module or an object referenced from outside. */
function pathUp(g: ObjectGraph, from: number): { chain: number[]; root: string } {
  const chain = [from];
  const seen = new Set(chain);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const cur = chain[0]!;
    const name = moduleName(g, cur);
    if (name !== null) return { chain, root: `module ${name}` };
    const refs = g.referrers(cur).filter((r) => !seen.has(r));
    // A module (or its __dict__) first: that is the path people recognise.
    const pick = refs.find((r) => g.types.kind[g.type[r]!] === Kind.Module) ??
      refs.find((r) => g.referrers(r).some((m) => g.types.kind[g.type[m]!] === Kind.Module)) ?? refs[0];
    if (pick === undefined) {
      return { chain, root: g.gcRefs[cur]! > 0 ? 'referenced from outside the tracked objects (a frame, a C global, an untracked container)' : 'no referrer found' };
    }
    chain.unshift(pick);
    seen.add(pick);
  }
  return { chain, root: `(stopped after ${MAX_DEPTH} steps)` };
}

export function findHolders(g: ObjectGraph, targets: { type: string; module: string | null }[]): Holding[] {
  const out: Holding[] = [];
  for (const target of targets) {
    const ti = g.types.names.findIndex((n, i) => n === target.type && g.types.modules[i] === target.module);
    if (ti < 0) continue;
    const held = new Float64Array(g.n);
    let instances = 0;
    for (let i = 0; i < g.n; i++) {
      g.forEachReferent(i, (j) => {
        if (g.type[j] === ti) held[i]!++;
      });
      if (g.type[i] === ti) instances++;
    }
    if (instances === 0) continue;
    let best = -1;
    for (let i = 0; i < g.n; i++) if (held[i]! > 0 && (best < 0 || held[i]! > held[best]!)) best = i;
    if (best < 0) continue;
    const { chain, root } = pathUp(g, best);
    const holder = describe(g, best);
    const name = typeName(target);
    const lines = [root];
    for (let k = 1; k < chain.length; k++) lines.push(`${step(g, chain[k - 1]!, chain[k]!)} → ${describe(g, chain[k]!).text}`);
    const mod = moduleName(g, chain[0]!);
    const key = chain.length === 3 && mod !== null ? step(g, chain[1]!, chain[2]!) : null;
    const where = key && key.startsWith('["')
      ? `the global \`${JSON.parse(key.slice(1, -1))}\` of module \`${mod}\``
      : `reached from ${root}${chain.length > 1 ? ` through ${chain.length - 1} step${chain.length > 2 ? 's' : ''}` : ''}`;
    out.push({
      type: target.type,
      module: target.module,
      instances,
      held: held[best]!,
      holder: { type: g.types.names[g.type[best]!]!, module: g.types.modules[g.type[best]!]!, address: g.tracked.address[best]!, entries: holder.entries },
      summary: `${held[best]!.toLocaleString('en-US')} of ${instances.toLocaleString('en-US')} ${name} are held by one ${holder.text}: ${where}`,
      path: lines,
    });
  }
  return out;
}

/** Walk a stored dump's core again (gdb is not needed: its heap layout was kept) and find the holders. */
export async function holdersInCore(
  corePath: string, heap: RawHeap, targets: { type: string; module: string | null }[], sysroot?: string,
): Promise<Holding[]> {
  const elf = await readElfCore(corePath);
  const census = await takeCensus(elf, heap, { sysroot });
  const memory = new CoreMemory(elf, { sysroot });
  try {
    return findHolders(new ObjectGraph(memory, heap, census.facts.types, census.facts.tracked, { edges: true }), targets);
  } finally {
    memory.close();
  }
}

/** Types whose growth is worth explaining: the biggest growers the collector tracks, classes first. */
export function growthTargets(diff: DumpDiff, heap: RawHeap, n = 3): { type: string; module: string | null }[] {
  const gcTypes = new Set(heap.types.filter((t) => t.flags & heap.flags.have_gc).map((t) => `${t.module ?? ''}\u0000${t.name}`));
  return diff.types
    .filter((t) => t.bytesDelta > 0 && t.countDelta > 0 && gcTypes.has(`${t.module ?? ''}\u0000${t.type}`))
    .sort((x, y) => Number(y.module !== null) - Number(x.module !== null) || y.bytesDelta - x.bytesDelta)
    .slice(0, n);
}

/** Who holds the growth from dump a to dump b, when b's core is still on disk; else why not. */
export async function holdersOfGrowth(diff: DumpDiff, heap: RawHeap | null): Promise<{ holdings: Holding[]; note: string | null }> {
  const b = diff.b;
  if (!heap) return { holdings: [], note: `who holds the growth: dump ${b.id} was stored without a heap layout this coroner reads (none, or an older one); ingest it again with --force` };
  const targets = growthTargets(diff, heap);
  if (targets.length === 0) return { holdings: [], note: null };
  const file = b.core.file ?? b.core.path;
  if (!existsSync(file)) {
    const kept = b.core.file ? '' : ' (ingest with --keep-cores DIR to keep the copies of archive members and stdin)';
    return { holdings: [], note: `who holds the growth: the core ${b.core.path} is not on disk any more; it is needed to find the holders${kept}` };
  }
  return { holdings: await holdersInCore(file, heap, targets, b.core.sysroot ?? undefined), note: null };
}
