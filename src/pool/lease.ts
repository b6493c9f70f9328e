import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SlotView, type Tier, jobViewpoint, warmFor } from './choose.js';
import type { HostStats } from './value.js';
import { SHIPPED } from './policy.js';
import { readHistory } from './warmth.js';
import { type Held, detach, hold, killHolder, probeFree, waitFree } from '../os/flock.js';
import type { JobIdentity } from '../model/identity.js';
import { type Dirs, SLOT_NAME, jobDirs, rootPaths, slotDirs, slotName } from '../model/layout.js';
import { type LockSet, cargoLockFiles, heldLocks, isHeldHint } from '../os/liveness.js';
import type { Log } from '../os/log.js';
import { audit } from '../os/audit.js';
import { type DirRecord, type PathView, type Viewpoint, trustDomain } from '../model/record.js';
import { readRecord } from '../os/record-file.js';
import { canManage, slotOwners } from '../owners/owner.js';
import { measure } from '../os/disk.js';
import type { Level } from '../model/units.js';
import { describeForeign, findForeign } from '../owners/foreign.js';
import { markForeign } from '../owners/reclaim.js';
import { procStat, myUid } from '../os/proc.js';
import { listDir, lstatIfPresent } from '../os/absent.js';
import { cargoStillInSlot, containerFilesInSlot, notWaitingForOwnBuild, rootJobFilesInSlot, stepFilesInSlot, waitingForOwnBuild } from '../model/messages.js';

/*
 * A lease is an exclusive flock on the directory's lock file, held by a detached keeper:
 *
 *   flock -x -n <lock> sh -c KEEPER <watch-pid> <watch-start> <max-seconds> <poll>
 *
 * The lease ends when the keeper dies, which happens when
 * - the post step kills it (normal end: success, failure, cancel);
 * - the runner kills it: after the last post step the runner kills every process that carries
 *   its RUNNER_TRACKING_ID, which the keeper inherits;
 * - the process it watches (the main step's parent: the runner's worker) is gone, checked
 *   every POLL seconds by pid *and* start time (a reused pid is not the worker): covers a
 *   runner killed with SIGKILL and runners without orphan cleanup (Forgejo, act);
 * - max-lease passes: a hung worker cannot pin a slot forever;
 * - the host reboots (the kernel forgets every flock).
 * Anyone on the host, in any container sharing the root on this kernel, sees the lease with
 * flock. Lock files live in <root>/locks and are never deleted, so a waiter can never lock an
 * unlinked inode while the next job locks a new one.
 */
export const KEEPER_POLL_SECONDS = 2;
const PROBE_RETRIES = 4;

const KEEPER = `echo locked
exec >/dev/null 2>&1 </dev/null
watch=$1 start=$2 left=$3 poll=$4
while [ "$left" -gt 0 ]; do
  if [ "$watch" -gt 0 ]; then
    read -r s < "/proc/$watch/stat" || exit 0
    s=\${s##*) }
    set -- $s
    [ "\${20}" = "$start" ] || exit 0
  fi
  sleep "$poll"
  left=$((left - poll))
done`;

export async function startKeeper(lock: string, watchPid: number, maxLeaseMs: number): Promise<Held | undefined> {
  const start = (watchPid > 0 && procStat(watchPid)?.start) || '0';
  const opts = {
    detached: true,
    body: KEEPER,
    args: [String(start === '0' ? 0 : watchPid), start, String(Math.ceil(maxLeaseMs / 1000)), String(KEEPER_POLL_SECONDS)],
  };
  // A probe (status, a post step checking its release, a guard renaming an idle target)
  // holds a lock for a few milliseconds; a lease holds it for the whole job. A few quick
  // retries tell the two apart, so a passing probe never sends a job to a colder slot.
  for (let attempt = 0; attempt < PROBE_RETRIES; attempt++) {
    if (attempt > 0) await sleep(10 * attempt);
    const h = await hold([lock], opts);
    if (h) {
      detach(h);
      return h;
    }
  }
  return undefined;
}

