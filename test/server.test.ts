// The upload server over loopback, run as a user runs it (`coroner serve` as a child process, real
// cores): concurrent uploads all analyzed and none lost, 401 and 413 with nothing left on disk, an
// upload cut off halfway leaves no file and no row, `coroner upload` end to end, and hostile
// clients (slow headers, a stalled body, a flood of idle connections) held to their limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { cli, fixture, runCli, startCli, tempDir, type CliResult } from './helpers.js';
import { NOT_ROOT, asRoot, smallDisk } from './mounts.js';

const TOKEN = 'test-token-1234567890';
const auth = { Authorization: `Bearer ${TOKEN}` };

interface Served {
  url: string;
  db: string;
  spool: string;
  child: ChildProcess;
  log: () => string;
  /** SIGTERM, and the exit code of a graceful shutdown (SIGKILL after a while). */
  stop: () => Promise<number | null>;
}

/** Bounded wait for a condition, checked every 100 ms. */
async function until<T>(what: string, check: () => T | Promise<T>, ms = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function serve(extra: string[] = [], dir = tempDir()): Promise<Served> {
  const db = join(dir, 'coroner.db');
  const child = startCli(['serve', '--port', '0', '--token', TOKEN, '--db', db, ...extra]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const first = await until('the server to listen', () => (child.exitCode !== null ? 'exited' : /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout)), 30_000);
  if (typeof first === 'string') throw new Error(`serve exited: ${stderr}`);
  const url = first[1]!;
  const stop = async (): Promise<number | null> => {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  return { url, db, spool: `${db}.spool`, child, log: () => stderr, stop };
}

interface Answer {
  status: number;
  body: { id?: string; status?: string; status_url?: string; dumps?: number[]; error?: string | null; max_upload?: number };
  text: string;
}

/**
 * One request; body is a file streamed (with its Content-Length unless chunked) or nothing. Resolves
 * on the server's answer, even one that comes before the body is all sent.
 */
function request(url: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders; file?: string; chunked?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers };
    if (opts.file && !opts.chunked) headers['Content-Length'] = statSync(opts.file).size;
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent: false });
    let answered = false;
    req.on('error', (err) => answered || reject(err));
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, body: res.headers['content-type']?.startsWith('application/json') ? (JSON.parse(text) as Answer['body']) : {}, text });
      });
    });
    const send = (): void => void createReadStream(opts.file!).on('error', reject).pipe(req);
    // As curl does: with Expect, the body waits for the server's 100 Continue.
    if (opts.file && headers.Expect) req.on('continue', send);
    else if (opts.file) send();
    else req.end();
  });
}

const upload = (s: Served, file: string, opts: { chunked?: boolean; headers?: http.OutgoingHttpHeaders; name?: string } = {}) =>
  request(`${s.url}/api/cores${opts.name ? `/${opts.name}` : ''}`, { method: 'PUT', file, chunked: opts.chunked, headers: opts.headers ?? auth });

async function finalStatus(statusUrl: string): Promise<Answer['body']> {
  return until(`${statusUrl} to finish`, async () => {
    const a = await request(statusUrl, { headers: auth });
    assert.equal(a.status, 200, a.text);
    return a.body.status === 'done' || a.body.status === 'failed' ? a.body : null;
  }, 180_000);
}

function storedShas(db: string): string[] {
  if (!existsSync(db)) return [];
  const conn = new Database(db, { readonly: true });
  try {
    return (conn.prepare('SELECT sha256 FROM dumps ORDER BY id').all() as { sha256: string }[]).map((r) => r.sha256);
  } finally {
    conn.close();
  }
}

