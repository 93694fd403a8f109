// A small volume of its own (a Linux tmpfs) for a browser profile: a browser derives an origin's storage quota from
// the size of the volume its profile is on, so a profile there has a real, small quota that the browser enforces.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallVolume {
  dir: string;
  /** Its size in bytes. */
  bytes: number;
  /** Unmounts it and removes its mount point. */
  remove(): void;
}

/** Why no tmpfs can be mounted here, or undefined when one can be tried. */
export function smallVolumeUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `mounting a tmpfs needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (the test runs as an unprivileged user)';
  return undefined;
}

/**
 * Mounts a tmpfs of `mebibytes` on a new directory. Throws with the reason (for example a container without
 * CAP_SYS_ADMIN) when it cannot.
 */
export function mountSmallVolume(mebibytes: number): SmallVolume {
  const dir = mkdtempSync(join(tmpdir(), 'juncture-small-volume-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mebibytes}m,mode=0700`, 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`Could not mount a ${mebibytes} MiB tmpfs: ${stderr || (error as Error).message}`);
  }
  return {
    dir,
    bytes: mebibytes * 1024 * 1024,
    remove: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
