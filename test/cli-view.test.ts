// The text views on real cores as a terminal shows them: `show` within 100 columns when COLUMNS=100,
// identical threads as one entry, `list` by id with the script each process ran and its findings'
// kinds, `census` showing the top 25 unless told --top or --all; and the dump page's group card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, skip as noBrowser, watchedPage } from './browser.js';
import { fixture, ingestFresh, runCli, tempDir, truthOf } from './helpers.js';
import type { FixtureCore } from '../scripts/lib/fixture-cores.js';

const WORKLOADS = ['threads', 'deadlock', 'fragmentation', 'asyncio_service', 'recursion', 'healthy_cache', 'crash'] as const;
const cores = new Map<string, FixtureCore>();
for (const w of WORKLOADS) cores.set(w, await fixture(w));
const db = ingestFresh(WORKLOADS.map((w) => cores.get(w)!.core));
const listed = JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number; path: string; script: string; finding_kinds: string[] }[];
const idOf = (w: string): string => String(listed.find((d) => d.path === cores.get(w)!.core)!.id);

/** The pool of identical workers in the threads fixture, as the process named them. */
function pool(): { name: string; native_id: number }[] {
  return truthOf(cores.get('threads')!).threads.filter((t) => /^pool-worker-\d+$/.test(t.name));
}

test('show: every line within 100 columns when COLUMNS=100, with --native and --locals too; nothing lost to the wrapping', () => {
  for (const w of WORKLOADS) {
    for (const extra of [[], ['--native'], ['--locals']]) {
      const r = runCli(['show', idOf(w), '--db', db, ...extra], { COLUMNS: '100' });
      assert.equal(r.code, 0, r.stderr);
      const long = r.stdout.split('\n').filter((l) => [...l].length > 100);
      assert.deepEqual(long, [], `${w} ${extra.join(' ')}: lines over 100 columns`);
      assert.ok(!r.stdout.includes('\x1b['), `${w}: no colour when not a terminal`);
      const unwrapped = runCli(['show', idOf(w), '--db', db, ...extra], { COLUMNS: '0' }).stdout;
      assert.equal(r.stdout.replace(/\s+/g, ' '), unwrapped.replace(/\s+/g, ' '), `${w} ${extra.join(' ')}: the same words`);
      assert.ok(unwrapped.split('\n').some((l) => [...l].length > 100), `${w}: COLUMNS=0 does not wrap`);
    }
  }
});

test('show: identical threads (same state, same Python stack) as one entry naming them and where they wait', () => {
  const workers = pool();
  assert.ok(workers.length >= 3, 'the fixture has a pool');
  const out = runCli(['show', idOf('threads'), '--db', db], { COLUMNS: '0' }).stdout;
  const title = new RegExp(`^ {2}${workers.length} threads pool-worker-1…${workers.length} waiting on a lock at threads\\.py:\\d+$`, 'm');
  assert.match(out, title);
  assert.match(out, new RegExp(`^ {4}LWPs ${workers.map((t) => t.native_id).sort((a, b) => a - b).join(', ')}; `, 'm'));
  for (const t of workers) assert.doesNotMatch(out, new RegExp(`Thread ${t.native_id} `), `${t.name} is not listed on its own`);
  assert.equal(out.match(/in pool_worker$/gm)?.length, 1, 'their stack once');
  // --locals shows each thread (their locals differ); --thread names one of them.
  const locals = runCli(['show', idOf('threads'), '--db', db, '--locals']).stdout;
  for (const t of workers) assert.match(locals, new RegExp(`Thread ${t.native_id} "${t.name}"`));
  // Deep recursion folds as Python does.
  assert.match(runCli(['show', idOf('recursion'), '--db', db]).stdout, /\[Previous line repeated \d+ more times\]/);
});

