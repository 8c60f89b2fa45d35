// What `coroner pack` needs to know of an ELF file (an executable, a library, a debug file):
// its GNU build-id (from the notes its program headers point at), its program interpreter, and
// the dwz "alternate" debug file a separate debug file may refer to (.gnu_debugaltlink).
import { open, type FileHandle } from 'node:fs/promises';

const PT_INTERP = 3;
const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;

export interface ElfIds {
  buildId: string | null;
  interp: string | null;
  altlink: { path: string; buildId: string } | null;
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/** The GNU build-id in a block of ELF notes, as hex; null when there is none. */
export function buildIdIn(notes: Buffer): string | null {
  for (let at = 0; at + 12 <= notes.length; ) {
    const namesz = notes.readUInt32LE(at);
    const descsz = notes.readUInt32LE(at + 4);
    const type = notes.readUInt32LE(at + 8);
    const descAt = at + 12 + ((namesz + 3) & ~3);
    if (descAt + descsz > notes.length) break;
    if (type === NT_GNU_BUILD_ID && notes.toString('latin1', at + 12, at + 15) === 'GNU') {
      return notes.toString('hex', descAt, descAt + descsz);
    }
    at = descAt + ((descsz + 3) & ~3);
  }
  return null;
}

/** The ids of a 64-bit little-endian ELF file; null for anything else (data files are mapped too). */
export async function readElfIds(path: string): Promise<ElfIds | null> {
  const fh = await open(path, 'r');
  try {
    const h = await readAt(fh, 0, 64);
    if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return null;
    const ids: ElfIds = { buildId: null, interp: null, altlink: null };
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const table = await readAt(fh, phoff, phentsize * h.readUInt16LE(56));
    for (let at = 0; at + 56 <= table.length; at += phentsize) {
      const type = table.readUInt32LE(at);
      const offset = Number(table.readBigUInt64LE(at + 8));
      const filesz = Number(table.readBigUInt64LE(at + 32));
      if (type === PT_NOTE && !ids.buildId) ids.buildId = buildIdIn(await readAt(fh, offset, Math.min(filesz, 1 << 16)));
      if (type === PT_INTERP) ids.interp = (await readAt(fh, offset, Math.min(filesz, 4096))).toString('utf8').replace(/\0.*$/s, '');
    }
    ids.altlink = await altlinkOf(fh, h);
    return ids;
  } finally {
    await fh.close();
  }
}

async function altlinkOf(fh: FileHandle, h: Buffer): Promise<ElfIds['altlink']> {
  const shoff = Number(h.readBigUInt64LE(40));
  const shentsize = h.readUInt16LE(58);
  const shnum = h.readUInt16LE(60);
  const shstrndx = h.readUInt16LE(62);
  if (shoff === 0 || shnum === 0 || shstrndx >= shnum) return null;
  const table = await readAt(fh, shoff, shentsize * shnum);
  const section = (i: number): { name: number; offset: number; size: number } => ({
    name: table.readUInt32LE(i * shentsize),
    offset: Number(table.readBigUInt64LE(i * shentsize + 24)),
    size: Number(table.readBigUInt64LE(i * shentsize + 32)),
  });
  if (table.length < shentsize * shnum) return null;
  const strtab = section(shstrndx);
  const names = await readAt(fh, strtab.offset, Math.min(strtab.size, 1 << 20));
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (names.toString('latin1', s.name, s.name + 18) !== '.gnu_debugaltlink\0') continue;
    const body = await readAt(fh, s.offset, Math.min(s.size, 8192));
    const nul = body.indexOf(0);
    if (nul <= 0) return null;
    return { path: body.toString('utf8', 0, nul), buildId: body.toString('hex', nul + 1) };
  }
  return null;
}
