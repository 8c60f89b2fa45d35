// The source line of each Python frame, read at ingest from the file the frame names when this
// machine has it (under the sysroot when one is given, as a bundle's files are), and stored with
// the frame: the store then shows it wherever the dump goes. The paths come from an untrusted core,
// so only regular .py files of a sane size are read, never a device or a file outside the sysroot.
// A file of this machine changed after the core was taken is not trusted to hold the same lines
// (a sysroot is the core's machine as it was, and is).
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import type { Thread } from '../model/types.js';

const MAX_FILE = 8 << 20;
const MAX_LINE = 400;

/** Where FILE (a path in the core's machine) is on this one, or null when it must not be read. */
function localPath(file: string, sysroot: string | null): string | null {
  if (!isAbsolute(file) || !/\.pyw?$/.test(file) || file.includes('\0')) return null;
  if (sysroot === null) return normalize(file);
  try {
    // Through symbolic links too: a link in the sysroot must not lead out of it.
    const root = realpathSync(resolve(sysroot));
    const inside = realpathSync(resolve(join(root, normalize(file))));
    return inside.startsWith(`${root}/`) ? inside : null;
  } catch {
    return null;
  }
}

export class SourceLines {
  private readonly files = new Map<string, string[] | null>();

  constructor(private readonly sysroot: string | null, private readonly takenAt: Date | null) {}

  /** The stripped text of LINE (1-based) in FILE, or null when the file cannot be read or has no such line. */
  line(file: string, line: number): string | null {
    if (!this.files.has(file)) this.files.set(file, this.read(file));
    const text = this.files.get(file)?.[line - 1]?.trim();
    if (!text) return null;
    return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}...` : text;
  }

  private read(file: string): string[] | null {
    const path = localPath(file, this.sysroot);
    if (path === null) return null;
    try {
      const st = statSync(path);
      if (!st.isFile() || st.size > MAX_FILE) return null;
      if (this.sysroot === null && this.takenAt && st.mtime > this.takenAt) return null;
      return readFileSync(path, 'utf8').split(/\r\n|\r|\n/);
    } catch {
      return null;
    }
  }
}

/** Fills each Python frame's source (null where the file was not there). */
export function addSourceLines(threads: Thread[], sysroot: string | null, takenAt: string): void {
  const when = new Date(takenAt);
  const lines = new SourceLines(sysroot, Number.isNaN(when.getTime()) ? null : when);
  for (const t of threads) for (const f of t.pythonFrames) f.source = lines.line(f.file, f.line);
}
