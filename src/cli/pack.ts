// `coroner pack CORE -o bundle.tar.gz`, run where the core was taken: the core with every file it
// mapped and their debug files, so that `coroner ingest bundle.tar.gz` works on any machine.
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { planBundle, type PackFile } from '../bundle/collect.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { writeBundle } from '../bundle/write.js';
import { CoronerError } from '../base/errors.js';
import { humanBytes } from '../base/units.js';
import { printable } from '../base/printable.js';
import { readElfCore } from '../core/core-file.js';
import { coronerVersion } from '../base/version.js';
import { EXIT_OK } from './exit.js';

export interface PackArgs {
  core: string;
  out?: string;
  debugDir: string;
}

export async function packCommand(a: PackArgs): Promise<number> {
  const corePath = resolve(a.core);
  const out = resolve(a.out ?? `${basename(corePath)}.bundle.tar.gz`);
  const core = await readElfCore(corePath);
  const plan = await planBundle(core, resolve(a.debugDir));
  const manifest: BundleManifest = {
    format: 'coroner-bundle',
    version: 1,
    core: plan.files[0]!.entry,
    created_at: new Date().toISOString(),
    coroner_version: coronerVersion,
    host: hostname(),
    files: plan.files.map(({ source: _, ...file }) => file),
    links: plan.links,
    missing: plan.missing,
  };
  try {
    await writeBundle(manifest, plan.files, out);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CoronerError(`${out}: the bundle could not be written (${why}); check the folder and its free space`, 'write-failed');
  }
  const count = (kind: PackFile['kind']): number => plan.files.filter((f) => f.kind === kind).length;
  const bytes = plan.files.reduce((sum, f) => sum + f.size, 0);
  console.log(`packed ${corePath} into ${out}: the core, ${count('mapped') + count('thread-db')} files it mapped, ${count('debug')} debug files (${humanBytes(bytes)} before compression)`);
  for (const m of plan.missing) console.error(`not packed: ${printable(m.path)}: ${printable(m.reason)}`);
  for (const path of plan.noDebug) console.error(`no debug file for ${printable(path)} in ${a.debugDir}: its frames will lack names and lines where it is analyzed (install its -dbg or -dbgsym package, then pack again)`);
  return EXIT_OK;
}
