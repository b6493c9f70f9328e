import type { JobIdentity } from '../model/identity.js';
import { type WorthKey, byWorth, worthKey, worthNothing } from './value.js';
import { type DirRecord, type PathView, type Viewpoint, lastUsedMs, trustDomain } from '../model/record.js';
import { SAME_JOB_TIER } from '../model/messages.js';

/*
 * Which slot a job takes (rankSlots) and how long it waits for an earlier run of its own
 * (waitBudget): pure rules over the slots' records, which the pool's policy (policy.ts) applies at
 * its rank and wait steps. Also the vocabulary of slots and jobs the other rules share.
 */

/**
 * A slot as the chooser sees it: its record, whether its lease looked held, and the value of its
 * build (value.ts `slotValues`; absent: unknown, ordered by age alone).
 */
export interface SlotView {
  name: string;
  record?: DirRecord;
  live: boolean;
  /** The paths this job would see in the slot (its exports at the job's viewpoint); absent: not known. */
  view?: Pick<PathView, 'cargoHome' | 'target'>;
  value?: number;
}

/**
 * Why a slot was chosen, in order of preference:
 * - own-job:  last used by this trust domain *and* this job: its own warm build;
 * - base:     a first run (a PR, merge-queue entry, new branch, tag): a push to its base branch,
 *             same job, taken over without a wipe;
 * - own-key:  this trust domain, another job: a sibling's build, taken only when it is worth
 *             least (nothing to wipe: the crates and tmp stay);
 * - same-job: the same job of another trust domain: emptied, but at a path where sccache has
 *             seen these arguments;
 * - lru:      any other free slot;
 * - new:      a new slot.
 */
export type Tier = 'own-job' | 'own-key' | 'base' | 'same-job' | 'lru' | 'new';

/** What each rule means, for the log and the job summary. */
export const TIER_TEXT: Record<Tier, string> = {
  'own-job': 'this PR or branch and this job used it last',
  'own-key': 'this PR or branch, another job: the build worth least on the host',
  base: 'a first run from the base branch: a push there, this job',
  // The troubleshooting page quotes it (low sccache hit rates): it lives in the catalog.
  'same-job': SAME_JOB_TIER,
  lru: 'a free slot of another job, the least valuable first',
  new: 'a new slot',
};

export interface SlotPlan {
  /** Free slots in the order to try them. An empty list means: make a new slot. */
  candidates: { name: string; tier: Tier }[];
  /** A live slot worth waiting for: the predecessor of this job (same key, workflow and job). */
  waitFor?: string;
}

export type Me = Pick<JobIdentity, 'repository' | 'key' | 'runnerId' | 'workflow' | 'job' | 'jobKey' | 'runId' | 'runAttempt' | 'baseKey'>;

/**
 * What the chooser knows about the disk, as plain data (the caller measures it after the
 * guard). `room`: the disk is under the guard's `disk-target`, so a new slot costs nothing
 * anyone needs. Absent means no room: the chooser then behaves as under pressure.
 */
export interface DiskView {
  room?: boolean;
}

const time = lastUsedMs;

/** The job as rust-cache keys its caches: workflow, job id and the user's `key` (matrix legs). */
export const sameJob = (r: Pick<DirRecord, 'workflow' | 'job' | 'jobKey'>, me: Pick<Me, 'workflow' | 'job' | 'jobKey'>) =>
  r.workflow === me.workflow && r.job === me.job && (r.jobKey ?? '') === me.jobKey;

/** Content of a push to the job's base branch in the same repository: trusted, may seed a first run. */
export const fromBase = (r: Pick<DirRecord, 'repository' | 'key'>, me: Pick<Me, 'repository' | 'baseKey'>) =>
  me.baseKey !== undefined && r.repository === me.repository && r.key === me.baseKey;