test('list: by id, the script each process ran, the kinds of its findings; census: the top 25 unless --top or --all', () => {
  const r = runCli(['list', '--db', db], { COLUMNS: '100' });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^ID +PID +SCRIPT +PYTHON +TAKEN AT \(UTC\) +SIZE +THREADS +FINDINGS$/);
  const ids = lines.slice(1).filter((l) => /^ *\d/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ordered by id');
  assert.equal(ids.length, WORKLOADS.length);
  for (const l of lines) assert.ok([...l].length <= 100, `fits: ${l}`);
  for (const w of WORKLOADS) {
    const row = lines.find((l) => l.trim().startsWith(`${idOf(w)} `))!;
    assert.ok(row.includes(` ${w}.py `), `${w}: the script in ${row}`);
    assert.equal(listed.find((d) => String(d.id) === idOf(w))!.script, `${w}.py`);
  }
  const deadlocks = listed.find((d) => String(d.id) === idOf('deadlock'))!.finding_kinds.filter((k) => k === 'deadlock').length;
  assert.ok(deadlocks > 1);
  assert.match(lines.find((l) => l.trim().startsWith(`${idOf('deadlock')} `))!, new RegExp(`deadlock ×${deadlocks}`));
  assert.match(lines.find((l) => l.trim().startsWith(`${idOf('healthy_cache')} `))!, / -$/, 'no findings');

  const types = (JSON.parse(runCli(['census', idOf('healthy_cache'), '--db', db, '--json']).stdout) as unknown[]).length;
  assert.ok(types > 25, `the census has more than 25 types (${types})`);
  const rows = (args: string[]): number => runCli(['census', idOf('healthy_cache'), '--db', db, ...args]).stdout.split('\n')
    .filter((l) => l !== '' && !l.startsWith('TYPE ') && !l.startsWith('... ') && !/ objects of \d+ types, /.test(l)).length;
  assert.equal(rows([]), 25);
  assert.match(runCli(['census', idOf('healthy_cache'), '--db', db]).stdout, new RegExp(`\\.\\.\\. ${types - 25} more types \\(coroner census --all shows them all\\)`));
  assert.equal(rows(['--top', '5']), 5);
  assert.equal(rows(['--all']), types, '--all: every type');
  assert.doesNotMatch(runCli(['census', idOf('healthy_cache'), '--db', db, '--all']).stdout, /more types/);
  assert.equal(basename(cores.get('threads')!.core).startsWith('core.'), true);
});

test('dump page: identical threads as one card, closed, that opens on their shared stack', { skip: noBrowser, timeout: 300_000 }, async () => {
  const out = tempDir('coroner-groups-report-');
  assert.equal(runCli(['report', '--out', out, '--db', db]).code, 0);
  const browser = await launch();
  try {
    const { page, problems } = await watchedPage(browser);
    await page.goto(pathToFileURL(join(out, `dump-${idOf('threads')}.html`)).href);
    const workers = pool();
    const card = page.locator('details.thread-group');
    assert.equal(await card.count(), 1, 'one group card');
    assert.match((await card.locator(':scope > summary').textContent())!.replace(/\s+/g, ' ').trim(),
      new RegExp(`^${workers.length}× ${workers.length} threads pool-worker-1…${workers.length} waiting on a lock at threads\\.py:\\d+$`));
    assert.equal(await card.evaluate((d) => (d as HTMLDetailsElement).open), false, 'closed: one line for the pool');
    assert.ok(!(await card.locator('details.thread').first().isVisible()), 'its threads hidden while closed');
    await card.locator(':scope > summary').click();
    assert.equal(await card.locator('details.thread').count(), workers.length, 'every member inside');
    const first = card.locator('details.thread').first();
    assert.ok(await first.locator('.panel-python').isVisible(), 'the first member open on the shared stack');
    assert.match((await first.locator('.panel-python').textContent())!, /pool_worker/);
    assert.equal(await card.locator('details.thread[open]').count(), 1, 'the others one line each');
    // A link to a member opens the card.
    await card.locator(':scope > summary').click();
    await page.goto(`${pathToFileURL(join(out, `dump-${idOf('threads')}.html`)).href}#thread-${workers.at(-1)!.native_id}`);
    assert.ok(await page.locator(`#thread-${workers.at(-1)!.native_id}`).isVisible(), 'a linked member is shown');
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await browser.close();
  }
});

