// One HTTP exchange with a coroner server, over http or https, answered as JSON. Errors of the
// connection become one line that says what to check.
import http, { type ClientRequest } from 'node:http';
import https from 'node:https';
import { CoronerError } from '../base/errors.js';

export interface Answer {
  status: number;
  body: { error?: string; [key: string]: unknown };
}

/** The most of an answer read: the server's answers are small JSON documents. */
const MAX_ANSWER = 1 << 20;

function connectionError(url: URL, err: NodeJS.ErrnoException): CoronerError {
  if (err instanceof CoronerError) return err;
  if (err.code === 'ECONNREFUSED') return new CoronerError(`cannot reach ${url.origin} (connection refused): is coroner serve running there?`, 'connect');
  if (err.code === 'ENOTFOUND') return new CoronerError(`cannot reach ${url.origin}: no such host`, 'connect');
  return new CoronerError(`${url.origin}: the connection broke (${err.code ?? err.message}); try again`, 'connect');
}

/** How long a server may take: to accept the connection, and to show any sign of life after. */
export interface Patience {
  connectMs: number;
  idleMs: number;
}

export const DEFAULT_PATIENCE: Patience = { connectMs: 30_000, idleMs: 120_000 };

/** Times a connection out: CONNECT until it is made, then IDLE without a byte either way. */
function watch(url: URL, req: ClientRequest, patience: Patience, fail: (err: CoronerError) => void): void {
  const giveUp = (err: CoronerError): void => {
    fail(err);
    req.destroy();
  };
  const connectTimer = setTimeout(() => {
    giveUp(new CoronerError(`cannot reach ${url.origin}: no connection within ${patience.connectMs / 1000} s (is the host up, and the port open?); raise --connect-timeout`, 'connect-timeout'));
  }, patience.connectMs);
  connectTimer.unref();
  req.once('socket', (socket) => {
    const connected = (): void => {
      clearTimeout(connectTimer);
      // Counts from the last byte sent or received: a large upload in progress is not idle.
      req.setTimeout(patience.idleMs, () => {
        giveUp(new CoronerError(`${url.origin}: the server sent nothing for ${patience.idleMs / 1000} s; it may be stuck or overloaded: try again later, or raise --idle-timeout`, 'idle-timeout'));
      });
    };
    if (socket.connecting) socket.once('connect', connected);
    else connected();
  });
  req.once('close', () => clearTimeout(connectTimer));
}

/**
 * Send a request (send writes its body and ends it, now or later) and read the answer. Answers
 * as soon as the server does, even if the body is not all sent: a refusal comes early.
 */
export function exchange(url: URL, options: http.RequestOptions, send: (req: ClientRequest) => void, patience = DEFAULT_PATIENCE): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    // No keep-alive agent: one exchange per connection, and nothing keeps the process alive after.
    const req = lib.request(url, { ...options, agent: false });
    watch(url, req, patience, reject);
    let answered = false;
    // Once the server has answered, a failed write only means it stopped reading: its answer counts.
    req.on('error', (err) => answered || reject(connectionError(url, err)));
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_ANSWER) chunks.push(c);
      });
      res.on('error', (err) => reject(connectionError(url, err)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Answer['body'];
        try {
          body = JSON.parse(text) as Answer['body'];
        } catch {
          body = { error: text.trim().split('\n')[0] || `HTTP ${res.statusCode}` };
        }
        resolve({ status: res.statusCode ?? 0, body });
        // A refused upload may still be sending: stop it.
        req.destroy();
      });
    });
    send(req);
  });
}