/**
 * Pure: which free slot a job should take, best first. The pool is a cache whose budget is the
 * disk: a warm build is an entry, the guard is the eviction mechanism, and the chooser never
 * destroys an entry it does not have to, nor one worth more than another it could take.
 *
 * 1. The job's own warm build (own-job), then, for a first run, its base branch's (base).
 * 2. A free slot that holds nothing worth keeping (value.ts `worthNothing`: a pruned or empty
 *    target, a spent merge-queue entry, a closed PR's build, an older copy of a build whose newer
 *    copy is idle too), in the order of worth (value.ts `byWorth`: a spent merge-queue entry first,
 *    its bytes come back), then the same job's path (sccache hits there), then a sibling job's of
 *    its own key (no wipe), then any other.
 * 3. With room (the disk under `disk-target`): nothing else. Every warm build is left alone, a
 *    sibling's included, and the caller makes a new slot.
 *    Under pressure: every other free slot, the least valuable first (`byWorth`), then among equals this job's path, a sibling's of its own key, the
 *    least recently used; whatever job or runner used it.
 * Within a tier the slot this runner used last only breaks ties: GitHub assigns jobs to runners
 * at random. A slot whose build was made under another path view than this job's (`warmFor`: a
 * container's paths for a host job, or the reverse) is none of the job's own content in 1.: a
 * PR's container job and its host job each keep a build of their own.
 *
 * A sibling's warm build (own-key) used to come second, before everything but the job's own.
 * In the fleet simulation that rule lost warm starts wherever the disk was scarce: a job whose
 * own build the guard had removed took a sibling's, the sibling then started cold and took the
 * next one, and the cascade spread (docs/simulation.md). Its content is another job's build,
 * no warmer for this job than a stranger's; it now goes by value like any other.
 *
 * The base branch keeps its most recent slot of each job whenever it has two or more: a first
 * run takes over only the older ones (and only one, since it then has a slot of its own). With a
 * single base slot, the first run takes it: its build is warm, and the base branch's next
 * push starts elsewhere (docs/simulation.md weighs this trade-off on a simulated day).
 * A live slot of this trust domain and job held by an earlier run (or attempt) is a
 * predecessor: `waitFor` names it, and `waitBudget` says how long waiting can pay. A matrix
 * sibling (same run), a later run or another workflow is not waited for.
 */
export function rankSlots(slots: SlotView[], me: Me, disk: DiskView = {}): SlotPlan {
  const mine = trustDomain(me);
  const room = disk.room === true;
  const baseOfJob = slots.filter((s) => s.record && fromBase(s.record, me) && sameJob(s.record, me));
  const newestBase = baseOfJob.length >= 2 ? baseOfJob.reduce((a, b) => (time(b.record) > time(a.record) ? b : a)) : undefined;
  // Rank: 0 own-job, 1 base, 2 worth nothing, 3 warm content of others (pressure only).
  type Ranked = { s: SlotView; tier: Tier; rank: number; t: number; pref: number; runner: number; w?: WorthKey };
  const ranked: Ranked[] = [];
  for (const s of slots) {
    if (s.live) continue;
    const r = s.record;
    const t = time(r);
    const runner = Number(r?.runnerId === me.runnerId);
    const own = r !== undefined && trustDomain(r) === mine;
    // A build made under another path view is not warm for this job: it ranks as others' content.
    const fits = warmFor(r?.view, s.view);
    if (fits && own && sameJob(r, me)) {
      ranked.push({ s, tier: 'own-job', rank: 0, t, pref: 0, runner });
      continue;
    }
    if (fits && r && !own && fromBase(r, me) && sameJob(r, me) && s !== newestBase) {
      ranked.push({ s, tier: 'base', rank: 1, t, pref: 0, runner });
      continue;
    }
    const tier: Tier = own ? 'own-key' : r && r.repository === me.repository && sameJob(r, me) ? 'same-job' : 'lru';
    // Among equals: this job's path (sccache), then a sibling's (nothing to wipe), then any.
    const pref = tier === 'same-job' ? 0 : tier === 'own-key' ? 1 : 2;
    if (worthNothing(s)) ranked.push({ s, tier, rank: 2, t, pref, runner, w: worthKey({ key: r?.key, value: s.value }) });
    else if (!room) ranked.push({ s, tier, rank: 3, t, pref, runner, w: worthKey({ key: r?.key, value: s.value }) });
  }
  const order = (x: Ranked, y: Ranked): number => {
    if (x.rank !== y.rank) return x.rank - y.rank;
    if (x.rank <= 1) return y.runner - x.runner || y.t - x.t;
    // Nothing worth keeping: a spent queue entry first (taking it also gives its bytes back).
    if (x.rank === 2) return byWorth(x.w!, y.w!) || x.pref - y.pref || y.runner - x.runner || x.t - y.t;
    // Evicting: the least valuable content goes first, whoever used it.
    return byWorth(x.w!, y.w!) || x.pref - y.pref || x.t - y.t || y.runner - x.runner;
  };
  const candidates = ranked.sort((x, y) => order(x, y) || x.s.name.localeCompare(y.s.name)).map(({ s, tier }) => ({ name: s.name, tier }));
  let waitFor: string | undefined;
  if (!candidates.some((c) => c.tier === 'own-job')) {
    const predecessor = slots.find(
      (s) => s.live && s.record && trustDomain(s.record) === mine && sameJob(s.record, me) && earlierRun(s.record, me) && warmFor(s.record.view, s.view),
    );
    waitFor = predecessor?.name;
  }
  return { candidates, waitFor };
}

