// `coroner upload` against servers that do not behave, over loopback: one that never accepts the
// connection, one that accepts and then says nothing, and one whose analysis never ends. Each is
// a clear line and exit 2 within the timeout given, never a wait without end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { cli, fixture, type CliResult } from './helpers.js';

const TOKEN = 'test-token-1234567890';

function upload(args: string[]): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'upload', ...args, '--token', TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

const errorLine = (r: CliResult): string => r.stderr.split('\n').filter((l) => l.startsWith('coroner: ')).join('\n');

test('a server that never accepts the connection: --connect-timeout', async () => {
  const { core } = await fixture('recursion');
  // A listening socket that never accepts, its backlog filled: the next connection hangs in SYN.
  const py = spawn('python3', ['-c', [
    'import socket, time',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0); port = s.getsockname()[1]",
    'fill = [socket.socket() for _ in range(4)]',
    '[c.setblocking(False) for c in fill]',
    "[c.connect_ex(('127.0.0.1', port)) for c in fill]",
    'print(port, flush=True); time.sleep(120)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = await createInterface({ input: py.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
    const r = await upload([core, '--url', `http://127.0.0.1:${line}`, '--connect-timeout', '1']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(errorLine(r), `coroner: cannot reach http://127.0.0.1:${line}: no connection within 1 s (is the host up, and the port open?); raise --connect-timeout`);
    assert.ok(r.ms < 15_000, `gave up in ${r.ms} ms`);
  } finally {
    py.kill();
  }
});

test('a server that accepts and then says nothing: --idle-timeout', async () => {
  const { core } = await fixture('recursion');
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => sockets.push(s.pause()));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  try {
    const r = await upload([core, '--url', url, '--idle-timeout', '2']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(errorLine(r), `coroner: ${url}: the server sent nothing for 2 s; it may be stuck or overloaded: try again later, or raise --idle-timeout`);
    assert.ok(r.ms < 20_000, `gave up in ${r.ms} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('an analysis that stays queued: --wait gives up at --wait-timeout, with the status URL to follow', async () => {
  const { core } = await fixture('recursion');
  const stuck = http.createServer((req, res) => {
    const port = (stuck.address() as AddressInfo).port;
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'PUT') {
      req.resume().on('end', () => answer(202, { id: 'u1', status: 'queued', status_url: `http://127.0.0.1:${port}/api/cores/u1` }));
    } else {
      answer(200, { id: 'u1', status: 'queued', dumps: [] });
    }
  });
  await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(stuck.address() as AddressInfo).port}`;
  try {
    const r = await upload([core, '--url', url, '--wait', '--wait-timeout', '2']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout.trim(), `${url}/api/cores/u1`, 'the status URL is printed before the wait');
    assert.equal(errorLine(r), `coroner: ${core}: the analysis had not ended after 2 s (still queued); it goes on on the server: follow ${url}/api/cores/u1, or raise --wait-timeout`);
    assert.ok(r.ms < 20_000, `gave up in ${r.ms} ms`);
  } finally {
    stuck.close();
  }
});
