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
import { exchange, type Answer } from './http-client.js';
import { UploadProgress } from './upload-progress.js';
import { EXIT_OK } from './exit.js';

export interface UploadArgs {
  file: string;
  url: string;
  token?: string;
  wait: boolean;
}

/** Servers that ignore `Expect: 100-continue` get the body after this long anyway (as curl does). */
const CONTINUE_WAIT_MS = 1000;
const POLL_MS = 1000;

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

async function waitUntilAnalyzed(statusUrl: string, token: string): Promise<Answer['body']> {
  const url = new URL(statusUrl);
  for (;;) {
    const a = await exchange(url, { method: 'GET', headers: { Authorization: `Bearer ${token}` } }, (req) => req.end());
    if (a.status !== 200) throw new CoronerError(`${statusUrl}: the server answered ${a.status}: ${a.body.error ?? 'no reason given'}`, 'status');
    if (a.body.status === 'done' || a.body.status === 'failed') return a.body;
    await sleep(POLL_MS);
  }
}

export async function uploadCommand(a: UploadArgs): Promise<number> {
  if (!a.token) throw new CoronerError('upload needs the server\'s token: pass --token T or set CORONER_TOKEN', 'usage');
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
  );
  if (answer.status !== 202) throw refusal(a.file, answer);
  progress.finish();
  const statusUrl = String(answer.body.status_url);
  console.log(statusUrl);
  if (!a.wait) return EXIT_OK;
  const final = await waitUntilAnalyzed(statusUrl, a.token);
  if (final.status === 'failed') throw new CoronerError(`${a.file}: the analysis failed: ${final.error ?? 'no reason given'}`, 'analysis');
  const dumps = (final.dumps as number[]).join(', ');
  console.log(`done: dump${(final.dumps as number[]).length === 1 ? '' : 's'} ${dumps}${final.error ? ` (some cores failed: ${printable(String(final.error))})` : ''}`);
  return EXIT_OK;
}
