// Where coroner's own files are, found from this module rather than the working directory,
// so the CLI works from anywhere (and from dist/ after a build).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
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

/** The path of program NAME as PATH finds it (NAME itself when it holds a '/'), or null. */
export function findProgram(name: string): string | null {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => join(dir, name));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      // not there, or not a program
    }
  }
  return null;
}
