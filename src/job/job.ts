import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatBytes } from '../model/units.js';
import { type JobIdentity } from '../model/identity.js';
import { type Lease, type LeaseRequest, acquireJobDir, acquireSlot, releaseLease } from '../pool/lease.js';
import { cargoLockFiles } from '../os/liveness.js';
import { hold, release } from '../os/flock.js';
import type { Log } from '../os/log.js';
import { type PrepareResult, prepareDirs } from './prepare.js';
import { type DirRecord, type PathView, type Viewpoint } from '../model/record.js';
import { writeRecord } from '../os/record-file.js';
import { slotDirs } from '../model/layout.js';
import { builtSince, rootSeen } from '../pool/view.js';
import { type RemoveResult, removeTree } from '../os/remove.js';
import { prepareRoot } from '../pool/root.js';
import type { Settings } from '../model/settings.js';
import { diskUsage } from '../os/sizes.js';
import { type Disk, measure } from '../os/disk.js';
import { type PublishReport, type SeedReport, cargoVersion, mayPublish, publishCrates, seedCrates } from '../store/crates.js';
import { restoreStore, saveStore } from '../store/crate-cache.js';
import { findLockFile, parseLock } from '../store/lockfile.js';
import { type GitPublishReport, type GitSeedReport, parseGitLock, publishGit, seedGit, systemGit } from '../store/gitstore.js';
import { handBackJob, handBackJobParents } from '../owners/handback.js';
import { type UnitCount, appendWarmth, unitsSince, warmthLog } from '../pool/warmth.js';
import { type ForeignOutcome, settleForeign, settleForeignHome } from '../owners/reclaim.js';
import type { SccacheReport } from './sccache.js';
import { type HomeChoice, chooseHome, homeFor, sharedHomeProblem } from './cargo-home.js';
import { type CopyReport, chooseCopySource, copyWarmBuild, describeCopy } from '../pool/warm-copy.js';
import { scanSlots } from '../pool/lease.js';
import { myUid } from '../os/proc.js';

/** statfs f_type of btrfs: every copy there is a reflink, which costs no bytes up front. */
const BTRFS_MAGIC = 0x9123683e;

/** What the main step hands to the post step (through state.ts) and to the summary. */
export interface StartedJob {
  root: string;
  layout: Settings['layout'];
  slot: string;
  dirs: Lease['dirs'];
  keeperPid: number;
  tier: Lease['tier'];
  waitedMs: number;
  zombies: string[];
  /** Slots passed over: another uid's files, never handed back (owner.ts). */
  foreign: string[];
  reset: PrepareResult['decision'];
  identity: JobIdentity;
  startedAt: string;
  cleanupTimeoutMs: number;
  exports: Record<string, string>;
  path: string;
  crates?: CratesState;
  /** Milliseconds per phase of the main step (guard, slot, crates). */
  phases?: Record<string, number>;
  /** The sccache server the job compiles through, when it uses sccache (sccache.ts). */
  sccache?: SccacheReport;
  /** The view the slot's content was built under when leased (kept unless this job builds). */
  view?: PathView;
  /** Which CARGO_HOME the job got and why (cargo-home.ts). */
  home?: HomeChoice;
  /** The warm build this job's empty target started from, or why not (warm-copy.ts). */
  copy?: CopyReport;
}

/** What post needs to publish: the lock file read in main and the policy's answer. */
export interface CratesState {
  /** Undefined when main found none: post looks again (the job's build may have made one). */
  lockFile?: string;
  search: { manifestPath?: string; workingDirectory: string };
  cargoVersion?: string;
  publish: boolean;
  policy: Settings['publishCrates'];
  cache: boolean;
  seed?: SeedReport;
  /** Git dependencies seeded from the host's git store (gitstore.ts). */
  gitSeed?: GitSeedReport;
}

/**
 * What every later step sees, and the one rule for it: anything that needs to know the paths a
 * job's build sees (a slot's CARGO_HOME string, say) computes them here.
 * CARGO_BUILD_BUILD_DIR (Rust 1.91+) is set to the target dir, which is cargo's own default: a
 * repository's `build.build-dir` would otherwise send every job's intermediate artifacts to one
 * shared directory outside the slot (an environment variable beats a config file). Equal to the
 * target dir, cargo's locks, the guard's sizes and every removal already cover it, in cargo <=
 * 1.95 and in 1.96+'s split build-dir locks, on build-dir layout v1 and v2 (1.100+). CARGO_HOME is the uid's shared home or a private
 * one (cargo-home.ts); CARGO_INSTALL_ROOT keeps `cargo install` in the slot.
 */
