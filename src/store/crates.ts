import { runCommand } from '../os/run.js';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { JobIdentity } from '../model/identity.js';
import { type CopiedBecause, exists, isPermissionError, linkOrCopy, writeAtomic } from '../os/fsutil.js';
import { type LockedCrate, indexEntryMatches, indexPath } from './lockfile.js';
import type { Settings } from '../model/settings.js';
import { storePaths } from '../model/layout.js';
import { knownDirs, learnDir } from './dir-names.js';
import { ifPresent, isDirAt, listDir, lstatIfPresent, readBytesIfPresent } from '../os/absent.js';
import { type BlobStamps, blobStamps } from './blob-stamps.js';
import { sha256Hex } from '../model/key.js';

/*
 * The host-wide crate store, <root>/crates:
 *
 *   sha256/<aa>/<sha256>.crate     content-addressed, read-only, published by rename
 *   dirs/<hash>.json               which registry/cache/<dir> names cargo <version> used for a
 *                                  Cargo.lock source: learned from publishers, never computed
 *   index/<dir>/config.json        sparse-index config and cache entries of published crates
 *   index/<dir>/.cache/<path>
 *
 * Invariants:
 * - A .crate reaches a slot only after its sha256 equals the checksum in the consumer's own
 *   Cargo.lock, computed at seeding time (cargo trusts a pre-placed .crate unchecked).
 * - An index cache entry reaches a slot only if it lists the locked version with that checksum,
 *   and it is copied, never linked (cargo rewrites index caches in place).
 * - Store files appear whole or not at all (temp file + rename), so two publishers of one crate
 *   leave one intact file; nothing in the store is ever rewritten in place.
 * - Jobs whose content is not trusted (fork PRs) get copies, not hardlinks: a hardlink shares
 *   the inode, which a same-uid build could chmod and rewrite under other jobs.
 */

export interface SeedReport {
  lockFile?: string;
  locked: number;
  seeded: number;
  seededBytes: number;
  present: number;
  missing: number;
  mismatches: { crate: string; why: string }[];
  indexEntries: number;
  unknownDirs: number;
  /** Index dirs seeded per source (more than one when the host saw several mirrors). */
  dirs: number;
  mode: 'link' | 'copy';
  /**
   * Crates copied although linking was asked for: the kernel refused the hardlink (store files
   * of another uid under fs.protected_hardlinks) or the store is on another filesystem.
   */
  copiedInstead: number;
  copyReason?: string;
}

export interface PublishReport {
  published: number;
  publishedBytes: number;
  skipped: number;
  mismatches: { crate: string; why: string }[];
  indexEntries: number;
  policy: Settings['publishCrates'];
  allowed: boolean;
}

export const blobPath = (root: string, sha: string) => join(storePaths(root).blobs, sha.slice(0, 2), `${sha}.crate`);
const crateFile = (c: LockedCrate) => `${c.name}-${c.version}.crate`;

/** Pure: may this job publish into the host's store? */
export function mayPublish(policy: Settings['publishCrates'], id: Pick<JobIdentity, 'fork'>): boolean {
  return policy === 'always' || (policy === 'trusted' && !id.fork);
}

export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The version cargo reports where the build will run (rust-toolchain.toml may pick another). Not
 * synchronous: a job's start asks it while its guard and lease wait on their own processes.
 */
export async function cargoVersion(cwd: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await runCommand('cargo', ['--version'], 30_000, { cwd, env });
  return r.code === 0 ? /cargo (\S+)/.exec(r.stdout)?.[1] : undefined;
}

