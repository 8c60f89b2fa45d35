// Disks that are full or read-only, made for a test: a small tmpfs, a read-only bind mount, an
// immutable file. They need root (mount, chattr); without it a test says so and is skipped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const asRoot = process.getuid?.() === 0;
export const NOT_ROOT = 'needs root (mount, chattr): run the tests as root to cover it';

const mounted: string[] = [];
process.on('exit', () => {
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

function mountPoint(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coroner-mnt-'));
  mounted.push(dir);
  return dir;
}

/** A tmpfs of SIZE bytes: a disk that fills up. */
export function smallDisk(size: number): string {
  const dir = mountPoint();
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return dir;
}

/** DIR seen through a read-only bind mount. */
export function readOnlyView(dir: string): string {
  const view = mountPoint();
  execFileSync('mount', ['--bind', dir, view]);
  execFileSync('mount', ['-o', 'remount,bind,ro', view]);
  return view;
}

/** Run FN with FILE immutable (chattr +i), made mutable again afterwards. */
export function whileImmutable<T>(file: string, fn: () => T): T {
  execFileSync('chattr', ['+i', file]);
  try {
    return fn();
  } finally {
    execFileSync('chattr', ['-i', file]);
  }
}
