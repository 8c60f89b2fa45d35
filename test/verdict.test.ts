// The verdict on real cores: the line under `show`'s title, the `verdict` of `show --json`, and the
// first text under the dump page's title in headless Chromium, checked against what each fixture
// process knew about itself (its deadlocked threads, its signal, its innermost frame).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, skip as noBrowser, watchedPage } from './browser.js';
import { fixture, ingestFresh, runCli, tempDir, truthOf } from './helpers.js';
import type { FixtureCore } from '../scripts/lib/fixture-cores.js';

const WORKLOADS = ['deadlock', 'fragmentation', 'native_leak', 'crash'] as const;
const cores = new Map<string, FixtureCore>();
for (const w of WORKLOADS) cores.set(w, await fixture(w));
const db = ingestFresh(WORKLOADS.map((w) => cores.get(w)!.core));
// Ingest numbers the dumps as they finish: find each by its core.
const listed = JSON.parse(runCli(['list', '--db', db, '--json']).stdout) as { id: number; path: string }[];
const idOf = (w: string): string => String(listed.find((d) => d.path === cores.get(w)!.core)!.id);

interface Shown {
  verdict: { kind: string; text: string };
  memory: { writable_bytes: number; breakdown: { kind: string; bytes: number }[]; native: { bytes: number } | null };
}

function humanMb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** What each core's verdict must say, from its truth and its own memory figures. */
function expected(w: string, shown: Shown): RegExp | string {
  const truth = truthOf(cores.get(w)!);
  const m = shown.memory;
  switch (w) {
    case 'deadlock': {
      const names = truth.expect.deadlocked!;
      return new RegExp(`^Stuck: (${names[0]} and ${names[1]}|${names[2]} and ${names[3]}) deadlock on two locks at deadlock\\.py:\\d+; also stuck: .+$`);
    }
    case 'fragmentation': {
      const free = m.breakdown.find((p) => p.kind === 'malloc-free')!.bytes;
      return `Big: ${humanMb(free)} of ${humanMb(m.writable_bytes)} is free memory glibc keeps (fragmentation)`;
    }
    case 'native_leak':
      return `Big: ${humanMb(m.native!.bytes)} of ${humanMb(m.writable_bytes)} is malloc memory no Python object owns (native code)`;
    default: {
      const main = truth.threads.find((t) => t.native_id === truth.pid)!;
      const top = main.frames![0]!;
      return `Crashed: SIGABRT in ${main.name} at ${basename(top.file)}:${top.line}`;
    }
  }
}

function check(got: string, want: RegExp | string, what: string): void {
  if (typeof want === 'string') assert.equal(got, want, what);
  else assert.match(got, want, what);
}

test('verdict: the line under show\'s title and show --json\'s verdict, on the deadlock, fragmentation, native-leak and crash cores', () => {
  for (const w of WORKLOADS) {
    const shown = JSON.parse(runCli(['show', idOf(w), '--db', db, '--json']).stdout) as Shown;
    check(shown.verdict.text, expected(w, shown), `${w}: verdict`);
    assert.equal(shown.verdict.kind, { deadlock: 'stuck', fragmentation: 'big', native_leak: 'big', crash: 'crashed' }[w], `${w}: kind`);
    const lines = runCli(['show', idOf(w), '--db', db], { COLUMNS: '0' }).stdout.split('\n');
    assert.match(lines[0]!, new RegExp(`^dump ${idOf(w)} `), `${w}: the title`);
    assert.equal(lines[1], shown.verdict.text, `${w}: the verdict is the line under the title`);
    // On a narrower screen it continues on the lines after, indented.
    const narrow = runCli(['show', idOf(w), '--db', db], { COLUMNS: '60' }).stdout.split('\n');
    const at = narrow.findIndex((l) => l.startsWith(shown.verdict.text.split(' ')[0]!));
    assert.ok(at >= 1 && narrow.slice(1, at).every((l) => l.startsWith('    ')), `${w}: under the (wrapped) title`);
    const rest = narrow.slice(at + 1);
    const pieces = [narrow[at]!, ...rest.slice(0, rest.findIndex((l) => !l.startsWith('    ')))];
    assert.equal(pieces.join(' ').replace(/ +/g, ' '), shown.verdict.text.replace(/ +/g, ' '), `${w}: the verdict, wrapped at 60`);
  }
});

