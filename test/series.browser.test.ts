// The series page of a process dumped three times, opened in headless Chromium: every chart has
// three points on each line, the diff pages are linked from the index and render, and nothing
// logs an error or reaches the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, skip, watchedPage } from './browser.js';
import { fixture, ingestFresh, runCli, tempDir } from './helpers.js';

test('series page: three points in every chart; diff pages linked and rendered', { skip }, async () => {
  const cores = [await fixture('census', 1), await fixture('census', 2), await fixture('census', 3)];
  const db = ingestFresh(cores.map((c) => c.core));
  const out = join(tempDir(), 'report');
  const r = runCli(['report', '--db', db, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const browser = await launch();
  try {
    const { page, problems } = await watchedPage(browser);
    await page.goto(pathToFileURL(join(out, 'index.html')).href);
    const seriesLinks = await page.locator('.series-list a[href^="series-"]').count();
    assert.equal(seriesLinks, 1, 'one series listed on the index');
    const diffLinks = await page.locator('.series-list a[href^="diff-"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.equal(diffLinks.length, 3, `two consecutive pairs and first → last: ${diffLinks.join(', ')}`);

    await page.locator('.series-list a[href^="series-"]').click();
    const charts = page.locator('figure.chart');
    assert.equal(await charts.count(), 3, 'memory, top types, threads');
    const titles = await charts.locator('figcaption').allTextContents();
    assert.deepEqual(titles.map((t) => t.split(' ')[0]), ['Memory', 'Top', 'Threads']);
    const pointsPerLine = await page.locator('figure.chart g.line').evaluateAll((lines) => lines.map((g) => g.querySelectorAll('circle.point').length));
    assert.ok(pointsPerLine.length >= 3, `lines drawn: ${pointsPerLine.length}`);
    assert.ok(pointsPerLine.every((n) => n === 3), `every line has three points: ${pointsPerLine.join(', ')}`);
    // The points climb: the cache grows, so the last top-type point sits higher than the first.
    const ys = await page.locator('figure.chart').nth(1).locator('g.line').first().locator('circle.point').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cy'))));
    assert.ok(ys[2]! < ys[0]!, `SVG y shrinks as values grow: ${ys.join(', ')}`);

    for (const href of diffLinks) {
      await page.goto(pathToFileURL(join(out, href!)).href);
      assert.match((await page.locator('h1').textContent()) ?? '', /Dump #\d+ → #\d+/);
      assert.ok((await page.locator('table').count()) >= 2, 'memory and types tables');
    }
    const wide = diffLinks.at(-1)!;
    await page.goto(pathToFileURL(join(out, wide)).href);
    assert.match((await page.locator('.holders').textContent()) ?? '', /the global `CACHE` of module `__main__`/);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
