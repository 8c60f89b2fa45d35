// The HTML report, opened as a user opens it: the fixture cores go through `coroner ingest` and
// `coroner report`, then headless Chromium loads every page from file:// and checks that the pages
// load without errors or network, list every dump and thread, expand, sort, and show the hostile
// strings the fixtures put in thread names and locals as text, never as markup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { launch, skip, watchedPage } from './browser.js';
import { fixtureCores, ingestFresh, runCli, showJson, tempDir, truthOf, type ShownDump } from './helpers.js';

/** Strings from the core that contain markup: thread names, function and file names, locals. */
function hostileStrings(d: ShownDump): string[] {
  const found = new Set<string>();
  for (const t of d.threads) {
    if (t.name?.includes('<')) found.add(t.name);
    for (const f of t.python_frames) {
      if (f.function.includes('<') && f.function !== '<module>' && f.function !== '<lambda>') found.add(f.function);
      for (const repr of Object.values(f.locals)) if (/<[a-z/!]/i.test(repr) && !/^<[\w.]+ at 0x[0-9a-f]+>$/.test(repr)) found.add(repr);
    }
  }
  return [...found];
}

/** What every page must satisfy: one script (the report's own), no URL leaving the report. */
async function assertSelfContained(page: Page, where: string): Promise<void> {
  const scripts = await page.evaluate(() => [...document.querySelectorAll('script')].map((s) => s.src || s.textContent.slice(0, 60)));
  assert.equal(scripts.length, 1, `${where}: only the report's own script: ${JSON.stringify(scripts)}`);
  assert.match(scripts[0]!, /coroner report/, `${where}: the one script is the report's`);
  const urls = await page.evaluate(() =>
    [...document.querySelectorAll('[href], [src], [action], [srcset]')].map((e) => e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action') ?? e.getAttribute('srcset')!),
  );
  for (const url of urls) assert.match(url, /^(#|index\.html$|(dump-\d+|series-\d+|diff-\d+-\d+)\.html(#.*)?$|data:)/, `${where}: link stays in the report: ${url}`);
  assert.equal(await page.evaluate(() => document.querySelectorAll('img, iframe, object, embed').length), 0, `${where}: no embedded content`);
}

test('report: every page of real cores loads from file:// without errors, lists dumps and threads, expands, sorts, escapes', { skip, timeout: 600_000 }, async () => {
  // The Python fixtures (a workload that is not a Python process has no interpreter to report).
  const cores = (await fixtureCores()).filter((c) => truthOf(c).python);
  assert.ok(cores.length >= 2, `fixture cores: ${cores.map((c) => c.core).join(', ')}`);
  const db = ingestFresh(cores.map((c) => c.core));
  const out = tempDir('coroner-report-');
  const r = runCli(['report', '--out', out, '--db', db]);
  assert.equal(r.code, 0, `report failed: ${r.stderr}${r.stdout}`);
  const list = JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number; pid: number }[];
  assert.equal(list.length, cores.length);

  const browser = await launch();
  try {
    // The index: one row per dump, each linking to its page, sortable by a click on a header.
    const { page, problems } = await watchedPage(browser);
    await page.goto(pathToFileURL(join(out, 'index.html')).href);
    await assertSelfContained(page, 'index.html');
    const ids = (): Promise<string[]> => page.locator('table.dumps tbody tr td:first-child').allTextContents();
    assert.deepEqual(await ids(), list.map((d) => `#${d.id}`).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
    for (const d of list) {
      assert.equal(await page.locator(`table.dumps a[href="dump-${d.id}.html"]`).count(), 2, `index links dump ${d.id}`);
      assert.ok((await page.locator('table.dumps').textContent())!.includes(String(d.pid)), `index shows pid ${d.pid}`);
    }
    const idHeader = page.locator('table.dumps thead th').first();
    await idHeader.click(); // already ascending: a click sorts descending
    assert.equal(await idHeader.getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await ids(), list.map((d) => `#${d.id}`).sort((a, b) => Number(b.slice(1)) - Number(a.slice(1))));
    await page.locator('table.dumps thead th', { hasText: 'Threads' }).click();
    const threadCells = (await page.locator('table.dumps tbody tr td:nth-child(7)').allTextContents()).map(Number);
    assert.deepEqual(threadCells, [...threadCells].sort((a, b) => a - b), 'sorted by thread count');
    assert.deepEqual(problems, [], 'index.html');
    await page.close();

    let hostileChecked = 0;
    for (const d of list) {
      const shown = showJson(db, String(d.id));
      const file = `dump-${d.id}.html`;
      const { page, problems } = await watchedPage(browser);
      await page.goto(pathToFileURL(join(out, file)).href);
      await assertSelfContained(page, file);
      const text = (await page.locator('body').textContent())!;

      // Findings first, then threads.
      assert.equal(await page.locator('#findings article.finding').count(), shown.findings.length, `${file}: findings`);
      for (const f of shown.findings) assert.ok(text.includes(f.title), `${file}: finding ${f.title}`);
      const order = await page.evaluate(() => {
        const f = document.getElementById('findings');
        const t = document.getElementById('threads');
        return f && t ? f.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING : 0;
      });
      assert.ok(order, `${file}: findings come before threads`);

      // Every thread, in the group of its state, with its Python frames.
      assert.equal(await page.locator('details.thread').count(), shown.threads.length, `${file}: threads`);
      for (const t of shown.threads) {
        const el = page.locator(`#thread-${t.tid}`);
        assert.equal(await el.count(), 1, `${file}: thread LWP ${t.tid}`);
        assert.equal(await el.getAttribute('data-state'), t.state, `${file}: state of LWP ${t.tid}`);
        assert.equal(await page.locator(`#state-${t.state} #thread-${t.tid}`).count(), 1, `${file}: LWP ${t.tid} in group ${t.state}`);
        if (t.name !== null) assert.equal((await el.locator('summary .tname').textContent())!.trim(), t.name, `${file}: name of LWP ${t.tid}`);
        assert.equal(await el.locator('.panel-merged li.pyframe').count(), t.python_frames.length, `${file}: Python frames of LWP ${t.tid}`);
        assert.equal(await el.locator('.panel-merged ol.stack > li.nframe').count(), t.native_frames.length, `${file}: native frames of LWP ${t.tid}`);
        for (const f of t.python_frames) assert.ok(text.includes(`${f.file}:${f.line}`), `${file}: frame ${f.function} ${f.file}:${f.line}`);
      }

      // <details> open and close on a click: a thread, then a frame's locals.
      const isOpen = (l: ReturnType<Page['locator']>): Promise<boolean> => l.evaluate((e) => (e as HTMLDetailsElement).open);
      const thread = page.locator('details.thread:visible').first();
      const wasOpen = await isOpen(thread);
      await thread.locator(':scope > summary').click();
      assert.equal(await isOpen(thread), !wasOpen, `${file}: thread <details> toggles`);
      await thread.locator(':scope > summary').click();
      assert.equal(await isOpen(thread), wasOpen, `${file}: and toggles back`);
      const withLocals = page.locator('details.thread:visible', { has: page.locator('.panel-python details.locals') }).first();
      if ((await withLocals.count()) > 0) {
        if (!(await isOpen(withLocals))) await withLocals.locator(':scope > summary').click();
        const locals = withLocals.locator('.panel-python details.locals').first();
        assert.equal(await isOpen(locals), false, `${file}: locals start closed`);
        await locals.locator('summary').click();
        assert.equal(await isOpen(locals), true, `${file}: locals <details> opens`);
        assert.ok(await locals.locator('table.locals-table tr').first().isVisible(), `${file}: locals visible once open`);
      }
      // The Python-first view is the default; the merged one replaces it.
      const owner = page.locator('details.thread[open]:visible').first();
      if ((await owner.count()) > 0) {
        assert.ok(await owner.locator('.panel-python').isVisible(), `${file}: Python-first view shows by default`);
        await owner.locator('.views label', { hasText: 'Merged stack' }).click();
        assert.ok(await owner.locator('.panel-merged').isVisible(), `${file}: merged view shows`);
        assert.ok(!(await owner.locator('.panel-python').isVisible()), `${file}: Python-first view hides`);
      }
      // Expand all opens every thread.
      await page.locator('button[data-expand="all"]').click();
      assert.equal(await page.locator('details.thread:not([open])').count(), 0, `${file}: expand all`);

      // Markup from the core is text: present literally, never parsed into elements.
      for (const s of hostileStrings(shown)) {
        assert.ok(text.includes(s), `${file}: the page shows ${JSON.stringify(s)} as text`);
        hostileChecked += 1;
      }
      assert.deepEqual(problems, [], file);
      await page.close();
    }
    assert.ok(hostileChecked > 0, 'the fixtures put markup in a thread name or a local, and it was checked');
  } finally {
    await browser.close();
  }
});
