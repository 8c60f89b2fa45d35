// Small answers shared by the routes.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** How long a refused client may go on sending before its connection is cut. */
const LINGER_MS = 5000;

/** Requests told to send their body with `100 Continue`. */
const continued = new WeakSet<IncomingMessage>();

/** Whether the client waits for `100 Continue` before its body (curl for large files, coroner upload always). */
const waitsForContinue = (req: IncomingMessage): boolean => /100-continue/i.test(req.headers.expect ?? '');

/** Tell a client that waits for `100 Continue` to send its body. */
export function askForBody(req: IncomingMessage, res: ServerResponse): void {
  if (!waitsForContinue(req)) return;
  res.writeContinue();
  continued.add(req);
}

/** Whether body bytes may still arrive: not when the request is whole, nor when a client still waits for 100 Continue. */
function bodyMayCome(req: IncomingMessage): boolean {
  return !req.complete && (continued.has(req) || !waitsForContinue(req));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Answer a request whose body is not wanted. A client that waits for `100 Continue` sends no body,
 * so its connection closes at once (the body it announced will never come). Any other client may
 * still be sending: closing now would reset the connection and could lose the answer before the
 * client reads it, so the rest of the body is read and dropped for a while (a "lingering close"),
 * then the connection is cut.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const lingers = bodyMayCome(req);
  // keep-alive: Node would otherwise close right after the answer when the client asked for
  // `Connection: close`, cutting the lingering read below.
  const connection = lingers ? 'keep-alive' : req.complete ? undefined : 'close';
  sendJson(res, status, body, { ...headers, ...(connection ? { Connection: connection } : {}) });
  if (!lingers) return;
  const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
  timer.unref();
  req.on('end', () => clearTimeout(timer)).on('close', () => clearTimeout(timer));
  req.resume();
}
