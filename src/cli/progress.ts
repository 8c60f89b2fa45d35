// What `coroner ingest` prints while it works. On a terminal: one line that keeps being redrawn
// (cores done of found, the cores in gdb, bytes read), with each core's outcome line printed
// above it as it finishes. Elsewhere (CI, pipes, files): the outcome lines only.
import type { IngestStatus } from '../pipeline/status.js';
import { humanBytes } from '../base/units.js';
import { printable } from '../base/printable.js';

const REDRAW_MS = 100;

export interface ProgressDisplay {
  line: (text: string, toStderr: boolean) => void;
  status: (status: Readonly<IngestStatus>) => void;
  end: () => void;
}

export function statusLine(s: Readonly<IngestStatus>, width: number): string {
  const total = `${s.total}${s.totalKnown ? '' : '+'}`;
  const more = s.current.length > 1 ? ` (+${s.current.length - 1} more)` : '';
  const now = s.current.length > 0 ? `analyzing ${printable(s.current[0]!)}${more}` : s.totalKnown ? 'done' : 'reading the inputs';
  const text = `[${s.done}/${total}] ${humanBytes(s.bytesRead)} read, ${now}`;
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

export function progressDisplay(stderr: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  const plain: ProgressDisplay = {
    line: (text, toStderr) => (toStderr ? console.error : console.log)(text),
    status: () => {},
    end: () => {},
  };
  if (!stderr.isTTY || process.env.CI) return plain;
  let shown = '';
  let last: Readonly<IngestStatus> | null = null;
  let drawnAt = 0;
  let timer: NodeJS.Timeout | null = null;
  const draw = (): void => {
    if (!last) return;
    shown = statusLine(last, (stderr.columns || 80) - 1);
    stderr.write(`\r\x1b[2K${shown}`);
    drawnAt = Date.now();
  };
  const clear = (): void => {
    if (shown) stderr.write('\r\x1b[2K');
    shown = '';
  };
  return {
    line: (text, toStderr) => {
      clear();
      plain.line(text, toStderr);
      draw();
    },
    status: (s) => {
      last = s;
      if (timer) return;
      // At most one redraw per REDRAW_MS, and the latest status always drawn in the end.
      timer = setTimeout(() => {
        timer = null;
        draw();
      }, Math.max(0, drawnAt + REDRAW_MS - Date.now()));
    },
    end: () => {
      if (timer) clearTimeout(timer);
      timer = null;
      last = null;
      clear();
    },
  };
}
