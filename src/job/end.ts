import type { CratesState, EndedJob, StartedJob } from './types.js';
import { exportsFor, recordFor, viewAfter } from './exports.js';
import { type ReadLock, postLock } from './dependencies.js';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { releaseLease } from '../pool/lease.js';
import { cargoLockFiles } from '../os/liveness.js';
import type { Log } from '../os/log.js';
import { writeRecord } from '../os/record-file.js';
import { type RemoveResult, removeTree } from '../os/remove.js';
import { prepareRoot } from '../pool/root.js';
import { diskUsage } from '../os/sizes.js';
import { measure } from '../os/disk.js';
import { publishCrates } from '../store/crates.js';
import { saveStore } from '../store/crate-cache.js';
import { parseLock } from '../store/lockfile.js';
import { parseGitLock, publishGit, systemGit } from '../store/gitstore.js';
import { handBackJob } from '../owners/handback.js';
import { type UnitDir, appendWarmth, countUnits, cutOff, readUnits, warmthLog } from '../pool/warmth.js';
import { settleForeign, settleForeignHome } from '../owners/reclaim.js';
import { sccacheAtEnd } from '../host/sccache.js';
import { myUid } from '../os/proc.js';
import { containerFilesKept } from '../model/messages.js';
import { listDir, reportReadsTo } from '../os/absent.js';
import { clearRestoreLeftovers, describeSave, openFleet, saveTier, startTier, tierMisses, viewPart } from './tiers.js';
import { describeCopy } from '../pool/warm-copy.js';
import { publishAids, settleHome } from './shared-home.js';

/*
 * A job's end: finishJob, the mirror of mainJob (start.ts), shared by the action's post step, the
 * runner's job-completed hook and `cargo-isolate run`; endJob, its release phase (publish to the
 * stores, empty tmp/ or remove the job directory, record sizes and units, hand back, release the
 * lease), best effort throughout; and what became of a hook container's files.
 */

/** What an end needs of the job: a lease saved before main finished has only the first part. */
export type JobToEnd = Pick<StartedJob, 'root' | 'layout' | 'dirs' | 'keeperPid' | 'cleanupTimeoutMs' | 'crates'> &
  Partial<
    Pick<
      StartedJob,
      'identity' | 'slot' | 'startedAt' | 'exports' | 'copy' | 'view' | 'home' | 'reset' | 'restore' | 'hostArchives' | 'archiveStore' | 'sccache'
    >
  >;

/** What the steps of an end gather, each its own part, and the warnings of all of them. */
type Ending = Omit<EndedJob, 'released' | 'releaseMs' | 'diskAtRelease'>;

/** Runs one step; a failure becomes a warning that says what was being done and where. */
async function attempt(r: Ending, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    r.warnings.push(`${what}: ${(e as Error).message}`);
  }
}

/** Keeps a removal's outcome, and says what was left and why. */
function noteRemoval(r: Ending, x: RemoveResult): void {
  r.removed.push(x);
  if (x.outcome === 'left-in-trash')
    r.warnings.push(
      `Could not fully delete ${x.path}: ${x.detail}. The remains are in ${x.trashPath} for a later guard or 'cargo-isolate gc' run as that user or root.`,
    );
  if (x.outcome === 'live')
    r.warnings.push(`Did not delete ${x.path}: cargo still holds its locks (a build still running, e.g. in a container). The next guard removes it once idle.`);
}