test('verdict: the first text under the dump page\'s title in headless Chromium', { skip: noBrowser, timeout: 300_000 }, async () => {
  const out = tempDir('coroner-verdict-report-');
  const r = runCli(['report', '--out', out, '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  const browser = await launch();
  try {
    for (const w of WORKLOADS) {
      const shown = JSON.parse(runCli(['show', idOf(w), '--db', db, '--json']).stdout) as Shown;
      const { page, problems } = await watchedPage(browser);
      await page.goto(pathToFileURL(join(out, `dump-${idOf(w)}.html`)).href);
      const after = await page.evaluate(() => {
        const h1 = document.querySelector('main h1');
        const next = h1?.nextElementSibling;
        return { text: next?.textContent?.trim() ?? '', visible: next instanceof HTMLElement && next.offsetHeight > 0, top: next?.getBoundingClientRect().top ?? 1e9 };
      });
      check(after.text, expected(w, shown), `${w}: the element after the title`);
      assert.equal(after.text, shown.verdict.text, `${w}: the same words as show`);
      assert.ok(after.visible && after.top < 300, `${w}: visible on the first screen (top ${after.top}px)`);
      if (w === 'deadlock') {
        // The findings link the threads they are about to their cards.
        const truth = truthOf(cores.get(w)!);
        const want = truth.expect.deadlocked!.map((n) => `#thread-${truth.threads.find((t) => t.name === n)!.native_id}`);
        const hrefs = await page.locator('#findings .finding-threads a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        for (const h of want) assert.ok(hrefs.includes(h), `a finding links ${h}: ${hrefs.join(' ')}`);
        await page.locator(`#findings .finding-threads a[href="${want[0]}"]`).first().click();
        assert.ok(await page.locator(want[0]!).isVisible(), 'the card it links to is shown');
      }
      assert.deepEqual(problems, [], w);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});

test('series verdict: the census workload\'s three dumps grow, by the figures of their memory, the program\'s class named with the count it grew by', { timeout: 300_000 }, async () => {
  const series = await Promise.all([1, 2, 3].map((n) => fixture('census', n)));
  const sdb = ingestFresh(series.map((c) => c.core));
  const truths = series.map(truthOf) as (ReturnType<typeof truthOf> & { extra: { classes: Record<string, { count: number; module: string }> } })[];
  const grew = truths[2]!.extra.classes.OrderRecord!.count - truths[0]!.extra.classes.OrderRecord!.count;
  const [s] = JSON.parse(runCli(['series', '--db', sdb, '--json']).stdout) as { dumps: number[]; verdict: { kind: string; text: string } }[];
  const writable = s!.dumps.map((id) => (JSON.parse(runCli(['show', String(id), '--db', sdb, '--json']).stdout) as Shown).memory.writable_bytes);
  assert.equal(s!.verdict.kind, 'growing');
  assert.match(s!.verdict.text, new RegExp(`^Growing: \\+${humanMb(writable[2]! - writable[0]!).replace('.', '\\.')} \\(${humanMb(writable[0]!).replace('.', '\\.')} → ` +
    `${humanMb(writable[2]!).replace('.', '\\.')}\\) over 3 dumps in \\d+ s; among them \\+${grew.toLocaleString('en-US')} __main__\\.OrderRecord \\(\\+[\\d.]+ MB\\) since dump #${s!.dumps[0]}$`));
  assert.ok(runCli(['series', '--db', sdb], { COLUMNS: '0' }).stdout.split('\n').includes(`  ${s!.verdict.text}`), 'series prints it under the series');

  if (noBrowser) return;
  const out = tempDir('coroner-series-verdict-');
  assert.equal(runCli(['report', '--out', out, '--db', sdb]).code, 0);
  const browser = await launch();
  try {
    const { page, problems } = await watchedPage(browser);
    await page.goto(pathToFileURL(join(out, 'series-1.html')).href);
    const next = await page.evaluate(() => document.querySelector('main h1')?.nextElementSibling?.textContent?.trim());
    assert.equal(next, s!.verdict.text, 'the first text under the series page\'s title');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
