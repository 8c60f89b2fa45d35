// The wire contract: a document gdb's script wrote is accepted only when it has the promised
// format, every key the pipeline reads, and the heap record's version; otherwise one line names
// the core and what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractionProblem, heapLayoutProblem, type RawExtraction } from '../../src/model/raw.js';
import { readExtraction } from '../../src/extract/gdb-run.js';
import { CoronerError } from '../../src/base/errors.js';
import { heap311 } from './cpython-fixture.js';

function doc(): RawExtraction {
  return {
    format: 1,
    python: { version: '3.11.2', hexversion: 0x030b02f0, layout: 'cpython-3.11', gil_holder: 0, gil_locked: false, argv: ['python3', 'x.py'] },
    threads: [{
      num: 1, lwp: 42, ident: 7, name: 'MainThread', holds_gil: true,
      native_frames: [{ function: 'main', library: null, file: null, line: null, pc: 4096 }],
      python_frames: [{ function: '<module>', file: 'x.py', line: 3, native_index: 0, is_entry: true, locals: [{ name: 'a', kind: 'local', repr: '1' }] }],
      waits_on: null,
    }],
    heap: heap311(),
    warnings: [],
  };
}

test('a document as the script promises it passes', () => {
  assert.equal(extractionProblem(doc()), null);
  assert.equal(extractionProblem({ ...doc(), heap: null }), null, 'a core whose heap could not be described');
  assert.equal(heapLayoutProblem(heap311()), null);
  assert.equal(heapLayoutProblem({ ...heap311(), module: { dict: 16, name: null } }), null, "2.7: a module's name only in its dict");
});

test('each way a document can be off is named with its path', () => {
  // Each case spoils a fresh document through a path and a value (undefined: the key removed).
  const cases: [string, (string | number)[], unknown, string][] = [
    ['format', ['format'], 2, 'format 2, expected 1'],
    ['layout version', ['heap', 'layout_version'], 2, 'heap layout version 2, expected 1'],
    ['missing key', ['heap', 'tracked'], undefined, 'heap.tracked: missing'],
    ['wrong type', ['threads', 0, 'lwp'], '42', 'threads[0].lwp: a string, not a number'],
    ['deep', ['threads', 0, 'python_frames', 0, 'locals', 0, 'repr'], null, 'threads[0].python_frames[0].locals[0].repr: a null, not a string'],
    ['list', ['heap', 'types'], {}, 'heap.types: not a list'],
    ['nullable', ['heap', 'pymalloc', 'alignment'], undefined, 'heap.pymalloc.alignment: missing'],
    ['variant', ['heap', 'dict_keys', 'format'], 'log3', 'heap.dict_keys.format: "log3", not one of log2, sized, table'],
  ];
  for (const [what, path, value, expected] of cases) {
    const d = doc() as unknown as Record<string | number, unknown>;
    const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, d);
    const last = path.at(-1)!;
    if (value === undefined) delete parent[last];
    else parent[last] = value;
    assert.equal(extractionProblem(d), expected, what);
  }
  assert.equal(heapLayoutProblem({ ...heap311(), layout_version: undefined }), 'heap layout version null, expected 1');
});

test('readExtraction: the script\'s own error, unreadable output and a broken contract are one line naming the core', () => {
  const attempt = (text: string): CoronerError => {
    try {
      readExtraction('/cores/core.9', '/usr/bin/python3.11', text);
    } catch (err) {
      assert.ok(err instanceof CoronerError);
      return err;
    }
    assert.fail('accepted');
  };
  assert.deepEqual(readExtraction('/cores/core.9', '/usr/bin/python3.11', JSON.stringify(doc())).python.version, '3.11.2');
  const unsupported = attempt(JSON.stringify({ error: { kind: 'unsupported-version', message: 'CPython 3.14 is not supported (supported: 3.11)' } }));
  assert.equal(unsupported.message, '/cores/core.9: CPython 3.14 is not supported (supported: 3.11)');
  assert.equal(unsupported.kind, 'unsupported-version');
  const cut = attempt('{"format": 1, "pyth');
  assert.match(cut.message, /^\/cores\/core\.9: gdb's script wrote no readable result/);
  const off = attempt(JSON.stringify({ ...doc(), format: 7 }));
  assert.match(off.message, /^\/cores\/core\.9: gdb's script wrote a result coroner does not expect \(format 7, expected 1\)/);
  assert.equal(off.kind, 'bad-extraction');
  assert.ok(!off.message.includes('\n'));
});
