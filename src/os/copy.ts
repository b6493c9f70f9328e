import { promises as fs } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { runCommand } from './run.js';
import { listDirents } from './absent.js';

/*
 * Copying a tree with its mtimes: GNU `cp -a --reflink=auto`. cargo's fingerprints compare
 * mtimes, so a copy must keep them (a `cp -r` rebuilds everything). `--reflink=auto` shares
 * extents where the filesystem can (btrfs, XFS with reflink=1, bcachefs) and copies bytes
 * elsewhere (ext4, tmpfs: copy_file_range). `-a` never follows a symlink in the source and keeps
 * hardlinks within the copy (cargo hardlinks uplifted artifacts to deps/).
 */

export interface CopyResult {
  ok: boolean;
  ms: number;
  detail?: string;
  /** Symlinks in the copy that led outside it, removed (a build can plant one). */
  linksRemoved: string[];
}

/** Copies the content of `src` into the existing, empty directory `dst`. */
export async function copyTree(src: string, dst: string, timeoutMs: number): Promise<CopyResult> {
  const t0 = performance.now();
  const ran = await runCommand('cp', ['-a', '--reflink=auto', '--', `${src}/.`, `${dst}/`], timeoutMs);
  const r: { ok: boolean; detail?: string } = ran.error
    ? { ok: false, detail: ran.error.message }
    : ran.code === 0
      ? { ok: true }
      : {
          ok: false,
          detail: ran.signal
            ? `cp killed by ${ran.signal} after ${Math.round(timeoutMs / 1000)} s`
            : ran.stderr.trim().split('\n').slice(-1)[0] || `cp exited with ${ran.code}`,
        };
  const linksRemoved = r.ok ? await removeEscapingLinks(dst) : [];
  return { ...r, ms: Math.round(performance.now() - t0), linksRemoved };
}

/**
 * Removes every symlink under `dir` whose target lies outside `dir`: a link into the slot it was
 * copied from would lead this job's cargo to write into another slot.
 */
export async function removeEscapingLinks(dir: string): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await listDirents(d);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink()) {
        // A link that cannot be read is taken as leading out ('/'): removed, never followed.
        const to = resolve(dirname(p), await fs.readlink(p).catch(() => '/'));
        if (to !== dir && !to.startsWith(dir + sep)) {
          await fs.unlink(p).catch(() => undefined);
          removed.push(relative(dir, p));
        }
      }
    }
  };
  await walk(dir);
  return removed;
}
