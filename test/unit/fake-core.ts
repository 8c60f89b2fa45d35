// Small ELF64 little-endian x86-64 cores (ET_CORE) built from a description, for the unit tests
// (and later a fuzzer and the CPython decoder tests): a PT_NOTE with the notes the kernel and
// gcore write (NT_PRSTATUS and NT_FPREGSET per thread, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE),
// and PT_LOAD segments holding given bytes. Memory is drawn with Mem, a byte image of an address
// range, which becomes a segment.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export interface FakeSegment {
  vaddr: number;
  /** What the core holds from vaddr on (p_filesz is its length). */
  bytes: Uint8Array;
  /** p_memsz, when larger than the bytes: the rest is a hole the core does not hold. */
  memsz?: number;
  /** PF_R | PF_W by default. */
  flags?: number;
}

export interface FakeMappedFile {
  start: number;
  end: number;
  /** Offset in the file, in bytes (a multiple of 4096: NT_FILE stores it in pages). */
  offset: number;
  path: string;
}

export interface FakeCoreSpec {
  /** One NT_PRSTATUS (and NT_FPREGSET) each, in this order; the first one's signal is pr_cursig. */
  threads?: { lwp: number; signal?: number }[];
  /** NT_PRPSINFO; args are the process's argv, cut and joined as the kernel does (80 bytes). */
  psinfo?: { pid: number; fname: string; args: string[] } | null;
  /** NT_SIGINFO with this si_signo. */
  siginfo?: number;
  /** NT_AUXV with AT_ENTRY = entry (and AT_PAGESZ). */
  entry?: number;
  /** NT_FILE. */
  files?: FakeMappedFile[];
  segments?: FakeSegment[];
  /** No PT_NOTE at all. */
  noNotes?: boolean;
  /** ELF header fields to spoil: EI_CLASS, EI_DATA, e_type, e_machine. */
  header?: { elfClass?: number; data?: number; type?: number; machine?: number };
}

const NT_PRSTATUS = 1;
const NT_FPREGSET = 2;
const NT_PRPSINFO = 3;
const NT_AUXV = 6;
const NT_SIGINFO = 0x53494749;
const NT_FILE = 0x46494c45;
const PAGE = 4096;

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/** One note: namesz, descsz, type, "CORE\0" padded to 4, desc padded to 4. */
function note(type: number, desc: Buffer): Buffer {
  const name = Buffer.from('CORE\0');
  const out = Buffer.alloc(12 + align(name.length, 4) + align(desc.length, 4));
  out.writeUInt32LE(name.length, 0);
  out.writeUInt32LE(desc.length, 4);
  out.writeUInt32LE(type, 8);
  name.copy(out, 12);
  desc.copy(out, 12 + align(name.length, 4));
  return out;
}

function prstatus(lwp: number, signal: number): Buffer {
  const d = Buffer.alloc(336); // struct elf_prstatus on x86-64
  d.writeInt32LE(signal, 0); // pr_info.si_signo
  d.writeInt16LE(signal, 12); // pr_cursig
  d.writeInt32LE(lwp, 32); // pr_pid
  return d;
}

function prpsinfo(p: { pid: number; fname: string; args: string[] }): Buffer {
  const d = Buffer.alloc(136); // struct elf_prpsinfo on x86-64
  d.write('R', 1, 'latin1'); // pr_sname
  d.writeInt32LE(p.pid, 24);
  Buffer.from(p.fname).copy(d, 40, 0, 16);
  // The kernel copies at most 79 bytes of the NUL-separated argv and turns the NULs into spaces.
  const argv = Buffer.from(p.args.map((a) => `${a}\0`).join('')).subarray(0, 79);
  for (let i = 0; i < argv.length; i++) d[56 + i] = argv[i] === 0 ? 0x20 : argv[i]!;
  return d;
}

function auxv(entry: number): Buffer {
  const pairs: [number, number][] = [[6, PAGE], [9, entry], [0, 0]]; // AT_PAGESZ, AT_ENTRY, AT_NULL
  const d = Buffer.alloc(pairs.length * 16);
  pairs.forEach(([k, v], i) => {
    d.writeBigUInt64LE(BigInt(k), i * 16);
    d.writeBigUInt64LE(BigInt(v), i * 16 + 8);
  });
  return d;
}

function fileNote(files: FakeMappedFile[]): Buffer {
  const table = Buffer.alloc(16 + files.length * 24);
  table.writeBigUInt64LE(BigInt(files.length), 0);
  table.writeBigUInt64LE(BigInt(PAGE), 8);
  files.forEach((f, i) => {
    table.writeBigUInt64LE(BigInt(f.start), 16 + i * 24);
    table.writeBigUInt64LE(BigInt(f.end), 24 + i * 24);
    table.writeBigUInt64LE(BigInt(f.offset / PAGE), 32 + i * 24);
  });
  return Buffer.concat([table, ...files.map((f) => Buffer.from(`${f.path}\0`))]);
}

