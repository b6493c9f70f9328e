import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * "Is this directory in use?" has two answers here, with different jobs:
 *
 * - heldLocks(): one read of /proc/locks gives every flock held on the host, so status and the
 *   guard's *decision* over 1,000 slots cost one file read, not 1,000 process spawns. It is a
 *   hint: in a container with its own pid namespace /proc/locks lists only that namespace's
 *   locks, and on btrfs the device numbers may not match stat(2).
 * - flock.hold()/allFree(): the authority. Nothing is reused or deleted without taking the
 *   lease lock and probing cargo's own locks at that moment (see remove.ts and lease.ts).
 */

export type LockSet = Set<string>;

/** Parses /proc/locks into `major:minor:inode` ids (hex major/minor, as the kernel prints). */
export function parseProcLocks(text: string): LockSet {
  const held: LockSet = new Set();
  for (const line of text.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF"; waiters are printed as "1: -> FLOCK ..."
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || f[1] === '->') continue;
    const id = f[5];
    if (/^[0-9a-f]+:[0-9a-f]+:\d+$/i.test(id)) {
      const [maj, min, ino] = id.split(':');
      held.add(`${parseInt(maj, 16)}:${parseInt(min, 16)}:${ino}`);
    }
  }
  return held;
}

export function heldLocks(): LockSet {
  try {
    return parseProcLocks(readFileSync('/proc/locks', 'utf8'));
  } catch {
    return new Set();
  }
}

/** glibc's major()/minor() of a userspace dev_t, so stat(2) results match /proc/locks. */
export function devId(dev: number | bigint, ino: number | bigint): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}:${BigInt(ino)}`;
}

export async function isHeldHint(path: string, held: LockSet): Promise<boolean> {
  const st = await fs.stat(path, { bigint: true }).catch(() => undefined);
  return st ? held.has(devId(st.dev, st.ino)) : false;
}

/** Lock files of cargo's own that exist now in a target dir and a CARGO_HOME. */
export async function cargoLockFiles(target: string | undefined, cargoHome: string | undefined): Promise<string[]> {
  const found: string[] = [];
  const names = ['.cargo-lock', '.cargo-build-lock'];
  const addIfFile = async (p: string) => {
    const st = await fs.lstat(p).catch(() => undefined);
    if (st?.isFile()) found.push(p);
  };
  if (cargoHome) {
    for (const n of ['.package-cache', '.package-cache-mutate']) await addIfFile(join(cargoHome, n));
  }
  if (target) {
    // <target>/<profile>/.cargo-lock and <target>/<triple>/<profile>/.cargo-lock (cargo layout.rs)
    const level1 = await fs.readdir(target, { withFileTypes: true }).catch(() => []);
    for (const n of names) await addIfFile(join(target, n));
    for (const d of level1) {
      if (!d.isDirectory()) continue;
      for (const n of names) await addIfFile(join(target, d.name, n));
      const level2 = await fs.readdir(join(target, d.name), { withFileTypes: true }).catch(() => []);
      for (const d2 of level2) {
        if (!d2.isDirectory() || d2.name === 'deps' || d2.name === 'build' || d2.name === 'incremental' || d2.name === '.fingerprint') continue;
        for (const n of names) await addIfFile(join(target, d.name, d2.name, n));
      }
    }
  }
  return found;
}