/**
 * Pure: can a build made under `built` be warm for a job that sees `seen` in the same slot? Only
 * when both are the same strings: cargo's fingerprints hash the absolute path of every registry
 * source under CARGO_HOME, so a container's `/__w/_tool/...` build recompiles everything on the
 * host and the reverse. A build whose view nobody could tell (a record of an older version, a
 * `docker run` step mounting the slot elsewhere) counts as warm, as it always did. A job whose own
 * view is not known (the runner's hook, before the job's first build on this host) cannot tell
 * either: it takes no build made under a known view but its own.
 */
export function warmFor(built: Pick<PathView, 'cargoHome' | 'target'> | undefined, seen: Pick<PathView, 'cargoHome' | 'target'> | undefined): boolean {
  if (!built) return true;
  if (!seen) return false;
  return built.cargoHome === seen.cargoHome && built.target === seen.target;
}

/**
 * Pure: where this job's build will see the root, when the job cannot see it from where it runs
 * (the runner's hook runs on the host, its job perhaps in a container): the view its own last
 * build on this host was made under, in its own trust domain first, then any (a first run's
 * base). A job keeps its `container:` from push to push; when it changes, the first build
 * recompiles once and records the new view.
 */
export function jobViewpoint(slots: Pick<SlotView, 'record'>[], me: Pick<Me, 'repository' | 'key' | 'workflow' | 'job' | 'jobKey'>): Viewpoint | undefined {
  const mine = trustDomain(me);
  const history = slots
    .map((s) => s.record)
    .filter((r): r is DirRecord & { view: PathView } => r?.view !== undefined && r.repository === me.repository && sameJob(r, me));
  const latest = (rs: typeof history) => rs.reduce<(typeof history)[number] | undefined>((a, b) => (!a || time(b) > time(a) ? b : a), undefined);
  const r = latest(history.filter((h) => trustDomain(h) === mine)) ?? latest(history);
  return r && { root: r.view.root, uid: r.view.uid };
}

/**
 * How long a cancelled earlier run takes to let go of its slot, measured (docs/simulation.md,
 * "Waiting for a cancelled run"): the runner sends SIGINT to the step's process, SIGTERM 7.5 s
 * later and SIGKILL 2.5 s after that (actions/runner), then runs every post step (ours
 * releases the lease), then kills what is left of the job (a cargo its shell left running holds
 * cargo's locks until then). With a margin for a loaded host.
 */
export const CANCEL_RELEASE_MS = 20_000;

/**
 * Pure: how long to wait for the predecessor `rankSlots` named, at most `lease-wait`. Waiting
 * pays only where the earlier run is ending: a PR's earlier run, which a new push cancels
 * (the README's workflow cancels PR runs in progress), or an earlier attempt of the same run (a
 * re-run starts once that attempt ended: only its post steps are left). A push to a branch, a
 * tag or a schedule does not cancel the run before it: that run builds for minutes more, so the
 * job starts at once in its next-best slot instead (a wait there once cost 65 s, then a cold
 * start anyway).
 */
export function waitBudget(
  me: Pick<JobIdentity, 'key' | 'eventName' | 'runId' | 'runAttempt'>,
  predecessor: Pick<DirRecord, 'key' | 'runId' | 'runAttempt'> | undefined,
  leaseWaitMs: number,
): { ms: number; why: string } {
  const cap = Math.min(leaseWaitMs, CANCEL_RELEASE_MS);
  if (predecessor && predecessor.runId === me.runId) return { ms: cap, why: `attempt ${predecessor.runAttempt} of this run is ending` };
  if (/^pull_request/.test(me.eventName) && me.key.startsWith('pr-')) return { ms: cap, why: 'an earlier run of this PR, cancelled by the new push' };
  return { ms: 0, why: `an earlier run of ${me.key} is still building (${me.eventName} runs are not cancelled by a new one)` };
}

const numeric = (v: string) => (/^\d{1,30}$/.test(v) ? BigInt(v) : undefined);

/** Run ids grow with time on GitHub and Forgejo: a later run is never a predecessor. */
export function earlierRun(r: Pick<DirRecord, 'runId' | 'runAttempt'>, me: Pick<JobIdentity, 'runId' | 'runAttempt'>): boolean {
  const [a, b] = [numeric(r.runId), numeric(me.runId)];
  if (a === undefined || b === undefined) return false;
  if (a !== b) return a < b;
  const [x, y] = [numeric(r.runAttempt), numeric(me.runAttempt)];
  return x !== undefined && y !== undefined && x < y;
}