export function exportsFor(dirs: Lease['dirs'], cargoHome: string): Record<string, string> {
  return {
    CARGO_TARGET_DIR: dirs.target,
    CARGO_BUILD_BUILD_DIR: dirs.target,
    CARGO_HOME: cargoHome,
    CARGO_INSTALL_ROOT: dirs.install,
    TMPDIR: dirs.tmp,
    TMP: dirs.tmp,
    TEMP: dirs.tmp,
  };
}

/**
 * The paths a job whose steps see the root at `vp` sees in slot `name`: its exports there, through
 * exportsFor and nothing else, so that a view recorded and a view expected are made alike.
 * `shared`: the job gets its uid's shared CARGO_HOME, else the slot's private one (cargo-home.ts).
 */
export function viewAt(vp: Viewpoint, name: string, shared: boolean): PathView {
  const dirs = slotDirs(vp.root, name);
  const e = exportsFor(dirs, homeFor(vp.root, dirs, vp.uid, shared));
  return { root: vp.root, uid: vp.uid, cargoHome: e.CARGO_HOME, target: e.CARGO_TARGET_DIR };
}

/**
 * The view the slot's content was built under once this job ends: the one its build showed in
 * cargo's dep-info (pool/view.ts) when it compiled anything, else the content's view at the lease.
 * A build under paths that are not the slot's at any root (a `docker run` step mounting it
 * elsewhere) leaves the view unknown.
 */
function viewAfter(j: Pick<StartedJob, 'root' | 'slot' | 'startedAt' | 'view' | 'home'>): PathView | undefined {
  const shared = j.home?.shared ?? false;
  const buildDir = slotDirs(j.root, j.slot).target;
  const seen = builtSince(buildDir, j.startedAt);
  if (!seen) return j.view;
  const root = rootSeen(seen.output, j.root, buildDir);
  return root === undefined ? undefined : viewAt({ root, uid: seen.uid }, j.slot, shared);
}

function recordFor(lease: Pick<Lease, 'name' | 'layout'>, me: JobIdentity, now: string, previous?: DirRecord, view?: PathView): DirRecord {
  return {
    format: 1,
    name: lease.name,
    layout: lease.layout,
    repository: me.repository,
    key: me.key,
    runnerId: me.runnerId,
    runnerName: me.runnerName,
    host: me.host,
    workflow: me.workflow,
    runId: me.runId,
    runAttempt: me.runAttempt,
    job: me.job,
    jobKey: me.jobKey || undefined,
    jobUid: me.jobUid,
    leasedAt: now,
    lastUsed: now,
    sizes: previous?.sizes,
    uid: myUid(),
    view,
  };
}

/**
 * The main step's work after the guard: lease a directory, make it ready, say what to export.
 * `onLeased` runs as soon as the lease exists, so that a cancel arriving during preparation
 * still leaves the post step enough to release it.
 */
/** Which CARGO_HOME a job gets and the paths it would see in each slot: what the chooser compares. */
export interface HomePlan {
  /** Why the uid's shared CARGO_HOME cannot be used (then a private one); undefined: shared. */
  problem?: string;
  shared: boolean;
  view: NonNullable<LeaseRequest['view']>;
}

/**
 * Decided before the guard and the lease: the guard keeps the build the job is about to take,
 * and the chooser compares the paths this job would see in each slot with those a slot's build
 * was made under; the CARGO_HOME is one of them.
 */
export async function planHome(s: Settings, root: string, me: JobIdentity, o: { seenHere?: boolean; privateHome?: string } = {}): Promise<HomePlan> {
  const uid = myUid();
  const fork = me.fork === true;
  const problem = o.privateHome ?? (s.layout === 'slot' && !fork ? await sharedHomeProblem(root, uid).catch((e: Error) => e.message) : undefined);
  const shared = s.layout === 'slot' && !fork && problem === undefined;
  // Where the build will see the root: here, unless this runs outside the job's steps (the
  // runner's hook, on the host, for a job that may run in a container).
  const own = o.seenHere === false ? undefined : { root, uid };
  return { problem, shared, view: { own, at: (vp: Viewpoint, name: string) => viewAt(vp, name, shared) } };
}

/**
 * The main step's work after the guard: lease a directory, make it ready, say what to export.
 * `onLeased` runs as soon as the lease exists, so that a cancel arriving during preparation
 * still leaves the post step enough to release it.
 */
