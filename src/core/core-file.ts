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

/** Program headers and notes larger than any real core's: a damaged count, not a size to allocate. */
const MAX_PHNUM = 1 << 20;
const MAX_NOTES_BYTES = 256 << 20;
const PHENTSIZE = 56;
const PN_XNUM = 0xffff;
/** Beyond this a "file size" is a damaged field, not a core cut short (x86-64 user space is 128 TiB). */
const MAX_PLAUSIBLE_END = 1n << 48n;
const U64 = 1n << 64n;

function damaged(path: string, what: string): CoronerError {
  return new CoronerError(`${path}: damaged core: ${what}; the core cannot be read, take it again`, 'bad-core');
}

async function openCore(path: string): Promise<{ fh: FileHandle; size: number }> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new CoronerError(`${path}: a loop of symbolic links; point at the core file itself`, 'symlink-loop');
    if (code === 'EACCES') throw new CoronerError(`${path}: permission denied; make the core readable (cores are often root's: sudo chown)`, 'unreadable');
    throw new CoronerError(`${path}: no such file; give the path of a core file (gcore PID writes core.PID)`, 'not-found');
  }
  if (!info.isFile()) {
    throw new CoronerError(`${path}: not a regular file; give a core file (a folder is ingested with its cores inside)`, 'not-file');
  }
  if (info.size === 0) {
    throw new CoronerError(`${path}: an empty file (0 bytes), not a core; take the core again (pseudo-files such as /proc/PID/mem are not cores: use gcore PID)`, 'not-elf');
  }
  try {
    return { fh: await open(path, 'r'), size: info.size };
  } catch (err) {
    throw unreadable(path, err);
  }
}

function unreadable(path: string, err: unknown): CoronerError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new CoronerError(`${path}: cannot read it (${code}); give a core file on a readable disk`, 'unreadable');
}

/** Parse and check an ELF core. Throws CoronerError naming the file for anything unusable. */
export async function readElfCore(path: string): Promise<ElfCore> {
  const { fh, size } = await openCore(path);
  try {
    return await parseCore(path, size, async (offset, length) => {
      try {
        return await readAt(fh, offset, length);
      } catch (err) {
        throw unreadable(path, err);
      }
    });
  } finally {
    await fh.close();
  }
}

async function parseCore(path: string, size: number, read: (offset: number, length: number) => Promise<Buffer>): Promise<ElfCore> {
  const header = await read(0, 64);
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
  const phoff = header.readBigUInt64LE(32);
  const phentsize = header.readUInt16LE(54);
  if (phentsize !== PHENTSIZE) throw damaged(path, `its program headers are ${phentsize} bytes each (e_phentsize), an x86-64 core's are ${PHENTSIZE}`);
  const phnum = await programHeaderCount(path, header, read);
  if (phnum > MAX_PHNUM) throw damaged(path, `it says it has ${phnum} program headers`);
  const tableEnd = phoff + BigInt(PHENTSIZE * phnum);
  if (tableEnd > BigInt(size)) throw beyondFile(path, 'its program header table', tableEnd, size);
  const table = await read(Number(phoff), PHENTSIZE * phnum);
  if (table.length < PHENTSIZE * phnum) throw truncated(path, Number(tableEnd), size);
  const segments: Segment[] = [];
  const notes: Segment[] = [];
  let needed = 0n;
  let neededBy = '';
  for (let i = 0; i < phnum; i++) {
    const at = i * PHENTSIZE;
    const ptype = table.readUInt32LE(at);
    if (ptype !== PT_LOAD && ptype !== PT_NOTE) continue;
    const offset = table.readBigUInt64LE(at + 8);
    const vaddr = table.readBigUInt64LE(at + 16);
    const filesz = table.readBigUInt64LE(at + 32);
    const memsz = table.readBigUInt64LE(at + 40);
    const which = `program header ${i} (${ptype === PT_LOAD ? 'PT_LOAD' : 'PT_NOTE'})`;
    if (ptype === PT_LOAD && filesz > memsz) throw damaged(path, `${which} holds more bytes in the file (${filesz}) than in memory (${memsz})`);
    if (vaddr + memsz > U64) throw damaged(path, `${which} maps ${memsz} bytes at 0x${vaddr.toString(16)}, past the end of the address space`);
    if (offset + filesz > needed) {
      needed = offset + filesz;
      neededBy = which;
    }
    const seg: Segment = { flags: table.readUInt32LE(at + 4), offset: Number(offset), vaddr: Number(vaddr), filesz: Number(filesz), memsz: Number(memsz) };
    (ptype === PT_LOAD ? segments : notes).push(seg);
  }
  if (needed > BigInt(size)) throw beyondFile(path, neededBy, needed, size);
  if (notes.length === 0) {
    throw new CoronerError(`${path}: an ELF core without notes (no threads, no pid); the core is damaged, take it again`, 'bad-core');
  }
  const core: ElfCore = {
    path, size, segments, pid: 0, signal: 0, lwps: [], fname: '', psargs: '', entry: null, mappedFiles: [],
  };
  for (const note of notes) {
    if (note.filesz > MAX_NOTES_BYTES) throw damaged(path, `its notes say they are ${note.filesz} bytes long`);
    const problem = parseNotes(await read(note.offset, note.filesz), core);
    if (problem) throw damaged(path, problem);
  }
  if (core.lwps.length === 0) {
    throw new CoronerError(`${path}: the core has no thread (no NT_PRSTATUS note); the core is damaged, take it again`, 'bad-core');
  }
  if (core.pid === 0) core.pid = core.lwps[0]!;
  return core;
}

