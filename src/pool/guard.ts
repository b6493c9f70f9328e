import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type Disk, beyond, measure } from '../os/disk.js';
import { hold, release } from '../os/flock.js';
import { SLOT_NAME, rootPaths, slotDirs, storePaths } from '../model/layout.js';
import { cargoLockFiles, heldLocks, isHeldHint, type LockSet } from '../os/liveness.js';
import type { Log } from '../os/log.js';
import type { Settings } from '../model/settings.js';
import { lastUsedMs } from '../model/record.js';
import { readRecord, writeRecord } from '../os/record-file.js';
import { OutsideRootError, deleteTrashEntry, removeTree } from '../os/remove.js';
import { diskUsage } from '../os/sizes.js';
import { gitEntries } from '../store/gitstore.js';
import { type Level, formatBytes, formatLevel } from '../model/units.js';
import { isPermissionError } from '../os/fsutil.js';
import { spentQueueEntry, worthless } from './choose.js';
import { slotValues, statsOf, valueRank } from './value.js';
import { readHistory } from './warmth.js';
import { myUid } from '../os/proc.js';

export type Kind = 'trash' | 'job-dir' | 'target' | 'registry-src' | 'crate' | 'git';

/** Something the guard could delete, as its decision sees it: no tree is walked to make one. */
export interface Candidate {
  kind: Kind;
  path: string;
  /** From the owner's post step (slot.json); undefined when never recorded. */
  bytes?: number;
  lastUsedMs: number;
  owner?: string;
  live: boolean;
  slot?: string;
  /** The trust domain that used it last (slots): a spent merge-queue entry goes first. */
  key?: string;
  /** What its build is worth (value.ts; targets only): the least valuable goes first. */
  value?: number;
}

/** Removal order: cheapest loss first. Trash is already garbage; a job dir belongs to a dead job. */
const ORDER: Kind[] = ['trash', 'job-dir', 'target', 'registry-src', 'crate', 'git'];

export interface PrunePlan {
  ordered: Candidate[];
  /** Bytes in directories of live jobs (as last recorded): never touched. */
  liveBytes: number;
  live: Candidate[];
  /** Other runners' idle bytes (as last recorded), in runner scope. */
  othersBytes: number;
  /** The build the job running this guard is about to take: removed last, after everything else. */
  kept: Candidate[];
}

const spent = (c: Candidate) => Number(c.kind === 'target' && c.key !== undefined && spentQueueEntry({ key: c.key }));

/**
 * Pure: what may be removed, in which order. Trash counts in any scope: it is nobody's data.
 * Then job dirs of dead jobs, then targets, the least valuable first (value.ts: a closed PR's
 * and a spent merge-queue entry's before anything; values within 25% of each other by age), then
 * `registry/src` trees and the stores, which the next job refills cheaply.
 *
 * `keep` names the slots whose build the job running this guard is about to take (its own
 * warm build, or its base's for a first run: rankSlots' first candidate): they go last, after
 * everything else idle, so the guard and the chooser never disagree about the one build this
 * job will use. Removed anyway only when nothing else is left to free.
 *
 * Runner scope (the default) frees this runner's idle data first among data of equal worth.
 * It used to free all of this runner's idle data, its most valuable builds included, before any
 * of another runner's: on the fleet simulation that cost 4 to 14 points of the reference's warm
 * starts wherever the guard ran often (docs/simulation.md), and leases already keep every live
 * directory out of reach, which is what the scope was first for (a guard deleting other
 * runners' builds mid-build). Ephemeral runners, which register under a new name for every job,
 * leave data no later job counts as its own; it is freed by its worth like anything else. Live
 * data is never a candidate in any scope.
 */
