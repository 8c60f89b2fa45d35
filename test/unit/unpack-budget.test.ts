// The budget of one archive's unpacking (src/inputs/unpack-budget.ts): the ceiling is checked for
// a member's declared size before any byte and for the bytes it reaches as it is written, counting
// the members written whole before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoronerError } from '../../src/base/errors.js';
import { UnpackBudget } from '../../src/inputs/unpack-budget.js';
import { tempDir } from './fake-core.js';

function refusal(fn: () => void): CoronerError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CoronerError);
    return err;
  }
  throw new Error('not refused');
}

test('the ceiling: declared sizes before any byte, bytes reached while writing, members before counted', () => {
  const budget = new UnpackBudget(tempDir(), 3000);
  const first = budget.member(2000);
  first(1000);
  first(2000);
  budget.spent(2000);
  const tooBig = refusal(() => budget.member(1500));
  assert.equal(tooBig.kind, 'max-unpacked');
  assert.equal(tooBig.message, 'not unpacked: it is 1.5 KB, which goes beyond --max-unpacked 3.0 KB for one archive (2.0 KB unpacked before it); raise --max-unpacked if the archive is trusted');
  // A member whose size is not known (a gzip'd core) is stopped when it gets there.
  const unknown = budget.member(null);
  unknown(1000);
  const stopped = refusal(() => unknown(1001));
  assert.equal(stopped.message, 'not unpacked: it goes beyond --max-unpacked 3.0 KB for one archive (2.0 KB unpacked before it); raise --max-unpacked if the archive is trusted');
});

test('the free space: a chunk that would leave less than the reserve is refused, with what was needed and free', () => {
  const budget = new UnpackBudget(tempDir(), Number.MAX_SAFE_INTEGER);
  const check = budget.member(1e15);
  check(1 << 20);
  const full = refusal(() => check(1e15));
  assert.equal(full.kind, 'no-space');
  assert.match(full.message, /^not unpacked: it needs 1000\.0 TB and only [\d.]+ [KMGT]?B is free on .* \(1\.0 MB of it written when it stopped\); free space there, or set TMPDIR to a larger disk$/);
});
