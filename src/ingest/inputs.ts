// What the user named on the command line, turned into the core files to analyze: files as
// they are, folders searched recursively for ELF cores (recognised by their header, not their name).
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CoronerError } from '../errors.js';

export interface Inputs {
  cores: string[];
  /** Inputs that cannot be analyzed at all, with the line to print. */
  problems: { path: string; error: CoronerError }[];
}

async function isElfCore(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(18);
    const { bytesRead } = await fh.read(head, 0, 18, 0);
    return bytesRead === 18 && head.readUInt32BE(0) === 0x7f454c46 && head.readUInt16LE(16) === 4;
  } finally {
    await fh.close();
  }
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path, out);
    else if (e.isFile() && (await isElfCore(path).catch(() => false))) out.push(path);
  }
}

export async function expandInputs(paths: string[]): Promise<Inputs> {
  const inputs: Inputs = { cores: [], problems: [] };
  for (const given of paths) {
    const path = resolve(given);
    const info = await stat(path).catch(() => null);
    if (!info) {
      inputs.problems.push({ path: given, error: new CoronerError(`${given}: no such file or folder`, 'not-found') });
    } else if (info.isDirectory()) {
      const found: string[] = [];
      await walk(path, found);
      if (found.length === 0) {
        inputs.problems.push({ path: given, error: new CoronerError(`${given}: no core files in this folder (cores are ELF files of type CORE)`, 'no-cores') });
      }
      inputs.cores.push(...found);
    } else {
      inputs.cores.push(path);
    }
  }
  inputs.cores = [...new Set(inputs.cores)];
  return inputs;
}
