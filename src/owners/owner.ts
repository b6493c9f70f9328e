import { promises as fs } from 'node:fs';
import type { Dirs } from '../model/layout.js';
import type { DirRecord } from '../model/record.js';
import { DEFAULT_CLEANUP_TIMEOUT_MS } from '../model/settings.js';
import { runCommand } from '../os/run.js';
import { lstatIfPresent } from '../os/absent.js';

/*
 * Several uids, one root. Container jobs run as root, host jobs as the runner's user, on the
 * same runners and PRs. The rule, which is the runner's own practice for its work folder:
 *
 *   everything under a root belongs to the root's owner.
 *
 * - A job running as root on a root owned by another user gives what it created back to that
 *   owner: the root's skeleton at once (main), its slot, lock file and the crate store in its
 *   post step. Until then its slot record says `uid: 0`, so nobody else trusts the slot.
 * - A job that is not root never touches what another uid holds: a slot whose record or top
 *   directories name another uid was not handed back (its container was removed before post)
 *   and is passed over like a zombie; the guard reports such data as "needs root", and a root
 *   job or `cargo-isolate gc` run as root (the systemd timer) removes it.
 * Root owns a root only when root made it: then nothing is handed anywhere.
 */

export interface Owner {
  uid: number;
  gid: number;
}

/** Pure: to whom this process must give back what it creates, or undefined when nobody. */
export function handBackTo(uid: number, rootOwner: Owner): Owner | undefined {
  return uid === 0 && rootOwner.uid !== 0 ? rootOwner : undefined;
}

/**
 * Pure: may a job running as `uid` reuse, wipe and chmod a slot? `owners` are the uids of the
 * slot directory and its top entries (target/, cargo-home/, tmp/, slot.json) that exist: O(1)
 * evidence, beside the record, which a root job marks until it has handed everything back.
 */
export function canManage(uid: number, record: Pick<DirRecord, 'uid'> | undefined, owners: number[]): boolean {
  if (uid === 0) return true;
  if (record?.uid !== undefined && record.uid !== uid) return false;
  return owners.every((o) => o === uid);
}

export async function ownerOf(path: string): Promise<Owner> {
  const st = await fs.stat(path);
  return { uid: st.uid, gid: st.gid };
}

/** canManage() over a slot as it is on disk: its directory and top entries, and its record. */
export async function slotOwners(dirs: Dirs): Promise<number[]> {
  return ownersOf([dirs.base, dirs.target, dirs.cargoHome, dirs.install, dirs.tmp, dirs.record]);
}

/**
 * A directory of `uid`'s own under `top`, which every uid may create entries in (mode 1777, like
 * /tmp): the per-uid CARGO_HOMEs and sccache servers. Any uid may make any name in such a
 * directory, so what is found there is used only when it is a real directory of `uid`: a dir
 * (or link) of another uid would have this uid (root, say) write where that uid chose. `alsoOwner`:
 * for root, the root's owner, to whom root's jobs hand back what they make (handback.ts).
 * `theirs` says why the directory cannot be used.
 */
export async function ownDirIn(top: string, name: string, uid: number, mode = 0o755, alsoOwner?: number): Promise<{ dir: string; theirs?: string }> {
  await fs.mkdir(top, { recursive: true });
  const st = await fs.lstat(top);
  const dir = `${top}/${name}`;
  if (!st.isDirectory()) return { dir, theirs: `${top} is not a directory (a symlink?)` };
  if ((st.mode & 0o1777) !== 0o1777 && st.uid === uid) await fs.chmod(top, 0o1777);
  await fs.mkdir(dir, { recursive: true, mode });
  const own = await fs.lstat(dir);
  // Root's own directories are handed back to the root's owner like everything root makes there.
  if (!own.isDirectory() || (own.uid !== uid && own.uid !== alsoOwner))
    return { dir, theirs: `${dir} is not a directory of uid ${uid} (owner ${own.uid}${own.isSymbolicLink() ? ', a symlink' : ''})` };
  return { dir };
}

/** uids of the paths that exist (never following a symlink). */
export async function ownersOf(paths: string[]): Promise<number[]> {
  const sts = await Promise.all(paths.map((p) => lstatIfPresent(p)));
  return sts.filter((s) => s !== undefined).map((s) => s!.uid);
}

/**
 * Gives `paths` to `to`. Recursive walks are GNU chown's: -R with -P (the default) never
 * follows a symlink it meets, and -h changes a link itself, not what it points to, so a link
 * a build planted cannot lead the chown outside the root.
 */
export function chownTree(
  paths: string[],
  to: Owner,
  recursive: boolean,
  timeoutMs = DEFAULT_CLEANUP_TIMEOUT_MS,
  o: { from?: number } = {},
): Promise<{ ok: boolean; detail?: string }> {
  if (paths.length === 0) return Promise.resolve({ ok: true });
  // `--from`: only what that uid owns is given (chown stamps every file it is asked to change with
  // a new ctime, even to the owner it has, which would make a verified tree look changed).
  const from = o.from !== undefined ? [`--from=${o.from}`] : [];
  const args = [...(recursive ? ['-R'] : []), ...from, '-h', `${to.uid}:${to.gid}`, '--', ...paths];
  return runCommand('chown', args, timeoutMs).then((r) =>
    r.error
      ? { ok: false, detail: r.error.message }
      : r.code === 0
        ? { ok: true }
        : { ok: false, detail: r.stderr.trim().split('\n').slice(-1)[0] || `chown exited with ${r.code}` },
  );
}
