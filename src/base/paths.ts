// Where coroner's own files are, found from this module rather than the working directory,
// so the CLI works from anywhere (and from dist/ after a build).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`coroner: package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
export const templatesDir = join(packageRoot, 'templates');
/** The Python package that runs inside gdb. */
export const gdbScriptDir = join(packageRoot, 'src', 'extract', 'gdb');