/** e_phnum, or with PN_XNUM the real count that section header 0 keeps in sh_info (cores of many mappings). */
async function programHeaderCount(path: string, header: Buffer, read: (offset: number, length: number) => Promise<Buffer>): Promise<number> {
  const phnum = header.readUInt16LE(56);
  if (phnum !== PN_XNUM) return phnum;
  const shoff = header.readBigUInt64LE(40);
  const section0 = shoff < MAX_PLAUSIBLE_END ? await read(Number(shoff), 64) : Buffer.alloc(0);
  if (section0.length < 64) throw damaged(path, 'it has more than 65534 program headers but no section header that counts them');
  return section0.readUInt32LE(44);
}

/** A part of the core that ends past the file: cut short, or (past any real size) a damaged field. */
function beyondFile(path: string, what: string, end: bigint, size: number): CoronerError {
  if (end >= MAX_PLAUSIBLE_END) return damaged(path, `${what} says its bytes end at byte ${end}, past any real core (this file has ${size})`);
  return truncated(path, Number(end), size);
}

function truncated(path: string, needed: number, size: number): CoronerError {
  return new CoronerError(
    `${path}: truncated core (${size} of ${needed} bytes); it was cut while being written or copied: check the disk space and take or copy it again`,
    'truncated',
  );
}

/** The smallest descriptor of each note coroner reads: a shorter one is damaged. */
const NOTE_MIN: Record<number, [string, number]> = {
  [NT_PRSTATUS]: ['NT_PRSTATUS', 36],
  [NT_PRPSINFO]: ['NT_PRPSINFO', 136],
  [NT_SIGINFO]: ['NT_SIGINFO', 4],
  [NT_FILE]: ['NT_FILE', 16],
};

/** Reads the notes into CORE; returns what is wrong with them, or null. Unknown notes are passed over. */
function parseNotes(buf: Buffer, core: ElfCore): string | null {
  let at = 0;
  while (at + 12 <= buf.length) {
    const namesz = buf.readUInt32LE(at);
    const descsz = buf.readUInt32LE(at + 4);
    const type = buf.readUInt32LE(at + 8);
    const descAt = at + 12 + align4(namesz);
    if (descAt + descsz > buf.length) return `a note at byte ${at} of its notes runs past their end (${buf.length} bytes)`;
    const desc = buf.subarray(descAt, descAt + descsz);
    const min = NOTE_MIN[type];
    if (min && descsz < min[1]) return `its ${min[0]} note is ${descsz} bytes, shorter than the ${min[1]} it must be`;
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
      case NT_FILE: {
        const files = parseFileNote(desc);
        if (typeof files === 'string') return files;
        core.mappedFiles = files;
        break;
      }
    }
    at = descAt + align4(descsz);
  }
  return null;
}

/** The NT_FILE note's mappings, or what is wrong with it. */
function parseFileNote(desc: Buffer): MappedFile[] | string {
  const count = desc.readBigUInt64LE(0);
  const pageSize = desc.readBigUInt64LE(8);
  // Each entry takes 24 bytes and at least the NUL of its name.
  if (count * 25n > BigInt(desc.length - 16)) return `its NT_FILE note lists ${count} mapped files in ${desc.length} bytes, room for ${Math.floor((desc.length - 16) / 25)}`;
  if (pageSize === 0n || pageSize > 1n << 30n || (pageSize & (pageSize - 1n)) !== 0n) return `its NT_FILE note gives a page size of ${pageSize}`;
  let names = 16 + Number(count) * 24;
  const files: MappedFile[] = [];
  for (let i = 0; i < Number(count); i++) {
    const at = 16 + i * 24;
    const nul = desc.indexOf(0, names);
    if (names >= desc.length) return `its NT_FILE note lists ${count} mapped files but names only ${i}`;
    const end = nul === -1 ? desc.length : nul;
    const start = desc.readBigUInt64LE(at);
    const stop = desc.readBigUInt64LE(at + 8);
    if (stop < start) return `its NT_FILE note maps a file from 0x${start.toString(16)} down to 0x${stop.toString(16)}`;
    files.push({
      start: num(start),
      end: num(stop),
      fileOffset: num(desc.readBigUInt64LE(at + 16) * pageSize),
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