/** Writes `data` (or links/copies `from`) at `dest` atomically: a temp name, then rename. */
export async function placeAtomically(
  dest: string,
  how: { data: Buffer } | { from: string; mode: 'link' | 'copy' },
  mode?: number,
): Promise<CopiedBecause | undefined> {
  await fs.mkdir(dirname(dest), { recursive: true });
  if ('data' in how) return writeAtomic(dest, how.data, mode).then(() => undefined);
  const tmp = join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const copied = await linkOrCopy(how.from, tmp, how.mode);
    await fs.rename(tmp, dest);
    return copied;
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Where each locked crate goes in a home (one path per index dir known for its source), which of
 * those are not there yet, and whether the store has a file for it at all.
 */
export interface SeedPlan {
  crates: { crate: LockedCrate; dirs: string[]; dests: string[]; absent: boolean[]; inStore: boolean }[];
  unknownDirs: number;
}

/** Reads only: a seed's plan. Nothing absent (a warm home) means nothing to place, and no lock to take for it. */
export async function planSeed(root: string, cargoHome: string, locked: LockedCrate[], version: string): Promise<SeedPlan> {
  const dirsBySource = new Map<string, string[]>();
  let unknownDirs = 0;
  for (const s of new Set(locked.map((c) => c.source))) {
    const dirs = await knownDirs(storePaths(root).dirs, version, s);
    if (dirs.length === 0) unknownDirs++;
    dirsBySource.set(s, dirs);
  }
  const crates = await Promise.all(
    locked.map(async (crate) => {
      const dirs = dirsBySource.get(crate.source) ?? [];
      const dests = dirs.map((dir) => join(cargoHome, 'registry', 'cache', dir, crateFile(crate)));
      const absent = (await Promise.all(dests.map(exists))).map((e) => !e);
      return { crate, dirs, dests, absent, inStore: absent.includes(true) && (await exists(blobPath(root, crate.checksum))) };
    }),
  );
  return { crates, unknownDirs };
}

/**
 * Pure: a seed would place nothing. A crate the home lacks and the store has not either (a
 * dependency of another platform's, which cargo never downloads here) gives nothing to place.
 */
export const nothingToSeed = (p: SeedPlan): boolean => p.crates.every((c) => !c.absent.includes(true) || !c.inStore);

/** Seeds the slot's CARGO_HOME from the store with every locked crate whose bytes check out. */
export async function seedCrates(
  root: string,
  cargoHome: string,
  locked: LockedCrate[],
  version: string,
  mode: 'link' | 'copy',
  plan?: SeedPlan,
): Promise<SeedReport> {
  const { crates, unknownDirs } = plan ?? (await planSeed(root, cargoHome, locked, version));
  const r: SeedReport = {
    locked: locked.length,
    seeded: 0,
    seededBytes: 0,
    present: 0,
    missing: 0,
    mismatches: [],
    indexEntries: 0,
    unknownDirs,
    dirs: 0,
    mode,
    copiedInstead: 0,
  };
  const usedDirs = new Set<string>();
  for (const { crate: c, dirs, dests, absent, inStore } of crates) {
    if (dirs.length === 0) continue;
    if (!absent.includes(true)) {
      r.present++; // a warm slot of the same key: nothing to place, nothing to hash
      continue;
    }
    // As planned, even if a publisher added it since: a plan that placed nothing took no lock.
    if (!inStore) {
      r.missing++;
      continue;
    }
    const blob = blobPath(root, c.checksum);
    const st = await ifPresent(blob, () => fs.stat(blob), { notADirectory: 'absent' });
    if (!st) {
      r.missing++;
      continue;
    }
    const actual = await fileSha256(blob);
    if (actual !== c.checksum) {
      r.mismatches.push({
        crate: `${c.name} ${c.version}`,
        why: `store file ${blob} has sha256 ${actual.slice(0, 16)}..., Cargo.lock says ${c.checksum.slice(0, 16)}...: not seeded, cargo downloads it`,
      });
      continue;
    }
    // Every index dir this host has seen for the source: the job's own cargo config (source
    // replacement, a mirror) decides which one it reads; links to the others cost nothing.
    r.dirs = Math.max(r.dirs, dirs.length);
    for (const [i, dir] of dirs.entries()) {
      if (!absent[i]) continue;
      const code = await placeAtomically(dests[i], { from: blob, mode });
      if (code) {
        // EXDEV: store and slot on different filesystems. EPERM: a store file of another uid
        // (published by a root container job) under fs.protected_hardlinks. A copy of bytes
        // just verified is as good, and private to this slot.
        r.copiedInstead++;
        r.copyReason ??=
          code === 'EXDEV' ? 'the store is on another filesystem' : `the kernel refused hardlinks to store files of uid ${st.uid} (fs.protected_hardlinks)`;
      }
      usedDirs.add(dir);
      const cached = join(storePaths(root).index, dir, '.cache', indexPath(c.name));
      const slotCached = join(cargoHome, 'registry', 'index', dir, '.cache', indexPath(c.name));
      const buf = await readBytesIfPresent(cached);
      if (buf && indexEntryMatches(buf, c.version, c.checksum) && !(await exists(slotCached))) {
        await placeAtomically(slotCached, { data: buf });
        r.indexEntries++;
      }
    }
    r.seeded++;
    r.seededBytes += st.size;
  }
  // The registry's config.json, once per index dir that received crates.
  for (const dir of usedDirs) {
    const config = join(cargoHome, 'registry', 'index', dir, 'config.json');
    const cfg = (await exists(config)) ? undefined : await readBytesIfPresent(join(storePaths(root).index, dir, 'config.json'));
    if (cfg) await placeAtomically(config, { data: cfg });
  }
  return r;
}

/**
 * What spares a publisher from hashing what nothing changed, at every job's end: what a shared
 * home's check verified (its record, job/shared-home.ts), and the blobs this uid found whole.
 * Neither ever decides what is written into the store: only whether something may be skipped.
 */
export interface PublishAids {
  /** The sha256 `<index dir>/<name>-<version>.crate` of the home was verified as, if its ctime says it is unchanged since. */
  verified?: (key: string, ctimeMs: number) => string | undefined;
  stamps?: BlobStamps;
}

/** Adds the slot's verified new .crate files (and their index entries) to the store. */
export async function publishCrates(
  root: string,
  cargoHome: string,
  locked: LockedCrate[],
  version: string,
  o: PublishAids = {},
): Promise<Omit<PublishReport, 'policy' | 'allowed'>> {
  const stamps = o.stamps ?? (await blobStamps(undefined));
  const r = { published: 0, publishedBytes: 0, skipped: 0, mismatches: [] as { crate: string; why: string }[], indexEntries: 0 };
  const byFile = new Map<string, LockedCrate[]>();
  for (const c of locked) byFile.set(crateFile(c), [...(byFile.get(crateFile(c)) ?? []), c]);
  const cacheRoot = join(cargoHome, 'registry', 'cache');
  const learned = new Set<string>();
  const publishedDirs = new Set<string>();
  for (const dir of await listDir(cacheRoot)) {
    for (const f of await listDir(join(cacheRoot, dir), { notADirectory: 'absent' })) {
      const candidates = byFile.get(f);
      if (!candidates) continue; // not in this Cargo.lock: nothing to verify it against
      const path = join(cacheRoot, dir, f);
      const st = await lstatIfPresent(path);
      if (!st?.isFile()) continue;
      // Seeded by hardlink: the slot's file *is* a store file, verified when it was seeded.
      const seeded = await Promise.all(candidates.map((c) => lstatIfPresent(blobPath(root, c.checksum))));
      if (seeded.some((b) => b && b.ino === st.ino && b.dev === st.dev)) {
        r.skipped++;
        continue;
      }
      // Known from the home's check while unchanged; else read once, and those bytes are what
      // is hashed and, if the store lacks them, written: never a second read that could differ.
      let data: Buffer | undefined;
      const known = o.verified?.(`${dir}/${f.slice(0, -'.crate'.length)}`, st.ctimeMs);
      let sha = known && candidates.some((c) => c.checksum === known) ? known : undefined;
      if (!sha) {
        data = await fs.readFile(path);
        sha = sha256Hex(data);
      }
      const match = candidates.find((c) => c.checksum === sha);
      if (!match) {
        r.mismatches.push({ crate: f, why: `sha256 ${sha.slice(0, 16)}... is not the Cargo.lock checksum: not published` });
        continue;
      }
      if (!learned.has(`${match.source}\n${dir}`)) {
        // Unwritable (a root job's, not handed back): seeding just does not learn this dir yet.
        await learnDir(storePaths(root).dirs, version, match.source, dir, 'source').catch((e) => {
          if (!isPermissionError(e)) throw e;
        });
        learned.add(`${match.source}\n${dir}`);
      }
      const blob = blobPath(root, sha);
      // A store file of that name that does not hash to it was damaged or replaced: repair it.
      if (await stamps.whole(blob, sha)) {
        r.skipped++;
      } else {
        data ??= await fs.readFile(path);
        if (sha256Hex(data) !== sha) {
          r.mismatches.push({ crate: f, why: `changed since it was verified as ${sha.slice(0, 16)}...: not published` });
          continue;
        }
        try {
          await placeAtomically(blob, { data }, 0o444);
        } catch (e) {
          if (!isPermissionError(e)) throw e;
          // A store directory made by a root job that never handed it back: root's gc fixes it.
          r.mismatches.push({ crate: f, why: `cannot write into ${dirname(blob)} (${(e as NodeJS.ErrnoException).code}; made by another uid): not published` });
          continue;
        }
        r.published++;
        r.publishedBytes += st.size;
      }
      const storeCached = join(storePaths(root).index, dir, '.cache', indexPath(match.name));
      const stored = await readBytesIfPresent(storeCached);
      if (!stored || !indexEntryMatches(stored, match.version, match.checksum)) {
        const buf = await readBytesIfPresent(join(cargoHome, 'registry', 'index', dir, '.cache', indexPath(match.name)));
        if (buf && indexEntryMatches(buf, match.version, match.checksum)) {
          await placeAtomically(storeCached, { data: buf });
          r.indexEntries++;
        }
      }
      publishedDirs.add(dir);
    }
  }
  await stamps.save();
  for (const dir of publishedDirs) {
    const storeConfig = join(storePaths(root).index, dir, 'config.json');
    const cfg = (await exists(storeConfig)) ? undefined : await readBytesIfPresent(join(cargoHome, 'registry', 'index', dir, 'config.json'));
    if (cfg) await placeAtomically(storeConfig, { data: cfg });
  }
  return r;
}

/** A blob of the store as the guard weighs it (gitstore.ts gitEntries says the same of git entries). */
export interface CrateBlob {
  path: string;
  /** Allocated bytes. */
  bytes: number;
  /** Linking and unlinking change ctime, so ctime is the blob's last use. */
  lastUsedMs: number;
  /** Linked into a CARGO_HOME (a link elsewhere keeps the bytes allocated anyway). */
  linked: boolean;
}

/**
 * Every blob of the store. Only through real directories: a store dir a build replaced by a link
 * (into a slot) is not the store, and an unlink through it would remove a file elsewhere.
 */
export async function crateBlobs(root: string): Promise<CrateBlob[]> {
  const { base, blobs } = storePaths(root);
  const out: CrateBlob[] = [];
  if (!(await isDirAt(base)) || !(await isDirAt(blobs))) return out;
  for (const sub of await listDir(blobs)) {
    if (!(await isDirAt(join(blobs, sub)))) continue;
    for (const f of await listDir(join(blobs, sub))) {
      const path = join(blobs, sub, f);
      const st = await lstatIfPresent(path);
      if (st?.isFile()) out.push({ path, bytes: st.blocks * 512, lastUsedMs: st.ctimeMs, linked: st.nlink > 1 });
    }
  }
  return out;
}