/** Publishes to both stores from one lock file and one cargo version, found once. */
async function publishStores(
  j: JobToEnd,
  c: CratesState,
  cargoHome: string,
  r: Ending,
  theLock: () => Promise<ReadLock | undefined>,
  log?: Log,
): Promise<void> {
  const env = { ...process.env, ...exportsFor(j.dirs, cargoHome) };
  await attempt(r, `Publishing crates from ${cargoHome} to the store`, async () => {
    if (!c.publish) {
      r.published = { published: 0, publishedBytes: 0, skipped: 0, mismatches: [], indexEntries: 0, policy: c.policy, allowed: false };
      return;
    }
    const l = await theLock();
    if (!l?.version) return;
    const aids = await publishAids(j, cargoHome);
    r.published = { ...(await publishCrates(j.root, cargoHome, parseLock(l.text), l.version, aids)), policy: c.policy, allowed: true };
    if (c.cache && r.published.published > 0 && log) await saveStore(j.root, l.text, log);
  });
  await attempt(r, `Publishing git dependencies from ${join(cargoHome, 'git', 'db')} to the git store`, async () => {
    const l = await theLock();
    const locked = l ? parseGitLock(l.text) : [];
    if (locked.length === 0) return;
    if (!c.publish) {
      r.gitPublished = { published: [], publishedBytes: 0, skipped: 0, notPublished: [], policy: c.policy, allowed: false };
      return;
    }
    if (!l!.version) return;
    r.gitPublished = { ...(await publishGit(j.root, cargoHome, locked, l!.version, systemGit(env), c.gitSeed?.refused)), allowed: true, policy: c.policy };
  });
}

/** The job layout: another uid's files handed back first (else they stay in trash for root), then the whole directory. */
async function removeJobDir(j: JobToEnd, r: Ending): Promise<void> {
  await attempt(r, `Checking ${j.dirs.base} for files of another uid`, async () => {
    r.foreign = await settleForeign(j.root, j.dirs, 'job', j.dirs.base, j.cleanupTimeoutMs);
    if (r.foreign) r.warnings.push(r.foreign.message);
  });
  // Our own keeper holds the lease; cargo's locks decide whether a build still runs there.
  await attempt(r, `Removing the job directory ${j.dirs.base}`, async () => {
    noteRemoval(
      r,
      await removeTree(j.root, j.dirs.base, {
        why: 'job cleanup: the directories of this run',
        locks: await cargoLockFiles(j.dirs.target, j.dirs.cargoHome),
        timeoutMs: j.cleanupTimeoutMs,
      }),
    );
    // The key and repository directories go too once empty. rmdir refuses a non-empty
    // directory atomically, and a job creating its directory meanwhile re-creates parents.
    const key = dirname(j.dirs.base);
    await fs
      .rmdir(key)
      .then(() => fs.rmdir(dirname(key)))
      .catch(() => undefined);
  });
}

/** The slot layout: empty tmp/, record what the slot now holds, then settle another uid's files. */
async function leaveSlot(j: JobToEnd, cargoHome: string, r: Ending, targetSize?: Promise<number>): Promise<boolean> {
  // A restore killed with the main step (a cancel) left its temp directory in the target: what
  // was measured of the target before is stale then (true: it was).
  let cleared = false;
  await attempt(r, `Removing what a killed restore left in ${j.dirs.target}`, async () => {
    cleared = (await clearRestoreLeftovers(j.root, j.dirs.target, j.cleanupTimeoutMs)) > 0;
  });
  if (cleared) targetSize = undefined;
  await attempt(r, `Emptying TMPDIR ${j.dirs.tmp}`, async () => {
    if ((await listDir(j.dirs.tmp)).length === 0) return; // nothing to empty
    noteRemoval(r, await removeTree(j.root, j.dirs.tmp, { why: 'job cleanup: the temp dir of this job', timeoutMs: j.cleanupTimeoutMs }));
    await fs.mkdir(j.dirs.tmp, { mode: 0o700 }).catch(() => undefined);
  });
  await attempt(r, `Recording sizes in ${j.dirs.record}`, () => recordSlot(j, cargoHome, r, targetSize));
  // After the record (which names this uid): a mark must be the last word.
  await attempt(r, `Checking ${j.dirs.base} for files of another uid`, async () => {
    r.foreign = await settleForeign(j.root, j.dirs, 'slot', j.slot ?? j.dirs.base, j.cleanupTimeoutMs);
    if (r.foreign) r.warnings.push(r.foreign.message);
  });
  if (cargoHome !== j.dirs.cargoHome) {
    await attempt(r, `Checking the shared CARGO_HOME ${cargoHome} for files of another uid`, async () => {
      const home = await settleForeignHome(j.root, cargoHome, j.cleanupTimeoutMs);
      if (home) r.warnings.push(home.message);
    });
  }
  return cleared;
}

