// The parts of the gdb-side script that need no gdb (version parsing, line-table decoding), by
// their own Python unittest modules in test/unit/python, run with the script's folder on the path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gdbScriptDir, packageRoot } from '../../src/base/paths.js';

// Debian's interpreter, the one gdb embeds and the fixtures run; any python3 otherwise.
const PYTHON = existsSync('/usr/bin/python3.11') ? '/usr/bin/python3.11' : 'python3';

test('the gdb script\'s pure Python parts pass their unittests', () => {
  const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', join(packageRoot, 'test', 'unit', 'python'), '-p', 'test_*.py', '-v'], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: gdbScriptDir, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 60_000,
  });
  assert.equal(r.error, undefined, `cannot run ${PYTHON}: ${r.error?.message}`);
  const ran = /^Ran (\d+) tests?/m.exec(r.stderr);
  assert.ok(ran && Number(ran[1]) >= 20, `too few tests ran:\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
});
