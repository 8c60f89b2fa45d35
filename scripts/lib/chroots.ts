// Debian chroots with the CPython versions the host does not have (2.7, 3.9 from bullseye; 3.13
// from trixie), with their debug info: made with debootstrap once and cached outside the checkout
// (CORONER_CHROOTS, default /var/cache/coroner/chroots/NAME), so that the fixture cores of every
// version can be made on a fresh Debian 12 machine without interpreters that happen to be there.
//
// A chroot is finished when its stamp file (STAMP, written last) names the same suite and
// packages as its spec; anything else at its place (a run that was stopped midway, an older
// spec) is removed and made again. debootstrap writes into NAME.partial, renamed to NAME at the end.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ChrootSpec {
  /** Folder name under the cache, and the Debian suite debootstrap installs. */
  name: string;
  suite: string;
  /** Installed with debootstrap --include (it resolves their dependencies). */
  packages: string[];
}

export const CHROOTS: Record<string, ChrootSpec> = {
  bullseye: { name: 'bullseye', suite: 'bullseye', packages: ['python2.7', 'python2.7-dbg', 'python3.9', 'python3.9-dbg', 'libc6-dbg'] },
  trixie: { name: 'trixie', suite: 'trixie', packages: ['python3.13', 'python3.13-dbg', 'libc6-dbg'] },
  // An interpreter coroner refuses (PyPy), for the test of that one line.
  pypy: { name: 'pypy', suite: 'trixie', packages: ['pypy3'] },
};

/** The stamp in a finished chroot: what it was made from, when, in how long. */
export const STAMP = '.coroner-chroot.json';

interface Stamp {
  suite: string;
  packages: string[];
  mirror: string;
  made_at: string;
  seconds: number;
}

export function chrootsRoot(): string {
  return process.env.CORONER_CHROOTS || '/var/cache/coroner/chroots';
}

export function chrootDir(name: string): string {
  return join(chrootsRoot(), name);
}

function mirror(): string {
  return process.env.CORONER_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
}

function specOf(name: string): ChrootSpec {
  const spec = CHROOTS[name];
  if (!spec) throw new Error(`no chroot named ${name} (known: ${Object.keys(CHROOTS).join(', ')})`);
  return spec;
}

/** True when the chroot is finished and made from its current spec. */
export function chrootReady(name: string): boolean {
  const spec = specOf(name);
  const stampPath = join(chrootDir(name), STAMP);
  if (!existsSync(stampPath)) return false;
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as Stamp;
    return stamp.suite === spec.suite && [...stamp.packages].sort().join(' ') === [...spec.packages].sort().join(' ');
  } catch {
    return false;
  }
}

/** Mount points at or under DIR (a chroot's /proc while a workload runs in it, if ever left behind). */
function mountsUnder(dir: string): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
  return mounts.filter((m) => m === dir || m.startsWith(dir + '/'));
}

async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const mounted = mountsUnder(dir);
  if (mounted.length) throw new Error(`${dir} has mount points under it (${mounted.join(', ')}): unmount them first`);
  await rm(dir, { recursive: true, force: true });
}

export interface ChrootResult {
  name: string;
  dir: string;
  /** False when a finished chroot was already there. */
  made: boolean;
  seconds: number;
}

/**
 * The chroot NAME, made if missing (debootstrap, as root, from the Debian mirror): about 40 s and
 * 550 MB each. Throws an Error whose message says why it could not be made.
 */
export async function ensureChroot(name: string, log: (s: string) => void = () => {}): Promise<ChrootResult> {
  const spec = specOf(name);
  const dir = chrootDir(name);
  if (chrootReady(name)) return { name, dir, made: false, seconds: 0 };
  if (process.getuid?.() !== 0) throw new Error(`making chroot ${name} needs root (debootstrap, chroot)`);
  const debootstrap = ['/usr/sbin/debootstrap', '/sbin/debootstrap'].find((p) => existsSync(p));
  if (!debootstrap) throw new Error('debootstrap is not installed (apt-get install debootstrap; scripts/setup.sh does)');
  const started = Date.now();
  const partial = `${dir}.partial`;
  if (existsSync(dir)) log(`chroot ${name}: ${dir} is unfinished or from another spec: removing it`);
  await removeTree(dir);
  await removeTree(partial);
  await mkdir(dirname(dir), { recursive: true });
  log(`chroot ${name}: debootstrap --variant=minbase ${spec.suite} with ${spec.packages.join(' ')}`);
  try {
    await run(debootstrap, ['--variant=minbase', `--include=${spec.packages.join(',')}`, spec.suite, partial, mirror()], {
      maxBuffer: 64 << 20,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    const logFile = join(partial, 'debootstrap', 'debootstrap.log');
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
    const said = (err.stderr || err.stdout || err.message).trim().split('\n').slice(-3).join(' | ');
    await removeTree(partial).catch(() => {});
    throw new Error(`debootstrap ${spec.suite} failed: ${said}${tail ? ` (log: ${tail})` : ''}`, { cause: e });
  }
  for (const p of spec.packages) {
    const ok = await run('chroot', [partial, 'dpkg-query', '-W', '-f=${Status}', p]).then((r) => r.stdout.includes('install ok installed'), () => false);
    if (!ok) {
      await removeTree(partial).catch(() => {});
      throw new Error(`debootstrap ${spec.suite} finished without ${p} installed`);
    }
  }
  // The downloaded .deb files are not needed any more (about 100 MB).
  const archives = join(partial, 'var', 'cache', 'apt', 'archives');
  for (const f of existsSync(archives) ? await readdir(archives) : []) {
    if (f.endsWith('.deb')) await rm(join(archives, f), { force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  const stamp: Stamp = { suite: spec.suite, packages: spec.packages, mirror: mirror(), made_at: new Date().toISOString(), seconds };
  await writeFile(join(partial, STAMP), JSON.stringify(stamp, null, 1) + '\n');
  await rename(partial, dir);
  log(`chroot ${name}: made in ${seconds.toFixed(0)} s at ${dir}`);
  return { name, dir, made: true, seconds };
}

/** Every chroot of CHROOTS (or those named), made if missing; the reason for each that could not be. */
export async function ensureChroots(
  names: string[] = Object.keys(CHROOTS),
  log: (s: string) => void = () => {},
): Promise<Map<string, ChrootResult | Error>> {
  const out = new Map<string, ChrootResult | Error>();
  for (const name of names) {
    out.set(name, await ensureChroot(name, log).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const names = process.argv.slice(2);
  const results = await ensureChroots(names.length ? names : undefined, (s) => console.log(s));
  let failed = false;
  for (const [name, r] of results) {
    if (r instanceof Error) {
      failed = true;
      console.error(`chroot ${name}: could not be made: ${r.message}`);
    } else {
      console.log(`chroot ${name}: ${r.made ? `made in ${r.seconds.toFixed(0)} s` : 'ready'} at ${r.dir}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}
