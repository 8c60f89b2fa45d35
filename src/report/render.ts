// `coroner report`: a static, self-contained HTML site of dumps. index.html lists them, and
// dump-<id>.html shows one: findings first, then the threads grouped by state with their merged
// native + Python stacks and locals. CSS and the one small script are inlined in every page, so the
// pages work from file:// with no network; a Content-Security-Policy allows only that script (by
// hash), so even a string from a core that slipped past escaping could not run.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Dump } from '../model/types.js';
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

/**
 * Write index.html and one dump-<id>.html per dump into outDir (created if needed).
 * Returns the absolute paths written, index.html first.
 */
export async function writeReport(outDir: string, dumps: Dump[]): Promise<{ files: string[] }> {
  const t = templates();
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const generatedAt = new Date().toISOString();
  const sorted = [...dumps].sort((a, b) => a.id - b.id);
  const files: string[] = [];

  const rows = sorted.map(indexRow);
  const index = page(
    t,
    'coroner: dumps',
    t.index({ rows, count: rows.length, anySeries: rows.some((r) => r.series !== null) }),
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
  return { files };
}
