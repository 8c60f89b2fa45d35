// The ingest pipeline for one batch: each core is checked, hashed, analyzed by gdb, modelled and
// stored in its own transaction; one core's failure is a value in the summary, never the batch's end.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import { CoronerError, errorKind, errorLine } from '../base/errors.js';
import { extractWithGdb, resolveExecutable, type GdbOptions } from '../extract/gdb-run.js';
import { buildDump } from './build.js';
import { addSourceLines } from './source-lines.js';
import { analyzeHeapInWorker } from './heap-stage-pool.js';
import type { CoreFacts } from '../model/types.js';
import type { Db } from '../store/db.js';
import { findBySha, storeDump } from '../store/dumps.js';
import { executableOf, readElfCore, signalName, type ElfCore } from '../core/core-file.js';
import type { RawExtraction } from '../model/raw.js';
import { expandInputs, type CoreSource } from '../inputs/inputs.js';
import { keepCopy } from '../inputs/keep.js';
import { Scratch } from '../inputs/scratch.js';
import { StatusTracker, type IngestStatus } from './status.js';

export interface IngestOptions extends Omit<GdbOptions, 'signal'> {
  force: boolean;
  series: string | null;
  /** ISO time to record as the capture time instead of the core's mtime. */
  takenAt: string | null;
  /** Keep the copies coroner makes (archive members, stdin, uploads) here instead of deleting them. */
  keepCores?: string | null;
  /** The most bytes of cores one archive may unpack (--max-unpacked). */
  maxUnpacked?: number;
  /** The files named are coroner's own copies (the server's spool): kept or deleted like archive members. */
  ownInputs?: boolean;
  jobs: number;
  onProgress?: (event: IngestOutcome) => void;
  /** Called as the ingest moves (often: a display should throttle itself). */
  onStatus?: (status: Readonly<IngestStatus>) => void;
}

export type IngestOutcome =
  | { path: string; status: 'ingested'; id: number; threads: number; findings: number; ms: number }
  /** same_as (snake_case, as --json prints it): the core of this batch it is a copy of (else it was stored before, or by another ingest meanwhile). */
  | { path: string; status: 'duplicate'; id: number; same_as?: string }
  | { path: string; status: 'failed'; kind: string; error: string };

/** An argument as a shell would need it, so that a command line with spaces reads unambiguously. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export async function sha256File(path: string, onBytes?: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

/** sha256 -> the first core of this batch with those bytes, and its id once stored (null if it failed). */
type Seen = Map<string, { name: string; id: Promise<number | null> }>;

async function ingestOne(db: Db, source: CoreSource, given: IngestOptions, seen: Seen, status: StatusTracker): Promise<IngestOutcome> {
  const started = performance.now();
  const { path, name } = source;
  // A bundle brings its own sysroot and debug files; flags the user gives still win.
  const opts = { ...given, sysroot: given.sysroot ?? source.sysroot, debugDir: given.debugDir ?? source.debugDir };
  const elf = await readElfCore(path);
  const exe = resolveExecutable(path, executableOf(elf), opts);
  // A core hashed while it was copied out of an archive is known before gdb runs.
  const known = source.sha256 !== undefined ? await duplicateOf(db, name, source.sha256, opts.force, seen) : null;
  if (known) return known;
  // Otherwise hash and analyze at once: the hash decides whether the analysis is kept.
  const abort = new AbortController();
  const analysis = extractWithGdb(path, exe, { ...opts, signal: abort.signal, mappedFiles: elf.mappedFiles.map((m) => m.path) });
  analysis.catch(() => {});
  const sha256 = source.sha256 ?? (await sha256File(path, source.copied ? undefined : (n) => status.read(n)));
  const existing = await duplicateOf(db, name, sha256, opts.force, seen);
  if (existing) {
    abort.abort();
    return existing;
  }
  let stored: (id: number | null) => void = () => {};
  seen.set(sha256, { name, id: new Promise((resolve) => (stored = resolve)) });
  try {
    const outcome = await analyzeAndStore(db, source, opts, elf, sha256, analysis, given.sysroot ?? null, started);
    stored(outcome.id);
    return outcome;
  } finally {
    stored(null);
  }
}

/** The outcome for a core whose bytes are already in this batch or in the database, else null. */
async function duplicateOf(db: Db, name: string, sha256: string, force: boolean, seen: Seen): Promise<IngestOutcome | null> {
  const first = seen.get(sha256);
  if (first) {
    const id = await first.id;
    if (id === null) return { path: name, status: 'failed', kind: 'duplicate-of-failed', error: `${name}: the same core as ${first.name}, which failed (see its line)` };
    return { path: name, status: 'duplicate', id, same_as: first.name };
  }
  const id = force ? null : findBySha(db, sha256);
  return id === null ? null : { path: name, status: 'duplicate', id };
}

