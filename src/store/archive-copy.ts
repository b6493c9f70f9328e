import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DATA, META, type ArchiveMeta, readArchiveMeta } from './archive.js';
import { type Held, hold, release } from '../os/flock.js';
import { digestFile, digestMismatch, hashing } from './archive-stream.js';

/*
 * A dependency archive moved whole from one place to another: from the host tier to a fleet
 * store, from a fleet store (or the directory the Actions cache service restored into) to the
 * host tier. The same rules as a save (store/archive.ts): the two files are written into a temp
 * directory beside the final one (`.<exact>.<random>.tmp`) and renamed into place, so a reader
 * sees no archive or a whole one, and of two copies of one key the first rename wins and the
 * second is dropped. The data is hashed as it is read and compared with the sha256 and size its
 * archive.json names before the rename: an archive that arrived altered or truncated never
 * lands, and one altered where it was kept is never sent on.
 *
 * rename(2) of a directory onto a non-empty one fails (ENOTEMPTY, EEXIST) on every filesystem,
 * NFS and CephFS included, where the server decides it: the one guarantee two hosts writing one
 * key rely on. No lock is taken on a fleet store's side: flock is unreliable on NFS (FIELD-NOTES).
 * The host tier's side is locked as a restore and a save lock it (`locks`), so the guard never
 * takes an archive being sent, nor a fetch landing.
 */

export type CopyOutcome =
  | { copied: true; meta: ArchiveMeta; bytes: number; ms: number }
  | {
      copied: false;
      reason: 'unreadable' | 'exists' | 'raced' | 'altered' | 'truncated' | 'failed';
      detail: string;
      /** For 'exists' and 'raced': what is there now. */
      meta?: ArchiveMeta;
      ms: number;
    };

export interface CopyOptions {
  /** 'link': a hard link (the same filesystem, no bytes written); 'copy': the bytes. Either way the data is read and hashed. */
  how: 'link' | 'copy';
  /** Modes for what it creates, exactly (not narrowed by the umask): a shared directory's entries must be writable by their owner only. */
  dirMode?: number;
  fileMode?: number;
  /** archive.json as the copy keeps it (the fleet's: model/archive-store.ts `partsForFleet`); else verbatim. */
  meta?: (m: ArchiveMeta) => ArchiveMeta;
  /**
   * The host tier's locks (store/archive.ts has the rule), for a side that is in a host tier;
   * never on a shared directory, where flock is not to be trusted. `from`: the source's data
   * file, shared while it is read, as a restore holds it, so the guard leaves the archive being
   * sent. `to`: the temp directory's data file, exclusively until the rename, as a save holds
   * its own, so the guard sees a copy in progress and not what a killed one left (it takes an
   * unlocked temp directory after a minute, and a fetch of 170 MiB at 1 MiB/s takes three).
   */
  locks?: { from?: boolean; to?: boolean };
  /** Runs with the data copied and verified and the locks held, before the rename (a test runs a guard there). */
  whileHeld?: (tmp: string) => Promise<void>;
}

/** mkdir -p with an exact mode for each directory it creates; says which it created. */
async function makeDirs(dir: string, mode?: number): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const st = await fs.stat(d).catch(() => undefined);
    if (st) break;
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  const made: string[] = [];
  for (const d of missing) {
    const ok = await fs.mkdir(d).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        return false;
      },
    );
    if (!ok) continue;
    made.push(d);
    if (mode !== undefined) await fs.chmod(d, mode).catch(() => undefined);
  }
  return made;
}

/** Removes the directories a copy that failed created, deepest first, as long as they are empty (another copy may be using them). */
const unmake = async (made: string[]) => {
  for (const d of [...made].reverse())
    if (
      !(await fs.rmdir(d).then(
        () => true,
        () => false,
      ))
    )
      break;
};

