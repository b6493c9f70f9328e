import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type Disk, beyond, measure } from '../os/disk.js';
import { hold, release } from '../os/flock.js';
import { gitStorePaths, rootPaths, slotDirs, storePaths } from '../model/layout.js';
import { type LockSet, cargoLockFiles, heldLocks, isHeldHint } from '../os/liveness.js';
import type { Log } from '../os/log.js';
import type { Settings } from '../model/settings.js';
import { lastUsedMs } from '../model/record.js';
import { readRecord, writeRecord } from '../os/record-file.js';
import { OutsideRootError, type RemoveResult, deleteTrashEntry, removeTree } from '../os/remove.js';
import { diskUsage } from '../os/sizes.js';
import { crateBlobs } from '../store/crates.js';
import { gitEntries } from '../store/gitstore.js';
import { type Level, formatBytes, formatDuration, formatLevel } from '../model/units.js';
import { isPermissionError } from '../os/fsutil.js';
import type { SlotView } from './choose.js';
import { type Candidate as Weighed, type Policy, type PrunePlan, type Scope, SHIPPED, hardLevel, presentRunners, scopeOf } from './policy.js';
import { type ArchiveView, type HostStats, archiveValues } from './value.js';
import { hostHistory, scanSlots } from './lease.js';
import { myUid } from '../os/proc.js';
import { type HostArchive, deadStaging, isDeadArchive, listHostArchives, removeHostArchive, saveInProgress } from '../store/archive-host.js';
import { type ArchiveMeta, DATA, isRestoreLeftover } from '../store/archive.js';
import { Failure, failed } from '../model/failure.js';
import { isDirAt, listDir, lstatIfPresent } from '../os/absent.js';
import { belowFailBelow, idleNeedsRoot, stillOverThreshold } from '../model/messages.js';

/*
 * The disk guard, the pool's one eviction mechanism: what it may remove (candidates of the kinds
 * below, each found by its collector), in which order and down to which level (policy.ts), then
 * the removals under locks (its remover).
 */

export type Kind = 'trash' | 'job-dir' | 'target' | 'archive' | 'registry-src' | 'crate' | 'git';

/**
 * Something the guard could delete, as a collector finds it; its kind's row gives its place in the
 * order. `bytesStale`: its bytes are a record's, measured before the slot's last lease (a job that
 * ended without its post step): good enough to weigh it, not to say what removing it frees.
 */
export type Candidate = Omit<Weighed, 'kind' | 'order' | 'shared'> & { kind: Kind; bytesStale?: boolean };
/** A candidate as the policy weighs it: with its kind's order and owner test. */
export type Ranked = Candidate & Weighed;

/** How a removal ended: removeTree's outcomes, and the guard's own. */
export type Outcome = RemoveResult['outcome'] | 'needs root' | 'refused' | 'would remove';

/** What every collector may read: one scan of the slots (valued) and one read of /proc/locks. */
interface Scan {
  root: string;
  held: LockSet;
  slots: SlotView[];
  /** The host's history: what archives are worth (value.ts archiveValues) reads it. */
  history: HostStats;
}

/**
 * One row per kind of candidate, everything the guard knows of it. A kind added without its row,
 * or a row without one of these, does not compile.
 */
interface KindRow {
  /** Removal order, cheapest loss first: trash is already garbage, a job dir belongs to a dead job. */
  order: number;
  /**
   * Nobody's data (trash) or everybody's (the stores): never "another runner's idle data", which
   * runner scope frees after this runner's among equals and the final warning counts.
   */
  shared: boolean;
  /** Removing it needs no ownership of its files (a store blob is unlinked from the store's directory). */
  anyOwner: boolean;
  collect(s: Scan): Promise<Candidate[]>;
  remove(root: string, c: Candidate, timeoutMs: number): Promise<Outcome>;
}

const why = (c: Candidate) => `disk guard: idle ${c.kind}`;

/** A store's entries that no slot links, as candidates: never live (a job holds what it uses by its links). */
const unlinked = (kind: Kind, entries: { path: string; bytes: number; lastUsedMs: number; linked: boolean }[]): Candidate[] =>
  entries.filter((e) => !e.linked).map((e) => ({ kind, path: e.path, bytes: e.bytes, lastUsedMs: e.lastUsedMs, live: false }));

