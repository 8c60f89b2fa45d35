// The layers of src/, bottom first, and the rule between them: a module imports only from its own
// folder or from a folder of a lower layer, and no chain of imports comes back to where it began.
// Folders on one line are siblings: neither imports the other.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const LAYERS: string[][] = [
  ['base'],
  ['model'],
  ['core'],
  ['cpython', 'allocators'],
  ['census', 'threads', 'extract', 'tasks'],
  ['memory'],
  ['diff', 'bundle', 'store'],
  ['inputs'],
  ['pipeline'],
  ['format'],
  ['report'],
  ['server'],
  ['cli'],
];

export interface Import {
  /** Importing file and imported file, relative to the src folder, as .ts. */
  from: string;
  to: string;
  line: number;
}

export interface Violation {
  kind: 'upward' | 'sibling' | 'unknown-folder' | 'cycle';
  text: string;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every relative import (static, dynamic, type-only, and worker URLs) of every .ts file under src. */
export function readImports(src: string): Import[] {
  const imports: Import[] = [];
  const spec = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)'(\.{1,2}\/[^']+)'/g;
  for (const file of sources(src)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      for (const m of text.matchAll(spec)) {
        const target = resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts');
        imports.push({ from: relative(src, file), to: relative(src, target), line: i + 1 });
      }
    });
  }
  return imports;
}

const folderOf = (file: string): string => (file.includes('/') ? file.split('/')[0]! : '.');

/** What breaks the layering: upward or sideways imports between folders, and import cycles between files. */
export function checkLayers(imports: Import[], layers: string[][] = LAYERS): Violation[] {
  const rank = new Map<string, number>();
  layers.forEach((folders, i) => folders.forEach((f) => rank.set(f, i)));
  const out: Violation[] = [];
  for (const imp of imports) {
    const a = folderOf(imp.from);
    const b = folderOf(imp.to);
    if (a === b) continue;
    const ra = rank.get(a);
    const rb = rank.get(b);
    const where = `src/${imp.from}:${imp.line} imports src/${imp.to}`;
    if (ra === undefined || rb === undefined) {
      out.push({ kind: 'unknown-folder', text: `${where}: folder ${ra === undefined ? a : b} is in no layer (scripts/lib/layers.ts)` });
    } else if (rb > ra) {
      out.push({ kind: 'upward', text: `${where}: ${a} (layer ${ra}) imports upward from ${b} (layer ${rb})` });
    } else if (rb === ra) {
      out.push({ kind: 'sibling', text: `${where}: ${a} and ${b} are siblings in one layer and must not import each other` });
    }
  }
  for (const cycle of fileCycles(imports)) out.push({ kind: 'cycle', text: `import cycle: ${cycle.map((f) => `src/${f}`).join(' -> ')}` });
  return out;
}

/** Each cycle of imports between files, once, as a path that ends where it starts. */
export function fileCycles(imports: Import[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    if (!next.has(from)) next.set(from, new Set());
    next.get(from)!.add(to);
  }
  // Tarjan's strongly connected components; a component of more than one file holds a cycle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || next.get(v)?.has(v)) cycles.push(pathWithin(new Set(component), v, next));
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A cycle through `start` inside one component, found breadth first. */
function pathWithin(component: Set<string>, start: string, next: Map<string, Set<string>>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of next.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
