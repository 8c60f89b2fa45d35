// The upload server: PUT/POST /api/cores takes a core (or an archive) into the spool and queues
// its analysis, GET /api/cores/ID says how it went, everything else is the report. Every route
// wants the token. One log line per request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { utimes } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { basename } from 'node:path';
import { errorKind, errorLine } from '../base/errors.js';
import { humanBytes } from '../base/units.js';
import type { Db } from '../store/db.js';
import { Analyzer } from './analyzer.js';
import { tokenChecker } from './auth.js';
import { askForBody, refuse, sendJson } from './http.js';
import { ReportRefresher } from './report.js';
import { receiveBody, type Spool } from './spool.js';
import { serveStatic } from './static.js';
import { Uploads, uploadJson } from './uploads.js';

export interface ServerConfig {
  db: Db;
  token: string;
  maxUpload: number;
  spool: Spool;
  outDir: string;
  jobs: number;
  timeoutMs: number;
  /** Where uploaded cores are kept after analysis (null: deleted). */
  keepCores: string | null;
  /** --max-unpacked, in bytes: what one uploaded archive may unpack. */
  maxUnpacked?: number;
  log: (line: string) => void;
  /** Hostile-client limits; each has a default (see LIMITS). */
  limits?: Partial<Limits>;
}

/** What a client that does not follow HTTP at its pace may hold of the server. */
export interface Limits {
  /** Time from a connection's opening (or a keep-alive request's first byte) to its last header line. */
  headersMs: number;
  /** Time an upload's body may go without a byte arriving (counted from 100 Continue, if any) before it is dropped. */
  bodyMs: number;
  /** Connections open at once, from everyone; more are closed as they come. */
  maxConnections: number;
  /** Connections open at once from one client address; more are closed as they come. */
  maxPerClient: number;
}

export const LIMITS: Limits = { headersMs: 10_000, bodyMs: 30_000, maxConnections: 256, maxPerClient: 32 };

/** A connection with nothing arriving for this long is cut (a stalled upload is then removed). */
const IDLE_MS = 120_000;

/** How often a line about refused connections may be logged (per client address, and for the global cap). */
const REFUSED_LOG_MS = 10_000;

/** What one request did, for its log line. */
interface Note {
  text: string;
}

