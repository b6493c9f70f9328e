import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { hold, release } from '../os/flock.js';
import { type Dirs, SLOT_NAME, gitStorePaths, rootPaths, slotDirs, storePaths } from '../model/layout.js';
import { cargoLockFiles } from '../os/liveness.js';
import { type Owner, canManage, chownTree, handBackTo, ownerOf, slotOwners } from './owner.js';
import { readRecord, writeRecord } from '../os/record-file.js';
import { findForeign, findForeignInHome } from './foreign.js';
import { myUid } from '../os/proc.js';
import { listDir, lstatIfPresent } from '../os/absent.js';
import { Failure } from '../model/failure.js';

/*
 * The effects of owner.ts's rule, "everything under a root belongs to the root's owner", for
 * a process running as root on a root owned by another user: a job's post step gives back what
 * that job made; `cargo-isolate gc` run as root gives back what no post step did (a container
 * removed before post). A slot's record stops saying uid 0 only after its chown succeeded, so
 * an interrupted hand-back leaves a slot other uids pass over, never one they trip on.
 */

/** Root's own directories under homes/: its CARGO_HOME, its record of verified sources, its fork PRs' compile cache. */
const ROOT_OWN = /^u0(-untrusted-sccache|-verified)?$/;

async function giveSlot(dirs: Dirs, to: Owner, timeoutMs: number): Promise<void> {
  const r = await chownTree([dirs.base], to, true, timeoutMs);
  if (!r.ok)
    throw new Failure(
      `chown -R ${dirs.base} to uid ${to.uid} failed (${r.detail}); the slot stays marked as uid 0's, ` +
        "and other users' jobs pass it over until a root job or 'cargo-isolate gc' run as root cleans it",
      'environment',
    );
  const rec = await readRecord(dirs.record);
  if (rec && (rec.uid !== to.uid || rec.foreign)) {
    await writeRecord(dirs.record, { ...rec, uid: to.uid, foreign: undefined });
    await chownTree([dirs.record], to, false);
  }
}

/**
 * Main step, layout job: jobs/<repo>/<key>/ are shared with other jobs of that key, so they are
 * given back at once (the job's own directory goes with its post step).
 */
export async function handBackJobParents(root: string, jobDir: string): Promise<void> {
  const to = handBackTo(myUid(), await ownerOf(root));
  const key = dirname(jobDir);
  if (to) await chownTree([dirname(key), key], to, false);
}

/** Post step: the job's slot, the lock files and, when it published, the crate store. */
export async function handBackJob(
  j: { root: string; layout: 'slot' | 'job'; dirs: Dirs; cleanupTimeoutMs: number },
  published?: { published: number; indexEntries: number },
  gitPublished = 0,
  archived = false,
): Promise<string | undefined> {
  const to = handBackTo(myUid(), await ownerOf(j.root));
  if (!to) return undefined;
  const shared = [rootPaths(j.root).locks];
  if (published && (published.published > 0 || published.indexEntries > 0)) shared.push(storePaths(j.root).base);
  if (gitPublished > 0) shared.push(gitStorePaths(j.root).base);
  // A dependency archive it saved (job/tiers.ts): the root owner's guard must be able to remove it.
  if (archived) shared.push(rootPaths(j.root).archives);
  const r = await chownTree(shared, to, true, j.cleanupTimeoutMs);
  if (!r.ok) throw new Failure(`chown -R ${shared.join(' ')} to uid ${to.uid} failed: ${r.detail}`, 'environment');
  // homes/ itself (mode 1777) and root's own CARGO_HOME and caches below it (cargo-home.ts) go back
  // like the rest: the runner user's guard and gc can then free them; root's jobs keep using them.
  // Only what root made there since: the rest keeps its change time (home-sources.ts reads it).
  const homes = rootPaths(j.root).homes;
  if ((await lstatIfPresent(homes))?.uid === 0) await chownTree([homes], to, false);
  const rootOwn = (await listDir(homes)).filter((n) => ROOT_OWN.test(n)).map((n) => `${homes}/${n}`);
  if (rootOwn.length) {
    const r = await chownTree(rootOwn, to, true, j.cleanupTimeoutMs, { from: 0 });
    if (!r.ok) throw new Failure(`chown -R ${rootOwn.join(' ')} to uid ${to.uid} failed: ${r.detail}`, 'environment');
  }
  if (j.layout === 'slot') await giveSlot(j.dirs, to, j.cleanupTimeoutMs);
  const names = [...shared, ...(j.layout === 'slot' ? [j.dirs.base] : [])].map((p) => p.slice(j.root.length + 1));
  return `to uid ${to.uid}: ${names.join(', ')}`;
}

/**
 * gc as root: every idle slot that holds files of another uid than the root's owner, under its
 * lease and cargo's locks (a live root job keeps its own until its post step), then the shared
 * directories. Returns the slots given back.
 */
export async function handBackIdle(root: string, timeoutMs: number): Promise<string[]> {
  const to = handBackTo(myUid(), await ownerOf(root));
  if (!to) return [];
  const given: string[] = [];
  const p = rootPaths(root);
  for (const name of (await listDir(p.slots)).filter((n) => SLOT_NAME.test(n))) {
    const dirs = slotDirs(root, name);
    const rec = await readRecord(dirs.record);
    if (canManage(to.uid, rec, await slotOwners(dirs)) && (await findForeign(dirs, to.uid)).length === 0) continue;
    const h = await hold([dirs.lock, ...(await cargoLockFiles(dirs.target, dirs.cargoHome))]);
    if (!h) continue; // live
    try {
      await giveSlot(dirs, to, timeoutMs);
      given.push(name);
    } finally {
      await release(h);
    }
  }
  // The CARGO_HOME each uid's jobs share: another uid's files there (a `docker run` step as root
  // that mounted it) go back to the uid the home belongs to. chown changes no content a running
  // cargo reads, so no lock is needed.
  for (const name of await listDir(p.homes)) {
    const home = `${p.homes}/${name}`;
    const uid = /^u(\d+)$/.test(name) ? Number(name.slice(1)) : undefined;
    const st = await lstatIfPresent(home);
    if (uid === 0 && st?.isDirectory()) {
      // Root's own home goes to the root's owner, as a root job's post step does (handBackJob).
      if (
        (
          await chownTree(
            [home, `${home}-untrusted-sccache`, `${home}-verified`].filter((h) => h === home || existsSync(h)),
            to,
            true,
            timeoutMs,
            { from: 0 },
          )
        ).ok
      )
        given.push(`homes/${name}`);
      continue;
    }
    if (uid === undefined || !st?.isDirectory() || st.uid !== uid) continue;
    if ((await findForeignInHome(home, uid)).length === 0) continue;
    const r = await chownTree([home], { uid, gid: st.gid }, true, timeoutMs);
    if (r.ok) given.push(`homes/${name}`);
  }
  const git = gitStorePaths(root).base;
  const r = await chownTree([p.marker, p.locks, p.slots, p.jobs, p.trash, p.crates, git], to, false, timeoutMs);
  if (r.ok) await chownTree([p.locks, p.jobs, p.crates, git], to, true, timeoutMs);
  return given;
}
