// `npm run demo`: the main job on built-in sample cores. Makes cores of real python3.11
// processes (deep recursion, blocked threads, a deadlock), ingests them into ./coroner.db and
// writes the report to ./report/index.html.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { packageRoot } from '../src/base/paths.js';
import { makeCores } from './make-cores.js';

const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const manifest = await makeCores(undefined, { pythons: ['3.11'], log: (s) => console.log(s) });
const cores = manifest.cores.filter((c) => c.python === '3.11').map((c) => c.core);
const db = resolve(process.env.CORONER_DB || 'coroner.db');
for (const args of [['ingest', ...cores, '--db', db], ['list', '--db', db], ['report', '--db', db, '--out', resolve('report')]]) {
  console.log(`\n$ coroner ${args.map((a) => a.replace(packageRoot + '/', '')).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 2);
}
console.log(`\nopen ${resolve('report', 'index.html')}`);