/** The CLI without blocking this process, which must keep reading the server's output meanwhile. */
function runCliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('20 concurrent uploads are all analyzed, none lost; copies of a core are one dump', { timeout: 600_000 }, async () => {
  const cores = await Promise.all(['recursion', 'crash', 'census'].map(async (w) => (await fixture(w)).core));
  // Copies under other names: the server must not rely on names to tell cores apart.
  const dir = tempDir();
  const files = Array.from({ length: 20 }, (_, i) => {
    const copy = join(dir, `core.${1000 + i}`);
    copyFileSync(cores[i % cores.length]!, copy);
    return { copy, core: i % cores.length };
  });
  const s = await serve(['--jobs', '2']);
  try {
    // A few chunked, as a client that streams from a pipe sends them.
    const answers = await Promise.all(files.map((f, i) => upload(s, f.copy, { chunked: i % 5 === 0, name: `core.${1000 + i}` })));
    for (const a of answers) assert.equal(a.status, 202, a.text);
    const ids = answers.map((a) => a.body.id!);
    assert.equal(new Set(ids).size, 20, 'an upload id per upload');
    const finals = await Promise.all(answers.map((a) => finalStatus(a.body.status_url!)));
    const dumpOfCore = new Map<number, number>();
    finals.forEach((f, i) => {
      assert.equal(f.status, 'done', `upload ${i}: ${f.error}`);
      assert.equal(f.dumps!.length, 1);
      const core = files[i]!.core;
      if (!dumpOfCore.has(core)) dumpOfCore.set(core, f.dumps![0]!);
      assert.equal(f.dumps![0], dumpOfCore.get(core), `every copy of core ${core} is the same dump`);
    });
    assert.equal(new Set(dumpOfCore.values()).size, cores.length);
    assert.equal(storedShas(s.db).length, cores.length, 'exactly one row per distinct core');
    assert.deepEqual(readdirSync(s.spool), [], 'analyzed uploads are removed from the spool');
    const index = await request(`${s.url}/`, { headers: auth });
    assert.equal(index.status, 200);
    for (const id of dumpOfCore.values()) assert.match(index.text, new RegExp(`dump-${id}\\.html`));
  } finally {
    assert.equal(await s.stop(), 0, `graceful shutdown: ${s.log().slice(-2000)}`);
  }
});

