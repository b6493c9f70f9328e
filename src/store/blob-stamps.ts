import { promises as fs } from 'node:fs';
import { readBefore, unchangedSince } from '../os/changes.js';
import { writeAtomic } from '../os/fsutil.js';
import { lstatIfPresent, readTextIfPresent } from '../os/absent.js';
import { sha256Hex } from '../model/key.js';

/*
 * Which blobs of the crate store one uid found whole (their bytes hash to their name), so that a
 * job's end does not hash every blob of its lock again when nothing changed.
 *
 * The record (`<root>/homes/u<uid>-verified/blobs.json`, beside the sources record of that uid's
 * shared home, job/shared-home.ts) maps a sha256 to a moment `at` read before the blob was hashed
 * (os/changes.ts readBefore). A blob whose ctime is not after `at` is the file that was hashed:
 * every write, chmod, rename over it and new link sets ctime to the current time, and nothing
 * sets it back. A blob changed since, replaced, or linked into a home is hashed again.
 *
 * What trusting a record can cost: a record is only ever asked "is this blob still whole?", to
 * skip a repair. The bytes written into the store are always hashed as they are written
 * (crates.ts publishCrates), and every consumer hashes a blob before it seeds it, so a record
 * that lied (only its own uid can write it) keeps a damaged blob unrepaired, never plants one.
 */

/** A blob not looked at for this long leaves the record (it is hashed again if it is ever needed). */
const KEEP_MS = 30 * 86_400_000;

export interface BlobStamps {
  /** Whether the blob at `path` hashes to `sha`: by its stamp, else hashed (and stamped). */
  whole(path: string, sha: string): Promise<boolean>;
  /** Writes the record if anything was stamped; a failure costs only a hash at the next end. */
  save(): Promise<void>;
}

async function readStamps(file: string, now: number): Promise<Record<string, number>> {
  try {
    const r = JSON.parse((await readTextIfPresent(file)) ?? '{}') as { format?: number; blobs?: Record<string, unknown> };
    if (r.format !== 1 || typeof r.blobs !== 'object' || r.blobs === null) return {};
    return Object.fromEntries(Object.entries(r.blobs).filter((e): e is [string, number] => typeof e[1] === 'number' && now - e[1] < KEEP_MS));
  } catch {
    return {}; // unreadable or not JSON: every blob is hashed, as without a record
  }
}

/** The stamps kept in `file`; without a file (a private home), every blob is hashed. */
export async function blobStamps(file: string | undefined, now = Date.now()): Promise<BlobStamps> {
  const stamps = file ? await readStamps(file, now) : {};
  let changed = false;
  return {
    async whole(path, sha) {
      const st = await lstatIfPresent(path);
      if (!st?.isFile()) return false;
      const at = stamps[sha];
      if (at !== undefined && unchangedSince(st.ctimeMs, at, Date.now())) return true;
      const before = readBefore();
      const ok = sha256Hex(await fs.readFile(path)) === sha;
      if (ok && file) {
        stamps[sha] = before;
        changed = true;
      } else if (stamps[sha] !== undefined) {
        delete stamps[sha];
        changed = true;
      }
      return ok;
    },
    async save() {
      if (file && changed) await writeAtomic(file, JSON.stringify({ format: 1, blobs: stamps })).catch(() => undefined);
    },
  };
}
