// `npm run bench`: coroner's figures beside a baseline measured in the same run on the same core.
// Ratios, not absolute times, are what to compare: these machines are noisy.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { humanBytes } from '../src/format/units.js';
import { FIXTURE_PYTHON } from './lib/fixture-cores.js';
import { makeCores } from './make-cores.js';

const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const REPS = 5;

function timeIt(cmd: string, args: string[]): number {
  const started = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - started;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const manifest = await makeCores();
const core = manifest.cores.find((c) => c.workload === 'threads')!.core;
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cpus; node ${process.version}`);
console.log(`core: ${core} (${humanBytes(statSync(core).size)}, 7 threads)`);

const pybt: number[] = [];
const ours: number[] = [];
for (let i = 0; i < REPS; i++) {
  // Alternate the two so that drift in the machine's load hits both alike.
  pybt.push(timeIt('gdb', ['-batch', '-ex', 'thread apply all py-bt', FIXTURE_PYTHON, core]));
  const db = join(mkdtempSync(join(tmpdir(), 'coroner-bench-')), 'bench.db');
  ours.push(timeIt(process.execPath, [cli, 'ingest', core, '--db', db]));
}
const base = median(pybt);
const mine = median(ours);
console.log(`gdb -batch -ex 'thread apply all py-bt' (baseline): median ${(base / 1000).toFixed(2)} s of ${REPS}`);
console.log(`coroner ingest (stacks, locals, states, findings, stored): median ${(mine / 1000).toFixed(2)} s of ${REPS}`);
console.log(`ratio ingest / py-bt: ${(mine / base).toFixed(2)}x (target <= 1.5x)`);