/** The client's name for the file, made safe as part of a file name. */
function cleanName(raw: string | null): string {
  let name = raw ?? '';
  try {
    name = basename(decodeURIComponent(name));
  } catch {
    name = '';
  }
  name = name.replace(/[^\w.+-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return name || 'upload';
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export class CoronerServer {
  readonly http: Server;
  private readonly uploads = new Uploads();
  private readonly report: ReportRefresher;
  private readonly analyzer: Analyzer;
  private readonly receiving = new Set<Promise<unknown>>();
  private readonly checkToken: (authorization: string | undefined) => boolean;
  private closing = false;
  readonly limits: Limits;
  /** Open connections per client address. */
  private readonly perClient = new Map<string, number>();
  /** Sockets still waiting for their first request's headers, with the timer that cuts them. */
  private readonly firstHeaders = new WeakMap<Socket, NodeJS.Timeout>();
  /** Connections refused since the last log line about them, by address ('' for the global cap). */
  private readonly refused = new Map<string, { count: number; loggedAt: number }>();

  constructor(private readonly cfg: ServerConfig) {
    this.limits = { ...LIMITS, ...cfg.limits };
    this.checkToken = tokenChecker(cfg.token);
    this.report = new ReportRefresher(cfg.db, cfg.outDir);
    this.analyzer = new Analyzer(cfg.db, cfg.spool, this.report, { jobs: cfg.jobs, timeoutMs: cfg.timeoutMs, keepCores: cfg.keepCores, maxUnpacked: cfg.maxUnpacked, log: cfg.log });
    // No limit on a whole request's time (Node's default is 5 minutes): an 8 GB upload over a slow
    // link takes longer. A connection that goes idle is cut instead, and so is an upload whose body
    // stops (bodyMs). The headers have a deadline of their own: with requestTimeout 0, Node's
    // default headersTimeout is 0 too (min(60 s, requestTimeout)), so a client sending a byte now
    // and then would never be cut. Node checks it every connectionsCheckingInterval (30 s by
    // default), and only once a request's first byte came: checked every second here, and the
    // first request of a connection has an exact timer of its own (watchFirstHeaders).
    const { headersMs } = this.limits;
    this.http = createServer(
      { requestTimeout: 0, headersTimeout: headersMs, connectionsCheckingInterval: Math.min(1000, headersMs) },
      (req, res) => this.handle(req, res),
    );
    // Answered by us, so that a wrong token or a declared size over the limit is refused before
    // the client sends the body at all.
    this.http.on('checkContinue', (req, res) => this.handle(req, res));
    this.http.setTimeout(IDLE_MS);
    // Node closes connections over this at once (and says so with 'drop').
    this.http.maxConnections = this.limits.maxConnections;
    this.http.on('drop', (data?: { remoteAddress?: string }) => this.noteRefused('', `over --max-connections ${this.limits.maxConnections} (the last from ${data?.remoteAddress ?? '-'})`));
    this.http.on('connection', (socket: Socket) => this.admit(socket));
  }

  /**
   * A new connection: closed at once when its address already holds maxPerClient, so that one
   * client cannot take every connection (or file descriptor) there is; otherwise counted until it
   * closes, and cut if its first request's headers are not all there within headersMs.
   */
  private admit(socket: Socket): void {
    const from = socket.remoteAddress ?? '-';
    const open = this.perClient.get(from) ?? 0;
    if (open >= this.limits.maxPerClient) {
      socket.destroy();
      this.noteRefused(from, `from ${from}, over --max-per-client ${this.limits.maxPerClient}`);
      return;
    }
    this.perClient.set(from, open + 1);
    const timer = setTimeout(() => socket.destroy(), this.limits.headersMs);
    timer.unref();
    this.firstHeaders.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      const left = (this.perClient.get(from) ?? 1) - 1;
      if (left > 0) this.perClient.set(from, left);
      else this.perClient.delete(from);
    });
  }

  /** One line per address every REFUSED_LOG_MS at most: an attack must not flood the log either. */
  private noteRefused(key: string, what: string): void {
    const now = Date.now();
    const seen = this.refused.get(key) ?? { count: 0, loggedAt: 0 };
    seen.count++;
    if (now - seen.loggedAt >= REFUSED_LOG_MS) {
      this.cfg.log(`refused ${seen.count} connection${seen.count === 1 ? '' : 's'} ${what}`);
      seen.count = 0;
      seen.loggedAt = now;
    }
    this.refused.set(key, seen);
    if (this.refused.size > 10_000) this.refused.clear();
  }

  /** Writes the report once (so `/` answers before any upload), then listens; returns the base URL. */
  async listen(port: number, host: string): Promise<string> {
    await this.cfg.spool.prepare();
    await this.report.refresh();
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const addr = this.http.address() as AddressInfo;
    return `http://${hostPart(host)}:${addr.port}`;
  }

  /**
   * Stop taking connections; analyses already running finish, queued ones are abandoned (their
   * files removed); uploads still arriving are cut and removed.
   */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    await this.analyzer.shutdown();
    this.http.closeAllConnections();
    await Promise.allSettled([...this.receiving]);
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // The headers are whole: later requests on this connection are Node's (headersTimeout).
    clearTimeout(this.firstHeaders.get(req.socket));
    this.firstHeaders.delete(req.socket);
    const started = performance.now();
    const from = req.socket.remoteAddress ?? '-';
    const note: Note = { text: '' };
    const routed = this.route(req, res, note).catch((err: unknown) => {
      note.text = errorLine(err);
      if (res.headersSent) res.destroy();
      else refuse(req, res, 500, { error: errorLine(err) });
    });
    // Logged once the route has had its say too: a cut upload closes before its handler notes why.
    res.on('close', () => {
      const answered = res.writableFinished ? String(res.statusCode) : 'no answer (connection closed)';
      const ms = Math.round(performance.now() - started);
      void routed.then(() => this.cfg.log(`${from} ${req.method} ${req.url} ${answered} ${ms} ms${note.text ? ` ${note.text}` : ''}`));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse, note: Note): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const api = url.pathname.startsWith('/api/');
    if (!this.checkToken(req.headers.authorization)) {
      note.text = req.headers.authorization ? 'wrong token' : 'no token';
      refuse(req, res, 401, { error: 'missing or wrong token: send Authorization: Bearer TOKEN' }, {
        // A browser asks for Basic credentials (any user name, the token as password) to show the report.
        'WWW-Authenticate': api ? 'Bearer realm="coroner"' : 'Basic realm="coroner", charset="UTF-8"',
      });
      return;
    }
    const cores = /^\/api\/cores(?:\/([^/]+))?\/?$/.exec(url.pathname);
    const method = req.method ?? '';
    if (cores && (method === 'PUT' || method === 'POST')) {
      const receiving = this.receive(req, res, note, cores[1] ?? url.searchParams.get('name'));
      this.receiving.add(receiving);
      await receiving.finally(() => this.receiving.delete(receiving));
    } else if (cores?.[1] && (method === 'GET' || method === 'HEAD')) {
      this.status(req, res, cores[1]);
    } else if (api) {
      refuse(req, res, cores ? 405 : 404, { error: `${method} ${url.pathname}: no such route (PUT /api/cores uploads, GET /api/cores/ID says how it went)` });
    } else if (method === 'GET' || method === 'HEAD') {
      await serveStatic(this.cfg.outDir, url.pathname, req, res);
    } else {
      refuse(req, res, 405, { error: `${method}: the report is read with GET` });
    }
  }

  private statusUrl(req: IncomingMessage, id: string): string {
    const addr = this.http.address() as AddressInfo;
    return `http://${req.headers.host ?? `${hostPart(addr.address)}:${addr.port}`}/api/cores/${id}`;
  }

  private status(req: IncomingMessage, res: ServerResponse, id: string): void {
    const upload = this.uploads.get(id);
    if (!upload) sendJson(res, 404, { error: `${id}: no such upload on this server (upload states are lost when it restarts)` });
    else sendJson(res, 200, uploadJson(upload, this.statusUrl(req, id)));
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse, note: Note, bytes: string): void {
    const max = this.cfg.maxUpload;
    note.text = `refused: ${bytes} over the limit of ${humanBytes(max)}`;
    refuse(req, res, 413, { error: `the upload is larger than this server accepts (${humanBytes(max)})`, max_upload: max });
  }

  /**
   * A dump's capture time defaults to its core's mtime, which on the server is the upload's end;
   * a client that sends the file's own mtime (X-Core-Mtime, ISO 8601) keeps the real one.
   */
  private async keepMtime(req: IncomingMessage, path: string): Promise<void> {
    const header = req.headers['x-core-mtime'];
    const when = typeof header === 'string' ? new Date(header) : null;
    // Best effort: a capture time that cannot be kept is no reason to lose the upload.
    if (when && !Number.isNaN(when.getTime())) await utimes(path, when, when).catch(() => {});
  }

  private async receive(req: IncomingMessage, res: ServerResponse, note: Note, rawName: string | null): Promise<void> {
    if (this.closing) {
      refuse(req, res, 503, { error: 'the server is shutting down; upload again once it is back' });
      return;
    }
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared !== null && declared > this.cfg.maxUpload) {
      this.tooLarge(req, res, note, humanBytes(declared));
      return;
    }
    const id = this.uploads.newId();
    const name = cleanName(rawName);
    const path = this.cfg.spool.pathFor(id, name);
    askForBody(req, res);
    let bytes: number;
    try {
      bytes = await receiveBody(req, path, this.cfg.maxUpload, this.limits.bodyMs);
    } catch (err) {
      if (errorKind(err) === 'too-large') return this.tooLarge(req, res, note, 'a chunked body');
      note.text = errorLine(err);
      if (errorKind(err) === 'stalled') {
        // Said, for a client that still listens, then cut: the rest of its body is not wanted.
        sendJson(res, 408, { error: errorLine(err) }, { Connection: 'close' });
        const cut = setTimeout(() => req.socket.destroy(), 1000);
        cut.unref();
        res.on('finish', () => req.socket.destroy());
        return;
      }
      // A client that went away has no one left to answer.
      if (errorKind(err) === 'interrupted') res.destroy();
      else refuse(req, res, errorKind(err) === 'no-space' ? 507 : 500, { error: errorLine(err) });
      return;
    }
    if (bytes === 0 || this.closing) {
      await this.cfg.spool.remove(path);
      const [status, error] = bytes === 0 ? [400, 'the upload is empty: send the core as the request body'] : [503, 'the server is shutting down; upload again once it is back'];
      refuse(req, res, status, { error });
      return;
    }
    await this.keepMtime(req, path);
    const upload = this.uploads.add(id, name, bytes);
    this.analyzer.enqueue(upload, path);
    const statusUrl = this.statusUrl(req, id);
    note.text = `upload ${id} (${name}, ${humanBytes(bytes)}) queued`;
    sendJson(res, 202, { id, status: upload.status, status_url: statusUrl }, { Location: statusUrl });
  }
}
