// The text views on a terminal: wrapping to its width, the width and colour rules, and what a
// process ran named from its stored command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colourize, forTerminal, outputWidth, useColour, wrapLine } from '../../src/format/terminal.js';
import { scriptOf, shellWords } from '../../src/format/script.js';

test('wrapLine: at spaces, continued 4 columns further in, never a number cut from its unit, a long word cut hard', () => {
  const line = '  mappings: 416.2 MB in all (416.2 MB in the core), 11.2 MB file-backed, 341.0 MB anonymous writable';
  const lines = wrapLine(line, 40);
  for (const l of lines) assert.ok([...l].length <= 40, `fits: ${JSON.stringify(l)}`);
  assert.equal(lines.join(' ').replace(/ +/g, ' ').trim(), line.replace(/ +/g, ' ').trim(), 'nothing lost');
  assert.ok(lines.slice(1).every((l) => l.startsWith('      ') && !l.startsWith('       ')), 'continuations indented 6');
  assert.ok(lines.every((l) => !/\d$/.test(l) || !/^\s*MB/.test(lines[lines.indexOf(l) + 1] ?? '')), 'no "416.2 | MB" break');
  const path = `  File "/${'very/'.repeat(30)}x.py", line 3, in f`;
  assert.ok(wrapLine(path, 50).every((l) => [...l].length <= 50));
  assert.deepEqual(wrapLine('short … line', 100), ['short … line']);
  assert.deepEqual(wrapLine('x'.repeat(300), 0), ['x'.repeat(300)], 'width 0: no limit');
});

test('outputWidth and useColour: COLUMNS wins, then the terminal, else 100; colour only on a terminal without NO_COLOR', () => {
  assert.equal(outputWidth({ COLUMNS: '80' }, { isTTY: true, columns: 200 }), 80);
  assert.equal(outputWidth({}, { isTTY: true, columns: 132 }), 132);
  assert.equal(outputWidth({}, { isTTY: false }), 100);
  assert.equal(outputWidth({ COLUMNS: 'wide' }, {}), 100);
  assert.equal(useColour({}, { isTTY: true }), true);
  assert.equal(useColour({ NO_COLOR: '1' }, { isTTY: true }), false);
  assert.equal(useColour({}, { isTTY: false }), false);
  const text = 'dump 1  core.1\nStuck: a and b deadlock on two locks at x.py:3\n  [critical] deadlock: ...\n  Thread 5 "a"  waiting-lock  waiting\n    File "x.py", line 3, in f';
  assert.equal(forTerminal(text, { COLUMNS: '100' }, { isTTY: false }), text, 'plain when not a terminal');
  const painted = colourize(text);
  const E = '\x1b';
  assert.ok(painted.includes(`${E}[1m${E}[31mStuck: `), 'the verdict, bold red');
  assert.ok(painted.includes(`${E}[31m${E}[1m[critical]`), 'the severity');
  assert.ok(painted.includes(`${E}[31mwaiting-lock${E}[0m`), 'the state');
  assert.ok(painted.includes(`${E}[36mFile "x.py", line 3, in f${E}[0m`), 'a Python frame');
  assert.equal(painted.replace(new RegExp(`${E}\\[\\d+m`, 'g'), ''), text, 'colour adds nothing else');
});

test('scriptOf: the script, -m module, -c or -, past the interpreter and its options', () => {
  assert.equal(scriptOf('/usr/bin/python3.11 /srv/app/worker.py --queue q'), 'worker.py');
  assert.equal(scriptOf('python3 -u -X dev -W error /srv/app/x.py'), 'x.py');
  assert.equal(scriptOf('python3.11 -m http.server 8000'), '-m http.server');
  assert.equal(scriptOf('python3 -um celery worker'), '-m celery');
  assert.equal(scriptOf("python2.7 -c 'import time; time.sleep(9)'"), '-c');
  assert.equal(scriptOf('python3 -'), '-');
  assert.equal(scriptOf('/usr/bin/gunicorn app:app'), 'gunicorn');
  assert.equal(scriptOf("/usr/bin/python3 '/srv/my app/it'\\''s.py'"), "it's.py");
  assert.deepEqual(shellWords("a 'b c' d"), ['a', 'b c', 'd']);
});
