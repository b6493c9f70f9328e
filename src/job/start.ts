import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type JobIdentity, currentIdentity } from '../model/identity.js';
import { acquireJobDir, acquireSlot, hostHistory, releaseLease, scanSlots, slotToKeep } from '../pool/lease.js';
import type { Log } from '../os/log.js';
import { prepareDirs } from './prepare.js';
import type { Viewpoint } from '../model/record.js';
import { writeRecord } from '../os/record-file.js';
import { prepareRoot, unreliableFlock } from '../pool/root.js';
import { type Settings, beyondDisk } from '../model/settings.js';
import { handBackJobParents } from '../owners/handback.js';
import { ensureSccacheServer, sccacheExports, sccacheWrapper } from '../host/sccache.js';
import { chooseHome, sharedHomeProblem } from './cargo-home.js';
import { type CopyReport, copyWarmBuild, describeCopy } from '../pool/warm-copy.js';
import { chooseCopySource, hardLevel } from '../pool/policy.js';
import { myUid } from '../os/proc.js';
import { type GuardReport, guardOptions } from '../pool/guard.js';
import { type Via, recordEvent } from '../pool/events.js';
import { guardAndRecord } from './guard-run.js';
import { describeBase } from '../model/base.js';
import { TIER_TEXT } from '../pool/choose.js';
import type { HomePlan, StartedJob } from './types.js';
import type { TierRestore } from './tiers.js';
import { findWorkspace, prepareCrates } from './dependencies.js';
import { exportsFor, recordFor, viewAt } from './exports.js';
import type { saveGuard, saveLease } from './state.js';
import { ensureWrapperScript, untrustedCache, untrustedEnv, wrapperExports } from './rustc-wrapper.js';
import { noHostSccacheServer } from '../model/messages.js';
import { ifPresent, reportReadsTo } from '../os/absent.js';
import { jobViewpoint } from '../pool/choose.js';
import { clearRestoreLeftovers, openFleet, restoreTier, viewPart } from './tiers.js';
import { failed } from '../model/failure.js';
import { secureHome } from './shared-home.js';

/*
 * A job's start: mainJob, the main step's phases (guard, slot, crates, sccache server) for the
 * action, the runner's job-started hook and `cargo-isolate run`; startJob, the slot phase (lease,
 * prepare, record, a warm copy for a slot without its own build); planHome, which CARGO_HOME and
 * paths the job will see, decided before the guard so that it keeps the build the job will take.
 */

/**
 * The main step's phases (guard, slot, crates, sccache server), shared by the action's main step,
 * the runner's job-started hook and the CLI's `run`: each passes its own log, the pid whose end
 * ends the lease, and where the state goes. `seenHere: false` when the job's build may see the
 * root elsewhere than this process does (the hook, on the host, before a job container starts).
 */
export interface JobStart {
  settings: Settings;
  env: Record<string, string | undefined>;
  log: Log;
  /** The pid whose end ends the lease: the runner's worker for the hook, the step's runner process otherwise. */
  watchPid: number;
  /** Where the state goes the moment it exists: the action's main-to-post channel (state.ts), no-ops elsewhere. */
  save: { lease: typeof saveLease; guard: typeof saveGuard };
  /** false: seed no crates now (the hook runs before checkout). */
  crates?: boolean;
  via?: Via;
  seenHere?: boolean;
  /** Why this job gets a private CARGO_HOME in its slot whatever else holds (the hook as a user that is not root). */
  privateHome?: string;
}

/** Runs the phases of one start, as JobStart above says; a read that fails other than by absence is said in its log. */
export function mainJob(o: JobStart): Promise<{ job: StartedJob; guard: GuardReport }> {
  return reportReadsTo(o.log, () => startPhases(o));
}