export function planPrune(cands: Candidate[], scope: 'runner' | 'host', runnerId: string, o: { keep?: string[] } = {}): PrunePlan {
  let liveBytes = 0;
  let othersBytes = 0;
  const ordered: Candidate[] = [];
  const live: Candidate[] = [];
  const kept: Candidate[] = [];
  for (const c of cands) {
    if (c.live) {
      liveBytes += c.bytes ?? 0;
      live.push(c);
    } else if (c.slot !== undefined && o.keep?.includes(c.slot)) kept.push(c);
    else {
      if (scope === 'runner' && c.owner !== runnerId && c.kind !== 'trash' && c.kind !== 'crate' && c.kind !== 'git') othersBytes += c.bytes ?? 0;
      ordered.push(c);
    }
  }
  // Runner scope: this runner's data first among equals (same kind, same worth); never a
  // valuable build of its own before a worthless one of another runner.
  const mineFirst = (a: Candidate, b: Candidate) => (scope === 'runner' ? Number(b.owner === runnerId) - Number(a.owner === runnerId) : 0);
  const order = (a: Candidate, b: Candidate) =>
    ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) ||
    spent(b) - spent(a) ||
    valueRank(a.value) - valueRank(b.value) ||
    mineFirst(a, b) ||
    a.lastUsedMs - b.lastUsedMs ||
    a.path.localeCompare(b.path);
  ordered.sort(order);
  kept.sort(order);
  return { ordered, liveBytes, othersBytes, live, kept };
}

