// Makes the fixture cores the tests (and the demo) run on: every workload in fixtures/workloads
// run with Debian's python3.11, a core per checkpoint, the in-process truth beside each core.
// Cores are too big to commit; they are made here and kept in .cores/ until a workload changes.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, basename } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { packageRoot } from '../src/base/paths.js';
import { coresOfWorkload, coreOfNativeProcess, FIXTURE_PYTHON, type FixtureCore, type WorkloadRun } from './lib/fixture-cores.js';

export interface Manifest {
  stamp: string;
  cores: FixtureCore[];
}

const workloadsDir = join(packageRoot, 'fixtures', 'workloads');
export const defaultCoresDir = join(packageRoot, '.cores');

/** How each workload's cores are taken (default: it stops itself and gcore dumps it). */
const MODES: Record<string, Pick<WorkloadRun, 'mode' | 'settleMs'>> = {
  deadlock: { mode: 'settle', settleMs: 700 },
  crash: { mode: 'crash' },
};

/**
 * Workloads run again under another name with more environment: the fragmentation workload with
 * Debian's tcmalloc (libgoogle-perftools4) and jemalloc (libjemalloc2) preloaded instead of glibc's
 * malloc. The workload checks that the library did load (ld.so only warns when it cannot).
 */
const VARIANTS: Record<string, { workload: string; env: Record<string, string> }> = {
  fragmentation_tcmalloc: { workload: 'fragmentation', env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4' } },
  fragmentation_jemalloc: { workload: 'fragmentation', env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' } },
};

async function stampOf(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files.sort()) hash.update(file).update(await readFile(file));
  hash.update(execFileSync(FIXTURE_PYTHON, ['-c', 'import sys; print(sys.version)']));
  return hash.digest('hex').slice(0, 16);
}

export async function makeCores(outDir = defaultCoresDir, opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<Manifest> {
  const log = opts.log ?? (() => {});
  const names = (await readdir(workloadsDir)).filter((f) => f.endsWith('.py'));
  const stamp = await stampOf([
    ...names.map((n) => join(workloadsDir, n)),
    join(packageRoot, 'scripts', 'make-cores.ts'),
    join(packageRoot, 'scripts', 'lib', 'fixture-cores.ts'),
  ]);
  const manifestPath = join(outDir, 'manifest.json');
  if (!opts.force && existsSync(manifestPath)) {
    const old = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    if (old.stamp === stamp && old.cores.every((c) => existsSync(c.core) && existsSync(c.truth))) {
      log(`fixture cores are up to date in ${outDir}`);
      return old;
    }
  }
  await mkdir(outDir, { recursive: true });
  const cores: FixtureCore[] = [];
  const runs = names.filter((n) => !n.startsWith('_')).sort().flatMap((file) => {
    const workload = basename(file, '.py');
    const variants = Object.entries(VARIANTS).filter(([, v]) => v.workload === workload);
    return [{ name: workload, file, env: {} }, ...variants.map(([name, v]) => ({ name, file, env: v.env }))];
  });
  for (const { name, file, env } of runs) {
    const started = Date.now();
    const made = await coresOfWorkload(
      { name, command: [FIXTURE_PYTHON, join(workloadsDir, file)], env, ...(MODES[name] ?? { mode: 'stop' }) },
      outDir,
    );
    cores.push(...made);
    log(`${name}: ${made.length} core(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  cores.push(await coreOfNativeProcess(outDir));
  const manifest: Manifest = { stamp, cores };
  await writeFile(manifestPath, JSON.stringify(manifest, null, 1));
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = await yargs(hideBin(process.argv))
    .option('out', { type: 'string', default: defaultCoresDir, describe: 'folder for the cores' })
    .option('force', { type: 'boolean', default: false, describe: 'remake even if up to date' })
    .option('quiet', { type: 'boolean', default: false })
    .strict()
    .parse();
  const manifest = await makeCores(argv.out, { force: argv.force, log: argv.quiet ? undefined : (s) => console.log(s) });
  if (!argv.quiet) for (const c of manifest.cores) console.log(c.core);
}