/** The slot's record: its sizes, and who used it and under which view, from this job's own state. */
async function recordSlot(j: JobToEnd, cargoHome: string, r: Ending, targetSize?: Promise<number>): Promise<void> {
  const now = new Date().toISOString();
  // The slot's own bytes: a shared CARGO_HOME is the uid's, not the slot's (counted 0 here).
  const [target, home] = await Promise.all([
    targetSize ?? diskUsage(j.dirs.target),
    cargoHome === j.dirs.cargoHome ? diskUsage(j.dirs.cargoHome) : Promise.resolve(0),
  ]);
  r.sizes = { target, cargoHome: home, tmp: 0, measuredAt: now };
  // Who used the slot comes from this job's own state, never from the file: the build ran
  // as this uid and could have rewritten slot.json to claim another trust domain's key.
  if (!j.identity || !j.slot || !j.startedAt) return;
  r.view = viewAfter({ root: j.root, slot: j.slot, startedAt: j.startedAt, view: j.view, home: j.home });
  const copiedFrom = j.copy?.outcome === 'copied' ? { slot: j.copy.from, key: j.copy.key, at: j.startedAt } : undefined;
  await writeRecord(j.dirs.record, {
    ...recordFor({ name: j.slot, layout: 'slot' }, j.identity, j.startedAt, undefined, r.view),
    releasedAt: now,
    lastUsed: now,
    sizes: r.sizes,
    units: r.units,
    copiedFrom,
  });
}

/** One line in the warmth log for a job that ran cargo (what the value rule and status read). */
async function appendUnits(j: JobToEnd, r: Ending): Promise<void> {
  const me = j.identity;
  const u = r.units;
  if (!me || !u || u.built + u.fresh === 0) return;
  await attempt(r, `Appending this job's units to ${warmthLog(j.root)}`, () =>
    appendWarmth(j.root, {
      t: new Date().toISOString(),
      repository: me.repository,
      job: me.job,
      jobKey: me.jobKey || undefined,
      key: me.key,
      runner: me.runnerName,
      slot: j.layout === 'slot' ? (j.slot ?? '?') : 'job',
      built: u.built,
      fresh: u.fresh,
      // What the value rule reads (value.ts): the job's run, how long its lease took, its base.
      workflow: me.workflow,
      run: me.runId,
      ms: j.startedAt ? Math.max(0, Date.now() - Date.parse(j.startedAt)) : undefined,
      base: me.baseKey,
      target: r.sizes?.target,
      from: r.from,
    }),
  );
}

/** Which tier the start came from, and for a start from none, why each missed (tiers.ts). */
function whereFrom(j: JobToEnd, r: Ending): void {
  if (!j.reset) return;
  const facts = {
    layout: j.layout,
    kept: j.reset.warm ?? false,
    keptWhy: j.reset.reason,
    copy: j.copy && { outcome: j.copy.outcome, text: describeCopy(j.copy) },
    restore: j.restore,
    compileCache: j.sccache !== undefined,
  };
  r.from = startTier(facts);
  r.misses = tierMisses(facts);
}

/**
 * The host tier's save (tiers.ts), before the lease is released: the build dir is this job's until
 * then. The job's steps saw `cargoHome`; the runner's completed hook, on the host, saves only a
 * build made on the host (its view says where the build saw the root).
 */
