import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ifPresent, listDirents, lstatIfPresent } from './absent.js';

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
  const st = await ifPresent(path, () => fs.stat(path, { bigint: true }), { notADirectory: 'absent' });
  return st ? held.has(devId(st.dev, st.ino)) : false;
}

/*
 * cargo's own locks: what a running cargo always holds (rust-lang/cargo, by version).
 *
 *   $CARGO_HOME/.package-cache, .package-cache-mutate   util/cache_lock.rs: shared while a build
 *                                                        reads the caches, exclusive to change them
 *   <target>/[<triple>/]<profile>/ (compiler/layout.rs, `Layout::new`, held until the build ends):
 *     .cargo-lock           <= 1.95: the only one, exclusive (shared for `cargo check` with
 *                           -Zfine-grain-locking); 1.96+: always shared, so that an older cargo
 *                           (or a tool using cargo as a library) waits for a newer one
 *     .cargo-build-lock     1.96+: exclusive; shared with -Zfine-grain-locking (nightly), exclusive
 *                           again for `cargo clean`
 *     .cargo-artifact-lock  1.96+: exclusive while final artifacts are uplifted (build, test, doc;
 *                           not check)
 *
 * The build-dir layout (v1 `.fingerprint/`, or v2 `build/<pkg>/<hash>/` in 1.100+) does not move
 * them: they stay at the profile dir (the action sets the build-dir to the target dir, job/exports.ts).
 * -Zfine-grain-locking (nightly since 1.94) adds a `.lock` in every unit dir,
 * `<profile>/build/<pkg>/<hash>/.lock` (compiler/locking.rs), held shared from the start of the
 * build and exclusive while the unit compiles; it never replaces the profile locks above, which
 * are taken first and held to the end. So one exclusive, non-blocking flock on each profile lock
 * file (flock.allFree) finds any running cargo, whatever its version, layout or locking mode, in
 * a few calls: the thousands of per-unit locks need no probe. Measured with cargo 1.95 and
 * nightly 1.97 (whose layout.rs and locking.rs are 1.100's), see docs/how-it-works.md.
 */
const PROFILE_LOCKS = ['.cargo-lock', '.cargo-build-lock', '.cargo-artifact-lock'];
/** Profile dir entries that hold no profile (v1's deps/, .fingerprint/; both layouts' build/, incremental/). */
const NOT_PROFILES = new Set(['deps', 'build', 'incremental', '.fingerprint', 'examples']);

/** Lock files of cargo's own that exist now in a target dir and a CARGO_HOME. */
export async function cargoLockFiles(target: string | undefined, cargoHome: string | undefined): Promise<string[]> {
  const found: string[] = [];
  const addIfFile = async (p: string) => {
    const st = await lstatIfPresent(p);
    if (st?.isFile()) found.push(p);
  };
  if (cargoHome) {
    for (const n of ['.package-cache', '.package-cache-mutate']) await addIfFile(join(cargoHome, n));
  }
  if (target) {
    // <target>/<profile>/ and <target>/<triple>/<profile>/
    const level1 = await listDirents(target);
    for (const n of PROFILE_LOCKS) await addIfFile(join(target, n));
    for (const d of level1) {
      if (!d.isDirectory()) continue;
      for (const n of PROFILE_LOCKS) await addIfFile(join(target, d.name, n));
      const level2 = await listDirents(join(target, d.name));
      for (const d2 of level2) {
        if (!d2.isDirectory() || NOT_PROFILES.has(d2.name)) continue;
        for (const n of PROFILE_LOCKS) await addIfFile(join(target, d.name, d2.name, n));
      }
    }
  }
  return found;
}