test('dump page: a sticky navigation to every section, threads one click away, the census last with its 25 heaviest types until "show all"', { skip: noBrowser, timeout: 300_000 }, async () => {
  const out = tempDir('coroner-nav-report-');
  assert.equal(runCli(['report', '--out', out, '--db', db]).code, 0);
  const browser = await launch();
  try {
    for (const w of WORKLOADS) {
      const { page, problems } = await watchedPage(browser);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(pathToFileURL(join(out, `dump-${idOf(w)}.html`)).href);
      const nav = await page.locator('nav.page-nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')!.slice(1)));
      const sections = await page.evaluate(() => [...document.querySelectorAll('main > section[id]')].map((s) => s.id));
      const expected = ['findings', 'threads', ...(w === 'asyncio_service' ? ['tasks'] : []), 'memory', 'facts', 'census'];
      assert.deepEqual(nav, expected, `${w}: the navigation`);
      assert.deepEqual(sections.filter((s) => nav.includes(s)), expected, `${w}: the sections in the same order`);
      assert.equal(sections.filter((s) => s !== 'warnings').at(-1), 'census', `${w}: the census last`);
      // One click to the threads; the navigation stays on screen while the page scrolls.
      await page.locator('nav.page-nav a[href="#threads"]').click();
      const top = await page.locator('#threads').evaluate((e) => e.getBoundingClientRect().top);
      assert.ok(top >= 0 && top < 120, `${w}: the threads at the top of the screen after one click (${top}px)`);
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      const navBox = await page.locator('nav.page-nav').boundingBox();
      assert.ok(navBox && navBox.y >= 0 && navBox.y < 5, `${w}: the navigation sticks to the top (${navBox?.y})`);

      const types = (JSON.parse(runCli(['census', idOf(w), '--db', db, '--json']).stdout) as unknown[]).length;
      const visible = (): Promise<number> => page.locator('#census-table tbody tr:visible').count();
      if (types > 25) {
        assert.equal(await visible(), 25, `${w}: the 25 heaviest types`);
        await page.locator('#census-table thead th', { hasText: 'Count' }).click();
        const counts = (await page.locator('#census-table tbody tr:visible td:nth-child(3)').allTextContents()).map(Number);
        assert.equal(counts.length, 25, `${w}: still 25 once sorted`);
        assert.deepEqual(counts, [...counts].sort((a, b) => a - b), `${w}: the 25 first by the new order`);
        await page.locator('button[data-show-all="census-table"]').click();
        assert.equal(await visible(), types, `${w}: show all`);
      } else {
        assert.equal(await visible(), types);
      }
      if (w === 'asyncio_service') {
        const text = (await page.locator('#tasks').textContent())!;
        assert.match(text, /20 tasks "sleeper-0"…"sleeper-19"/, 'identical tasks as one entry');
        // The await tree: every edge the process knew (a task above each task it awaits), and no other.
        const edges = await page.locator('#tasks ul.await-tree li').evaluateAll((lis) => lis.flatMap((li) => {
          const name = (el: Element): string => /^\(T\) (.*)$/.exec(el.querySelector(':scope > .mono')!.textContent)?.[1] ?? '';
          const parent = li.parentElement!.closest('li');
          return parent ? [`${name(parent)} → ${name(li)}`] : [];
        }));
        const truth = truthOf(cores.get(w)!) as ReturnType<typeof truthOf> & { extra: { tasks: { name: string; awaited_by: string[] }[] } };
        const known = truth.extra.tasks.flatMap((t) => t.awaited_by.map((parent) => `${parent} → ${t.name}`));
        assert.ok(known.length >= 6, `tasks awaiting tasks: ${known.length}`);
        assert.deepEqual(edges.sort(), known.sort(), 'the await tree');
      }
      assert.deepEqual(problems, [], w);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