async function saveArchive(
  j: JobToEnd,
  cargoHome: string,
  r: Ending,
  theLock: () => Promise<ReadLock | undefined>,
  log?: Log,
  units?: UnitDir[],
): Promise<void> {
  const me = j.identity;
  if (!me || !j.startedAt || !j.hostArchives) return;
  await attempt(r, `Saving a dependency archive of ${j.dirs.target}`, async () => {
    const env = { ...process.env, ...exportsFor(j.dirs, cargoHome) };
    r.archive = await saveTier({
      root: j.root,
      me,
      cap: j.hostArchives!,
      layout: j.layout,
      buildDir: j.dirs.target,
      startedAt: j.startedAt!,
      builtElsewhere: r.view !== undefined && r.view.root !== j.root,
      context: {
        identity: me,
        env,
        cargoHome,
        view: viewPart(me.container),
        search: j.crates?.search ?? { workingDirectory: process.env.GITHUB_WORKSPACE || process.cwd() },
        ...(await theLock().then(
          (l) => (l ? { lockFile: l.file, lockText: l.text } : { lockFile: j.crates?.lockFile }),
          () => ({ lockFile: j.crates?.lockFile }),
        )),
      },
      timeoutMs: Math.max(j.cleanupTimeoutMs, 300_000),
      log,
      // Recorded at the start only where this job can use it: the post step of an action, the hook or the CLI with a directory.
      fleet: openFleet(j.archiveStore, process.env, 'action', log),
      units,
    });
    log?.info(`${describeSave(r.archive)}.`);
    if (r.archive.outcome === 'failed') r.warnings.push(`${describeSave(r.archive)}. The next job that compiles these dependencies tries again.`);
  });
}

/**
 * The release phase of a job's end (finishJob below). Best effort throughout: each failure becomes
 * a warning that says what was being done and where, and the lease is released whatever happened
 * before.
 */
export async function endJob(j: JobToEnd, log?: Log): Promise<EndedJob> {
  const t0 = performance.now();
  const r: Ending = { removed: [], warnings: [] };
  // Where the time goes, step by step: a slow end must be explainable (the bench reads it too).
  const steps: Record<string, number> = {};
  const step = async (name: string, fn: () => Promise<void>) => {
    const t = performance.now();
    await fn();
    steps[name] = Math.round(performance.now() - t);
  };
  // The CARGO_HOME the job's steps saw: main's exports (a lease saved before them: the slot's own).
  const cargoHome = j.exports?.CARGO_HOME ?? j.dirs.cargoHome;
  // The lock file, found and read once for every part of the end that needs it.
  let lock: Promise<ReadLock | undefined> | undefined;
  const theLock = () => (lock ??= j.crates ? postLock(j.crates, { ...process.env, ...exportsFor(j.dirs, cargoHome) }) : Promise.resolve(undefined));
  // The job's build is over: the target's `du` (a process of its own) runs while this one counts
  // units and publishes crates, instead of after them.
  const targetSize = j.layout === 'slot' ? diskUsage(j.dirs.target) : undefined;
  let units: UnitDir[] | undefined;
  try {
    await step('root', () => prepareRoot(j.root, {}, false).then(() => undefined));
    const startedAt = j.startedAt;
    if (startedAt) {
      await step('units', () =>
        attempt(r, `Counting compile units (cargo's fingerprint directories) under ${j.dirs.target}`, async () => {
          // Read once: the archive's save counts the same units again (saveTier).
          units = readUnits(j.dirs.target);
          r.units = countUnits(units, cutOff(startedAt));
        }),
      );
    }
    if (j.crates) await step('stores', () => publishStores(j, j.crates!, cargoHome, r, theLock, log));
    whereFrom(j, r);
    // A slot's record first (its view tells the save where the build ran); a job directory after its save.
    if (j.layout === 'job') {
      await step('archive', () => saveArchive(j, cargoHome, r, theLock, log, units));
      await step('job', () => removeJobDir(j, r));
    } else {
      await step('slot', async () => {
        // What a killed restore left is gone from the target now: its units are read again.
        if (await leaveSlot(j, cargoHome, r, targetSize)) units = undefined;
      });
      await step('archive', () => saveArchive(j, cargoHome, r, theLock, log, units));
    }
    await appendUnits(j, r);
    await step('home', () =>
      attempt(r, `Checking the sources and the top of ${cargoHome}`, async () => {
        r.homeCheck = await settleHome(j, process.env, theLock);
      }),
    );
    await step('hand-back', () =>
      attempt(r, `Handing what this job made under ${j.root} back to the root's owner`, async () => {
        r.handedBack = await handBackJob(j, r.published, r.gitPublished?.published.length, r.archive?.outcome === 'saved');
      }),
    );
  } catch (e) {
    r.warnings.push(`Checking the root ${j.root}: ${(e as Error).message}`);
  }
  let released = false;
  await step('lease', () =>
    attempt(r, `Releasing the lease ${j.dirs.lock} (keeper pid ${j.keeperPid})`, async () => {
      released = await releaseLease(j.keeperPid, j.dirs.lock, j.dirs.base);
    }),
  );
  const diskAtRelease = await measure(j.root).catch(() => undefined);
  return { ...r, released, releaseMs: Math.round(performance.now() - t0), releaseSteps: steps, diskAtRelease };
}

