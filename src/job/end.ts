import type { EndedJob, StartedJob } from './types.js';
import { exportsFor, recordFor, viewAfter } from './exports.js';
import { postLock } from './dependencies.js';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { releaseLease } from '../pool/lease.js';
import { cargoLockFiles } from '../os/liveness.js';
import type { Log } from '../os/log.js';
import type { DirRecord, PathView } from '../model/record.js';
import { writeRecord } from '../os/record-file.js';
import { type RemoveResult, removeTree } from '../os/remove.js';
import { prepareRoot } from '../pool/root.js';
import { diskUsage } from '../os/sizes.js';
import { measure } from '../os/disk.js';
import { type PublishReport, publishCrates } from '../store/crates.js';
import { saveStore } from '../store/crate-cache.js';
import { parseLock } from '../store/lockfile.js';
import { parseGitLock, publishGit, systemGit } from '../store/gitstore.js';
import { handBackJob } from '../owners/handback.js';
import { type UnitCount, appendWarmth, unitsSince, warmthLog } from '../pool/warmth.js';
import { type ForeignOutcome, settleForeign, settleForeignHome } from '../owners/reclaim.js';

/**
 * The post step's work. Best effort throughout: each failure becomes a warning that says what
 * was being done and where, and the lease is released whatever happened before.
 */