async function analyzeAndStore(
  db: Db, source: CoreSource, opts: IngestOptions, elf: ElfCore, sha256: string, analysis: Promise<RawExtraction>,
  userSysroot: string | null, started: number,
): Promise<Extract<IngestOutcome, { id: number }>> {
  const name = source.name;
  const path = source.path;
  const raw = await analysis;
  const mtime = (await stat(path)).mtime;
  const census = await analyzeHeapInWorker(elf, raw, { sysroot: opts.sysroot });
  const kept = await keepCopy(source, sha256, opts.keepCores ?? null);
  const core: CoreFacts = {
    path: name,
    size: elf.size,
    sha256,
    pid: elf.pid,
    signal: elf.signal,
    signalName: signalName(elf.signal),
    executable: executableOf(elf),
    cmdline: raw.python.argv?.length ? raw.python.argv.map(shellWord).join(' ') : elf.psargs,
    fname: elf.fname,
    takenAt: opts.takenAt ?? source.takenAt ?? mtime.toISOString(),
    lwps: elf.lwps,
    mappedFiles: elf.mappedFiles,
    file: kept?.file ?? null,
    // Recorded only where it lasts: the user's own --sysroot, or a bundle's files kept with its core.
    sysroot: userSysroot ?? kept?.sysroot ?? null,
  };
  const ms = performance.now() - started;
  const dump = buildDump(core, raw, census, ms, opts.series);
  addSourceLines(dump.threads, opts.sysroot ?? null, core.takenAt);
  // Another ingest may have stored the same core meanwhile: looked at again inside the write.
  const { id, stored } = storeDump(db, dump, opts.force);
  if (!stored) return { path: name, status: 'duplicate', id };
  return { path: name, status: 'ingested', id, threads: dump.threads.length, findings: dump.findings.length, ms };
}

/** A failure as the user must read it: naming the core as they know it, not its temporary copy. */
function failure(source: CoreSource, err: unknown): IngestOutcome {
  if (!(err instanceof CoronerError) && process.env.CORONER_DEBUG) console.error(err);
  const aliases: [string, string][] = [[source.path, source.name], ...(source.aliases ?? [])];
  // A CoronerError names its file; a bug's line must still say which core met it.
  const said = err instanceof CoronerError ? errorLine(err) : `${source.path}: ${errorLine(err)}`;
  const line = aliases.reduce((text, [temp, shown]) => text.split(temp).join(shown), said);
  return { path: source.name, status: 'failed', kind: errorKind(err), error: line };
}

/** Ingest every core the inputs name; returns one outcome per core (and per unusable input). */
export async function ingest(db: Db, inputs: string[], opts: IngestOptions): Promise<IngestOutcome[]> {
  const status = new StatusTracker(opts.onStatus);
  const scratch = await Scratch.create();
  const queue = new PQueue({ concurrency: Math.max(1, opts.jobs) });
  const seen: Seen = new Map();
  const outcomes: Promise<IngestOutcome>[] = [];
  const analyze = async (source: CoreSource): Promise<IngestOutcome> => {
    status.started(source.name);
    let outcome: IngestOutcome;
    try {
      outcome = await ingestOne(db, source, opts, seen, status);
    } catch (err) {
      outcome = failure(source, err);
    } finally {
      if (source.temporary) await rm(source.temporary, { recursive: true, force: true });
    }
    status.finished(source.name);
    opts.onProgress?.(outcome);
    return outcome;
  };
  try {
    for await (const item of expandInputs(inputs, { scratch, onBytes: (n) => status.read(n), owned: opts.ownInputs, maxUnpacked: opts.maxUnpacked })) {
      if ('problem' in item) {
        const outcome: IngestOutcome = { path: item.problem.name, status: 'failed', kind: item.problem.error.kind, error: item.problem.error.message };
        opts.onProgress?.(outcome);
        outcomes.push(Promise.resolve(outcome));
        continue;
      }
      status.found();
      // Of the cores waiting, the largest starts first (longest job first, with size as the only
      // guess of the cost there is before gdb runs): a batch then ends on short analyses rather
      // than on one long one while the other CPUs idle.
      const size = await stat(item.source.path).then((s) => s.size, () => 0);
      outcomes.push(queue.add<IngestOutcome>(() => analyze(item.source), { priority: size }));
      // Read on (unpack the next member) only while few cores wait: the copies stay few on disk.
      await queue.onSizeLessThan(Math.max(1, opts.jobs));
    }
    status.allFound();
    return await Promise.all(outcomes);
  } finally {
    await Promise.allSettled(outcomes);
    await scratch.remove();
  }
}