/** Copies the archive `from` to `to` (which must not hold one), verified on the way. Never throws. */
export async function copyArchive(from: string, to: string, o: CopyOptions): Promise<CopyOutcome> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const not = (reason: Exclude<CopyOutcome, { copied: true }>['reason'], detail: string, meta?: ArchiveMeta): CopyOutcome => ({
    copied: false,
    reason,
    detail,
    meta,
    ms: ms(),
  });
  const meta = readArchiveMeta(from);
  if (!meta) return not('unreadable', `${join(from, META)} is missing or not an archive description this version reads`);
  const there = readArchiveMeta(to);
  if (there) return not('exists', `${to} is already there`, there);
  const reading = o.locks?.from ? await hold([join(from, DATA)], { shared: true }).catch(() => undefined) : undefined;
  // Held exclusively, the source is being removed; gone once locked, it was removed meanwhile.
  if (o.locks?.from && (!reading || !existsSync(join(from, DATA)))) {
    if (reading) await release(reading);
    return not('failed', `${from} is being removed by another process: not copied`);
  }
  const held: Held[] = reading ? [reading] : [];
  try {
    return await copyHeld(from, to, meta, o, held, not, ms);
  } finally {
    for (const h of held) await release(h);
  }
}

/** The copy, under the source's lock when it has one; the temp directory's lock joins `held`. */
async function copyHeld(
  from: string,
  to: string,
  meta: ArchiveMeta,
  o: CopyOptions,
  held: Held[],
  not: (reason: Exclude<CopyOutcome, { copied: true }>['reason'], detail: string, meta?: ArchiveMeta) => CopyOutcome,
  ms: () => number,
): Promise<CopyOutcome> {
  const tmp = join(dirname(to), `.${basename(to)}.${randomBytes(4).toString('hex')}.tmp`);
  let made: string[] = [];
  try {
    made = await makeDirs(dirname(to), o.dirMode);
    await fs.mkdir(tmp);
    if (o.dirMode !== undefined) await fs.chmod(tmp, o.dirMode);
    let read: { sha256: string; bytes: number };
    const writing = async () => {
      if (!o.locks?.to) return;
      const h = await hold([join(tmp, DATA)]);
      if (!h) throw new Error(`${join(tmp, DATA)} is locked by another process`);
      held.push(h);
    };
    if (o.how === 'link') {
      await fs.link(join(from, DATA), join(tmp, DATA));
      await writing();
      read = await digestFile(join(tmp, DATA));
    } else {
      const hash = hashing();
      // Made before it is locked, with its mode: flock would make it with the umask's.
      await fs.writeFile(join(tmp, DATA), '', { mode: o.fileMode ?? 0o644 });
      await writing();
      await pipeline(createReadStream(join(from, DATA)), hash.t, createWriteStream(join(tmp, DATA), { mode: o.fileMode ?? 0o644 }));
      read = hash.result();
    }
    const bad = digestMismatch(meta, read, join(from, DATA));
    if (bad) {
      await fs.rm(tmp, { recursive: true, force: true });
      await unmake(made);
      return not(bad.reason, `${bad.detail}: not copied`);
    }
    if (o.meta) await fs.writeFile(join(tmp, META), JSON.stringify(o.meta(meta), null, 1) + '\n');
    else await fs.copyFile(join(from, META), join(tmp, META));
    if (o.fileMode !== undefined) for (const f of [DATA, META]) if (o.how === 'copy' || f === META) await fs.chmod(join(tmp, f), o.fileMode);
    await o.whileHeld?.(tmp);
    try {
      await fs.rename(tmp, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        await fs.rm(tmp, { recursive: true, force: true });
        return not('raced', `another job put ${to} first`, readArchiveMeta(to));
      }
      throw e;
    }
    return { copied: true, meta, bytes: read.bytes, ms: ms() };
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    await unmake(made);
    const code = (e as NodeJS.ErrnoException).code;
    return not('failed', `copying ${from} to ${to}${code ? ` (${code})` : ''}: ${(e as Error).message}`);
  }
}
