import type { JobIdentity } from './identity.js';
import { type DirRecord, trustDomain } from './record.js';

/** A slot as the chooser sees it: its record and whether its lease looked held. */
export interface SlotView {
  name: string;
  record?: DirRecord;
  live: boolean;
}

/**
 * Why a slot was chosen, in order of preference:
 * - own-job:  last used by this trust domain *and* this job: its own warm build;
 * - own-key:  this trust domain, another job (its crates, tmp and a build of the same code);
 * - base:     a PR's first run: a push to its base branch, same job, taken over without a wipe;
 * - same-job: the same job of another trust domain: wiped, but at a path where sccache has
 *             seen these arguments;
 * - lru:      any other free slot, least recently used first;
 * - new:      a new slot.
 */
export type Tier = 'own-job' | 'own-key' | 'base' | 'same-job' | 'lru' | 'new';

/** What each rule means, for the log and the job summary. */
export const TIER_TEXT: Record<Tier, string> = {
  'own-job': 'its own warm build: this PR or branch and this job used it last',
  'own-key': 'this PR or branch, another job',
  base: 'a first run from the base branch: a push there, this job',
  'same-job': 'this job under another PR or branch (wiped; a path sccache knows)',
  lru: 'the least recently used free slot',
  new: 'a new slot',
};

export interface SlotPlan {
  /** Free slots in the order to try them. An empty list means: make a new slot. */
  candidates: { name: string; tier: Tier }[];
  /** A live slot worth waiting for: the predecessor of this job (same key, workflow and job). */
  waitFor?: string;
}

export type Me = Pick<JobIdentity, 'repository' | 'key' | 'runnerId' | 'workflow' | 'job' | 'jobKey' | 'runId' | 'runAttempt' | 'baseKey'>;

const time = (r?: DirRecord) => (r ? Date.parse(r.lastUsed) || 0 : 0);

/** The job as rust-cache keys its caches: workflow, job id and the user's `key` (matrix legs). */
export const sameJob = (r: Pick<DirRecord, 'workflow' | 'job' | 'jobKey'>, me: Pick<Me, 'workflow' | 'job' | 'jobKey'>) =>
  r.workflow === me.workflow && r.job === me.job && (r.jobKey ?? '') === me.jobKey;

/** Content of a push to the PR's base branch in the same repository: trusted, may seed the PR. */
export const fromBase = (r: Pick<DirRecord, 'repository' | 'key'>, me: Pick<Me, 'repository' | 'baseKey'>) =>
  me.baseKey !== undefined && r.repository === me.repository && r.key === me.baseKey;

/**
 * Pure: which free slot a job should take, best first. Within a tier, a slot this runner used
 * last comes first (a tie-breaker only: GitHub assigns jobs to runners at random), then the
 * most recent one (the lru tier: the oldest, whose content is worth least).
 *
 * The base branch keeps its most recent slot of each job whenever it has two or more: a PR
 * takes over only the older ones (and only one, since it then has a slot of its own). With a
 * single base slot, the PR's first run takes it: its build is warm, and the base branch's next
 * push starts in a slot this job used (a path sccache knows), which becomes its own.
 * A live slot of this trust domain and job held by an earlier run (or attempt) is a
 * predecessor, usually one being cancelled by cancel-in-progress: waiting for it beats a cold
 * build elsewhere. A matrix sibling (same run), a later run or another workflow is not waited for.
 */
export function rankSlots(slots: SlotView[], me: Me): SlotPlan {
  const mine = trustDomain(me);
  const tierOf = new Map<SlotView, Tier>();
  const baseOfJob = slots.filter((s) => s.record && fromBase(s.record, me) && sameJob(s.record, me));
  const newestBase = baseOfJob.length >= 2 ? baseOfJob.reduce((a, b) => (time(b.record) > time(a.record) ? b : a)) : undefined;
  for (const s of slots) {
    if (s.live) continue;
    const r = s.record;
    if (r && trustDomain(r) === mine) tierOf.set(s, sameJob(r, me) ? 'own-job' : 'own-key');
    else if (r && fromBase(r, me) && sameJob(r, me) && s !== newestBase) tierOf.set(s, 'base');
    else if (r && r.repository === me.repository && sameJob(r, me)) tierOf.set(s, 'same-job');
    else tierOf.set(s, 'lru');
  }
  const order: Tier[] = ['own-job', 'own-key', 'base', 'same-job', 'lru'];
  const runnerFirst = (a: SlotView, b: SlotView) => Number(b.record?.runnerId === me.runnerId) - Number(a.record?.runnerId === me.runnerId);
  const candidates = [...tierOf.entries()]
    .sort(([a, ta], [b, tb]) =>
      order.indexOf(ta) - order.indexOf(tb) ||
      (ta === 'lru' ? time(a.record) - time(b.record) : runnerFirst(a, b) || time(b.record) - time(a.record)) ||
      a.name.localeCompare(b.name),
    )
    .map(([s, tier]) => ({ name: s.name, tier }));
  let waitFor: string | undefined;
  if (!candidates.some((c) => c.tier === 'own-job')) {
    const predecessor = slots.find((s) => s.live && s.record && trustDomain(s.record) === mine && sameJob(s.record, me) && earlierRun(s.record, me));
    waitFor = predecessor?.name;
  }
  return { candidates, waitFor };
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