export async function endJob(j: Pick<StartedJob, 'root' | 'layout' | 'dirs' | 'keeperPid' | 'cleanupTimeoutMs' | 'crates'> & Partial<Pick<StartedJob, 'identity' | 'slot' | 'startedAt' | 'exports' | 'copy' | 'view' | 'home'>>, log?: Log): Promise<EndedJob> {
  const t0 = performance.now();
  const warnings: string[] = [];
  let published: PublishReport | undefined;
  let gitPublished: EndedJob['gitPublished'];
  const removed: RemoveResult[] = [];
  let sizes: DirRecord['sizes'];
  let handedBack: string | undefined;
  let units: UnitCount | undefined;
  let foreign: ForeignOutcome | undefined;
  let view: PathView | undefined;
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      warnings.push(`${what}: ${(e as Error).message}`);
    }
  };
  const timeoutMs = j.cleanupTimeoutMs;
  // The CARGO_HOME the job's steps saw: main's exports (a lease saved before them: the slot's own).
  const cargoHome = j.exports?.CARGO_HOME ?? j.dirs.cargoHome;
  const note = (r: RemoveResult) => {
    removed.push(r);
    if (r.outcome === 'left-in-trash') warnings.push(`Could not fully delete ${r.path}: ${r.detail}. The remains are in ${r.trashPath} for a later guard or 'cargo-isolate gc' run as that user or root.`);
    if (r.outcome === 'live') warnings.push(`Did not delete ${r.path}: cargo still holds its locks (a build still running, e.g. in a container). The next guard removes it once idle.`);
  };
  try {
    await prepareRoot(j.root, {}, false);
    const startedAt = j.startedAt;
    if (startedAt) {
      await attempt(`Counting compile units (cargo's fingerprint directories) under ${j.dirs.target}`, async () => {
        units = unitsSince(j.dirs.target, startedAt);
      });
    }
    const c = j.crates;
    if (c) {
      // Both stores publish from one lock file and one cargo version, found once.
      const env = { ...process.env, ...exportsFor(j.dirs, cargoHome) };
      let lock: ReturnType<typeof postLock> | undefined;
      const theLock = () => (lock ??= postLock(c, env));
      await attempt(`Publishing crates from ${cargoHome} to the store`, async () => {
        if (!c.publish) {
          published = { published: 0, publishedBytes: 0, skipped: 0, mismatches: [], indexEntries: 0, policy: c.policy, allowed: false };
          return;
        }
        const l = await theLock();
        if (!l?.version) return;
        published = { ...(await publishCrates(j.root, cargoHome, parseLock(l.text), l.version)), policy: c.policy, allowed: true };
        if (c.cache && published.published > 0 && log) await saveStore(j.root, l.text, log);
      });
      await attempt(`Publishing git dependencies from ${join(cargoHome, 'git', 'db')} to the git store`, async () => {
        const l = await theLock();
        const locked = l ? parseGitLock(l.text) : [];
        if (locked.length === 0) return;
        const none = { published: [], publishedBytes: 0, skipped: 0, notPublished: [], policy: c.policy };
        if (!c.publish) {
          gitPublished = { ...none, allowed: false };
          return;
        }
        const version = l!.version;
        if (!version) return;
        gitPublished = { ...(await publishGit(j.root, cargoHome, locked, version, systemGit(env), c.gitSeed?.refused)), allowed: true, policy: c.policy };
      });
    }
    if (j.layout === 'job') {
      // Root's files there (a `docker run` step) would stay in trash for root: hand them back first.
      await attempt(`Checking ${j.dirs.base} for files of another uid`, async () => {
        foreign = await settleForeign(j.root, j.dirs, 'job', j.dirs.base, timeoutMs);
        if (foreign) warnings.push(foreign.message);
      });
      // Our own keeper holds the lease; cargo's locks decide whether a build still runs there.
      await attempt(`Removing the job directory ${j.dirs.base}`, async () => {
        note(await removeTree(j.root, j.dirs.base, { locks: await cargoLockFiles(j.dirs.target, j.dirs.cargoHome), timeoutMs }));
        // The key and repository directories go too once empty. rmdir refuses a non-empty
        // directory atomically, and a job creating its directory meanwhile re-creates parents.
        const key = dirname(j.dirs.base);
        await fs.rmdir(key).then(() => fs.rmdir(dirname(key))).catch(() => undefined);
      });
    } else {
      await attempt(`Emptying TMPDIR ${j.dirs.tmp}`, async () => {
        if ((await fs.readdir(j.dirs.tmp).catch(() => [])).length === 0) return; // nothing to empty
        note(await removeTree(j.root, j.dirs.tmp, { timeoutMs }));
        await fs.mkdir(j.dirs.tmp, { mode: 0o700 }).catch(() => undefined);
      });
      await attempt(`Recording sizes in ${j.dirs.record}`, async () => {
        const now = new Date().toISOString();
        // The slot's own bytes: a shared CARGO_HOME is the uid's, not the slot's (counted 0 here).
        const [target, home] = await Promise.all([diskUsage(j.dirs.target), cargoHome === j.dirs.cargoHome ? diskUsage(j.dirs.cargoHome) : Promise.resolve(0)]);
        sizes = { target, cargoHome: home, tmp: 0, measuredAt: now };
        // Who used the slot comes from this job's own state, never from the file: the build ran
        // as this uid and could have rewritten slot.json to claim another trust domain's key.
        if (j.identity && j.slot && j.startedAt) {
          view = viewAfter({ root: j.root, slot: j.slot, startedAt: j.startedAt, view: j.view, home: j.home });
          const copiedFrom = j.copy?.outcome === 'copied' ? { slot: j.copy.from, key: j.copy.key, at: j.startedAt } : undefined;
          await writeRecord(j.dirs.record, { ...recordFor({ name: j.slot, layout: 'slot' }, j.identity, j.startedAt, undefined, view), releasedAt: now, lastUsed: now, sizes, units, copiedFrom });
        }
      });
      // After the record (which names this uid): a mark must be the last word.
      await attempt(`Checking ${j.dirs.base} for files of another uid`, async () => {
        foreign = await settleForeign(j.root, j.dirs, 'slot', j.slot ?? j.dirs.base, timeoutMs);
        if (foreign) warnings.push(foreign.message);
      });
      if (cargoHome !== j.dirs.cargoHome) {
        await attempt(`Checking the shared CARGO_HOME ${cargoHome} for files of another uid`, async () => {
          const home = await settleForeignHome(j.root, cargoHome, timeoutMs);
          if (home) warnings.push(home.message);
        });
      }
    }
    const me = j.identity;
    if (me && units && units.built + units.fresh > 0) {
      const u = units;
      await attempt(`Appending this job's units to ${warmthLog(j.root)}`, () =>
        appendWarmth(j.root, {
          t: new Date().toISOString(), repository: me.repository, job: me.job, jobKey: me.jobKey || undefined, key: me.key, runner: me.runnerName, slot: j.layout === 'slot' ? (j.slot ?? '?') : 'job', built: u.built, fresh: u.fresh,
          // What the value rule reads (value.ts): the job's run, how long its lease took, its base.
          workflow: me.workflow, run: me.runId, ms: j.startedAt ? Math.max(0, Date.now() - Date.parse(j.startedAt)) : undefined, base: me.baseKey,
        }));
    }
    await attempt(`Handing what this job made under ${j.root} back to the root's owner`, async () => {
      handedBack = await handBackJob(j, published, gitPublished?.published.length);
    });
  } catch (e) {
    warnings.push(`Checking the root ${j.root}: ${(e as Error).message}`);
  }
  let released = false;
  await attempt(`Releasing the lease ${j.dirs.lock} (keeper pid ${j.keeperPid})`, async () => {
    released = await releaseLease(j.keeperPid, j.dirs.lock, j.dirs.base);
  });
  const diskAtRelease = await measure(j.root).catch(() => undefined);
  return { released, removed, sizes, published, gitPublished, warnings, handedBack, units, foreign, releaseMs: Math.round(performance.now() - t0), diskAtRelease, view };
}

