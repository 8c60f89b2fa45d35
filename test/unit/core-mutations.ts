// Damage done to the bytes of an ELF core (a fake one or a copy of a real one), as a hostile or
// broken producer would: program header fields, notes cut short or lying about their counts,
// random note bytes. Each mutation changes a copy in place and says what it did.
export const NT_PRSTATUS = 1;
export const NT_FILE = 0x46494c45;
const PT_LOAD = 1;
const PT_NOTE = 4;

interface NoteSpan {
  /** Offset of the note's header in the file. */
  at: number;
  type: number;
  descAt: number;
  descsz: number;
}

function programHeaders(core: Buffer): { at: number; type: number }[] {
  const phoff = Number(core.readBigUInt64LE(32));
  return Array.from({ length: core.readUInt16LE(56) }, (_, i) => ({ at: phoff + i * 56, type: core.readUInt32LE(phoff + i * 56) }));
}

function firstHeader(core: Buffer, type: number): number {
  const found = programHeaders(core).find((p) => p.type === type);
  if (!found) throw new Error(`no program header of type ${type}`);
  return found.at;
}

/** The notes of the first PT_NOTE segment. */
export function notesOf(core: Buffer): NoteSpan[] {
  const ph = firstHeader(core, PT_NOTE);
  const start = Number(core.readBigUInt64LE(ph + 8));
  const end = start + Number(core.readBigUInt64LE(ph + 32));
  const notes: NoteSpan[] = [];
  for (let at = start; at + 12 <= end;) {
    const namesz = core.readUInt32LE(at);
    const descsz = core.readUInt32LE(at + 4);
    const descAt = at + 12 + ((namesz + 3) & ~3);
    notes.push({ at, type: core.readUInt32LE(at + 8), descAt, descsz });
    at = descAt + ((descsz + 3) & ~3);
  }
  return notes;
}

function note(core: Buffer, type: number): NoteSpan {
  const found = notesOf(core).find((n) => n.type === type);
  if (!found) throw new Error(`no note of type ${type}`);
  return found;
}

/** A small deterministic generator: the same seed spoils the same bytes. */
export function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

export type Mutation = (core: Buffer) => void;

export const MUTATIONS: Record<string, Mutation> = {
  'e_phentsize 0': (c) => c.writeUInt16LE(0, 54),
  'e_phentsize 8': (c) => c.writeUInt16LE(8, 54),
  'e_phoff past 2^64': (c) => c.writeBigUInt64LE(0xffffffffffff0000n, 32),
  'e_phnum too large': (c) => c.writeUInt16LE(0xfffe, 56),
  'a PT_LOAD offset near 2^64': (c) => c.writeBigUInt64LE(0xfffffffffffff000n, firstHeader(c, PT_LOAD) + 8),
  'a PT_LOAD of 2^64 bytes': (c) => {
    const ph = firstHeader(c, PT_LOAD);
    c.writeBigUInt64LE(0xfffffffffffff000n, ph + 32);
    c.writeBigUInt64LE(0xfffffffffffff000n, ph + 40);
  },
  'a PT_LOAD with more file bytes than memory': (c) => {
    const ph = firstHeader(c, PT_LOAD);
    c.writeBigUInt64LE(c.readBigUInt64LE(ph + 40) + 4096n, ph + 32);
  },
  'NT_FILE counting 2^47 files': (c) => c.writeBigUInt64LE(0x7fffffffffffn, note(c, NT_FILE).descAt),
  'NT_FILE counting a million files': (c) => c.writeBigUInt64LE(1_000_000n, note(c, NT_FILE).descAt),
  'NT_FILE cut to 40 bytes': (c) => c.writeUInt32LE(40, note(c, NT_FILE).at + 4),
  'NT_FILE of page size 0': (c) => c.writeBigUInt64LE(0n, note(c, NT_FILE).descAt + 8),
  'NT_PRSTATUS of 8 bytes': (c) => c.writeUInt32LE(8, note(c, NT_PRSTATUS).at + 4),
  'random note bytes': (c) => {
    const next = random(12345);
    for (const n of notesOf(c)) for (let i = n.descAt; i < n.descAt + n.descsz; i++) c[i] = Math.floor(next() * 256);
  },
  'random notes segment': (c) => {
    const next = random(777);
    const ph = firstHeader(c, PT_NOTE);
    const start = Number(c.readBigUInt64LE(ph + 8));
    const end = start + Number(c.readBigUInt64LE(ph + 32));
    for (let i = start; i < end; i++) c[i] = Math.floor(next() * 256);
  },
};

/** A damaged copy of CORE. */
export function mutated(core: Buffer, mutation: Mutation): Buffer {
  const copy = Buffer.from(core);
  mutation(copy);
  return copy;
}

/**
 * A copy of CORE whose NT_FILE names TO where it named FROM (of the same length: the names are
 * packed one after the other). What the core's memory holds is not changed.
 */
export function renamedMapping(core: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error(`${to}: not of the length of ${from}`);
  const copy = Buffer.from(core);
  const n = note(copy, NT_FILE);
  const desc = copy.subarray(n.descAt, n.descAt + n.descsz);
  const at = desc.indexOf(Buffer.from(`${from}\0`));
  if (at < 0) throw new Error(`${from}: not in the core's NT_FILE`);
  desc.write(to, at);
  return copy;
}

/** A path of exactly LENGTH bytes inside DIR (DIR/x___), for renamedMapping. */
export function pathOfLength(dir: string, name: string, length: number): string {
  const start = `${dir}/${name}`;
  if (start.length > length) throw new Error(`${start}: longer than ${length}`);
  return start.padEnd(length, '_');
}
