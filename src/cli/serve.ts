// `coroner serve`: the upload server in the foreground. Its first line on stdout is the URL it
// listens on (with --port 0, the port the system chose); requests are logged on stderr.
import { dirname, join, resolve } from 'node:path';
import { CoronerError } from '../base/errors.js';
import { sizeArg } from './size-arg.js';
import { printable } from '../base/printable.js';
import { defaultJobs } from '../pipeline/ingest.js';
import { CoronerServer, LIMITS, type Limits } from '../server/server.js';
import { Spool } from '../server/spool.js';
import { openDb } from '../store/db.js';
import { EXIT_OK } from './exit.js';

export { LIMITS };

export interface ServeArgs {
  db: string;
  port: number;
  host: string;
  token?: string;
  maxUpload: string;
  out?: string;
  jobs?: number;
  timeout: number;
  keepCores?: string;
  maxUnpacked: string;
  maxConnections: number;
  maxPerClient: number;
  headerTimeout: number;
  bodyTimeout: number;
}

/** The shortest token serve accepts. */
export const MIN_TOKEN = 16;

function checkLimits(a: ServeArgs): Limits {
  const count = (flag: string, n: number): number => {
    if (!Number.isInteger(n) || n < 1) throw new CoronerError(`--${flag} ${n}: give a whole number of connections, 1 or more`, 'usage');
    return n;
  };
  // Node's timers take whole milliseconds; a day is more than any honest client needs.
  const seconds = (flag: string, n: number): number => {
    if (!(n > 0 && n <= 86_400)) throw new CoronerError(`--${flag} ${n}: give a number of seconds above 0 (at most 86400)`, 'usage');
    return Math.max(1, Math.round(n * 1000));
  };
  const limits: Limits = {
    maxConnections: count('max-connections', a.maxConnections),
    maxPerClient: count('max-per-client', a.maxPerClient),
    headersMs: seconds('header-timeout', a.headerTimeout),
    bodyMs: seconds('body-timeout', a.bodyTimeout),
  };
  if (limits.maxPerClient > limits.maxConnections) {
    throw new CoronerError(`--max-per-client ${limits.maxPerClient} is over --max-connections ${limits.maxConnections}: one client could then take them all`, 'usage');
  }
  return limits;
}

function checkArgs(a: ServeArgs): { token: string; maxUpload: number } {
  if (!a.token) throw new CoronerError('serve needs a token: pass --token T or set CORONER_TOKEN (clients send it as Authorization: Bearer T)', 'usage');
  // A token anyone could guess lets anyone in: blank, or short enough to try them all.
  if (a.token.trim().length < MIN_TOKEN) {
    throw new CoronerError(`the token is ${a.token.trim() ? `only ${a.token.trim().length} characters` : 'blank'}: give serve a token of at least ${MIN_TOKEN} characters (e.g. openssl rand -hex 24)`, 'usage');
  }
  const maxUpload = sizeArg('max-upload', a.maxUpload);
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new CoronerError(`--port ${a.port}: give a port from 0 (any free one) to 65535`, 'usage');
  if (!(a.timeout > 0)) throw new CoronerError(`--timeout ${a.timeout}: give a number of seconds above 0`, 'usage');
  return { token: a.token, maxUpload };
}

/**
 * Resolves on the first SIGINT or SIGTERM. Later ones are noted and ignored rather than quitting at
 * once: the ingest re-raises a signal it sees (to clean up its temporary folder first), and that
 * must not cut short a shutdown that lets running analyses finish. SIGKILL still ends it at once.
 */
function untilSignal(log: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) return log(`${signal}: already shutting down, waiting for the running analyses (at most --timeout)`);
      received = true;
      log(`${signal}: shutting down (running analyses finish, queued ones are dropped)`);
      resolve();
    };
    // Kept for the whole run: without a listener, a signal would end the process mid-shutdown.
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

export async function serveCommand(a: ServeArgs): Promise<number> {
  const { token, maxUpload } = checkArgs(a);
  const limits = checkLimits(a);
  const dbPath = resolve(a.db);
  // One line per event: upload names and request paths come from clients, so escaped for the terminal.
  const log = (line: string): void => console.error(`${new Date().toISOString()} ${printable(line)}`);
  const db = openDb(dbPath);
  try {
    const server = new CoronerServer({
      db,
      token,
      maxUpload,
      // Next to the database: on the disk chosen for coroner's data, not in a small /tmp.
      spool: new Spool(`${dbPath}.spool`),
      outDir: resolve(a.out ?? join(dirname(dbPath), 'report')),
      jobs: a.jobs ?? defaultJobs(),
      timeoutMs: a.timeout * 1000,
      keepCores: a.keepCores ? resolve(a.keepCores) : null,
      maxUnpacked: sizeArg('max-unpacked', a.maxUnpacked),
      log,
      limits,
    });
    const url = await server.listen(a.port, a.host).catch((err: NodeJS.ErrnoException) => {
      throw err.code ? new CoronerError(`cannot listen on ${a.host}:${a.port} (${err.code}); choose another --port or --host`, 'listen') : err;
    });
    console.log(`listening on ${url}`);
    await untilSignal(log);
    await server.close();
    log('stopped');
    return EXIT_OK;
  } finally {
    db.close();
  }
}
