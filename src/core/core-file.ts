// Reads what an ELF core says about itself, without gdb: program headers (to check that the
// file is whole) and notes (pid, signal, command line, the mapped files, the auxiliary vector).
import { open, stat, type FileHandle } from 'node:fs/promises';
import { CoronerError } from '../base/errors.js';
import type { MappedFile } from '../model/types.js';

const PT_LOAD = 1;
const PT_NOTE = 4;
const ET_CORE = 4;
const EM_X86_64 = 62;
const NT_PRSTATUS = 1;
const NT_PRPSINFO = 3;
const NT_AUXV = 6;
const NT_FILE = 0x46494c45;
const NT_SIGINFO = 0x53494749;
const AT_ENTRY = 9;

export interface Segment {
  vaddr: number;
  memsz: number;
  offset: number;
  filesz: number;
  flags: number;
}

export interface ElfCore {
  path: string;
  size: number;
  segments: Segment[];
  pid: number;
  signal: number;
  lwps: number[];
  fname: string;
  psargs: string;
  entry: number | null;
  mappedFiles: MappedFile[];
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS',
  8: 'SIGFPE', 9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE',
  14: 'SIGALRM', 15: 'SIGTERM', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP',
  21: 'SIGTTIN', 22: 'SIGTTOU', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};

export function signalName(signal: number): string | null {
  return signal === 0 ? null : SIGNALS[signal] ?? `signal ${signal}`;
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul === -1 || nul > end ? end : nul);
}

const num = (v: bigint): number => Number(v);

/** Parse and check an ELF core. Throws CoronerError naming the file for anything unusable. */
export async function readElfCore(path: string): Promise<ElfCore> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CoronerError(`${path}: no such file; give the path of a core file (gcore PID writes core.PID)`, 'not-found');
  }
  if (!info.isFile()) {
    throw new CoronerError(`${path}: not a regular file; give a core file (a folder is ingested with its cores inside)`, 'not-file');
  }
  const fh = await open(path, 'r');
  try {
    const header = await readAt(fh, 0, 64);
    if (header.length < 64 || header.readUInt32BE(0) !== 0x7f454c46) {
      throw new CoronerError(`${path}: not an ELF core file (no ELF header); take one with 'gcore PID' or gdb's generate-core-file`, 'not-elf');
    }
    if (header[4] !== 2 || header[5] !== 1) {
      throw new CoronerError(`${path}: a 32-bit or big-endian ELF file; coroner reads 64-bit little-endian (x86-64) cores`, 'unsupported');
    }
    const type = header.readUInt16LE(16);
    if (type !== ET_CORE) {
      const what = type === 2 ? 'an executable' : type === 3 ? 'a shared library or PIE executable' : `ELF type ${type}`;
      throw new CoronerError(`${path}: ${what}, not a core file; take a core with 'gcore PID' or gdb's generate-core-file`, 'not-core');
    }
    if (header.readUInt16LE(18) !== EM_X86_64) {
      throw new CoronerError(`${path}: a core of machine type ${header.readUInt16LE(18)}; coroner reads x86-64 cores`, 'unsupported');
    }
    const phoff = num(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = await readAt(fh, phoff, phentsize * phnum);
    if (table.length < phentsize * phnum) throw truncated(path, phoff + phentsize * phnum, info.size);
    const segments: Segment[] = [];
    const notes: Segment[] = [];
    let needed = 0;
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      const seg: Segment = {
        flags: table.readUInt32LE(at + 4),
        offset: num(table.readBigUInt64LE(at + 8)),
        vaddr: num(table.readBigUInt64LE(at + 16)),
        filesz: num(table.readBigUInt64LE(at + 32)),
        memsz: num(table.readBigUInt64LE(at + 40)),
      };
      const ptype = table.readUInt32LE(at);
      if (ptype === PT_LOAD) segments.push(seg);
      if (ptype === PT_NOTE) notes.push(seg);
      needed = Math.max(needed, seg.offset + seg.filesz);
    }
    if (needed > info.size) throw truncated(path, needed, info.size);
    if (notes.length === 0) {
      throw new CoronerError(`${path}: an ELF core without notes (no threads, no pid); the core is damaged, take it again`, 'bad-core');
    }
    const core: ElfCore = {
      path, size: info.size, segments, pid: 0, signal: 0, lwps: [], fname: '', psargs: '', entry: null, mappedFiles: [],
    };
    for (const note of notes) parseNotes(await readAt(fh, note.offset, note.filesz), core);
    if (core.lwps.length === 0) {
      throw new CoronerError(`${path}: the core has no thread (no NT_PRSTATUS note); the core is damaged, take it again`, 'bad-core');
    }
    if (core.pid === 0) core.pid = core.lwps[0]!;
    return core;
  } finally {
    await fh.close();
  }
}