async function isDir(p: string): Promise<boolean> {
  return (await fs.lstat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Gathers candidates from records and one read of /proc/locks (the hint; removal re-checks). */
export async function collectCandidates(root: string, held: LockSet = heldLocks(), nowMs = Date.now()): Promise<Candidate[]> {
  const p = rootPaths(root);
  const out: Candidate[] = [];
  for (const e of await fs.readdir(p.trash).catch(() => [] as string[])) {
    const st = await fs.lstat(join(p.trash, e)).catch(() => undefined);
    out.push({ kind: 'trash', path: join(p.trash, e), lastUsedMs: st ? st.ctimeMs : 0, live: false });
  }
  for (const repo of await fs.readdir(p.jobs).catch(() => [] as string[])) {
    for (const key of await fs.readdir(join(p.jobs, repo)).catch(() => [] as string[])) {
      for (const run of await fs.readdir(join(p.jobs, repo, key)).catch(() => [] as string[])) {
        const dir = join(p.jobs, repo, key, run);
        const rec = await readRecord(join(dir, 'job.json'));
        const st = await fs.lstat(dir).catch(() => undefined);
        out.push({
          kind: 'job-dir',
          path: dir,
          lastUsedMs: rec ? Date.parse(rec.lastUsed) : (st?.mtimeMs ?? 0),
          owner: rec?.runnerId,
          live: await isHeldHint(join(dir, '.lease'), held),
        });
      }
    }
  }
  // Store files linked into no slot (a link elsewhere keeps the bytes allocated anyway). Linking
  // and unlinking change ctime, so ctime orders them by last use. Only through real directories:
  // a store dir a build replaced by a link (into a slot) is not the store, and unlink follows it.
  const blobs = storePaths(root).blobs;
  const plain = (await isDir(storePaths(root).base)) && (await isDir(blobs));
  for (const sub of plain ? await fs.readdir(blobs).catch(() => [] as string[]) : []) {
    if (!(await isDir(join(blobs, sub)))) continue;
    for (const f of await fs.readdir(join(storePaths(root).blobs, sub)).catch(() => [] as string[])) {
      const path = join(storePaths(root).blobs, sub, f);
      const st = await fs.lstat(path).catch(() => undefined);
      if (st?.isFile() && st.nlink === 1) out.push({ kind: 'crate', path, bytes: st.blocks * 512, lastUsedMs: st.ctimeMs, live: false });
    }
  }
  // Git store entries whose packs no slot links (gitstore.ts), least recently seeded first.
  for (const e of await gitEntries(root)) if (!e.linked) out.push({ kind: 'git', path: e.path, bytes: e.bytes, lastUsedMs: e.lastUsedMs, live: false });
  const names = (await fs.readdir(p.slots).catch(() => [] as string[])).filter((n) => SLOT_NAME.test(n));
  const slots = await Promise.all(
    names.map(async (name) => ({ name, record: await readRecord(slotDirs(root, name).record), live: await isHeldHint(slotDirs(root, name).lock, held) })),
  );
  const history = await readHistory(root);
  const values = slotValues(slots, statsOf(history.jobs, history.closed), nowMs, worthless);
  for (const { name, record: rec, live } of slots) {
    const d = slotDirs(root, name);
    const base = { lastUsedMs: lastUsedMs(rec), owner: rec?.runnerId, live, slot: name, key: rec?.key };
    if (!rec?.sizes || rec.sizes.target > 0 || live) out.push({ ...base, kind: 'target', path: d.target, bytes: rec?.sizes?.target, value: values.get(name) });
    out.push({ ...base, kind: 'registry-src', path: join(d.cargoHome, 'registry', 'src') });
  }
  out.push(...(await sharedSources(root, out)));
  return out;
}

/**
 * registry/src of the CARGO_HOMEs shared by a uid's jobs (cargo-home.ts), for the uids this
 * process may remove files of. Live while any slot of that uid is leased: a job's cargo reads its
 * sources from the start of its build to the end, and between resolving and compiling it holds
 * none of cargo's locks. Removal also takes cargo's own exclusive locks of that home (as its gc
 * does), so no cargo started elsewhere is reading it; cargo extracts again what it needs.
 */
async function sharedSources(root: string, slots: Candidate[]): Promise<Candidate[]> {
  const me = myUid();
  const out: Candidate[] = [];
  const liveUids = new Set<number | undefined>();
  for (const c of slots) {
    if (c.kind !== 'target' || !c.live || !c.slot) continue;
    liveUids.add((await readRecord(slotDirs(root, c.slot).record))?.uid);
  }
  for (const name of await fs.readdir(rootPaths(root).homes).catch(() => [] as string[])) {
    const uid = /^u(\d+)$/.exec(name) ? Number(name.slice(1)) : undefined;
    // Root's home is handed back to the root's owner (handback.ts): that user may free it too.
    const owner = (await fs.lstat(join(rootPaths(root).homes, name)).catch(() => undefined))?.uid;
    if (uid === undefined || (me !== 0 && uid !== me && owner !== me)) continue;
    const src = join(rootPaths(root).homes, name, 'registry', 'src');
    const st = await fs.lstat(src).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    out.push({ kind: 'registry-src', path: src, lastUsedMs: st.mtimeMs, live: liveUids.has(uid) || liveUids.has(undefined) });
  }
  return out;
}

/** cargo's MutateExclusive on a CARGO_HOME (cache_lock.rs): both of its lock files, exclusively. */
const mutateLocks = (home: string) => [join(home, '.package-cache-mutate'), join(home, '.package-cache')];

export interface Removal {
  kind: Kind;
  path: string;
  bytes: number;
  ageMs: number;
  owner?: string;
  outcome: string;
}

export interface GuardReport {
  threshold: string;
  target: string;
  before: Disk;
  after: Disk;
  over: boolean;
  removals: Removal[];
  freedBytes: number;
  liveBytes: number;
  othersBytes: number;
  dryRun: boolean;
  scope: 'runner' | 'host';
  lockWaitMs: number;
  decisionMs: number;
  /** Idle data this uid may not remove (another uid's files): only root's gc can. */
  needsRoot: { count: number; bytes: number };
  message?: string;
}

export interface GuardOptions {
  root: string;
  threshold: Level;
  target: Level;
  scope: 'runner' | 'host';
  runnerId: string;
  dryRun: boolean;
  failBelowBytes?: number;
  lockWaitSeconds?: number;
  /** CLI gc: also idle slots unused for this long are removed whole, whatever the disk says. */
  maxAgeMs?: number;
  /** Slots whose build this job is about to take (planPrune's `keep`). */
  keep?: string[];
  timeoutMs: number;
  log: Log;
}

/** The guard's options as the settings give them: one reading for a job's start and `cargo-isolate gc`. */
export function guardOptions(s: Settings, root: string, runnerId: string, log: Log, extra: Pick<GuardOptions, 'keep' | 'maxAgeMs'> = {}): GuardOptions {
  return {
    root,
    threshold: s.diskThreshold,
    target: s.diskTarget,
    scope: s.pruneScope,
    runnerId,
    dryRun: s.dryRun,
    failBelowBytes: s.failBelowBytes,
    timeoutMs: s.cleanupTimeoutMs,
    log,
    ...extra,
  };
}

export class DiskFullError extends Error {}

const NEEDS_ROOT = 'needs root';

/**
 * Removes one candidate; its outcome. What another uid holds (a root container job's files
 * never handed back) is not attempted by anyone but root: renaming a directory needs write
 * access to it, and a futile `rm -rf` over a large tree only costs time.
 */
async function removeCandidate(root: string, c: Candidate, timeoutMs: number): Promise<string> {
  const uid = myUid();
  if (uid !== 0 && c.kind !== 'crate') {
    const st = await fs.lstat(c.path).catch(() => undefined);
    if (st && st.uid !== uid) return NEEDS_ROOT;
    // Another uid's files below a directory of ours (reclaim.ts marked the slot).
    const rec = c.slot ? await readRecord(slotDirs(root, c.slot).record) : undefined;
    if (rec?.uid !== undefined && rec.uid !== uid) return NEEDS_ROOT;
  }
  try {
    return await removeCandidateAs(root, c, timeoutMs);
  } catch (e) {
    if (isPermissionError(e)) return NEEDS_ROOT;
    // A link a build planted on the way: not this candidate's directory, and no reason to fail the job.
    if (e instanceof OutsideRootError) return 'refused';
    throw e;
  }
}

async function removeCandidateAs(root: string, c: Candidate, timeoutMs: number): Promise<string> {
  if (c.kind === 'trash') return (await deleteTrashEntry(c.path, timeoutMs)).ok ? 'removed' : 'left-in-trash';
  if (c.kind === 'crate') {
    // A seeder that links it right now still gets the bytes (the link holds them) or, losing the
    // race, finds it missing and lets cargo download: neither is wrong.
    return fs.unlink(c.path).then(
      () => 'removed',
      (e) => (isPermissionError(e) ? NEEDS_ROOT : 'absent'),
    );
  }
  if (!(await isDir(c.path))) return 'absent';
  const why = `disk guard: idle ${c.kind}`;
  if (c.kind === 'git') return (await removeTree(root, c.path, { why, timeoutMs })).outcome;
  if (c.kind === 'job-dir') {
    const locks = [join(c.path, '.lease'), ...(await cargoLockFiles(join(c.path, 'target'), join(c.path, 'cargo-home')))];
    return (await removeTree(root, c.path, { why, locks, timeoutMs })).outcome;
  }
  if (c.kind === 'registry-src' && c.slot === undefined)
    return (await removeTree(root, c.path, { why, locks: mutateLocks(join(c.path, '..', '..')), timeoutMs })).outcome;
  const d = slotDirs(root, c.slot!);
  const locks = [d.lock, ...(await cargoLockFiles(d.target, d.cargoHome))];
  const r = await removeTree(root, c.path, {
    why,
    locks,
    timeoutMs,
    // Still under the lease: a job leasing the slot next must find a truthful record.
    whileLocked: async () => {
      const rec = await readRecord(d.record);
      if (rec && c.kind === 'target')
        await writeRecord(d.record, { ...rec, prunedAt: new Date().toISOString(), sizes: rec.sizes && { ...rec.sizes, target: 0 } });
    },
  });
  if (c.kind === 'target' && r.outcome !== 'live') await fs.mkdir(d.target).catch(() => undefined);
  return r.outcome;
}

/** How the guard's log line opens for each outcome of a removal; any other is a partial one. */
const OUTCOME_TEXT: Record<string, string> = {
  removed: 'Removed',
  live: 'Skipped (became live)',
  refused: 'Refused (a symlink on its path)',
  [NEEDS_ROOT]: "Left (another uid's files: needs root)",
};

/** Idle data of another runner in runner scope, which the final warning counts: not the host-wide stores. */
const isOthersIdle = (o: GuardOptions, c: Candidate): boolean =>
  o.scope === 'runner' && c.owner !== o.runnerId && c.kind !== 'trash' && c.kind !== 'crate' && c.kind !== 'git';

/**
 * Brings the root's filesystem back under its threshold by removing idle data, oldest first,
 * re-measuring after each removal. One guard at a time per host (locks/guard.lock): a second
 * guard waits, then re-measures, and usually finds the first one's work done.
 */
export async function runGuard(o: GuardOptions): Promise<GuardReport> {
  const log = o.log;
  const before = await measure(o.root);
  const report: GuardReport = {
    threshold: formatLevel(o.threshold),
    target: formatLevel(o.target),
    before,
    after: before,
    over: false,
    removals: [],
    freedBytes: 0,
    liveBytes: 0,
    othersBytes: 0,
    dryRun: o.dryRun,
    scope: o.scope,
    lockWaitMs: 0,
    decisionMs: 0,
    needsRoot: { count: 0, bytes: 0 },
  };
  const describe = (d: Disk) => `${d.usedPercent.toFixed(1)}% used, ${formatBytes(d.freeBytes)} free, ${d.inodePercent.toFixed(1)}% inodes`;
  log.info(`Disk of ${o.root}: ${describe(before)}; threshold ${report.threshold}, target ${report.target}.`);
  if (!beyond(before, o.threshold) && o.maxAgeMs === undefined) {
    log.info('Under the threshold: nothing to prune.');
    return checkFloor(o, report);
  }
  let livePlan: Candidate[] = [];
  await fs.mkdir(rootPaths(o.root).locks, { recursive: true }); // a root made by an interrupted first job
  const waitStart = Date.now();
  const guardLock = await hold([rootPaths(o.root).guardLock], { waitSeconds: o.lockWaitSeconds ?? 300 });
  report.lockWaitMs = Date.now() - waitStart;
  if (!guardLock) {
    log.warning(`Another disk guard on this host held ${rootPaths(o.root).guardLock} for ${Math.round(report.lockWaitMs / 1000)} s; not pruning this time.`);
    report.after = await measure(o.root);
    return checkFloor(o, report);
  }
  try {
    let now = await measure(o.root);
    if (report.lockWaitMs > 100) log.info(`Waited ${(report.lockWaitMs / 1000).toFixed(1)} s for another guard; disk now ${describe(now)}.`);
    if (!beyond(now, o.threshold) && o.maxAgeMs === undefined) log.info('No longer over the threshold (another guard freed space): nothing to prune.');
    const t0 = performance.now();
    const plan = planPrune(await collectCandidates(o.root), o.scope, o.runnerId, { keep: o.keep });
    report.decisionMs = performance.now() - t0;
    report.liveBytes = plan.liveBytes;
    report.othersBytes = plan.othersBytes;
    livePlan = plan.live;
    let simulatedFree = 0;
    const reached = () => {
      const sim = { ...now, freeBytes: now.freeBytes + simulatedFree, usedBytes: now.usedBytes - simulatedFree };
      sim.usedPercent = sim.usedBytes + sim.freeBytes > 0 ? (sim.usedBytes * 100) / (sim.usedBytes + sim.freeBytes) : 0;
      return !beyond(sim, o.target);
    };
    const overAtStart = beyond(now, o.threshold);
    const kept = plan.ordered.length;
    // gc --max-age: trash and anything idle for longer go whatever the disk says.
    const tooOld = (i: number, c: Candidate) => i < kept && o.maxAgeMs !== undefined && (c.kind === 'trash' || Date.now() - c.lastUsedMs > o.maxAgeMs);
    // Over the threshold when the guard started, and the target not reached yet.
    const stillNeeded = () => overAtStart && !reached();
    for (const [i, c] of [...plan.ordered, ...plan.kept].entries()) {
      if (!tooOld(i, c) && !stillNeeded()) continue;
      if (i === kept)
        log.warning(`Nothing else idle is left to reach ${report.target}: removing ${c.path}, the build this job was about to start from; it starts cold.`);
      const ageMs = Date.now() - c.lastUsedMs;
      const bytes = c.bytes ?? (await diskUsage(c.path));
      // What is left of other runners' idle data is what the final warning reports.
      const freedOthers = () => {
        if (isOthersIdle(o, c)) report.othersBytes = Math.max(0, report.othersBytes - (c.bytes ?? 0));
      };
      if (o.dryRun) {
        freedOthers();
        simulatedFree += bytes;
        report.removals.push({ kind: c.kind, path: c.path, bytes, ageMs, owner: c.owner, outcome: 'would remove' });
        continue;
      }
      const prev = now;
      const outcome = await removeCandidate(o.root, c, o.timeoutMs);
      now = await measure(o.root);
      if (outcome === 'absent') continue;
      if (outcome === 'removed') freedOthers();
      if (outcome === NEEDS_ROOT) {
        report.needsRoot.count++;
        report.needsRoot.bytes += bytes;
      }
      // One number per removal, logged and summed alike: the guard reports what it freed, not
      // what the filesystem did meanwhile (other jobs write while it runs).
      const freed = outcome === 'removed' ? Math.max(bytes, prev.usedBytes - now.usedBytes) : 0;
      report.removals.push({ kind: c.kind, path: c.path, bytes: freed, ageMs, owner: c.owner, outcome });
      log.info(
        `${OUTCOME_TEXT[outcome] ?? 'Partly removed'} ${c.kind} ${c.path} (${formatBytes(outcome === 'removed' ? freed : bytes)}, idle ${Math.round(ageMs / 60000)} min, last owner ${c.owner ?? 'unknown'}).`,
      );
    }
    report.after = now;
    report.freedBytes = o.dryRun ? simulatedFree : report.removals.reduce((n, r) => n + r.bytes, 0);
    if (report.needsRoot.count > 0) {
      log.warning(
        `${report.needsRoot.count} idle entries (${formatBytes(report.needsRoot.bytes)}) hold files of another uid that uid ${myUid()} cannot remove: root container jobs whose post step did not hand them back, or \`docker run\` steps as root (docs/docker-run.md). Run 'cargo-isolate gc' as root (the systemd timer in the README) to remove them.`,
      );
    }
  } finally {
    await release(guardLock);
  }
  report.over = beyond(report.after, o.threshold);
  if (report.over && !o.dryRun) await sayStillOver(o, report, livePlan, describe);
  return checkFloor(o, report);
}

/** Still over the threshold after pruning: what holds the disk, measuring live trees whose size was never recorded. */
async function sayStillOver(o: GuardOptions, report: GuardReport, livePlan: Candidate[], describe: (d: Disk) => string): Promise<void> {
  // Only on this failure path is it worth measuring them.
  const unknown = livePlan.filter((c) => c.bytes === undefined && c.kind === 'target');
  for (const c of unknown) report.liveBytes += await diskUsage(c.path, 10_000);
  report.message = `The disk of ${o.root} is still over the threshold ${report.threshold} after pruning (${describe(report.after)}). Live jobs hold ${formatBytes(report.liveBytes)}; idle data of other runners holds ${formatBytes(report.othersBytes)}.`;
  o.log.warning(report.message);
}

function checkFloor(o: GuardOptions, r: GuardReport): GuardReport {
  if (o.failBelowBytes !== undefined && r.after.freeBytes < o.failBelowBytes && !o.dryRun) {
    throw new DiskFullError(
      `Only ${formatBytes(r.after.freeBytes)} free on ${o.root} after pruning, below 'fail-below' (${formatBytes(o.failBelowBytes)}): failing now rather than inside rustc later. Live jobs hold ${formatBytes(r.liveBytes)}; other runners' idle data holds ${formatBytes(r.othersBytes)}.`,
    );
  }
  return r;
}
