// The build-id of a mapped ELF file as the core's own memory shows it: the ELF header and program
// headers at the start of its first mapping (the kernel and gcore dump that page), and the note
// a PT_NOTE header points at. Read from the bytes the core holds only, never from the file on
// disk: it is what a file on this machine must match to be taken as the one the process mapped.
import type { ElfCore } from '../core/core-file.js';
import { CoreMemory } from '../core/core-memory.js';
import { buildIdIn } from './elf-ids.js';

const PT_NOTE = 4;
const MAX_PHNUM = 256;

export class MappedBuildIds {
  private readonly memory: CoreMemory;

  constructor(private readonly core: ElfCore) {
    // Without its mapped files: what fills a gap from a file on disk would only repeat that file.
    this.memory = new CoreMemory({ ...core, mappedFiles: [] });
  }

  close(): void {
    this.memory.close();
  }

  /** The build-id the core's memory shows for PATH; null when the core does not show one. */
  of(path: string): string | null {
    const first = this.core.mappedFiles.find((m) => m.path === path && m.fileOffset === 0);
    if (!first) return null;
    const header = this.memory.read(first.start, 64);
    if (!header || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return null;
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    if (phentsize !== 56 || phnum > MAX_PHNUM) return null;
    const table = this.memory.read(first.start + phoff, phentsize * phnum);
    if (!table) return null;
    for (let at = 0; at < table.length; at += phentsize) {
      if (table.readUInt32LE(at) !== PT_NOTE) continue;
      // The notes at their file offset, which the first mapping holds from its start.
      const offset = Number(table.readBigUInt64LE(at + 8));
      const size = Math.min(Number(table.readBigUInt64LE(at + 32)), 1 << 16);
      if (offset + size > first.end - first.start) continue;
      const notes = this.memory.read(first.start + offset, size);
      const id = notes ? buildIdIn(notes) : null;
      if (id) return id;
    }
    return null;
  }
}