/** The notes of the PT_NOTE segment, in the order Linux writes them. */
function notesOf(spec: FakeCoreSpec): Buffer {
  const threads = spec.threads ?? [{ lwp: 4242 }];
  const parts: Buffer[] = [];
  threads.forEach((t, i) => {
    parts.push(note(NT_PRSTATUS, prstatus(t.lwp, t.signal ?? 0)));
    if (i === 0) {
      if (spec.psinfo) parts.push(note(NT_PRPSINFO, prpsinfo(spec.psinfo)));
      if (spec.siginfo !== undefined) {
        const si = Buffer.alloc(128);
        si.writeInt32LE(spec.siginfo, 0);
        parts.push(note(NT_SIGINFO, si));
      }
      if (spec.entry !== undefined) parts.push(note(NT_AUXV, auxv(spec.entry)));
      if (spec.files) parts.push(note(NT_FILE, fileNote(spec.files)));
    }
    parts.push(note(NT_FPREGSET, Buffer.alloc(512)));
  });
  return Buffer.concat(parts);
}

/** The bytes of the core file. */
export function fakeCoreBytes(spec: FakeCoreSpec): Buffer {
  const segments = spec.segments ?? [];
  const notes = spec.noNotes ? null : notesOf(spec);
  const phnum = (notes ? 1 : 0) + segments.length;
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = spec.header?.elfClass ?? 2; // ELFCLASS64
  header[5] = spec.header?.data ?? 1; // ELFDATA2LSB
  header[6] = 1; // EV_CURRENT
  header.writeUInt16LE(spec.header?.type ?? 4, 16); // ET_CORE
  header.writeUInt16LE(spec.header?.machine ?? 62, 18); // EM_X86_64
  header.writeUInt32LE(1, 20);
  header.writeBigUInt64LE(64n, 32); // e_phoff
  header.writeUInt16LE(64, 52); // e_ehsize
  header.writeUInt16LE(56, 54); // e_phentsize
  header.writeUInt16LE(phnum, 56);

  const phdrs = Buffer.alloc(56 * phnum);
  const body: Buffer[] = [];
  let offset = align(64 + phdrs.length, 8);
  const phdr = (i: number, type: number, flags: number, vaddr: number, filesz: number, memsz: number): void => {
    const at = i * 56;
    phdrs.writeUInt32LE(type, at);
    phdrs.writeUInt32LE(flags, at + 4);
    phdrs.writeBigUInt64LE(BigInt(offset), at + 8);
    phdrs.writeBigUInt64LE(BigInt(vaddr), at + 16);
    phdrs.writeBigUInt64LE(BigInt(filesz), at + 32);
    phdrs.writeBigUInt64LE(BigInt(memsz), at + 40);
    phdrs.writeBigUInt64LE(BigInt(type === 1 ? PAGE : 4), at + 48);
  };
  const place = (bytes: Uint8Array): void => {
    const padded = Buffer.alloc(align(bytes.length, 8));
    padded.set(bytes);
    body.push(padded);
    offset += padded.length;
  };
  let i = 0;
  if (notes) {
    phdr(i++, 4, 0, 0, notes.length, 0); // PT_NOTE
    place(notes);
  }
  for (const s of segments) {
    phdr(i++, 1, s.flags ?? PF_R | PF_W, s.vaddr, s.bytes.length, Math.max(s.memsz ?? 0, s.bytes.length)); // PT_LOAD
    place(s.bytes);
  }
  const start = Buffer.alloc(align(64 + phdrs.length, 8));
  header.copy(start);
  phdrs.copy(start, 64);
  return Buffer.concat([start, ...body]);
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder, removed when the test file's process ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coroner-unit-'));
  made.push(dir);
  return dir;
}

let written = 0;

/** Write a core (built from a spec, or given as bytes) into a temporary folder; returns its path. */
export function writeFakeCore(spec: FakeCoreSpec | Buffer, dir = tempDir()): string {
  const path = join(dir, `core.${++written}`);
  writeFileSync(path, Buffer.isBuffer(spec) ? spec : fakeCoreBytes(spec));
  return path;
}

/** A byte image of [vaddr, vaddr + size) to draw memory in, little-endian. */
export class Mem {
  readonly bytes: Buffer;

  constructor(readonly vaddr: number, size: number) {
    this.bytes = Buffer.alloc(size);
  }

  get end(): number {
    return this.vaddr + this.bytes.length;
  }

  private at(addr: number, length: number): number {
    const off = addr - this.vaddr;
    if (off < 0 || off + length > this.bytes.length) {
      throw new RangeError(`0x${addr.toString(16)} (+${length}) is outside [0x${this.vaddr.toString(16)}, 0x${this.end.toString(16)})`);
    }
    return off;
  }

  u8(addr: number, v: number): this {
    this.bytes.writeUInt8(v, this.at(addr, 1));
    return this;
  }

  u16(addr: number, v: number): this {
    this.bytes.writeUInt16LE(v, this.at(addr, 2));
    return this;
  }

  u32(addr: number, v: number): this {
    this.bytes.writeUInt32LE(v >>> 0, this.at(addr, 4));
    return this;
  }

  /** An unsigned 64-bit word; negative numbers are written as two's complement. */
  u64(addr: number, v: number | bigint): this {
    this.bytes.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.at(addr, 8));
    return this;
  }

  fill(addr: number, length: number, byte: number): this {
    const off = this.at(addr, length);
    this.bytes.fill(byte, off, off + length);
    return this;
  }

  segment(opts: { memsz?: number; flags?: number } = {}): FakeSegment {
    return { vaddr: this.vaddr, bytes: this.bytes, ...opts };
  }
}
