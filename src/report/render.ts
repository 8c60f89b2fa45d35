// `coroner report`: a static, self-contained HTML site of dumps. index.html lists them, and
// dump-<id>.html shows one: findings first, then the threads grouped by state with their merged
// native + Python stacks and locals. CSS and the one small script are inlined in every page, so the
// pages work from file:// with no network; a Content-Security-Policy allows only that script (by
// hash), so even a string from a core that slipped past escaping could not run.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { diffDumps } from '../diff/diff.js';
import type { Holding } from '../diff/holders.js';
import type { Dump } from '../model/types.js';
import { groupSeries } from '../store/series.js';
import { diffPage, diffView, seriesPairs, seriesView } from './series-view.js';
import { dumpView, indexRow } from './view.js';
import { loadTemplates, type Templates } from './templates.js';

let cached: Templates | null = null;

/** The compiled templates, read once per process. */
function templates(): Templates {
  cached ??= loadTemplates();
  return cached;
}

function cspHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

function page(t: Templates, title: string, body: string, generatedAt: string): string {
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(t.script)}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return t.layout({ title, body, css: t.css, script: t.script, csp, generatedAt, version: t.version });
}

export interface ReportOptions {
  /** Who holds the growth between two dumps (walks the later core); none when not given. */
  holders?: (a: Dump, b: Dump) => Promise<Holding[]>;
}

/**
 * Write index.html, one dump-<id>.html per dump, and for each process dumped more than once a
 * series-<n>.html with charts over time and diff-<a>-<b>.html pages, into outDir (created if
 * needed). Returns the absolute paths written, index.html first.
 */
export async function writeReport(outDir: string, dumps: Dump[], opts: ReportOptions = {}): Promise<{ files: string[] }> {
  const t = templates();
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const generatedAt = new Date().toISOString();
  const sorted = [...dumps].sort((a, b) => a.id - b.id);
  const files: string[] = [];

  const rows = sorted.map(indexRow);
  const byId = new Map(sorted.map((d) => [d.id, d]));
  const series = groupSeries(sorted.map((d) => ({ id: d.id, pid: d.core.pid, executable: d.core.executable, cmdline: d.core.cmdline, series: d.series, taken_at: d.core.takenAt })))
    .filter((s) => s.dumps.length >= 2);
  const seriesViews = series.map((s, i) => seriesView(s, i, byId));
  const index = page(
    t,
    'coroner: dumps',
    t.index({ rows, count: rows.length, anySeries: rows.some((r) => r.series !== null), series: seriesViews }),
    generatedAt,
  );
  const indexPath = join(dir, 'index.html');
  await writeFile(indexPath, index, 'utf8');
  files.push(indexPath);

  for (const d of sorted) {
    const view = dumpView(d);
    const html = page(t, `coroner: ${view.title}`, t.dump(view), generatedAt);
    const path = join(dir, view.page);
    await writeFile(path, html, 'utf8');
    files.push(path);
  }

  for (const [i, s] of series.entries()) {
    const view = seriesViews[i]!;
    const path = join(dir, view.page);
    await writeFile(path, page(t, `coroner: series ${view.name}`, t.series(view), generatedAt), 'utf8');
    files.push(path);
    const pairs = seriesPairs(s);
    for (const [a, b] of pairs) {
      const da = byId.get(a)!;
      const db = byId.get(b)!;
      // Holders cost a walk of the later core: only for the widest span of the series.
      const wide = a === s.dumps[0] && b === s.dumps.at(-1);
      const holders = wide && opts.holders ? await opts.holders(da, db) : [];
      const diffPath = join(dir, diffPage(a, b));
      const view = diffView(diffDumps(da, db), holders);
      await writeFile(diffPath, page(t, `coroner: ${view.title}`, t.diff(view), generatedAt), 'utf8');
      files.push(diffPath);
    }
  }
  return { files };
}
