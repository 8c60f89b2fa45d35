// The report's Handlebars environment: templates/*.hbs and templates/partials/*.hbs compiled once,
// the stylesheet and script that every page inlines, and a few formatting helpers.
// Every string that comes from a core goes through {{ }} (escaped); {{{ }}} is kept for the
// report's own CSS, script and the already-rendered page body.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import { packageRoot, templatesDir } from '../base/paths.js';
import { hexAddr, humanBytes, shortSha } from '../base/units.js';

export type Render = (context: object) => string;

export interface Templates {
  layout: Render;
  index: Render;
  dump: Render;
  series: Render;
  diff: Render;
  css: string;
  script: string;
  version: string;
}

/** "2025-11-26T08:38:12.345Z" -> "2025-11-26 08:38:12 UTC"; other strings unchanged. */
export function displayTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(iso);
  if (!m) return iso;
  const zone = m[3] === undefined || m[3] === 'Z' ? ' UTC' : ` ${m[3]}`;
  return `${m[1]} ${m[2]}${zone}`;
}

function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('humanBytes', (n: unknown) => (typeof n === 'number' ? humanBytes(n) : ''));
  hb.registerHelper('shortSha', (s: unknown) => (typeof s === 'string' ? shortSha(s) : ''));
  hb.registerHelper('time', (s: unknown) => (typeof s === 'string' ? displayTime(s) : ''));
  hb.registerHelper('hex', (n: unknown) => (typeof n === 'number' ? hexAddr(n) : ''));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('gt', (a: unknown, b: unknown) => typeof a === 'number' && typeof b === 'number' && a > b);
  /** {{plural n "thread"}} -> "1 thread" / "3 threads". */
  hb.registerHelper('plural', (n: unknown, word: unknown) => {
    const count = typeof n === 'number' ? n : 0;
    return `${count} ${String(word)}${count === 1 ? '' : 's'}`;
  });
}

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

export function loadTemplates(dir: string = templatesDir): Templates {
  const hb = Handlebars.create();
  registerHelpers(hb);
  const partials = join(dir, 'partials');
  for (const file of readdirSync(partials)) {
    if (file.endsWith('.hbs')) hb.registerPartial(basename(file, '.hbs'), read(join(partials, file)));
  }
  const compile = (name: string): Render => {
    const template = hb.compile(read(join(dir, `${name}.hbs`)), { preventIndent: true });
    return (context) => template(context);
  };
  const pkg = JSON.parse(read(join(packageRoot, 'package.json'))) as { version?: string };
  return {
    layout: compile('layout'),
    index: compile('index'),
    dump: compile('dump'),
    series: compile('series'),
    diff: compile('diff'),
    css: read(join(dir, 'report.css')),
    // Inlined verbatim in a <script>: it must never contain a closing script tag.
    script: read(join(dir, 'report.js')).replace(/<\/script/gi, '<\\/script'),
    version: pkg.version ?? '',
  };
}