/**
 * Pure: what became of the files of the job's own container, when its build saw the root elsewhere
 * than this process does (view.root): only the runner's job-completed hook, on the host, ends such
 * a job. Handing another uid's files back is routine then, not a `docker run` step to fix; when it
 * fails, the warning says what that costs the next container job and what the operator can change.
 */
export function containerFiles(
  job: Pick<JobToEnd, 'root' | 'slot' | 'dirs'>,
  ended: Pick<EndedJob, 'foreign' | 'view'>,
  uid: number,
): EndedJob['container'] | undefined {
  const f = ended.foreign;
  const seen = ended.view;
  if (!f || !seen || seen.root === job.root) return undefined;
  const slot = job.slot ?? job.dirs.base;
  if (f.handedBack)
    return {
      uid: seen.uid,
      handedBack: `the job's container built as uid ${seen.uid} in slot ${slot}; its files went back to uid ${uid} with ${f.handedBack}.`,
    };
  return { uid: seen.uid, kept: containerFilesKept({ slot, seen, hookUid: uid, failed: f.failed }) };
}

/** What a job's end needs: the job (a lease saved before main finished is enough), where it ran, and the log. */
export interface JobFinish {
  job: JobToEnd & Partial<Pick<StartedJob, 'sccache'>>;
  env: Record<string, string | undefined>;
  log: Log;
}

/**
 * A job's end, the mirror of mainJob (start.ts), for the action's post step, the runner's
 * job-completed hook and `cargo-isolate run` alike: the sccache server the job's own client may
 * have started, the release phase (endJob), then every warning; a read that fails other than by
 * absence is said as it happens. Never throws: each front end only reports what it got back (a
 * summary, a line, an exit code).
 */
export function finishJob(o: JobFinish): Promise<EndedJob> {
  return reportReadsTo(o.log, () => endPhases(o));
}

async function endPhases(o: JobFinish): Promise<EndedJob> {
  const { job, env, log } = o;
  // Before tmp/ is emptied: a server this job's client started must not lose its temp dir mid-write.
  const sccacheNote = await sccacheAtEnd(job.sccache, env, { root: job.root }, log).catch(
    (e: Error) => `sccache: checking the server on the job's port: ${e.message}`,
  );
  const ended = await log.group('Release', () => endJob(job, log));
  if (sccacheNote) ended.warnings.push(sccacheNote);
  ended.container = containerFiles(job, ended, myUid());
  if (ended.container) {
    // Said in its own words instead of the `docker run` step's warning (reclaim.ts).
    const kept = ended.container.kept;
    ended.warnings = ended.warnings.flatMap((w) => (w !== ended.foreign?.message ? [w] : kept ? [kept] : []));
    if (ended.container.handedBack) log.info(`cargo-isolate: ${ended.container.handedBack}`);
  }
  for (const w of ended.warnings) log.warning(w);
  return ended;
}