async function startPhases(o: JobStart): Promise<{ job: StartedJob; guard: GuardReport }> {
  const { settings: s, env, log, watchPid, save } = o;
  const me = currentIdentity(env, { runnerName: s.runnerName, jobKey: s.jobKey });
  log.debug(`Identity: ${JSON.stringify(me)}`);
  log.info(`Runner ${me.runnerId} (from ${me.runnerFrom}${me.container ? ', in a container' : ''}), uid ${myUid()}.`);
  // Asked first, answered while the root is checked and the guard and the lease wait: where the
  // Cargo.lock is and which cargo builds it (up to two processes through rustup's proxy, tens of
  // milliseconds; the crates phase's to read).
  const workspace = o.crates === false ? undefined : findWorkspace(s, env);
  workspace?.catch(() => undefined); // said where it is awaited, not as an unhandled rejection
  const root = await prepareRoot(s.root, env, true, s.rootOrigin);
  const filesystem = await fs.statfs(root);
  const unsafe = unreliableFlock(root, filesystem.type);
  if (unsafe) log.warning(unsafe);
  const unmeetable = beyondDisk(s, filesystem.blocks * filesystem.bsize, root);
  if (unmeetable) throw unmeetable;
  // Time per phase, for the summary: a slow step must be explainable from the summary alone.
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, title: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await log.group(title, fn);
    } finally {
      phases[name] = Math.round(performance.now() - t0);
    }
  };
  // Which CARGO_HOME and which paths this job sees: the guard keeps the build this job is about
  // to take while anything less valuable is idle, and the chooser compares the same views.
  const plan = await planHome(s, root, me, { seenHere: o.seenHere, privateHome: o.privateHome });
  const guard = await phase('guard', 'Disk guard', async () =>
    guardAndRecord(
      guardOptions(s, root, me.runnerId, log, { keep: async () => (s.layout === 'slot' ? slotToKeep({ root, me, view: plan.view }) : []) }),
      'job',
    ),
  );
  save.guard(guard);
  const job = await phase('slot', s.layout === 'slot' ? 'Slot' : 'Job directory', async () => {
    const j = await startJob({ settings: s, root, me, env, log, watchPid, onLeased: save.lease, privateHome: o.privateHome, plan, via: o.via });
    const where = s.layout === 'slot' ? `slot ${j.slot} (${j.tier}: ${TIER_TEXT[j.tier]})` : `job directory ${j.slot}`;
    log.info(`Trust domain ${me.repository} ${me.key}; ${where}; ${j.reset.reset ? `starting fresh: ${j.reset.reason}` : j.reset.reason}.`);
    if (me.base && s.layout === 'slot') log.info(`Base: ${describeBase(me.base, j.tier)}.`);
    return j;
  });
  job.phases = phases;
  // For `cargo-isolate metrics` (events.ts): a job never fails over its own bookkeeping.
  const unrecorded = await recordEvent(root, { event: 'lease', via: o.via ?? 'action', waitedMs: job.waitedMs, warm: job.reset.warm ?? false });
  if (unrecorded) log.debug(`Recording the lease in ${root}'s events log: ${unrecorded.message}`);
  // A runner's job-started hook runs before checkout: the workspace may hold another PR's lock.
  if (o.crates !== false) {
    try {
      job.crates = await phase('crates', 'Crates', () => prepareCrates(s, root, job.exports.CARGO_HOME, me, { ...env, ...job.exports }, log, workspace));
    } catch (e) {
      await releaseLease(job.keeperPid, job.dirs.lock, job.dirs.base);
      throw failed(`Seeding crates into ${job.dirs.cargoHome}`, e);
    }
  }
  // What every trust domain reads in a shared CARGO_HOME is verified content, and what a job
  // writes at its top is its own (shared-home.ts); a job whose home cannot be made so gets a private one.
  job.homeCheck = await phase('home', 'CARGO_HOME', () => secureHome(job, s, env, log));
  // A job that compiles through sccache gets a server no other job's end can take down, and
  // keys that are the same in every slot (rustc-wrapper.ts); a fork PR a cache of its own.
  const wrapper = sccacheWrapper(env);
  if (wrapper) {
    const uid = myUid();
    const untrusted = me.fork ? await untrustedCache(root, uid).catch(() => undefined) : undefined;
    const senv = untrusted ? untrustedEnv(env, untrusted.dir, untrusted.conf) : env;
    job.sccache = await phase('sccache', 'sccache server', () => ensureSccacheServer(senv, { root }, log)).catch((e: Error) => {
      log.warning(noHostSccacheServer(e.message));
      return undefined;
    });
    Object.assign(job.exports, sccacheExports(job.sccache));
    if (untrusted) {
      Object.assign(job.exports, { SCCACHE_DIR: untrusted.dir, SCCACHE_CONF: untrusted.conf });
      log.info(`sccache: a fork PR compiles into ${untrusted.dir}, a cache trusted jobs never read.`);
    }
    const script = await ensureWrapperScript(root, uid).catch(() => undefined);
    if (script) Object.assign(job.exports, wrapperExports(script, wrapper));
    else log.warning(`sccache: could not write the key-normalising wrapper under ${root}/homes; compile-cache keys stay per slot.`);
  }
  return { job, guard };
}

