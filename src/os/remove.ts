import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { hold, release } from './flock.js';
import { rootPaths } from '../model/layout.js';
import { DEFAULT_CLEANUP_TIMEOUT_MS } from '../model/settings.js';
import { audit } from './audit.js';
import { exists } from './fsutil.js';
import { runCommand } from './run.js';
import { myUid } from './proc.js';
import { ifPresent } from './absent.js';

/*
 * The one deletion routine (post step, guard, CLI). States of a tree being removed:
 *
 *   in place ──rename (under its locks)──▶ <root>/trash/<id> ──rm──▶ gone
 *
 * - Only paths strictly inside the root are accepted, checked on the resolved parent.
 * - The rename is atomic and O(1): a half-deleted tree never sits where a build looks for it,
 *   and the caller's locks (lease, cargo's locks) are held only for that instant.
 * - Deletion of the trash entry is GNU `rm -rf --one-file-system`: it walks with openat() and
 *   O_NOFOLLOW and re-checks each directory it enters, so neither a planted symlink nor one
 *   swapped in during the walk leads it out of the tree, and it never crosses a mount point.
 *   Node's fs.rm walks by path and has no such guarantee.
 * - Whatever cannot be deleted (files of another uid) stays in trash, reported, for a later
 *   run as that user or root: trash is always safe to delete, so nothing is lost by waiting.
 */

export interface RemoveOptions {
  /** Who removes it and why, for the audit log ("disk guard: idle target", "slot reset: ..."). */
  why: string;
  /** Locks that must all be free, and are held while the tree is renamed away. */
  locks?: string[];
  timeoutMs?: number;
  /** Runs after the rename, before the locks are released (e.g. to update the slot's record). */
  whileLocked?: () => Promise<void>;
}

export interface RemoveResult {
  path: string;
  outcome: 'removed' | 'absent' | 'live' | 'left-in-trash';
  /** Where the remains are, when outcome is left-in-trash. */
  trashPath?: string;
  detail?: string;
}

export class OutsideRootError extends Error {}

/** Refuses anything that is not strictly inside the root, after resolving the parent's symlinks. */
export async function assertInsideRoot(root: string, path: string): Promise<void> {
  const norm = normalize(path);
  const realRoot = await fs.realpath(root);
  if (!isAbsolute(path) || norm !== path.replace(/\/+$/, '') || ['.', '..', ''].includes(basename(norm))) {
    throw new OutsideRootError(`Refusing to delete '${path}': not a plain absolute path.`);
  }
  const parent = await ifPresent(dirname(norm), () => fs.realpath(dirname(norm)), { notADirectory: 'absent' });
  if (parent === undefined) return; // parent gone (or unreadable, said once): nothing there to delete
  const inside = parent === realRoot || parent.startsWith(realRoot + sep);
  if (!inside) throw new OutsideRootError(`Refusing to delete '${path}': it resolves outside the root ${realRoot}.`);
  // Inside the root is not enough: a link between the root and the path (a slot's
  // cargo-home/registry made a link into another slot) would move another slot's directory,
  // which the caller's locks do not cover. The root itself may be a link (an administrator's).
  const r = normalize(root).replace(/(.)\/+$/, '$1');
  const from = norm.startsWith(r + sep) ? r : norm.startsWith(realRoot + sep) ? realRoot : undefined;
  if (from !== undefined && parent !== join(realRoot, relative(from, dirname(norm)))) {
    throw new OutsideRootError(`Refusing to delete '${path}': a symlink below the root leads it to ${parent}.`);
  }
}

/** rm, chmod, sudo: the exit code (-1 when it could not start) and what it said. */
const run = (cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> =>
  runCommand(cmd, args, timeoutMs).then((r) => (r.error ? { code: -1, stderr: r.error.message } : { code: r.code, stderr: r.stderr }));

let sudoChecked: boolean | undefined;
function sudoAvailable(): boolean {
  if (sudoChecked === undefined) {
    sudoChecked = myUid() !== 0 && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  }
  return sudoChecked;
}

/**
 * Finds one remaining entry not owned by us, to name it in the warning. Never follows links. What
 * it cannot read is passed over in silence: a deletion just failed there, and its warning says so.
 */
async function foreignEntry(dir: string, budget = 2000): Promise<{ path: string; uid: number } | undefined> {
  const me = myUid();
  const queue = [dir];
  while (queue.length && budget-- > 0) {
    const p = queue.shift()!;
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.uid !== me) return { path: p, uid: st.uid };
    if (st.isDirectory()) for (const e of await fs.readdir(p).catch(() => [])) queue.push(join(p, e));
  }
  return undefined;
}

/** Deletes one entry of the trash; what it cannot delete stays there. */
export async function deleteTrashEntry(entry: string, timeoutMs = DEFAULT_CLEANUP_TIMEOUT_MS): Promise<{ ok: boolean; detail?: string }> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const rm = () => run('rm', ['-rf', '--one-file-system', '--', entry], left());
  let r = await rm();
  if (!(await exists(entry))) return { ok: true };
  // A build (or a crate's tests) left read-only directories: their entries cannot be unlinked
  // until the directory is writable. chmod -R does not follow symlinks met in the walk.
  await run('chmod', ['-R', 'u+rwX', '--', entry], left());
  r = await rm();
  if (!(await exists(entry))) return { ok: true };
  if (sudoAvailable()) {
    r = await run('sudo', ['-n', 'rm', '-rf', '--one-file-system', '--', entry], left());
    if (!(await exists(entry))) return { ok: true };
  }
  const foreign = await foreignEntry(entry);
  const why = foreign
    ? `${foreign.path} is owned by uid ${foreign.uid}, not by uid ${myUid()} (files written by a container running as another user?)`
    : r.stderr.trim().split('\n').slice(-1)[0] || 'rm did not finish in time';
  return { ok: false, detail: why };
}

/** Renames `path` into the root's trash under `locks`, then deletes it. */
export async function removeTree(root: string, path: string, o: RemoveOptions): Promise<RemoveResult> {
  const r = await removeTreeInner(root, path, o);
  if (r.outcome !== 'absent') {
    audit({
      event: 'remove',
      path,
      outcome: r.outcome,
      why: o.why,
      evidence: o.locks?.length ? `held ${o.locks.length} lock(s) free of other holders during the rename: ${o.locks.join(', ')}` : "caller's own lease",
    });
  }
  return r;
}

async function removeTreeInner(root: string, path: string, o: RemoveOptions): Promise<RemoveResult> {
  await assertInsideRoot(root, path);
  if (!(await exists(path))) return { path, outcome: 'absent' };
  const trash = rootPaths(root).trash;
  await fs.mkdir(trash, { recursive: true });
  const entry = join(trash, `${Date.now()}-${randomBytes(3).toString('hex')}-${basename(path).slice(0, 60)}`);
  if (o.locks?.length) {
    const h = await hold(o.locks);
    if (!h) return { path, outcome: 'live', detail: 'a lease or cargo lock is held' };
    try {
      await assertInsideRoot(root, path); // re-check now that nobody can lease it
      await fs.rename(path, entry);
      await o.whileLocked?.();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path, outcome: 'absent' };
      throw e;
    } finally {
      await release(h);
    }
  } else {
    try {
      await fs.rename(path, entry);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path, outcome: 'absent' };
      throw e;
    }
  }
  const d = await deleteTrashEntry(entry, o.timeoutMs);
  return d.ok ? { path, outcome: 'removed' } : { path, outcome: 'left-in-trash', trashPath: entry, detail: d.detail };
}
