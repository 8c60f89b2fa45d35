// coroner's temporary folders carry the pid of the process that made them
// (coroner-KIND-PID-XXXXXX), so that the folders of a run killed with SIGKILL (which runs no
// clean-up) are recognised and removed by a later run: only those whose process is gone, and
// only this user's, never a live run's.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NAME = /^coroner-([a-z]+)-(\d+)-[A-Za-z0-9]{6}$/;

/** A new temporary folder of this process. */
export function ownTempDir(kind: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `coroner-${kind}-${process.pid}-`));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Remove the temporary folders of coroner processes that no longer run; returns their paths. */
export async function removeStaleTempDirs(dir = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = NAME.exec(name);
    if (!m || Number(m[2]) === process.pid || isAlive(Number(m[2]))) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
    await rm(path, { recursive: true, force: true }).catch(() => {});
    removed.push(path);
  }
  return removed;
}

let swept: Promise<string[]> | null = null;

/** removeStaleTempDirs, once per process. */
export function sweepStaleTempDirs(): Promise<string[]> {
  swept ??= removeStaleTempDirs();
  return swept;
}
