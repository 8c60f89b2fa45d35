// How much one archive may unpack: a ceiling on the bytes of the cores it holds (--max-unpacked),
// and the free space of the disk they are written to, looked at before each member and again as
// each chunk is written. A member that would go beyond either fails on its own, with one line of
// what it needed and what there was; the members after it still get their turn.
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CoronerError } from '../base/errors.js';
import { humanBytes } from '../base/units.js';

/** A decompression bomb's 3 GiB entry in a 3 MB archive is refused at this by default. */
export const DEFAULT_MAX_UNPACKED = 64e9;

/** Free space kept for everything else on the disk: this much, or 2% of a small disk. */
const RESERVE = 64 << 20;
const RESERVE_FRACTION = 0.02;

function freeSpace(dir: string): { free: number; reserve: number } {
  const s = statfsSync(dir);
  return { free: s.bavail * s.bsize, reserve: Math.min(RESERVE, s.blocks * s.bsize * RESERVE_FRACTION) };
}

export class UnpackBudget {
  private used = 0;

  constructor(
    /** The folder members are written to. */
    private readonly dir: string,
    private readonly max = DEFAULT_MAX_UNPACKED,
  ) {}

  /**
   * The check for one member of SIZE bytes (as its header says; null when unknown), to run before
   * each chunk with the member's bytes it would reach; it throws when the member must stop.
   * Before any byte: the ceiling for the declared size, and a disk not already full (not the
   * whole size against the free space: a core's zero pages take none, as holes).
   */
  member(size: number | null): (reach: number) => void {
    this.withinCeiling(size ?? 0, size);
    this.roomFor(0, 0, size);
    let before = 0;
    return (reach) => {
      this.withinCeiling(reach, size);
      this.roomFor(reach - before, before, size);
      before = reach;
    };
  }

  private withinCeiling(reach: number, size: number | null): void {
    if (this.used + reach <= this.max) return;
    const it = size === null ? 'it goes' : `it is ${humanBytes(size)}, which goes`;
    throw new CoronerError(
      `not unpacked: ${it} beyond --max-unpacked ${humanBytes(this.max)} for one archive (${humanBytes(this.used)} unpacked before it); raise --max-unpacked if the archive is trusted`,
      'max-unpacked',
    );
  }

  /** Whether NEXT more bytes fit, WRITTEN of the member being on disk already. */
  private roomFor(next: number, written: number, size: number | null): void {
    const { free, reserve } = freeSpace(this.dir);
    if (free - next >= reserve) return;
    const needs = size === null ? '' : ` it needs ${humanBytes(size)} and`;
    throw new CoronerError(
      `not unpacked:${needs} only ${humanBytes(free)} is free on ${tmpdir()} (${humanBytes(written)} of it written when it stopped); free space there, or set TMPDIR to a larger disk`,
      'no-space',
    );
  }

  /** A member written whole: its bytes count against the ceiling. */
  spent(bytes: number): void {
    this.used += bytes;
  }
}