test('a wrong or missing token gets 401 and nothing is written', { timeout: 120_000 }, async () => {
  const { core } = await fixture('crash');
  const s = await serve();
  try {
    for (const headers of [{ Authorization: 'Bearer wrong' }, {}, { Authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` }]) {
      const a = await upload(s, core, { headers });
      assert.equal(a.status, 401, JSON.stringify(headers));
      assert.match(a.body.error!, /token/);
    }
    assert.equal((await request(`${s.url}/api/cores/anything`)).status, 401, 'status needs the token too');
    const page = await request(`${s.url}/`);
    assert.equal(page.status, 401, 'so does the report');
    assert.deepEqual(readdirSync(s.spool), []);
    assert.deepEqual(storedShas(s.db), []);
    // Still serving, and the report opens with the token as a Basic password (what a browser sends).
    const basic = await request(`${s.url}/`, { headers: { Authorization: `Basic ${Buffer.from(`me:${TOKEN}`).toString('base64')}` } });
    assert.equal(basic.status, 200);
    assert.match(s.log(), /PUT \/api\/cores 401 \d+ ms wrong token/);
    assert.match(s.log(), /PUT \/api\/cores 401 \d+ ms no token/);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('a body over --max-upload gets 413, with a Content-Length and chunked, and none of it stays', { timeout: 120_000 }, async () => {
  const big = (await fixture('crash')).core; // 15 MB
  const small = (await fixture('native')).core; // 0.6 MB
  const s = await serve(['--max-upload', '1M']);
  try {
    const declared = await upload(s, big);
    assert.equal(declared.status, 413, declared.text);
    assert.equal(declared.body.max_upload, 1_000_000);
    const continued = await upload(s, big, { headers: { ...auth, Expect: '100-continue' } });
    assert.equal(continued.status, 413, 'refused before the body when the client waits for 100 Continue');
    const chunked = await upload(s, big, { chunked: true });
    assert.equal(chunked.status, 413, chunked.text);
    const chunkedContinued = await upload(s, big, { chunked: true, headers: { ...auth, Expect: '100-continue' } });
    assert.equal(chunkedContinued.status, 413, 'told to send, then cut at the limit');
    await until('the spool to be empty', () => readdirSync(s.spool).length === 0, 10_000);
    assert.deepEqual(storedShas(s.db), []);
    // Still serving: an upload under the limit is taken (this one is no Python process, so it fails).
    const ok = await upload(s, small);
    assert.equal(ok.status, 202, ok.text);
    const final = await finalStatus(ok.body.status_url!);
    assert.equal(final.status, 'failed');
    assert.match(final.error!, /not a Python process/);
    assert.doesNotMatch(final.error!, /spool/, 'the error names the upload, not the server path');
    assert.deepEqual(readdirSync(s.spool), []);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('an upload cut off halfway leaves no file and no row, and the server goes on', { timeout: 180_000 }, async () => {
  const { core } = await fixture('crash');
  const size = statSync(core).size;
  const s = await serve();
  try {
    for (const chunked of [false, true]) {
      const req = http.request(`${s.url}/api/cores/core.cut`, {
        method: 'PUT',
        headers: { ...auth, ...(chunked ? {} : { 'Content-Length': size }) },
        agent: false,
      });
      req.on('error', () => {}); // the cut is ours
      // Half the core, then the connection is destroyed while the server waits for the rest.
      const half = createReadStream(core, { end: Math.floor(size / 2) });
      half.pipe(req, { end: false });
      await new Promise<void>((r) => half.on('end', () => r()));
      await until('the server to spool part of the upload', () => readdirSync(s.spool).some((f) => statSync(join(s.spool, f)).size > 0), 10_000);
      req.socket!.destroy();
      await until('the partial file to be removed', () => readdirSync(s.spool).length === 0, 10_000);
      await until('the log line', () => /PUT \/api\/cores\/core\.cut no answer \(connection closed\) \d+ ms the upload was interrupted/.test(s.log()), 10_000).catch((err: Error) => {
        throw new Error(`${err.message}; the log:\n${s.log()}`);
      });
    }
    assert.deepEqual(storedShas(s.db), []);
    const whole = await upload(s, core);
    assert.equal(whole.status, 202, whole.text);
    assert.equal((await finalStatus(whole.body.status_url!)).status, 'done');
    assert.equal(storedShas(s.db).length, 1);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('coroner upload sends a core, prints the status URL, waits, and the report lists the dump', { timeout: 180_000 }, async () => {
  const { core } = await fixture('recursion');
  const tooBig = (await fixture('census')).core; // 41 MB
  const s = await serve(['--max-upload', '20M']);
  try {
    const r = await runCliAsync(['upload', core, '--url', s.url, '--token', TOKEN, '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const [statusUrl, done] = r.stdout.trim().split('\n');
    assert.match(statusUrl!, new RegExp(`^${s.url}/api/cores/[\\w-]+$`));
    assert.equal(done, 'done: dump 1');
    assert.match(r.stderr, /sent core\.\d+: [\d.]+ MB in [\d.]+ s \([\d.]+ [KMG]?B\/s\)/);
    const index = await request(`${s.url}/`, { headers: auth });
    assert.equal(index.status, 200);
    assert.match(index.text, /href="dump-1\.html"/);
    const status = await request(statusUrl!, { headers: auth });
    assert.deepEqual(status.body.dumps, [1]);
    const conn = new Database(s.db, { readonly: true });
    const row = conn.prepare('SELECT taken_at FROM dumps WHERE id = 1').get() as { taken_at: string };
    conn.close();
    assert.equal(row.taken_at, statSync(core).mtime.toISOString(), "the capture time is the core's mtime, not the upload's");

    // An archive is one upload of several dumps (the one already stored counts as one of them).
    const dir = tempDir();
    copyFileSync(core, join(dir, 'core.1'));
    copyFileSync((await fixture('crash')).core, join(dir, 'core.2'));
    execFileSync('tar', ['czf', join(dir, 'cores.tar.gz'), '-C', dir, 'core.1', 'core.2']);
    const archive = await runCliAsync(['upload', join(dir, 'cores.tar.gz'), '--url', s.url, '--token', TOKEN, '--wait']);
    assert.equal(archive.code, 0, archive.stderr);
    const ids = /^done: dumps (\d+), (\d+)$/m.exec(archive.stdout);
    assert.ok(ids, archive.stdout);
    assert.deepEqual([ids[1], ids[2]].map(Number).sort(), [1, 2]);

    const refused = await runCliAsync(['upload', core, '--url', s.url, '--token', 'wrong']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim(), 'coroner: the server refused the token (check --token or CORONER_TOKEN)');
    const large = await runCliAsync(['upload', tooBig, '--url', `${s.url}/api/cores`, '--token', TOKEN]);
    assert.equal(large.code, 2);
    assert.equal(large.stderr.trim(), `coroner: ${tooBig}: the file is larger than the server accepts (20.0 MB)`);
    assert.deepEqual(readdirSync(s.spool), []);
  } finally {
    assert.equal(await s.stop(), 0);
  }
  const gone = await runCliAsync(['upload', core, '--url', s.url, '--token', TOKEN]);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+ \(connection refused\): is coroner serve running there\?/);
});

test('--keep-cores: an uploaded core is kept by its sha256 and the dump says where', { timeout: 180_000 }, async () => {
  const { core } = await fixture('recursion');
  const kept = join(tempDir(), 'kept');
  const s = await serve(['--keep-cores', kept]);
  try {
    const r = await runCliAsync(['upload', core, '--url', s.url, '--token', TOKEN, '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const sha = createHash('sha256').update(readFileSync(core)).digest('hex');
    assert.deepEqual(readdirSync(kept), [`${sha}.core`]);
    assert.ok(readFileSync(join(kept, `${sha}.core`)).equals(readFileSync(core)), 'the kept file is the core, byte for byte');
    const conn = new Database(s.db, { readonly: true });
    const row = conn.prepare('SELECT core_file FROM dumps WHERE id = 1').get() as { core_file: string };
    conn.close();
    assert.equal(row.core_file, join(kept, `${sha}.core`));
    assert.deepEqual(readdirSync(s.spool), []);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('SIGTERM: the analysis under way finishes, queued uploads are dropped, nothing stays in the spool', { timeout: 180_000 }, async () => {
  const cores = await Promise.all(['recursion', 'crash', 'census'].map(async (w) => (await fixture(w)).core));
  const s = await serve(['--jobs', '1']);
  const answers = await Promise.all(cores.map((core) => upload(s, core)));
  for (const a of answers) assert.equal(a.status, 202, a.text);
  assert.equal(await s.stop(), 0, s.log());
  assert.match(s.log(), /SIGTERM: shutting down/);
  assert.match(s.log(), /the server shut down before analyzing this upload/);
  assert.deepEqual(readdirSync(s.spool), []);
  const stored = storedShas(s.db).length;
  assert.ok(stored >= 1 && stored < cores.length, `the running analysis finished, the queued ones did not (${stored} stored)`);

  const bad = runCli(['serve', '--token', TOKEN, '--max-upload', 'lots', '--db', s.db]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), 'coroner: --max-upload lots: not a size; give e.g. 8G, 500M or 1048576');
  const noToken = runCli(['serve', '--db', s.db], { CORONER_TOKEN: '' });
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /serve needs a token/);
  // A blank or short token is refused before anything listens.
  const blank = runCli(['serve', '--db', s.db], { CORONER_TOKEN: '   ' });
  assert.equal(blank.code, 2);
  assert.equal(blank.stderr.trim(), 'coroner: the token is blank: give serve a token of at least 16 characters (e.g. openssl rand -hex 24)');
  const short = runCli(['serve', '--db', s.db, '--token', 'hunter2']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /^coroner: the token is only 7 characters: give serve a token of at least 16 characters/);
});

interface Probe {
  socket: net.Socket;
  /** Resolves, with the milliseconds since the socket was opened, when it closes. */
  closed: Promise<number>;
  received: () => string;
}

/** A raw connection to the server, from localAddress when given. */
function probe(url: string, localAddress?: string): Probe {
  const { hostname, port } = new URL(url);
  const opened = Date.now();
  const socket = net.connect({ host: hostname, port: Number(port), localAddress });
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString()));
  socket.on('error', () => {}); // a reset is one of the answers looked for
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  return { socket, closed, received: () => received };
}

/** Writes text one byte every everyMs until the socket closes; returns how many were written. */
function dribble(p: Probe, text: string, everyMs: number): () => number {
  let sent = 0;
  const send = (): void => {
    if (p.socket.destroyed || sent >= text.length) return;
    p.socket.write(text[sent++]!);
  };
  p.socket.once('connect', send);
  const timer = setInterval(send, everyMs);
  void p.closed.then(() => clearInterval(timer));
  return () => sent;
}

test('the header deadline cuts a client sending one byte every 2 s, a silent one and a slow keep-alive request', { timeout: 60_000 }, async () => {
  const deadline = 5000;
  const s = await serve(['--header-timeout', String(deadline / 1000)]);
  try {
    const slow = probe(s.url);
    const slowSent = dribble(slow, `GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`, 2000);
    const silent = probe(s.url);
    // A whole first request, then the next one's headers a byte every 2 s (Node's headersTimeout).
    const kept = probe(s.url);
    kept.socket.once('connect', () => kept.socket.write(`GET /api/cores/none HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`));
    await until('the first answer on the kept connection', () => kept.received().includes('404 Not Found'), 5000);
    const keptSent = dribble(kept, 'GET / HTTP/1.1\r\nHost: x\r\n', 2000);
    const [slowMs, silentMs, keptMs] = await Promise.all([slow.closed, silent.closed, kept.closed]);
    // Each byte would have restarted an idle timer: the deadline is from the start, whatever comes.
    assert.ok(slowSent() >= 3, `bytes kept coming (${slowSent()}) and did not extend the deadline`);
    assert.ok(slowMs >= deadline - 200 && slowMs < deadline + 1500, `the slow client was cut after ${slowMs} ms`);
    assert.ok(silentMs >= deadline - 200 && silentMs < deadline + 1500, `the silent client was cut after ${silentMs} ms`);
    assert.ok(keptSent() >= 2 && keptMs < deadline + 3500, `the slow keep-alive request was cut after ${keptMs} ms (${keptSent()} bytes)`);
    assert.doesNotMatch(slow.received(), /200 OK/);
    // And the server still answers.
    assert.equal((await request(`${s.url}/`, { headers: auth })).status, 200);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('--max-per-client: 20 idle connections from one address hold 5, another address is still served', { timeout: 60_000 }, async () => {
  const s = await serve(['--max-per-client', '5']);
  const flood = Array.from({ length: 20 }, () => probe(s.url, '127.0.0.1'));
  try {
    await Promise.all(flood.map((p) => new Promise((r) => (p.socket.connecting ? p.socket.once('connect', r).once('close', r) : r(null)))));
    // The extra ones are closed as they come; give that a moment, then count what stays open.
    await until('the extra connections to close', () => flood.filter((p) => !p.socket.destroyed && !p.socket.readableEnded).length <= 5, 5000);
    await sleep(500);
    const open = flood.filter((p) => !p.socket.destroyed && !p.socket.readableEnded).length;
    assert.equal(open, 5, `${open} of 20 idle connections from one address stayed open`);

    // Another loopback address gets the report and an upload's status while the flood holds.
    const agent = new http.Agent({ localAddress: '127.0.0.2' });
    const get = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        http.get(`${s.url}${path}`, { headers: auth, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        }).on('error', reject);
      });
    assert.equal(await get('/'), 200, 'the report');
    assert.equal(await get('/api/cores/nosuchid'), 404, 'the status route answers (no such upload)');
    agent.destroy();
    await until('the refusal in the log', () => /refused \d+ connections? from 127\.0\.0\.1, over --max-per-client 5/.test(s.log()), 5000);
    // The flood's own address is refused while its 5 stay.
    const sixth = probe(s.url, '127.0.0.1');
    assert.ok((await sixth.closed) < 2000, 'a sixth connection from the flooding address is closed at once');
  } finally {
    for (const p of flood) p.socket.destroy();
    assert.equal(await s.stop(), 0);
  }
});

test('--max-connections: connections over it are closed as they come, whatever their address', { timeout: 60_000 }, async () => {
  const s = await serve(['--max-connections', '3', '--max-per-client', '2']);
  const held = ['127.0.0.1', '127.0.0.1', '127.0.0.3'].map((from) => probe(s.url, from));
  try {
    await Promise.all(held.map((p) => new Promise((r) => p.socket.once('connect', r))));
    await sleep(300);
    const over = probe(s.url, '127.0.0.4');
    assert.ok((await over.closed) < 2000, 'a fourth connection is closed at once');
    assert.equal(held.filter((p) => !p.socket.destroyed && !p.socket.readableEnded).length, 3, 'the first three stay');
    await until('the drop in the log', () => /refused 1 connection over --max-connections 3 \(the last from 127\.0\.0\.4\)/.test(s.log()), 5000);
    for (const p of held) p.socket.destroy();
    // Room again once they are gone.
    await until('a GET to be served again', async () => (await request(`${s.url}/`, { headers: auth }).catch(() => ({ status: 0 }))).status === 200, 5000);
  } finally {
    for (const p of held) p.socket.destroy();
    assert.equal(await s.stop(), 0);
  }
});

test('an upload whose body stops is dropped after --body-timeout: a 408, no file, no row', { timeout: 60_000 }, async () => {
  const s = await serve(['--body-timeout', '2']);
  try {
    const head = (expect: boolean): string =>
      `PUT /api/cores/core.stalled HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 10000000\r\n${expect ? 'Expect: 100-continue\r\n' : ''}\r\n`;
    // Part of a body, then nothing.
    const part = probe(s.url);
    part.socket.once('connect', () => part.socket.write(head(false) + 'x'.repeat(65536)));
    await until('the server to spool part of the upload', () => readdirSync(s.spool).some((f) => statSync(join(s.spool, f)).size > 0), 10_000);
    const partMs = await part.closed;
    assert.match(part.received(), /^HTTP\/1\.1 408 /);
    assert.match(part.received(), /no byte of its body came for 2 s/);
    assert.ok(partMs >= 1800 && partMs < 6000, `cut after ${partMs} ms`);
    // Told to send (100 Continue) and sends nothing.
    const none = probe(s.url);
    none.socket.once('connect', () => none.socket.write(head(true)));
    const noneMs = await none.closed;
    assert.match(none.received(), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 408 /);
    assert.ok(noneMs >= 1800 && noneMs < 6000, `cut after ${noneMs} ms`);
    await until('the spool to be empty', () => readdirSync(s.spool).length === 0, 5000);
    assert.deepEqual(storedShas(s.db), []);
    assert.match(s.log(), /PUT \/api\/cores\/core\.stalled 408 \d+ ms the upload stopped: no byte of its body came for 2 s/);
  } finally {
    assert.equal(await s.stop(), 0);
  }
  const bad = runCli(['serve', '--token', TOKEN, '--db', s.db, '--max-per-client', '0']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), 'coroner: --max-per-client 0: give a whole number of connections, 1 or more');
});

test('a full spool disk: 507 with a line that says so, nothing left in the spool, and the server goes on', { timeout: 120_000, skip: !asRoot && NOT_ROOT }, async () => {
  const { core } = await fixture('recursion'); // 15 MB, on a disk of 4 MB
  const s = await serve([], smallDisk(4 << 20));
  try {
    const r = await runCliAsync(['upload', core, '--url', s.url, '--token', TOKEN]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('coroner: ')).join('\n'),
      `coroner: ${core}: the server answered 507: the server has no space left to store the upload (its spool disk is full); try again later, or ask its operator to free space`);
    assert.deepEqual(readdirSync(s.spool), []);
    const small = join(tempDir(), 'core.small');
    writeFileSync(small, readFileSync(core).subarray(0, 1 << 20));
    const next = await request(`${s.url}/api/cores/core.small`, { method: 'PUT', headers: auth, file: small });
    assert.equal(next.status, 202, 'an upload that fits is still taken');
  } finally {
    await s.stop();
  }
});
