// `coroner ingest`: one line per core as it finishes, then a summary; exit 2 if any core failed.
import { resolve } from 'node:path';
import { CoronerError } from '../base/errors.js';
import { defaultJobs, ingest, type IngestOutcome } from '../pipeline/ingest.js';
import { openDb } from '../store/db.js';
import { seconds } from '../base/units.js';
import { printable } from '../base/printable.js';
import { EXIT_ERROR, EXIT_OK } from './exit.js';
import { progressDisplay } from './progress.js';
import { sizeArg } from './size-arg.js';
import { plural } from '../base/prose.js';

export interface IngestArgs {
  db: string;
  cores: string[];
  force: boolean;
  exe?: string;
  sysroot?: string;
  debugDir?: string;
  debuginfod: boolean;
  timeout: number;
  jobs?: number;
  series?: string;
  takenAt?: string;
  keepCores?: string;
  maxUnpacked: string;
  json: boolean;
}

function outcomeLine(o: IngestOutcome): string {
  switch (o.status) {
    case 'ingested':
      return `ingested ${printable(o.path)} as dump ${o.id}: ${plural(o.threads, 'thread')}, ${plural(o.findings, 'finding')} (${seconds(o.ms)})`;
    case 'duplicate':
      if (o.same_as) return `skipped ${printable(o.path)}: the same core as ${printable(o.same_as)} (dump ${o.id})`;
      return `skipped ${printable(o.path)}: already stored as dump ${o.id} (--force analyzes it again)`;
    case 'failed':
      return `failed ${printable(o.error)}`;
  }
}

function checkTakenAt(value: string | undefined): string | null {
  if (value === undefined) return null;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new CoronerError(`--taken-at ${value}: not a date; give ISO 8601, e.g. 2026-11-26T08:30:00Z`, 'usage');
  return t.toISOString();
}

export async function ingestCommand(a: IngestArgs): Promise<number> {
  const takenAt = checkTakenAt(a.takenAt);
  if (!(a.timeout > 0)) throw new CoronerError(`--timeout ${a.timeout}: give a number of seconds above 0`, 'usage');
  const maxUnpacked = sizeArg('max-unpacked', a.maxUnpacked);
  const db = openDb(a.db);
  const progress = a.json ? null : progressDisplay();
  try {
    const outcomes = await ingest(db, a.cores, {
      force: a.force,
      exe: a.exe && resolve(a.exe),
      sysroot: a.sysroot && resolve(a.sysroot),
      debugDir: a.debugDir && resolve(a.debugDir),
      debuginfod: a.debuginfod,
      timeoutMs: a.timeout * 1000,
      jobs: a.jobs ?? defaultJobs(),
      series: a.series ?? null,
      takenAt,
      keepCores: a.keepCores ? resolve(a.keepCores) : null,
      maxUnpacked,
      onProgress: progress ? (o) => progress.line(outcomeLine(o), o.status === 'failed') : undefined,
      onStatus: progress?.status,
    });
    progress?.end();
    const count = (s: IngestOutcome['status']): number => outcomes.filter((o) => o.status === s).length;
    const failed = outcomes.filter((o): o is Extract<IngestOutcome, { status: 'failed' }> => o.status === 'failed');
    if (a.json) {
      console.log(JSON.stringify(outcomes, null, 2));
    } else if (outcomes.length > 1 || failed.length > 0) {
      console.log(`${count('ingested')} ingested, ${count('duplicate')} skipped as duplicates, ${failed.length} failed`);
      for (const f of failed) console.log(`  failed: ${printable(f.error)}`);
    }
    return failed.length > 0 ? EXIT_ERROR : EXIT_OK;
  } finally {
    progress?.end();
    db.close();
  }
}
