// Python-first stacks on real cores: `show` prints each thread's Python frames as the process's own
// Python formats a traceback of the same frames (traceback.format_list, source lines from linecache,
// deep recursion folded), the native frames under the innermost Python frame after it; `--native`
// keeps the merged view; `--thread` shows one thread; the dump page's "copy as text" copies the
// traceback Python would print, in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, skip as noBrowser, watchedPage } from './browser.js';
import { fixture, ingestFresh, runCli, tempDir, truthOf, type Truth, type TruthFrame } from './helpers.js';
import type { FixtureCore } from '../scripts/lib/fixture-cores.js';

const WORKLOADS = ['threads', 'recursion', 'deadlock'] as const;
const cores = new Map<string, FixtureCore>();
for (const w of WORKLOADS) cores.set(w, await fixture(w));
const db = ingestFresh(WORKLOADS.map((w) => cores.get(w)!.core));
const listed = JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number; path: string }[];
const idOf = (w: string): string => String(listed.find((d) => d.path === cores.get(w)!.core)!.id);

/** The traceback the process's own Python prints for these frames (innermost first, as the truth lists them). */
function pythonTraceback(truth: Truth, frames: TruthFrame[]): string {
  const script = 'import json, sys, traceback\n' +
    'frames = [tuple(f) for f in json.load(sys.stdin)]\n' +
    'sys.stdout.write("Traceback (most recent call last):\\n" + "".join(traceback.format_list(frames)))\n';
  const list = [...frames].reverse().map((f) => [f.file, f.line, f.function, null]);
  const r = spawnSync(truth.executable, ['-c', script], { input: JSON.stringify(list), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd();
}

/** The lines `show` prints for one thread, from its header to the blank line after it, unindented by the thread's own two spaces. */
function threadBlock(out: string, tid: number): string[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  Thread ${tid} `) || l.startsWith(`Thread ${tid} `));
  assert.ok(start >= 0, `thread ${tid} in show`);
  const indent = lines[start]!.startsWith('  ') ? 2 : 0;
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start, end === -1 ? undefined : end).map((l) => l.slice(indent));
}

test('show: each thread\'s Python frames as Python\'s own traceback of them, native frames folded and the ones under it last', () => {
  let checked = 0;
  for (const w of WORKLOADS) {
    const truth = truthOf(cores.get(w)!);
    const shown = JSON.parse(runCli(['show', idOf(w), '--db', db, '--json']).stdout) as {
      threads: { tid: number; native_frames: unknown[]; python_frames: { native_index: number; source: string | null; file: string; line: number }[] }[];
    };
    for (const t of truth.threads) {
      if (!t.frames?.length) continue;
      // One thread at a time: identical ones are one entry in the whole view.
      const out = runCli(['show', idOf(w), '--db', db, '--thread', String(t.native_id)], { COLUMNS: '0' });
      assert.equal(out.code, 0, out.stderr);
      // Under the header: the locks it waits on and holds, then its traceback.
      const block = threadBlock(out.stdout, t.native_id).slice(1).filter((l) => !/^ {2}(waits on|holds) /.test(l));
      const python = pythonTraceback(truth, t.frames).split('\n').slice(1);
      assert.deepEqual(block.slice(0, python.length), python, `${w}: ${t.name}'s traceback as Python prints it`);
      const s = shown.threads.find((x) => x.tid === t.native_id)!;
      const under = s.python_frames[0]!.native_index;
      const rest = block.slice(python.length);
      assert.equal(rest[0], `  … ${s.native_frames.length - under} interpreter frames (show --native shows them)`, `${w}: ${t.name}: folded count`);
      assert.equal(rest.filter((l) => /^ {4}0x[0-9a-f]+ /.test(l)).length, under, `${w}: ${t.name}: the native frames under the last Python frame`);
      // Source lines are stored: the JSON has them as the traceback shows them.
      for (const f of s.python_frames) assert.ok(f.source !== null && f.source.length > 0, `${w}: source of ${f.file}:${f.line}`);
      checked += 1;
    }
  }
  assert.ok(checked >= 8, `threads checked: ${checked}`);
  // Deep recursion folds as Python folds it.
  assert.match(runCli(['show', idOf('recursion'), '--db', db]).stdout, /^ {4}\[Previous line repeated \d+ more times\]$/m);
});