export interface Lease {
  layout: 'slot' | 'job';
  name: string;
  dirs: Dirs;
  keeperPid: number;
  tier: Tier;
  waitedMs: number;
  /** The record as the previous holder left it (undefined: new or unknown). */
  previous?: DirRecord;
  /** Slots passed over because cargo itself still ran in them (a zombie build). */
  zombies: string[];
  /** Slots passed over because they hold another uid's files that were never handed back. */
  foreign: string[];
}

export interface LeaseRequest {
  root: string;
  me: JobIdentity;
  watchPid: number;
  maxLeaseMs: number;
  leaseWaitMs: number;
  log: Log;
  /** The guard's `disk-target`: under it, the chooser makes a new slot rather than wipe a warm one. */
  diskTarget?: Level;
  /**
   * Path views: `at` gives the paths a job at a viewpoint sees in a slot (the job's exports);
   * `own` is this job's viewpoint when its steps run where this process runs. Without `own` (the
   * runner's hook) the job's last build on the host tells (choose.ts jobViewpoint).
   */
  view?: { own?: Viewpoint; at: (vp: Viewpoint, name: string) => PathView };
  /** The time builds are weighed at (value.ts): now, unless a test fixes it. */
  nowMs?: number;
}

/**
 * Every slot with its record and a liveness hint (one read of /proc/locks for all of them, or
 * `held`), and with `history` (the host's warmth log, value.ts) the value of each idle slot's
 * build (the policy's scan -> value).
 */
export async function scanSlots(root: string, history?: HostStats | Promise<HostStats>, o: { held?: LockSet; nowMs?: number } = {}): Promise<SlotView[]> {
  const held = o.held ?? heldLocks();
  const names = (await listDir(rootPaths(root).slots)).filter((n) => SLOT_NAME.test(n)).sort();
  const views: SlotView[] = await Promise.all(
    names.map(async (name) => {
      const d = slotDirs(root, name);
      return { name, record: await readRecord(d.record), live: await isHeldHint(d.lock, held) };
    }),
  );
  // A history still being read (acquireSlot's first scan) is read alongside the records.
  const values = SHIPPED.values(views, await history, o.nowMs ?? Date.now());
  if (values) for (const v of views) v.value = values.get(v.name);
  return views;
}

/** The host's history as the value rule reads it; an unreadable log is an empty history. */
export async function hostHistory(root: string): Promise<HostStats> {
  const h = await readHistory(root);
  return SHIPPED.history(h.jobs, h.closed);
}

/**
 * The slot whose build this job is about to take, for the guard to keep (policy.ts keepFor),
 * seen with the job's paths (`view`, as the lease will see them).
 */
export async function slotToKeep(req: Pick<LeaseRequest, 'root' | 'me' | 'view' | 'nowMs'>): Promise<string[]> {
  return SHIPPED.keep(withViews(await scanSlots(req.root, await hostHistory(req.root), { nowMs: req.nowMs }), req), req.me);
}

type Attempt = { lease: Held; previous?: DirRecord } | { busy: 'lease' | 'cargo' } | { busy: 'foreign'; uid: number; below?: string; view?: Viewpoint };

/**
 * Takes the lease, then makes sure this uid may manage the slot (owner.ts) and that no cargo
 * (say, a zombie container of a cancelled job) still runs there.
 */
