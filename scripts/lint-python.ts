// `npm run lint:py`: ruff (compiled to WebAssembly, from npm) over coroner's Python: the script
// gdb runs, the fixture workloads, the bench helpers and the gdb script's unittests. Prints
// `path:line:col code message` per finding and exits 1 when there is any.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { packageRoot } from '../src/base/paths.js';

const ROOTS = ['src/extract/gdb', 'fixtures', 'scripts', 'test/unit/python'];

export function pythonFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '__pycache__' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.py')) out.push(path);
    }
  };
  for (const r of ROOTS) walk(join(root, r));
  return out.sort();
}

/**
 * The modules the linted folders define (a file's name, or its package's): ruff's check of one
 * text does not know where the text lies, so isort is told which imports are ours.
 */
function firstParty(files: string[]): string[] {
  const names = new Set<string>();
  for (const f of files) {
    const name = basename(f, '.py');
    if (name === '__init__') names.add(basename(join(f, '..')));
    else names.add(name);
  }
  return [...names].sort();
}

export interface Finding {
  path: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

export function lintPython(root: string = packageRoot): Finding[] {
  const files = pythonFiles(root);
  const workspace = new Workspace(
    {
      'line-length': 140,
      'target-version': 'py39',
      lint: {
        select: ['E', 'F', 'W', 'B', 'BLE', 'I'],
        // As the code is written: one `from m import A, B as C` line a module, modules in name
        // order whether imported with `import` or `from`.
        isort: { 'known-first-party': firstParty(files), 'combine-as-imports': true, 'force-sort-within-sections': true },
      },
    },
    PositionEncoding.Utf16,
  );
  const findings: Finding[] = [];
  for (const file of files) {
    const diagnostics = workspace.check(readFileSync(file, 'utf8')) as {
      code: string | null;
      message: string;
      start_location: { row: number; column: number };
    }[];
    for (const d of diagnostics) {
      findings.push({
        path: relative(root, file),
        line: d.start_location.row,
        column: d.start_location.column,
        code: d.code ?? 'syntax',
        message: d.message,
      });
    }
  }
  return findings.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const findings = lintPython();
  for (const f of findings) console.log(`${f.path}:${f.line}:${f.column} ${f.code} ${f.message}`);
  if (findings.length) {
    console.error(`${findings.length} finding(s) (ruff ${Workspace.version()})`);
    process.exit(1);
  }
}