export async function startJob(s: Settings, root: string, me: JobIdentity, env: Record<string, string | undefined>, log: Log, watchPid: number, onLeased: (partial: Pick<StartedJob, 'root' | 'layout' | 'slot' | 'dirs' | 'keeperPid' | 'cleanupTimeoutMs'>) => void, o: { seenHere?: boolean; privateHome?: string; plan?: HomePlan } = {}): Promise<StartedJob> {
  const { problem, shared, view } = o.plan ?? (await planHome(s, root, me, o));
  const req = { root, me, watchPid, maxLeaseMs: s.maxLeaseMs, leaseWaitMs: s.leaseWaitMs, log, diskTarget: s.diskTarget, view };
  const lease = await (s.layout === 'slot' ? acquireSlot(req) : acquireJobDir(req));
  onLeased({ root, layout: s.layout, slot: lease.name, dirs: lease.dirs, keeperPid: lease.keeperPid, cleanupTimeoutMs: s.cleanupTimeoutMs });
  try {
    if (s.layout === 'job') await handBackJobParents(root, lease.dirs.base);
    const now = new Date().toISOString();
    const uid = myUid();
    const fork = me.fork === true;
    const home = chooseHome(root, lease.dirs, { uid, layout: s.layout, fork, problem });
    if (problem && !o.privateHome) log.warning(`CARGO_HOME: ${home.reason}.`);
    log.info(`CARGO_HOME ${home.cargoHome}: ${home.reason}.`);
    // The record names the new key only once the old key's content is gone: a kill between
    // the two must never leave a record that vouches for content of another trust domain.
    const prep = await prepareDirs(root, lease.dirs, lease.previous, me, s, env, home.cargoHome);
    // What the slot holds was built under the previous record's view, or is nothing at all.
    let view = prep.decision.reset ? undefined : lease.previous?.view;
    let record = recordFor(lease, me, now, prep.decision.reset ? undefined : lease.previous, view);
    await writeRecord(lease.dirs.record, record);
    for (const r of prep.removed.filter((x) => x.outcome === 'left-in-trash')) {
      log.warning(`Could not fully delete the old ${r.path}: ${r.detail}. The remains are in ${r.trashPath}; the job continues with a fresh directory, and a later guard or 'cargo-isolate gc' run as that user or root removes them.`);
    }
    const exports = exportsFor(lease.dirs, home.cargoHome);
    let copy: CopyReport | undefined;
    if (s.layout === 'slot' && (await fs.readdir(lease.dirs.target).catch(() => ['?'])).length === 0) {
      // A slot without its own warm build: start from a compatible one another idle slot holds.
      const src = chooseCopySource(await scanSlots(root), me, { reuse: s.reuse, cargoHome: exports.CARGO_HOME, self: lease.name });
      if (src) {
        const reflink = (await fs.statfs(root).catch(() => undefined))?.type === BTRFS_MAGIC;
        copy = await copyWarmBuild(root, src, lease.dirs, { threshold: s.diskThreshold, timeoutMs: Math.max(s.cleanupTimeoutMs, 300_000), reflink });
        log.info(describeCopy(copy));
        if (copy.outcome === 'copied') {
          // The copy is a build made at the source's viewpoint, now in this slot's paths.
          const from = src.record.view!;
          view = viewAt({ root: from.root, uid: from.uid }, lease.name, shared);
          record = { ...record, view, copiedFrom: { slot: copy.from, key: copy.key, at: new Date().toISOString() } };
          await writeRecord(lease.dirs.record, record);
        }
      }
    }
    return {
      root,
      layout: s.layout,
      slot: lease.name,
      dirs: lease.dirs,
      keeperPid: lease.keeperPid,
      tier: lease.tier,
      waitedMs: lease.waitedMs,
      zombies: lease.zombies,
      foreign: lease.foreign,
      reset: prep.decision,
      identity: me,
      startedAt: now,
      cleanupTimeoutMs: s.cleanupTimeoutMs,
      exports,
      path: join(lease.dirs.install, 'bin'),
      view,
      home,
      copy,
    };
  } catch (e) {
    await releaseLease(lease.keeperPid, lease.dirs.lock);
    throw e;
  }
}