async function tryLease(dirs: Dirs, req: LeaseRequest): Promise<Attempt> {
  const h = await startKeeper(dirs.lock, req.watchPid, req.maxLeaseMs);
  if (!h) return { busy: 'lease' };
  const base = await lstatIfPresent(dirs.base);
  if (base && !base.isDirectory()) {
    // The slot directory itself was replaced (by a symlink, say): move it aside under the lease.
    await fs.rename(dirs.base, `${rootPaths(req.root).trash}/${Date.now()}-${process.pid}-slot-${dirs.base.split('/').pop()}`);
  }
  await fs.mkdir(dirs.base, { recursive: true });
  // Is cargo still running there? Asked by a process of its own while this one checks who owns
  // the slot; the answer counts only once those checks passed.
  const cargoFree = cargoLockFiles(dirs.target, dirs.cargoHome).then((locks) => probeFree(locks));
  cargoFree.catch(() => undefined); // said where it is awaited, not as an unhandled rejection
  // Read under the lease: a scan's copy may predate the last holder's release.
  const previous = await readRecord(dirs.record);
  const uid = myUid();
  const owners = await slotOwners(dirs);
  if (!canManage(uid, previous, owners)) {
    killHolder(h.pid, dirs.lock);
    const marked = previous?.foreign && describeForeign(previous.foreign.paths.map((rel) => ({ rel, uid: previous.foreign!.uid })));
    return {
      busy: 'foreign',
      uid: [previous?.uid, ...owners].find((o) => o !== undefined && o !== uid) ?? -1,
      below: marked || undefined,
      view: previous?.view,
    };
  }
  // Below the top entries (foreign.ts): a `docker run` step as root leaves target/debug/ and
  // its .cargo-lock root's while target/ stays ours. Such a slot would fail the build.
  const below = await findForeign(dirs, uid);
  if (below.length > 0) {
    // Said in the record too (still under the lease), so that gc and status report it; a record
    // that cannot be written changes nothing here: the slot is passed over all the same.
    await markForeign(dirs, below).catch(() => false);
    killHolder(h.pid, dirs.lock);
    return { busy: 'foreign', uid: below[0].uid, below: describeForeign(below), view: previous?.view };
  }
  if (!(await cargoFree)) {
    killHolder(h.pid, dirs.lock);
    return { busy: 'cargo' };
  }
  audit({ event: 'lease', lock: dirs.lock, dir: dirs.base, keeperPid: h.pid, jobUid: req.me.jobUid });
  return { lease: h, previous };
}

/** Free slots of this trust domain whose build was made under paths this job does not see: said once. */
function otherViews(slots: SlotView[], me: JobIdentity): string[] {
  return slots
    .filter((v) => !v.live && v.record?.view && trustDomain(v.record) === trustDomain(me) && !warmFor(v.record.view, v.view))
    .map((v) => {
      const sees = v.view
        ? `this job sees ${v.view.target}`
        : "this job's paths are not known before its first build on this host (the runner's hook cannot tell a container job)";
      return `Slot ${v.name} holds ${v.record!.key}'s build of job ${v.record!.job}, made at ${v.record!.view!.target}; ${sees}: not warm for it.`;
    });
}

/** Each slot with the paths this job would see there, when the job's viewpoint is known. */
function withViews(slots: SlotView[], req: Pick<LeaseRequest, 'me' | 'view'>): SlotView[] {
  const vp = req.view && (req.view.own ?? jobViewpoint(slots, req.me));
  return vp ? slots.map((s) => ({ ...s, view: req.view!.at(vp, s.name) })) : slots;
}

async function newSlot(root: string, taken: SlotView[]): Promise<string> {
  let i = taken.reduce((m, s) => Math.max(m, Number(s.name.slice(1)) + 1), 0);
  for (;;) {
    const name = slotName(i);
    try {
      await fs.mkdir(slotDirs(root, name).base);
      return name;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      i++;
    }
  }
}