/** statfs f_type of btrfs: every copy there is a reflink, which costs no bytes up front. */
const BTRFS_MAGIC = 0x9123683e;

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
export interface SlotStart {
  settings: Settings;
  root: string;
  me: JobIdentity;
  env: Record<string, string | undefined>;
  log: Log;
  watchPid: number;
  onLeased: (partial: Pick<StartedJob, 'root' | 'layout' | 'slot' | 'dirs' | 'keeperPid' | 'cleanupTimeoutMs'>) => void;
  seenHere?: boolean;
  privateHome?: string;
  /** Made before the guard (planHome); made here when absent. */
  plan?: HomePlan;
  /** Who started the job: only an action step may use the Actions cache service. */
  via?: Via;
}

/** The slot phase (see above). */
export async function startJob(o: SlotStart): Promise<StartedJob> {
  const { settings: s, root, me, env, log, watchPid, onLeased } = o;
  const plan = o.plan ?? (await planHome(s, root, me, o));
  const { problem, shared } = plan;
  const req = { root, me, watchPid, maxLeaseMs: s.maxLeaseMs, leaseWaitMs: s.leaseWaitMs, log, diskTarget: s.diskTarget, view: plan.view };
  const lease = await (s.layout === 'slot' ? acquireSlot(req) : acquireJobDir(req));
  onLeased({ root, layout: s.layout, slot: lease.name, dirs: lease.dirs, keeperPid: lease.keeperPid, cleanupTimeoutMs: s.cleanupTimeoutMs });
  // The fleet tier needs the host tier it fills: none where host-archives is off.
  const fleet = s.hostArchives.kind === 'off' ? undefined : openFleet(s.archiveStore, env, o.via ?? 'action', log);
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
      log.warning(
        `Could not fully delete the old ${r.path}: ${r.detail}. The remains are in ${r.trashPath}; the job continues with a fresh directory, ` +
          "and a later guard or 'cargo-isolate gc' run as that user or root removes them.",
      );
    }
    const exports = exportsFor(lease.dirs, home.cargoHome);
    const timeoutMs = Math.max(s.cleanupTimeoutMs, 300_000);
    // A restore killed midway left its temp directory in the target (the record says one began).
    if (s.layout === 'slot' && lease.previous?.restoring) await clearRestoreLeftovers(root, lease.dirs.target, timeoutMs);
    const empty = async () => (await ifPresent(lease.dirs.target, () => fs.readdir(lease.dirs.target)))?.length === 0;
    let copy: CopyReport | undefined;
    if (s.layout === 'slot' && (await empty())) {
      // A slot without its own warm build: start from a compatible one another idle slot holds.
      const src = chooseCopySource(await scanSlots(root), me, { reuse: s.reuse, cargoHome: exports.CARGO_HOME, self: lease.name });
      if (src) {
        const reflink = (await fs.statfs(root).catch(() => undefined))?.type === BTRFS_MAGIC;
        copy = await copyWarmBuild(root, src, lease.dirs, { threshold: s.diskThreshold, timeoutMs, reflink });
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
    let restore: TierRestore | undefined;
    if (s.layout === 'slot' && copy?.outcome !== 'copied' && (await empty())) {
      // Nothing to copy: a dependency archive of the host's tier, where the job will see it. The
      // runner's hook does not see the job's paths: its last build on this host tells (choose.ts).
      const own = plan.view.own;
      const vp = own ?? view ?? jobViewpoint(await scanSlots(root), me) ?? { root, uid };
      const seen = viewAt({ root: vp.root, uid: vp.uid }, lease.name, shared);
      restore = await restoreTier({
        root,
        me,
        fleet,
        cap: s.hostArchives,
        buildDir: lease.dirs.target,
        by: own ? 'key' : 'identity',
        hard: async () => hardLevel(s.diskHardThreshold, await hostHistory(root), await scanSlots(root), s.diskThreshold),
        context: {
          identity: me,
          env: { ...env, ...exports },
          cargoHome: seen.cargoHome,
          view: viewPart(me.container),
          search: { manifestPath: s.manifestPath, workingDirectory: s.workingDirectory },
        },
        timeoutMs,
        log,
        mark: (restoring) => writeRecord(lease.dirs.record, restoring ? { ...record, restoring: new Date().toISOString() } : record),
      });
      if (restore.outcome === 'restored') {
        // The archive's units were made for this job's CARGO_HOME: a build under its view.
        view = seen;
        record = { ...record, view };
        await writeRecord(lease.dirs.record, record);
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
      restore,
      hostArchives: s.hostArchives,
      archiveStore: fleet ? s.archiveStore : undefined,
    };
  } catch (e) {
    await releaseLease(lease.keeperPid, lease.dirs.lock);
    throw e;
  }
}