/** Finds the workspace's Cargo.lock and seeds the new CARGO_HOME from the host's store. */
export async function prepareCrates(s: Settings, root: string, cargoHome: string, me: JobIdentity, env: NodeJS.ProcessEnv, log: Log): Promise<CratesState> {
  const state: CratesState = { search: { manifestPath: s.manifestPath, workingDirectory: s.workingDirectory }, publish: mayPublish(s.publishCrates, me), policy: s.publishCrates, cache: s.cache };
  const lockFile = await findLockFile(s.manifestPath, s.workingDirectory, env);
  if (!lockFile) {
    log.info(`Crates: no Cargo.lock found from ${s.manifestPath ?? s.workingDirectory}; nothing to seed (set 'working-directory' or 'manifest-path' if the workspace is elsewhere).`);
    return state;
  }
  const version = cargoVersion(dirname(lockFile), env);
  if (!version) {
    log.warning(`Crates: 'cargo --version' failed in ${dirname(lockFile)}; not seeding crates.`);
    return state;
  }
  // One read serves the cache key, the registry crates and the git dependencies.
  const lockText = await fs.readFile(lockFile, 'utf8');
  if (s.cache) await restoreStore(root, lockText, log);
  const locked = parseLock(lockText);
  // Seeding writes where cargo downloads: under cargo's own download lock of that home, as a
  // second cargo would (another job of this uid may be resolving in the shared home right now).
  const downloadLock = await hold([join(cargoHome, '.package-cache')], { waitSeconds: 120 });
  if (!downloadLock) {
    log.warning(`Crates: another cargo held ${join(cargoHome, '.package-cache')} for 120 s; not seeding (cargo downloads what it needs).`);
    return { ...state, lockFile, cargoVersion: version };
  }
  try {
    const seed = await seedCrates(root, cargoHome, locked, version, me.fork ? 'copy' : 'link');
    seed.lockFile = lockFile;
    log.info(`Crates: ${lockFile} locks ${seed.locked} registry crates; seeded ${seed.seeded} (${formatBytes(seed.seededBytes)}, ${seed.mode}${seed.copiedInstead ? `, ${seed.copiedInstead} copied because ${seed.copyReason}` : ''}${seed.dirs > 1 ? `, into ${seed.dirs} index dirs` : ''}), ${seed.present} already there, ${seed.missing} not in the store yet${seed.unknownDirs ? `, ${seed.unknownDirs} registries this host has not published for cargo ${version} yet` : ''}.`);
    for (const m of seed.mismatches) log.warning(`Crates: ${m.crate}: ${m.why}.`);
    const gitSeed = await prepareGit(root, cargoHome, lockText, version, me, env, log);
    return { ...state, lockFile, cargoVersion: version, seed, gitSeed };
  } finally {
    await release(downloadLock);
  }
}

/** Seeds the locked git dependencies; a failure is a warning: cargo then fetches them itself. */
async function prepareGit(root: string, cargoHome: string, lockText: string, version: string, me: JobIdentity, env: NodeJS.ProcessEnv, log: Log): Promise<GitSeedReport | undefined> {
  try {
    const locked = parseGitLock(lockText);
    if (locked.length === 0) return undefined;
    const r = await seedGit(root, cargoHome, locked, version, me.fork ? 'copy' : 'link', systemGit(env));
    log.info(`Git: ${locked.length} locked git dependencies; seeded ${r.seeded.length} (${formatBytes(r.seededBytes)}, ${r.mode}${r.copiedInstead ? `, ${r.copiedInstead} files copied instead` : ''}), ${r.present} already there.`);
    // A refused entry is a warning (someone damaged the store); an absent one is routine.
    for (const n of r.notSeeded) {
      if (n.why.includes(' refused: ')) log.warning(`Git: ${n.dep}: ${n.why}.`);
      else log.info(`Git: ${n.dep}: ${n.why}.`);
    }
    return r;
  } catch (e) {
    log.warning(`Git: seeding git dependencies into ${join(cargoHome, 'git', 'db')} failed (${(e as Error).message}); cargo fetches them.`);
    return undefined;
  }
}

/**
 * Post's lock file: main's, else found again (the job's build may have made one), read once;
 * cargo's version only where something may be published (it costs a `cargo --version`).
 */
async function postLock(c: CratesState, env: NodeJS.ProcessEnv): Promise<{ text: string; version?: string } | undefined> {
  const lockFile = c.lockFile ?? (await findLockFile(c.search.manifestPath, c.search.workingDirectory, env));
  if (!lockFile) return undefined;
  return { text: await fs.readFile(lockFile, 'utf8'), version: c.publish ? (c.cargoVersion ?? cargoVersion(dirname(lockFile), env)) : undefined };
}

export interface EndedJob {
  released: boolean;
  removed: RemoveResult[];
  sizes?: DirRecord['sizes'];
  published?: PublishReport;
  gitPublished?: GitPublishReport & { allowed: boolean; policy: Settings['publishCrates'] };
  warnings: string[];
  /** What a root job gave back to the root's owner, when it had to. */
  handedBack?: string;
  /** Another uid's files found in the slot (a `docker run` step as root), and what became of them. */
  foreign?: ForeignOutcome;
  /** How long the post step's work took, and the disk when it ended. */
  releaseMs?: number;
  diskAtRelease?: Disk;
  /** Compile units this job built and found fresh (warmth.ts); undefined when not counted. */
  units?: UnitCount;
  /** The view the slot's build is recorded under (layout slot). */
  view?: PathView;
}

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
