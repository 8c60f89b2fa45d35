// `coroner upload FILE --url URL --token T`: streams a core (or an archive) to `coroner serve`,
// prints the status URL on stdout, and with --wait follows the analysis until it is done.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoronerError } from '../base/errors.js';
import { humanBytes } from '../base/units.js';
import { printable } from '../base/printable.js';
import { DEFAULT_PATIENCE, exchange, type Answer, type Patience } from './http-client.js';
import { UploadProgress } from './upload-progress.js';
import { EXIT_OK } from './exit.js';

export interface UploadArgs {
  file: string;
  url: string;
  token?: string;
  wait: boolean;
  /** Seconds to wait for the connection, and for any byte after it. */
  connectTimeout: number;
  idleTimeout: number;
  /** Seconds --wait waits for the analysis to end. */
  waitTimeout: number;
}

/** Servers that ignore `Expect: 100-continue` get the body after this long anyway (as curl does). */
const CONTINUE_WAIT_MS = 1000;
const POLL_MS = 1000;

export const UPLOAD_DEFAULTS = {
  connectTimeout: DEFAULT_PATIENCE.connectMs / 1000,
  idleTimeout: DEFAULT_PATIENCE.idleMs / 1000,
  /** An analysis takes at most --timeout (300 s) per core on the server, after those queued before it. */
  waitTimeout: 3600,
};

/** The upload URL from what the user gave: the server's base URL, or its /api/cores URL. */
function uploadUrl(given: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CoronerError(`--url ${given}: not a URL; give the server's, e.g. http://host:8080`, 'usage');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CoronerError(`--url ${given}: give an http:// or https:// URL`, 'usage');
  const base = url.pathname.replace(/\/+$/, '');
  url.pathname = `${base.endsWith('/api/cores') ? base : `${base}/api/cores`}/${encodeURIComponent(name)}`;
  return url;
}

/** The file as the body, once the server has said it wants it. */
function sendFile(file: string, progress: UploadProgress): (req: ClientRequest) => void {
  return (req) => {
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      createReadStream(file, { highWaterMark: 1 << 20 })
        .on('data', (chunk) => progress.add(chunk.length))
        .on('error', (err) => req.destroy(new CoronerError(`${file}: cannot read it (${err.message})`, 'read')))
        .pipe(req);
    };
    const fallback = setTimeout(start, CONTINUE_WAIT_MS);
    req.on('continue', start).on('response', () => clearTimeout(fallback)).on('close', () => clearTimeout(fallback));
  };
}

function refusal(file: string, a: Answer): CoronerError {
  if (a.status === 401) return new CoronerError('the server refused the token (check --token or CORONER_TOKEN)', 'unauthorized');
  if (a.status === 413) {
    const max = typeof a.body.max_upload === 'number' ? humanBytes(a.body.max_upload) : 'its --max-upload';
    return new CoronerError(`${file}: the file is larger than the server accepts (${max})`, 'too-large');
  }
  return new CoronerError(`${file}: the server answered ${a.status}: ${a.body.error ?? 'no reason given'}`, 'refused');
}

async function waitUntilAnalyzed(file: string, statusUrl: string, token: string, patience: Patience, waitMs: number): Promise<Answer['body']> {
  const url = new URL(statusUrl);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const a = await exchange(url, { method: 'GET', headers: { Authorization: `Bearer ${token}` } }, (req) => req.end(), patience);
    if (a.status !== 200) throw new CoronerError(`${statusUrl}: the server answered ${a.status}: ${a.body.error ?? 'no reason given'}`, 'status');
    if (a.body.status === 'done' || a.body.status === 'failed') return a.body;
    if (Date.now() + POLL_MS > deadline) {
      throw new CoronerError(
        `${file}: the analysis had not ended after ${waitMs / 1000} s (still ${printable(String(a.body.status))}); it goes on on the server: follow ${statusUrl}, or raise --wait-timeout`,
        'wait-timeout',
      );
    }
    await sleep(POLL_MS);
  }
}

function seconds(flag: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new CoronerError(`--${flag} ${value}: give a number of seconds above 0`, 'usage');
  return value * 1000;
}

export async function uploadCommand(a: UploadArgs): Promise<number> {
  if (!a.token) throw new CoronerError('upload needs the server\'s token: pass --token T or set CORONER_TOKEN', 'usage');
  const patience: Patience = { connectMs: seconds('connect-timeout', a.connectTimeout), idleMs: seconds('idle-timeout', a.idleTimeout) };
  const waitMs = seconds('wait-timeout', a.waitTimeout);
  const info = await stat(a.file).catch(() => null);
  if (!info?.isFile()) throw new CoronerError(`${a.file}: no such file (give a core or an archive of cores)`, 'not-found');
  const name = basename(a.file);
  const url = uploadUrl(a.url, name);
  const progress = new UploadProgress(name, info.size);
  const answer = await exchange(
    url,
    {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${a.token}`,
        'Content-Type': 'application/octet-stream',
        'Content-Length': info.size,
        // The dump's capture time is its core's mtime: the server keeps this one, not the upload's.
        'X-Core-Mtime': info.mtime.toISOString(),
        // Lets the server refuse (token, size) before any byte of a large core is sent.
        Expect: '100-continue',
      },
    },
    sendFile(a.file, progress),
    patience,
  );
  if (answer.status !== 202) throw refusal(a.file, answer);
  progress.finish();
  const statusUrl = String(answer.body.status_url);
  console.log(statusUrl);
  if (!a.wait) return EXIT_OK;
  const final = await waitUntilAnalyzed(a.file, statusUrl, a.token, patience, waitMs);
  if (final.status === 'failed') throw new CoronerError(`${a.file}: the analysis failed: ${final.error ?? 'no reason given'}`, 'analysis');
  const dumps = (final.dumps as number[]).join(', ');
  console.log(`done: dump${(final.dumps as number[]).length === 1 ? '' : 's'} ${dumps}${final.error ? ` (some cores failed: ${printable(String(final.error))})` : ''}`);
  return EXIT_OK;
}
