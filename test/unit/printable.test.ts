// Strings from a core reach the terminal escaped (src/base/printable.ts), and the text views use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable } from '../../src/base/printable.js';
import { formatCensus, formatDump } from '../../src/format/text.js';
import { dumpJson } from '../../src/format/json.js';
import type { Dump } from '../../src/model/types.js';

test('printable: control characters escaped as Python repr shows them', () => {
  assert.equal(printable('a\x1bb'), 'a\\x1bb');
  assert.equal(printable('a\nb'), 'a\\nb');
  assert.equal(printable('a\tb'), 'a\\tb');
  assert.equal(printable('a\rb'), 'a\\rb');
  assert.equal(printable('\x00\x07\x1f'), '\\x00\\x07\\x1f');
  assert.equal(printable('a\x7fb'), 'a\\x7fb');
  assert.equal(printable('a\x9bb\x80\x9f'), 'a\\x9bb\\x80\\x9f');
  assert.equal(printable('evil\u202egnp.exe'), 'evil\\u202egnp.exe');
  assert.equal(printable('\u200e\u200f\u202a\u2066\u2069\u2028'), '\\u200e\\u200f\\u202a\\u2066\\u2069\\u2028');
  assert.equal(printable('\x1b]0;pwned\x07'), '\\x1b]0;pwned\\x07');
});

test('printable: plain ASCII, letters and symbols unchanged', () => {
  for (const s of ['', 'MainThread', "{'a': 1, 'b': [2, 3]}", 'é', 'snake 🐍', 'Größe', '日本語', 'a\\nb', '\u00a0']) {
    assert.equal(printable(s), s);
  }
});

const HOSTILE = '\x1b]0;pwned\x07\nFAKE LINE';

function hostileDump(): Dump {
  return {
    id: 7,
    core: {
      path: `/cores/core.${HOSTILE}`, size: 4096, sha256: 'ab'.repeat(32), pid: 42, signal: 11, signalName: 'SIGSEGV',
      executable: `/usr/bin/python3${HOSTILE}`, cmdline: `python3 -c ${HOSTILE}`, fname: 'python3', takenAt: '2026-11-29T00:00:00.000Z',
      lwps: [42], mappedFiles: [], file: null, sysroot: null,
    },
    series: null,
    ingestedAt: '2026-11-29T00:00:01.000Z',
    analysisMs: 1234,
    python: { version: '3.11.2', hexversion: 0x30b02f0, layout: 'cpython-3.11', gilHolder: 0, gilLocked: false },
    threads: [{
      tid: 42, name: `worker${HOSTILE}`, ident: 1, threadObject: null, state: 'sleeping', stateDetail: 'in time.sleep', holdsGil: false,
      pythonFrames: [{
        function: `run${HOSTILE}`, file: `/app/${HOSTILE}.py`, line: 3, nativeIndex: 0, isEntry: true,
        locals: [{ name: 'x', kind: 'str', repr: `'${HOSTILE}'` }],
      }],
      nativeFrames: [{ function: '_PyEval_EvalFrameDefault', library: '/usr/lib/libpython3.11.so', file: null, line: null, pc: 0x7f0000001000 }],
      waitsOn: null, heldLocks: [],
    }],
    findings: [],
    warnings: [],
    census: [{ type: `Evil${HOSTILE}`, module: 'mod', count: 3, bytes: 96, bytesWithBuffers: 96 }],
    pymalloc: [],
    censusStats: null,
    memory: null,
    tasks: null,
    loops: null,
  };
}

function assertSafe(text: string): void {
  assert.ok(!text.includes('\x1b'), 'no ESC byte');
  assert.ok(!text.includes('\x07'), 'no BEL byte');
  assert.ok(!/^FAKE LINE/m.test(text), 'no forged line');
  assert.ok(text.includes('\\x1b]0;pwned\\x07\\nFAKE LINE'), 'the escapes shown literally');
}

test('formatDump: a hostile thread name, local repr, type name, path and command line are shown escaped', () => {
  const text = formatDump(hostileDump(), { locals: true });
  assertSafe(text);
  assert.ok(text.includes(`"worker\\x1b]0;pwned\\x07\\nFAKE LINE"`), text);
  assert.ok(text.includes(`x = '\\x1b]0;pwned\\x07\\nFAKE LINE'`), text);
  assert.ok(text.includes('Evil\\x1b]0;pwned\\x07\\nFAKE LINE'), text);
  assert.ok(text.includes('command line: python3 -c \\x1b'), text);
  // The output's own lines are still lines.
  assert.ok(text.split('\n').length > 10);
});

test('formatCensus escapes type names; JSON keeps the exact strings', () => {
  const d = hostileDump();
  assertSafe(formatCensus(d.census, 10));
  const json = JSON.stringify(dumpJson(d));
  assert.ok(json.includes(JSON.stringify(`worker${HOSTILE}`)));
  assert.ok(json.includes(JSON.stringify(`'${HOSTILE}'`)));
});

test('the ingest progress line escapes the name of the core being analyzed', async () => {
  const { statusLine } = await import('../../src/cli/progress.js');
  const line = statusLine({ done: 0, total: 1, totalKnown: true, current: [`core.${HOSTILE}`], bytesRead: 0 }, 200);
  assertSafe(line);
});
