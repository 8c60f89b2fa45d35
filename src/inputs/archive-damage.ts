// What went wrong while reading an archive, as the words of one line: the archive cut short or
// corrupt (zlib's and tar-stream's errors), the disk it is unpacked to full, or the file unreadable.
// Only what is none of these is a bug of coroner's.
import { tmpdir } from 'node:os';
import { CoronerError, errorLine } from '../base/errors.js';

export interface ArchiveFailure {
  /** Whether the archive itself is at fault (damaged), rather than the machine. */
  damaged: boolean;
  /** What happened, to follow "NAME: ". */
  what: string;
  kind: string;
}

const CHECK = 'check that it was written and copied whole';

/** The words for ERR, met while reading archive input (AFTER names the last good member, or ''). */
export function archiveFailure(err: unknown, after: string): ArchiveFailure {
  const at = after ? ` after ${after}` : '';
  if (err instanceof CoronerError) return { damaged: false, what: err.message, kind: err.kind };
  const e = err as NodeJS.ErrnoException;
  const message = e instanceof Error ? e.message : String(err);
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') {
    return { damaged: false, what: `no space left on ${tmpdir()} to unpack it${at}; free space there, or set TMPDIR to a larger disk`, kind: 'no-space' };
  }
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) {
    return { damaged: true, what: `damaged archive${at}: its gzip data is cut short; ${CHECK}`, kind: 'bad-archive' };
  }
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return { damaged: true, what: `damaged archive${at}: its gzip data is corrupt (${message}); ${CHECK}`, kind: 'bad-archive' };
  }
  if (/^Unexpected end of data/.test(message)) {
    return { damaged: true, what: `damaged archive${at}: its tar data is cut short; ${CHECK}`, kind: 'bad-archive' };
  }
  if (/^Invalid (tar )?header|^Header exceeds max size/.test(message)) {
    return { damaged: true, what: `damaged archive${at}: a tar header is corrupt (a bad checksum or field); ${CHECK}`, kind: 'bad-archive' };
  }
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    return { damaged: false, what: `cannot read it${at} (${e.code}); check the disk it is on`, kind: 'unreadable' };
  }
  return { damaged: true, what: `damaged archive${at}: ${errorLine(err)}`, kind: 'bad-archive' };
}