const KINDS: Record<Kind, KindRow> = {
  trash: {
    order: 0,
    shared: true,
    anyOwner: false,
    async collect({ root }) {
      const trash = rootPaths(root).trash;
      const out: Candidate[] = [];
      for (const e of await listDir(trash)) {
        const st = await lstatIfPresent(join(trash, e));
        out.push({ kind: 'trash', path: join(trash, e), lastUsedMs: st ? st.ctimeMs : 0, live: false });
      }
      return out;
    },
    remove: async (_root, c, timeoutMs) => ((await deleteTrashEntry(c.path, timeoutMs)).ok ? 'removed' : 'left-in-trash'),
  },
  'job-dir': {
    order: 1,
    shared: false,
    anyOwner: false,
    async collect({ root, held }) {
      const jobs = rootPaths(root).jobs;
      const out: Candidate[] = [];
      // A file among the directories (not one cargo-isolate makes) holds no job: nothing to list.
      const dirsIn = (d: string) => listDir(d, { notADirectory: 'absent' });
      for (const repo of await listDir(jobs)) {
        for (const key of await dirsIn(join(jobs, repo))) {
          for (const run of await dirsIn(join(jobs, repo, key))) {
            const dir = join(jobs, repo, key, run);
            const rec = await readRecord(join(dir, 'job.json'));
            const st = await lstatIfPresent(dir);
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
      return out;
    },
    async remove(root, c, timeoutMs) {
      if (!(await isDirAt(c.path))) return 'absent';
      const locks = [join(c.path, '.lease'), ...(await cargoLockFiles(join(c.path, 'target'), join(c.path, 'cargo-home')))];
      return (await removeTree(root, c.path, { why: why(c), locks, timeoutMs })).outcome;
    },
  },
  target: {
    order: 2,
    shared: false,
    anyOwner: false,
    collect: async ({ root, slots }) => slotCandidates(root, slots),
    remove: removeFromSlot,
  },
  archive: {
    // Beside the targets, in one order of worth: an archive is a build's dependencies, smaller
    // and serving every PR of its job.
    order: 2,
    // Nobody's runner's data: it serves every PR of its job, whichever runner saved it.
    shared: true,
    anyOwner: false,
    async collect({ root, held, slots, history }) {
      const now = Date.now();
      const out: Candidate[] = [];
      const found = [];
      for (const a of await listHostArchives(root)) {
        const live = await isHeldHint(join(a.dir, DATA), held);
        const dead = isDeadArchive(a, a.temp ? live || saveInProgress(a) : live, now);
        if (a.temp && !dead) continue; // a save in progress
        found.push({ a, live, dead });
      }
      // Per byte like builds, in one order with them: an archive serves every start of its job in
      // the domains that read it (value.ts archiveValues).
      const worth = archiveValues(
        found.flatMap(({ a, live, dead }) => (dead || !a.meta ? [] : [archiveView({ ...a, meta: a.meta }, live)])),
        history,
        now,
      );
      for (const { a, live, dead } of found)
        out.push({ kind: 'archive', path: a.dir, bytes: a.bytes, lastUsedMs: a.lastUsedMs, live: live && !dead, value: dead ? 0 : worth.get(a.dir) });
      // What a job killed during a transfer to or from the Actions cache service left.
      for (const d of await deadStaging(root, now)) out.push({ kind: 'archive', path: d.dir, bytes: d.bytes, lastUsedMs: d.lastUsedMs, live: false, value: 0 });
      // What a killed restore left in an idle slot's target (its record says a restore began there).
      for (const { name, record: rec, live } of slots) {
        if (live || !rec?.restoring) continue;
        const target = slotDirs(root, name).target;
        for (const e of (await listDir(target)).filter(isRestoreLeftover))
          out.push({ kind: 'archive', path: join(target, e), lastUsedMs: Date.parse(rec.restoring) || 0, live: false, slot: name, value: 0 });
      }
      return out;
    },
    async remove(root, c, timeoutMs) {
      if (c.slot !== undefined) return removeFromSlot(root, c, timeoutMs);
      return (await removeHostArchive(root, c.path, why(c), timeoutMs)).outcome;
    },
  },
  'registry-src': {
    order: 3,
    shared: false,
    anyOwner: false,
    async collect({ root, slots }) {
      // Only a slot with a CARGO_HOME of its own has sources in it (a fork PR's: cargo-home.ts);
      // a trusted job's are in its uid's shared home (sharedSources). A path that is not there is
      // not a candidate: the guard never lists, or warns about, what does not exist.
      const perSlot: Candidate[] = [];
      for (const { name, record: rec, live } of slots) {
        const path = join(slotDirs(root, name).cargoHome, 'registry', 'src');
        if (await isDirAt(path)) perSlot.push({ kind: 'registry-src', path, lastUsedMs: lastUsedMs(rec), owner: rec?.runnerId, live, slot: name });
      }
      return [...perSlot, ...(await sharedSources(root, slots))];
    },
    async remove(root, c, timeoutMs) {
      if (c.slot !== undefined) return removeFromSlot(root, c, timeoutMs);
      if (!(await isDirAt(c.path))) return 'absent';
      return (await removeTree(root, c.path, { why: why(c), locks: mutateLocks(join(c.path, '..', '..')), timeoutMs })).outcome;
    },
  },
  crate: {
    order: 4,
    shared: true,
    anyOwner: true,
    // Store files linked into no slot (a link elsewhere keeps the bytes allocated anyway),
    // least recently linked first.
    collect: async ({ root }) => unlinked('crate', await crateBlobs(root)),
    // A seeder that links it right now still gets the bytes (the link holds them) or, losing the
    // race, finds it missing and lets cargo download: neither is wrong.
    remove: (_root, c) =>
      fs.unlink(c.path).then(
        () => 'removed',
        (e) => (isPermissionError(e) ? 'needs root' : 'absent'),
      ),
  },
  git: {
    order: 5,
    shared: true,
    anyOwner: false,
    // Git store entries whose packs no slot links (gitstore.ts), least recently seeded first.
    collect: async ({ root }) => unlinked('git', await gitEntries(root)),
    async remove(root, c, timeoutMs) {
      if (!(await isDirAt(c.path))) return 'absent';
      return (await removeTree(root, c.path, { why: why(c), timeoutMs })).outcome;
    },
  },
};

/** A kind's place in the removal order (KINDS): the simulator weighs archives in the targets' place, as the archive row does. */
export const kindOrder = (kind: Kind): number => KINDS[kind].order;
/** Pure: an archive as the policy weighs it, from what its archive.json says. */
export function archiveView(a: HostArchive & { meta: ArchiveMeta }, live: boolean): ArchiveView {
  const k = a.meta.key;
  return {
    path: a.dir,
    repository: k.repository ?? '',
    workflow: k.workflow ?? '',
    job: k.job ?? '',
    jobKey: k.key || undefined,
    domain: a.domain,
    fallback: a.meta.fallback,
    exact: a.meta.exact,
    bytes: a.bytes,
    savedMs: Date.parse(a.meta.savedAt) || a.lastUsedMs,
    live,
  };
}

/** Pure: a candidate with its kind's place in the order and its owner test (KINDS). */
export const ranked = <C extends Candidate>(c: C): C & Ranked => ({ ...c, order: KINDS[c.kind].order, shared: KINDS[c.kind].shared });

/**
 * Pure: the target dirs of the scanned slots as candidates: every slot whose last job recorded a
 * build, or whose size nobody recorded, or that is live. The simulator makes its guard's
 * candidates with this too, a few times a simulated minute: made as ranked candidates at once.
 */
export function slotCandidates(root: string, slots: SlotView[]): Ranked[] {
  const { order, shared } = KINDS.target;
  const out: Ranked[] = [];
  for (const { name, record: rec, live, value } of slots) {
    if (rec?.sizes && rec.sizes.target <= 0 && !live) continue;
    const path = targetPath(root, name);
    out.push({
      kind: 'target',
      order,
      shared,
      path,
      bytes: rec?.sizes?.target,
      // ISO times of one clock compare as strings: no parse for each slot of each simulated scan.
      bytesStale: rec?.sizes ? rec.sizes.measuredAt < rec.leasedAt : undefined,
      lastUsedMs: lastUsedMs(rec),
      owner: rec?.runnerId,
      live,
      slot: name,
      key: rec?.key,
      value,
    });
  }
  return out;
}

/** A slot's target dir (layout.ts), remembered: a scan asks for every slot's, and a simulated day for the same few again and again. */
const targets = new Map<string, string>();
function targetPath(root: string, name: string): string {
  const k = `${root}\0${name}`;
  let p = targets.get(k);
  if (p === undefined) {
    if (targets.size > 4096) targets.clear();
    p = slotDirs(root, name).target;
    targets.set(k, p);
  }
  return p;
}

/**
 * Pure: what may be removed, in which order (policy.ts pruneOrder), each candidate ordered and
 * owned as its kind's row says. `keep`: the slots whose build the job running this guard is about
 * to take (lease.ts slotToKeep), removed last. `present`: the runners that still exist, in runner
 * scope (policy.ts presentRunners; absent: every owner does).
 */
export function planPrune(
  cands: Candidate[],
  scope: Scope,
  runnerId: string,
  o: { keep?: string[]; policy?: Policy; present?: ReadonlySet<string> } = {},
): PrunePlan<Ranked> {
  return (o.policy ?? SHIPPED).prune(cands.map(ranked), scope, runnerId, o.keep ?? [], o.present);
}

/** The root as a guard reads it: its candidates, and what the scope turns on (the slots as scanned, the host's history). */
export interface GuardScan {
  cands: Ranked[];
  slots: SlotView[];
  history: HostStats;
}

/** Gathers candidates of every kind from records and one read of /proc/locks (the hint; removal re-checks). */
export async function scanRoot(root: string, held: LockSet = heldLocks(), nowMs: number = Date.now()): Promise<GuardScan> {
  const history = await hostHistory(root);
  const scan: Scan = { root, held, slots: await scanSlots(root, history, { held, nowMs }), history };
  const cands: Ranked[] = [];
  for (const row of Object.values(KINDS)) cands.push(...(await row.collect(scan)).map(ranked));
  return { cands, slots: scan.slots, history };
}

/** The candidates alone (scanRoot). */
export async function collectCandidates(root: string, held: LockSet = heldLocks(), nowMs: number = Date.now()): Promise<Ranked[]> {
  return (await scanRoot(root, held, nowMs)).cands;
}

/**
 * Pure: a guard run's plan on the root as scanned, in the scope it acts in: runner scope gives way
 * to host scope over the hard level (policy.ts scopeOf, hardLevel), and counts the data of runners
 * that no longer exist as no runner's (presentRunners).
 */
export function planGuard(
  s: GuardScan,
  disk: Disk,
  o: Pick<GuardOptions, 'scope' | 'runnerId' | 'hard' | 'threshold'> & { nowMs: number; keep?: string[] },
): { plan: PrunePlan<Ranked>; scope: Scope; hard: Level } {
  const hard = hardLevel(o.hard, s.history, s.slots, o.threshold);
  const scope = scopeOf(o.scope, disk, hard);
  const present = scope === 'runner' ? presentRunners(s.history, s.slots, o.nowMs) : undefined;
  return { plan: SHIPPED.prune(s.cands, scope, o.runnerId, o.keep ?? [], present), scope, hard };
}

/**
 * registry/src of the CARGO_HOMEs shared by a uid's jobs (cargo-home.ts), for the uids this
 * process may remove files of. Live while any slot of that uid is leased: a job's cargo reads its
 * sources from the start of its build to the end, and between resolving and compiling it holds
 * none of cargo's locks. Removal also takes cargo's own exclusive locks of that home (as its gc
 * does), so no cargo started elsewhere is reading it; cargo extracts again what it needs.
 */
async function sharedSources(root: string, slots: SlotView[]): Promise<Candidate[]> {
  const me = myUid();
  const out: Candidate[] = [];
  const liveUids = new Set(slots.filter((s) => s.live).map((s) => s.record?.uid));
  for (const name of await listDir(rootPaths(root).homes)) {
    const uid = /^u(\d+)$/.exec(name) ? Number(name.slice(1)) : undefined;
    // Root's home is handed back to the root's owner (handback.ts): that user may free it too.
    const owner = (await lstatIfPresent(join(rootPaths(root).homes, name)))?.uid;
    if (uid === undefined || (me !== 0 && uid !== me && owner !== me)) continue;
    const src = join(rootPaths(root).homes, name, 'registry', 'src');
    const st = await lstatIfPresent(src);
    if (!st?.isDirectory()) continue;
    out.push({ kind: 'registry-src', path: src, lastUsedMs: st.mtimeMs, live: liveUids.has(uid) || liveUids.has(undefined) });
  }
  return out;
}

/** cargo's MutateExclusive on a CARGO_HOME (cache_lock.rs): both of its lock files, exclusively. */
const mutateLocks = (home: string) => [join(home, '.package-cache-mutate'), join(home, '.package-cache')];

/** A slot's target dir or registry/src, under the slot's lease and cargo's locks there. */
async function removeFromSlot(root: string, c: Candidate, timeoutMs: number): Promise<Outcome> {
  if (!(await isDirAt(c.path))) return 'absent';
  const d = slotDirs(root, c.slot!);
  const locks = [d.lock, ...(await cargoLockFiles(d.target, d.cargoHome))];
  const r = await removeTree(root, c.path, {
    why: why(c),
    locks,
    timeoutMs,
    // Still under the lease: a job leasing the slot next must find a truthful record.
    whileLocked: async () => {
      const rec = await readRecord(d.record);
      if (rec && c.kind === 'target')
        await writeRecord(d.record, { ...rec, prunedAt: new Date().toISOString(), sizes: rec.sizes && { ...rec.sizes, target: 0 } });
    },
  });
  // An empty target dir where the build was: not a read, and one already made again (by a job that
  // leased the slot meanwhile) serves as well, so any failure is left to that job's own mkdir.
  if (c.kind === 'target' && r.outcome !== 'live') await fs.mkdir(d.target).catch(() => undefined);
  return r.outcome;
}

export interface Removal {
  kind: Kind;
  path: string;
  bytes: number;
  ageMs: number;
  owner?: string;
  outcome: Outcome;
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
  scope: Scope;
  /** The scope the run acted in: host where runner scope gave way over the hard level (planGuard). */
  acting: Scope;
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
  scope: Scope;
  /** Over this, runner scope gives way (policy.ts scopeOf); undefined: room for the largest build seen (hardLevel). */
  hard?: Level;
  runnerId: string;
  dryRun: boolean;
  failBelowBytes?: number;
  lockWaitSeconds?: number;
  /** CLI gc: also idle slots unused for this long are removed whole, whatever the disk says. */
  maxAgeMs?: number;
  /**
   * Slots whose build this job is about to take (planPrune's `keep`): asked only when the guard
   * prunes, under its lock (finding them scans every slot and the host's history: a cost a job
   * under the threshold, nearly every job, does not pay).
   */
  keep?: () => Promise<string[]>;
  /** The time builds are weighed at (value.ts): now, unless a test fixes it. */
  nowMs?: number;
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
    hard: s.diskHardThreshold,
    runnerId,
    dryRun: s.dryRun,
    failBelowBytes: s.failBelowBytes,
    timeoutMs: s.cleanupTimeoutMs,
    log,
    ...extra,
  };
}

/** The disk is below `fail-below` after pruning: the one failure the operator asks the guard for. */
export class DiskFullError extends Failure {
  constructor(message: string) {
    super(message, 'floor');
    this.name = 'DiskFullError';
  }
}

/**
 * The one byte model of the guard, for its log, its totals, its dry run and where a dry run stops:
 * what removing a candidate frees. A slot's build as its job's end measured it (slot.json), unless
 * a lease came after that measure (a job that ended without its post step); anything else as `du`
 * counts it now, each file once, where a file hard-linked from the crate or git store (a job
 * directory's seeded crates) counts in the store: removing the directory frees nothing of it.
 */
async function bytesFreed(root: string, c: Candidate): Promise<number> {
  if (c.bytes !== undefined && !c.bytesStale) return c.bytes;
  const stores = c.kind === 'job-dir' || c.kind === 'trash' ? [storePaths(root).blobs, gitStorePaths(root).base] : [];
  return diskUsage(c.path, 30_000, stores);
}

/**
 * What another uid holds (a root container job's files never handed back) is not attempted by
 * anyone but root: renaming a directory needs write access to it, and a futile `rm -rf` over a
 * large tree only costs time. The same test for a dry run and a real one.
 */
async function needsRoot(root: string, c: Candidate): Promise<boolean> {
  const uid = myUid();
  if (uid === 0 || KINDS[c.kind].anyOwner) return false;
  const st = await lstatIfPresent(c.path);
  if (!st) return false; // nothing there to remove: its remover says so (absent)
  if (st.uid !== uid) return true;
  // Another uid's files below a directory of ours (reclaim.ts marked the slot).
  const rec = c.slot ? await readRecord(slotDirs(root, c.slot).record) : undefined;
  return rec?.uid !== undefined && rec.uid !== uid;
}

/** A dry run's outcome for a candidate: what removeCandidate would find before it removes anything. */
async function wouldRemove(root: string, c: Candidate): Promise<Outcome> {
  if (!(await lstatIfPresent(c.path))) return 'absent';
  return (await needsRoot(root, c)) ? 'needs root' : 'would remove';
}

/** Removes one candidate; its outcome. */
async function removeCandidate(root: string, c: Candidate, timeoutMs: number): Promise<Outcome> {
  if (await needsRoot(root, c)) return 'needs root';
  try {
    return await KINDS[c.kind].remove(root, c, timeoutMs);
  } catch (e) {
    if (isPermissionError(e)) return 'needs root';
    // A link a build planted on the way: not this candidate's directory, and no reason to fail the job.
    if (e instanceof OutsideRootError) return 'refused';
    throw failed(`The disk guard, removing ${c.kind} ${c.path}`, e);
  }
}

/** How the guard's log line opens for each outcome of a removal (`absent` is not logged). */
const OUTCOME_TEXT: Record<Outcome, string> = {
  removed: 'Removed',
  live: 'Skipped (became live)',
  refused: 'Refused (a symlink on its path)',
  'needs root': "Left (another uid's files: needs root)",
  'left-in-trash': 'Partly removed',
  absent: 'Gone already',
  'would remove': 'Would remove',
};

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
    acting: o.scope,
    lockWaitMs: 0,
    decisionMs: 0,
    needsRoot: { count: 0, bytes: 0 },
  };
  const describe = (d: Disk) => `${d.usedPercent.toFixed(1)}% used, ${formatBytes(d.freeBytes)} free, ${d.inodePercent.toFixed(1)}% inodes`;
  log.info(`Disk of ${o.root}: ${describe(before)}; threshold ${report.threshold}, target ${report.target}.`);
  if (!SHIPPED.guardRuns(before, o.threshold, o.maxAgeMs)) {
    log.info('Under the threshold: nothing to prune.');
    return checkFloor(o, report);
  }
  let livePlan: Candidate[] = [];
  const waitStart = Date.now();
  const guardLock = await (async () => {
    await fs.mkdir(rootPaths(o.root).locks, { recursive: true }); // a root made by an interrupted first job
    return hold([rootPaths(o.root).guardLock], { waitSeconds: o.lockWaitSeconds ?? 300 });
  })().catch((e) => {
    // A read-only root, or one this user may not write: nothing could be removed there anyway.
    throw failed(`The disk guard of ${o.root} cannot take its lock`, e);
  });
  report.lockWaitMs = Date.now() - waitStart;
  if (!guardLock) {
    log.warning(`Another disk guard on this host held ${rootPaths(o.root).guardLock} for ${Math.round(report.lockWaitMs / 1000)} s; not pruning this time.`);
    report.after = await measure(o.root);
    return checkFloor(o, report);
  }
  try {
    let now = await measure(o.root);
    if (report.lockWaitMs > 100) log.info(`Waited ${(report.lockWaitMs / 1000).toFixed(1)} s for another guard; disk now ${describe(now)}.`);
    if (!SHIPPED.guardRuns(now, o.threshold, o.maxAgeMs)) log.info('No longer over the threshold (another guard freed space): nothing to prune.');
    const t0 = performance.now();
    const nowMs = o.nowMs ?? Date.now();
    const { plan, scope, hard } = planGuard(await scanRoot(o.root, heldLocks(), nowMs), now, { ...o, nowMs, keep: await o.keep?.() });
    report.acting = scope;
    if (scope !== o.scope) log.info(`Over the hard level ${formatLevel(hard)}: freeing idle data of any runner, as prune-scope: host does.`);
    report.decisionMs = performance.now() - t0;
    report.liveBytes = plan.liveBytes;
    report.othersBytes = plan.othersBytes;
    livePlan = plan.live;
    // A dry run walks the same plan with the same steps and the same byte model (bytesFreed), and
    // only its removal is pretended: what it lists is what the real run removes, in that order, as
    // long as nothing else changes the disk meanwhile (the real run re-measures the disk after
    // each removal; the dry run adds what it would have freed).
    let pretendedFree = 0;
    const overAtStart = beyond(now, o.threshold);
    const keptFrom = plan.ordered.length;
    for (const [i, c] of [...plan.ordered, ...plan.kept].entries()) {
      const step = SHIPPED.guardStep(c, i, keptFrom, {
        overAtStart,
        disk: now,
        pendingBytes: pretendedFree,
        target: o.target,
        maxAgeMs: o.maxAgeMs,
        nowMs: Date.now(),
      });
      if (step === 'stop') break;
      if (step === 'skip') continue;
      const ageMs = Date.now() - c.lastUsedMs;
      const bytes = await bytesFreed(o.root, c);
      const outcome = o.dryRun ? await wouldRemove(o.root, c) : await removeCandidate(o.root, c, o.timeoutMs);
      if (!o.dryRun) now = await measure(o.root);
      if (outcome === 'absent') continue; // gone since the scan: nothing to say
      if (i >= keptFrom && c.kind === 'target')
        log.warning(
          `Nothing else idle is left to reach ${report.target}: ${o.dryRun ? 'would remove' : 'removing'} ${c.path}, ` +
            'the build this job was about to start from; it starts cold.',
        );
      const freed = outcome === 'removed' || outcome === 'would remove' ? bytes : 0;
      if (o.dryRun) pretendedFree += freed;
      if (outcome === 'needs root') {
        report.needsRoot.count++;
        report.needsRoot.bytes += bytes;
      }
      // One number per removal, logged and summed alike, in a dry run and a real one.
      report.removals.push({ kind: c.kind, path: c.path, bytes: freed, ageMs, owner: c.owner, outcome });
      log.info(
        `${OUTCOME_TEXT[outcome]} ${c.kind} ${c.path} (${formatBytes(freed || bytes)}, idle ${formatDuration(ageMs)}, last owner ${c.owner ?? 'unknown'}).`,
      );
    }
    report.after = now;
    report.freedBytes = report.removals.reduce((n, r) => n + r.bytes, 0);
    if (report.needsRoot.count > 0) {
      log.warning(idleNeedsRoot(report.needsRoot.count, formatBytes(report.needsRoot.bytes), myUid()));
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
  report.message = stillOverThreshold({
    root: o.root,
    threshold: report.threshold,
    disk: describe(report.after),
    live: formatBytes(report.liveBytes),
    others: formatBytes(report.othersBytes),
    // Runner scope: what it left is the host's gc timer's to free, unless the disk reaches the hard level.
    scoped: report.acting === 'runner' && report.othersBytes > 0,
  });
  o.log.warning(report.message);
}

function checkFloor(o: GuardOptions, r: GuardReport): GuardReport {
  if (o.failBelowBytes !== undefined && r.after.freeBytes < o.failBelowBytes && !o.dryRun) {
    throw new DiskFullError(
      belowFailBelow({
        root: o.root,
        free: formatBytes(r.after.freeBytes),
        floor: formatBytes(o.failBelowBytes),
        live: formatBytes(r.liveBytes),
        others: formatBytes(r.othersBytes),
      }),
    );
  }
  return r;
}
