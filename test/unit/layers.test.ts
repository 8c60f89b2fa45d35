// The layering of src/ (scripts/lib/layers.ts) holds for the real tree, and the checker itself
// catches an upward import, a sideways one and a cycle planted in a small tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../src/base/paths.js';
import { LAYERS, checkLayers, readImports } from '../../scripts/lib/layers.js';

test('src/ imports only downward, with no cycles', () => {
  const imports = readImports(join(packageRoot, 'src'));
  assert.ok(imports.length > 100, `only ${imports.length} imports read: the parser missed them`);
  assert.deepEqual(checkLayers(imports).map((v) => v.text), []);
});

test('every folder of src/ is in a layer', () => {
  const folders = new Set(readImports(join(packageRoot, 'src')).map((i) => i.from.split('/')[0]!));
  const known = new Set(LAYERS.flat());
  assert.deepEqual([...folders].filter((f) => !known.has(f)), []);
});

function plant(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'coroner-layers-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('the checker names a planted upward import, a sideways one and a cycle', () => {
  const dir = plant({
    'core/core-file.ts': "import { Census } from '../census/census.js';\n",
    'census/census.ts': "export class Census {}\nimport type { X } from '../threads/locks.js';\n",
    'threads/locks.ts': "export type X = 1;\n",
    'memory/a.ts': "import './b.js';\n",
    'memory/b.ts': "import { a } from './a.js';\n",
    'cli/main.ts': "import { core } from '../core/core-file.js';\nconst w = new URL('./worker.js', import.meta.url);\n",
  });
  try {
    const found = checkLayers(readImports(dir)).map((v) => v.text);
    assert.deepEqual(found, [
      'src/core/core-file.ts:1 imports src/census/census.ts: core (layer 2) imports upward from census (layer 4)',
      'src/census/census.ts:2 imports src/threads/locks.ts: census and threads are siblings in one layer and must not import each other',
      'import cycle: src/memory/a.ts -> src/memory/b.ts -> src/memory/a.ts',
    ].sort((a, b) => found.indexOf(a) - found.indexOf(b)));
    assert.equal(found.length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
