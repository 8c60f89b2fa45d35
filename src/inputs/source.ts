// A core to analyze, as the inputs give it: the file to read (the user's own, or a temporary copy
// of an archive member or of standard input) and the name the user knows it by.
import { CoronerError } from '../base/errors.js';

export interface CoreSource {
  /** The file gdb and coroner read. */
  path: string;
  /** What lines and the database show: the core's path, "ARCHIVE:ENTRY", or "stdin". */
  name: string;
  /** Capture time when the input says it (a tar entry's mtime); else the file's mtime. */
  takenAt?: string;
  /** A bundle's own files, as gdb's sysroot and debug-file directory. */
  sysroot?: string;
  debugDir?: string;
  /** Temporary paths other than `path`, and how lines show them (a bundle's sysroot). */
  aliases?: [string, string][];
  /** The core's sha256 when it was computed as the core was copied out. */
  sha256?: string;
  /** True when path is a temporary copy, whose bytes were counted as they were copied. */
  copied?: boolean;
  /** A file or folder of the scratch space (the copy, a bundle's files), removed once the core is analyzed. */
  temporary?: string;
}

/** What expanding the inputs yields: a core to analyze, or an input (or entry) that cannot be. */
export type InputItem = { source: CoreSource } | { problem: { name: string; error: CoronerError } };

export function problem(name: string, message: string, kind: string): InputItem {
  return { problem: { name, error: new CoronerError(`${name}: ${message}`, kind) } };
}