export async function acquireSlot(req: LeaseRequest): Promise<Lease> {
  const started = Date.now();
  const zombies: string[] = [];
  const foreign: string[] = [];
  // Read while the first scan reads the slots' records: neither waits for the other.
  const history = hostHistory(req.root);
  // Set once a predecessor is named: how long waiting for it can pay (waitBudget).
  let deadline: number | undefined;
  let awaited: string | undefined;
  for (let scan = 0; ; scan++) {
    const views = withViews(await scanSlots(req.root, history, { nowMs: req.nowMs }), req);
    if (scan === 0) for (const line of otherViews(views, req.me)) req.log.info(line);
    // Measured after the guard and again on every scan: a new slot is made only while it fits.
    const room = req.diskTarget !== undefined && SHIPPED.room(await measure(req.root), req.diskTarget);
    const plan = SHIPPED.rank(views, req.me, { room });
    if (plan.waitFor !== undefined && deadline === undefined) {
      const b = SHIPPED.wait(req.me, views.find((v) => v.name === plan.waitFor)?.record, req.leaseWaitMs);
      deadline = started + b.ms;
      awaited = plan.waitFor;
      if (b.ms > 0) req.log.info(waitingForOwnBuild(plan.waitFor, b.why, Math.round(b.ms / 1000)));
      else req.log.info(notWaitingForOwnBuild(plan.waitFor, b.why));
    }
    const inWindow = deadline !== undefined && Date.now() < deadline;
    const waiting = plan.waitFor !== undefined && inWindow;
    const order = waiting ? [{ name: plan.waitFor!, tier: 'own-job' as Tier }] : plan.candidates;
    let lingering = false;
    for (const c of order) {
      const dirs = slotDirs(req.root, c.name);
      const r = await tryLease(dirs, req);
      if ('lease' in r) {
        return {
          layout: 'slot',
          name: c.name,
          dirs,
          keeperPid: r.lease.pid,
          tier: c.tier,
          waitedMs: Date.now() - started,
          previous: r.previous,
          zombies,
          foreign,
        };
      }
      // A cancelled run's post step has released the lease, but the cargo its shell left running
      // holds cargo's locks until the runner's cleanup after the post steps: part of the wait.
      if (r.busy === 'cargo' && c.name === awaited && inWindow) {
        lingering = true;
        break;
      }
      if (r.busy === 'cargo' && !zombies.includes(c.name)) {
        zombies.push(c.name);
        req.log.warning(cargoStillInSlot(c.name));
      }
      if (r.busy === 'foreign' && !foreign.includes(c.name)) {
        foreign.push(c.name);
        const me = myUid();
        // Built by a job container as that uid (its view is not this root's path): not a `docker run` step.
        if (r.view && r.view.uid === r.uid && r.view.root !== req.root)
          req.log.info(containerFilesInSlot({ slot: c.name, uid: r.uid, seenAt: r.view.root, me }));
        else if (r.below) req.log.info(stepFilesInSlot({ slot: c.name, files: r.below, me }));
        else req.log.info(rootJobFilesInSlot({ slot: c.name, uid: r.uid, me }));
      }
    }
    if (waiting || lingering) {
      await sleep(500);
      continue;
    }
    if (room && views.some((v) => !v.live))
      req.log.info("The disk is under disk-target: a new slot, keeping the free slots' warm builds for the PRs and jobs that made them.");
    const name = await newSlot(req.root, views);
    const dirs = slotDirs(req.root, name);
    const r = await tryLease(dirs, req);
    if ('lease' in r) {
      return { layout: 'slot', name, dirs, keeperPid: r.lease.pid, tier: 'new', waitedMs: Date.now() - started, zombies, foreign };
    }
    // Someone took the slot we just made: scan again.
  }
}

export async function acquireJobDir(req: LeaseRequest): Promise<Lease> {
  const dirs = jobDirs(req.root, req.me);
  await fs.mkdir(dirs.base, { recursive: true });
  const h = await startKeeper(dirs.lock, req.watchPid, req.maxLeaseMs);
  if (h) audit({ event: 'lease', lock: dirs.lock, dir: dirs.base, keeperPid: h.pid, jobUid: req.me.jobUid });
  if (!h) throw new Error(`The new job directory ${dirs.base} is already leased: job uids are meant to be unique (nonce ${req.me.nonce}).`);
  return { layout: 'job', name: dirs.base.split('/').slice(-1)[0], dirs, keeperPid: h.pid, tier: 'new', waitedMs: 0, zombies: [], foreign: [] };
}

/** Ends a lease taken by startKeeper; true when the keeper was still there to stop. */
export async function releaseLease(keeperPid: number, lock: string, dir = ''): Promise<boolean> {
  const killed = killHolder(keeperPid, lock);
  // The kernel drops the lock once every process of the keeper's group is gone: one waiting
  // flock, woken as it drops, rather than a probe every few milliseconds (up to 2 s, as before).
  if (killed) await waitFree(lock, 2);
  if (killed) audit({ event: 'release', lock, dir, keeperPid });
  return killed;
}