test('show --native keeps the merged view; --thread shows one thread by name or LWP, and names the threads when none matches', () => {
  const truth = truthOf(cores.get('deadlock')!);
  const worker = truth.threads.find((t) => t.name === 'worker-a')!;
  const merged = runCli(['show', idOf('deadlock'), '--db', db, '--native']).stdout;
  assert.match(merged, /^ {4}#0 {3}0x[0-9a-f]+ /m, 'native frames numbered');
  assert.match(merged, /^ {10}py transfer \(.*deadlock\.py:\d+\)$/m, 'Python frames under their eval loop');
  assert.doesNotMatch(merged, /interpreter frames/, 'nothing folded');

  for (const ref of ['worker-a', String(worker.native_id)]) {
    const one = runCli(['show', idOf('deadlock'), '--db', db, '--thread', ref]);
    assert.equal(one.code, 0, one.stderr);
    const headers = one.stdout.split('\n').filter((l) => /^Thread \d+ /.test(l));
    assert.deepEqual(headers.map((h) => h.split(' ')[1]), [String(worker.native_id)], `--thread ${ref}`);
    assert.match(one.stdout.split('\n')[1]!, /^Stuck: /, 'under the title and verdict');
  }
  const json = JSON.parse(runCli(['show', idOf('deadlock'), '--db', db, '--thread', 'worker-a', '--json']).stdout) as { threads: { name: string }[]; verdict: { text: string } };
  assert.deepEqual(json.threads.map((t) => t.name), ['worker-a'], '--json --thread: that thread');
  assert.match(json.verdict.text, /^Stuck: .* deadlock on two locks/, 'the verdict of the whole dump');
  const none = runCli(['show', idOf('deadlock'), '--db', db, '--thread', 'no-such-thread']);
  assert.equal(none.code, 2);
  assert.equal(none.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(none.stderr, /no thread no-such-thread .*worker-a/);
});

test('dump page: Python first by default, the merged stack one click away, "copy as text" copies Python\'s traceback', { skip: noBrowser, timeout: 300_000 }, async () => {
  const out = tempDir('coroner-stacks-report-');
  assert.equal(runCli(['report', '--out', out, '--db', db]).code, 0);
  const browser = await launch();
  try {
    let copied = 0;
    for (const w of WORKLOADS) {
      const truth = truthOf(cores.get(w)!);
      const { page, problems } = await watchedPage(browser);
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.goto(pathToFileURL(join(out, `dump-${idOf(w)}.html`)).href);
      for (const t of truth.threads) {
        if (!t.frames?.length) continue;
        const card = page.locator(`#thread-${t.native_id}`);
        // A member of a group of identical threads: open the group first.
        await card.evaluate((el) => {
          const group = el.closest<HTMLDetailsElement>('details.thread-group');
          if (group) group.open = true;
        });
        if (!(await card.evaluate((d) => (d as HTMLDetailsElement).open))) await card.locator(':scope > summary').click();
        assert.ok(await card.locator('.panel-python').isVisible(), `${w}: ${t.name}: Python first`);
        assert.ok(!(await card.locator('.panel-merged').isVisible()), `${w}: ${t.name}: merged hidden`);
        await card.locator('button.copy-tb').click();
        await page.waitForFunction((el) => el?.classList.contains('copied'), await card.locator('button.copy-tb').elementHandle());
        const text = await page.evaluate(() => navigator.clipboard.readText());
        assert.equal(text, pythonTraceback(truth, t.frames), `${w}: ${t.name}: the copied traceback`);
        copied += 1;
      }
      assert.deepEqual(problems, [], w);
      await page.close();
    }
    assert.ok(copied >= 8, `tracebacks copied: ${copied}`);
  } finally {
    await browser.close();
  }
});
