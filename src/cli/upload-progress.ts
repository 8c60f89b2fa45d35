// How far an upload is: on a terminal one line redrawn in place (bytes sent of total, rate); in a
// log or a CI job a plain line at every quarter, so the output stays readable there.
import { humanBytes, seconds } from '../base/units.js';

const REDRAW_MS = 100;

export class UploadProgress {
  private sent = 0;
  private readonly started = performance.now();
  private lastDraw = 0;
  private quarter = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  add(bytes: number): void {
    // Nothing is said before the first byte goes, so a refused upload prints only the refusal.
    if (this.sent === 0 && !this.out.isTTY) this.out.write(`sending ${this.label} (${humanBytes(this.total)})\n`);
    this.sent += bytes;
    if (this.out.isTTY) {
      const now = performance.now();
      if (now - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = now;
      this.out.write(`\r\x1b[Ksending ${this.label}: ${this.line()}`);
    } else {
      const quarter = Math.floor((4 * this.sent) / Math.max(1, this.total));
      if (quarter > this.quarter && quarter < 4) this.out.write(`  ${this.line()}\n`);
      this.quarter = quarter;
    }
  }

  /** The closing line, in place of the live one. */
  finish(): void {
    const elapsed = performance.now() - this.started;
    this.out.write(`${this.out.isTTY ? '\r\x1b[K' : ''}sent ${this.label}: ${humanBytes(this.sent)} in ${seconds(elapsed)} (${this.rate()})\n`);
  }

  private rate(): string {
    const s = (performance.now() - this.started) / 1000;
    return `${humanBytes(s > 0 ? Math.round(this.sent / s) : 0)}/s`;
  }

  private line(): string {
    const pct = this.total > 0 ? Math.floor((100 * this.sent) / this.total) : 100;
    return `${humanBytes(this.sent)} of ${humanBytes(this.total)} (${pct}%) at ${this.rate()}`;
  }
}