function truncated(path: string, needed: number, size: number): CoronerError {
  return new CoronerError(
    `${path}: truncated core (${size} of ${needed} bytes); it was cut while being written or copied: check the disk space and take or copy it again`,
    'truncated',
  );
}

function parseNotes(buf: Buffer, core: ElfCore): void {
  let at = 0;
  while (at + 12 <= buf.length) {
    const namesz = buf.readUInt32LE(at);
    const descsz = buf.readUInt32LE(at + 4);
    const type = buf.readUInt32LE(at + 8);
    const descAt = at + 12 + align4(namesz);
    if (descAt + descsz > buf.length) break;
    const desc = buf.subarray(descAt, descAt + descsz);
    switch (type) {
      case NT_PRSTATUS:
        // struct elf_prstatus: pr_cursig at 12, pr_pid (the LWP) at 32.
        if (core.lwps.length === 0 && core.signal === 0) core.signal = desc.readInt16LE(12);
        core.lwps.push(desc.readInt32LE(32));
        break;
      case NT_PRPSINFO:
        // struct elf_prpsinfo: pr_pid at 24, pr_fname[16] at 40, pr_psargs[80] at 56.
        core.pid = desc.readInt32LE(24);
        core.fname = cString(desc, 40, 56);
        core.psargs = cString(desc, 56, 136).trim();
        break;
      case NT_SIGINFO:
        if (desc.readInt32LE(0) > 0) core.signal = desc.readInt32LE(0);
        break;
      case NT_AUXV:
        for (let i = 0; i + 16 <= desc.length; i += 16) {
          if (num(desc.readBigUInt64LE(i)) === AT_ENTRY) core.entry = num(desc.readBigUInt64LE(i + 8));
        }
        break;
      case NT_FILE:
        core.mappedFiles = parseFileNote(desc);
        break;
    }
    at = descAt + align4(descsz);
  }
}

function parseFileNote(desc: Buffer): MappedFile[] {
  const count = num(desc.readBigUInt64LE(0));
  const pageSize = num(desc.readBigUInt64LE(8));
  let names = 16 + count * 24;
  const files: MappedFile[] = [];
  for (let i = 0; i < count; i++) {
    const at = 16 + i * 24;
    const nul = desc.indexOf(0, names);
    const end = nul === -1 ? desc.length : nul;
    files.push({
      start: num(desc.readBigUInt64LE(at)),
      end: num(desc.readBigUInt64LE(at + 8)),
      fileOffset: num(desc.readBigUInt64LE(at + 16)) * pageSize,
      path: desc.toString('utf8', names, end),
    });
    names = end + 1;
  }
  return files;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** The executable: the mapped file that holds the entry point, else the first one mapped. */
export function executableOf(core: ElfCore): string | null {
  const entry = core.entry;
  const hit = entry === null ? undefined : core.mappedFiles.find((f) => f.start <= entry && entry < f.end);
  return (hit ?? core.mappedFiles[0])?.path ?? null;
}
