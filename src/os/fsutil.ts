import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/*
 * Small file effects every store and record shares: whether something is at a path, the one atomic
 * write (a temp file renamed into place), and the one link-else-copy.
 */

/** True when something (even a dangling symlink) is at the path. */
export const exists = (p: string): Promise<boolean> =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );

/** The error a uid gets for another uid's files: the cue to leave them to root (owner.ts). */
export const isPermissionError = (e: unknown): boolean => ['EACCES', 'EPERM'].includes((e as NodeJS.ErrnoException)?.code ?? '');

/**
 * Writes a whole file or nothing: a temp file in the same directory (named so that no glob for
 * the real name, such as node_exporter's `*.prom`, matches it), then rename(2) over the path.
 * The one atomic write: records, the hooks' state, the store's lists, scripts, metrics.
 * With `mode`, the file gets exactly that mode, not narrowed by the umask (node_exporter runs as
 * its own user, a wrapper script must stay executable); without it, 0644 narrowed by the umask.
 */
export async function writeAtomic(path: string, data: string | Buffer, mode?: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  let step: 'write into' | 'rename' = 'write into';
  try {
    // 'wx': the temp name is new; a link planted there (a directory others write to) is refused, not followed.
    await fs.writeFile(tmp, data, { mode: mode ?? 0o644, flag: 'wx' });
    if (mode !== undefined) await fs.chmod(tmp, mode);
    step = 'rename';
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    // Said of what the caller named: the directory that refused the temp file, or the path it
    // could not replace. The temp file's name would only puzzle whoever reads the message.
    const err = e as NodeJS.ErrnoException;
    if (err.code) Object.assign(err, step === 'write into' ? { syscall: 'write into', path: dirname(path) } : { syscall: 'replace', path });
    throw err;
  }
}

/** Why a link became a copy: EXDEV (another filesystem) or EPERM (fs.protected_hardlinks: another uid's file). */
export type CopiedBecause = 'EXDEV' | 'EPERM';

/**
 * Puts `from`'s bytes at `to`, which must not exist: a hard link for 'link' (no bytes written), a
 * copy for 'copy' (a reflink where the filesystem can), and a copy too when the kernel refuses the
 * link; then it says why. The one link-else-copy of the crate and git stores.
 */
export async function linkOrCopy(from: string, to: string, mode: 'link' | 'copy'): Promise<CopiedBecause | undefined> {
  if (mode === 'link') {
    try {
      await fs.link(from, to);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM') throw e;
      await fs.copyFile(from, to, constants.COPYFILE_FICLONE);
      return code;
    }
  }
  await fs.copyFile(from, to, constants.COPYFILE_FICLONE);
  return undefined;
}
