import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { archiveDir, archiveDomain, rootPaths } from '../model/layout.js';
import { lstatIfPresent, listDir } from '../os/absent.js';
import { type RemoveResult, removeTree } from '../os/remove.js';
import { allFree } from '../os/flock.js';
import { diskUsage } from '../os/sizes.js';
import { type ArchiveMeta, DATA, META, readArchiveMeta } from './archive.js';

/*
 * The host tier's archives under a root, as the guard, the cap, `status`, `forget` and the job's
 * tiers (job/tiers.ts) see them: every archive directory listed with its bytes and when it was last
 * used, the temp directories of saves that died, and their removal, which never takes an archive a
 * restore is reading (store/archive.ts: the data file is the archive's lock).
 *
 *   <root>/archives/<repo>/<domain>/<fallback>/<exact>/             an archive (archive.ts)
 *   <root>/archives/<repo>/<domain>/<fallback>/.<exact>.<rand>.tmp/ a save in progress, or a leftover
 *   <root>/archives/.fleet-<nonce>.tmp/                             a transfer to or from the Actions cache service
 *
 * Listing costs four readdirs deep and two stats per archive, no tree walk: a host holds tens to
 * hundreds of archives, not thousands of files.
 */

/** One entry of the host tier as listed. */
export interface HostArchive {
  /** The archive's directory (or a save's temp directory). */
  dir: string;
  /** The repository as its directory names it (`owner__name`), and the trust domain that wrote it (layout.ts archiveDomain). */
  repoDir: string;
  domain: string;
  /** Bytes of its two files. */
  bytes: number;
  /** When it was saved or last restored (the directory's mtime, which a restore sets). */
  lastUsedMs: number;
  /** archive.json, when it reads as one of this format; undefined: unreadable, never restorable. */
  meta?: ArchiveMeta;
  /** A save's temp directory: in progress while its data file is locked, else what a killed save left. */
  temp?: boolean;
}

/** Pure: a save's temp directory name (`.<exact>.<random>.tmp`, archive.ts saveArchive). */
export const isSaveTemp = (name: string): boolean => /^\..+\.[0-9a-f]{8}\.tmp$/.test(name);

const sizeOf = async (p: string): Promise<number> => (await lstatIfPresent(p))?.size ?? 0;

const dirsIn = (d: string) => listDir(d, { notADirectory: 'absent' });

/** The archives of one trust domain's directory (`<root>/archives/<repo>/<domain>`). */
async function listDomain(domainDir: string, repoDir: string, domain: string): Promise<HostArchive[]> {
  const out: HostArchive[] = [];
  for (const fallback of await dirsIn(domainDir)) {
    const fdir = join(domainDir, fallback);
    for (const name of await dirsIn(fdir)) {
      const dir = join(fdir, name);
      const st = await lstatIfPresent(dir);
      if (!st?.isDirectory()) continue;
      const temp = isSaveTemp(name);
      const meta = temp ? undefined : readArchiveMeta(dir);
      const bytes = (await sizeOf(join(dir, DATA))) + (await sizeOf(join(dir, META)));
      const saved = meta ? Date.parse(meta.savedAt) || 0 : 0;
      out.push({ dir, repoDir, domain: archiveDomain(domain, meta?.domain), bytes, lastUsedMs: Math.max(saved, st.mtimeMs), meta, ...(temp ? { temp } : {}) });
    }
  }
  return out;
}

/** Every archive and save temp directory under the root, in no particular order. Never throws. */
export async function listHostArchives(root: string): Promise<HostArchive[]> {
  const top = rootPaths(root).archives;
  const out: HostArchive[] = [];
  for (const repoDir of (await dirsIn(top)).filter((n) => !isFleetStaging(n))) {
    for (const domain of await dirsIn(join(top, repoDir))) out.push(...(await listDomain(join(top, repoDir, domain), repoDir, domain)));
  }
  return out;
}

/** Pure: a fleet transfer's staging directory (model/layout.ts fleetStaging). */
export const isFleetStaging = (name: string): boolean => /^\.fleet-[0-9a-f]+\.tmp$/.test(name);

/**
 * A staging directory older than this is what a killed job left: every transfer that uses one is
 * bounded by minutes (store/fleet-store.ts FLEET_BOUNDS: a look-up and a fetch or a put), and it
 * takes no lock (the same code serves a shared directory, where flock is not to be trusted).
 */
export const STAGING_DEAD_AFTER_MS = 3_600_000;

/** The staging directories under the root that a killed job left (STAGING_DEAD_AFTER_MS), with their bytes. */
export async function deadStaging(root: string, nowMs: number): Promise<{ dir: string; bytes: number; lastUsedMs: number }[]> {
  const top = rootPaths(root).archives;
  const out: { dir: string; bytes: number; lastUsedMs: number }[] = [];
  for (const name of (await dirsIn(top)).filter(isFleetStaging)) {
    const dir = join(top, name);
    const st = await lstatIfPresent(dir);
    if (st?.isDirectory() && nowMs - st.mtimeMs > STAGING_DEAD_AFTER_MS) out.push({ dir, bytes: await diskUsage(dir), lastUsedMs: st.mtimeMs });
  }
  return out;
}

/**
 * Pure: what the host tier holds that no job could ever restore: a save's temp directory whose
 * save has died (its lock is free: `locked` false; and older than a minute, so a save between its
 * mkdir and its lock is never taken for one), and an archive whose archive.json does not read.
 */
export function isDeadArchive(a: Pick<HostArchive, 'meta' | 'temp' | 'lastUsedMs'>, locked: boolean, nowMs: number): boolean {
  if (a.temp) return !locked && nowMs - a.lastUsedMs > 60_000;
  return a.meta === undefined;
}

/** Whether a save is still writing `a` (its temp directory's data file is locked). */
export const saveInProgress = (a: Pick<HostArchive, 'dir'>): boolean => !allFree([join(a.dir, DATA)]);

/**
 * Removes one archive (or a save's leftover) into the trash, under its lock taken exclusively and
 * without waiting: `live` when a restore reads it or a save writes it. Its emptied parents go too.
 */
export async function removeHostArchive(root: string, dir: string, why: string, timeoutMs: number): Promise<RemoveResult> {
  const r = await removeTree(root, dir, { why, locks: [join(dir, DATA)], timeoutMs });
  if (r.outcome === 'removed' || r.outcome === 'left-in-trash') {
    // rmdir refuses a directory that is not empty: a save making one meanwhile keeps its parents.
    const top = rootPaths(root).archives;
    for (let d = dirname(dir); d.startsWith(top + '/'); d = dirname(d))
      if (
        !(await fs.rmdir(d).then(
          () => true,
          () => false,
        ))
      )
        break;
  }
  return r;
}

/** A trust domain's archives and save temp directories (`forget`: a closed PR's). */
export async function domainArchives(root: string, repository: string, domain: string): Promise<HostArchive[]> {
  const domainDir = dirname(archiveDir(root, repository, domain, 'any'));
  return listDomain(domainDir, basename(dirname(domainDir)), basename(domainDir));
}
