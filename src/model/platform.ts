import { notOnLinuxNotice } from './messages.js';

/*
 * Where the action can work at all. Leases are util-linux `flock` keepers whose liveness is
 * read from `/proc`, the guard reads `/proc/locks`, deletion is GNU `rm --one-file-system`:
 * none of these exist on macOS or Windows. A workflow with an OS matrix (ubuntu, macos,
 * windows) runs the same steps on every leg, so elsewhere than Linux the steps say so once
 * and let the job go on with cargo's defaults rather than fail it.
 *
 * The decision reads the node process's own platform, not RUNNER_OS: what the steps need is
 * this kernel's flock and /proc, whatever the runner reports.
 */

const NAMES: Record<string, string> = {
  darwin: 'macOS',
  win32: 'Windows',
  freebsd: 'FreeBSD',
  openbsd: 'OpenBSD',
  sunos: 'SunOS',
  aix: 'AIX',
  android: 'Android',
};

/** The notice a step gives instead of running, or undefined where it runs. */
export function notOnLinux(platform: string, step: 'main' | 'post'): string | undefined {
  if (platform === 'linux') return undefined;
  const what = step === 'main' ? 'nothing isolated or exported; cargo uses its own defaults' : 'nothing to release';
  return notOnLinuxNotice(NAMES[platform] ?? platform, what);
}
