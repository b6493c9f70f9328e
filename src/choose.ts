import type { JobIdentity } from './identity.js';
import { type DirRecord, trustDomain } from './record.js';

/** A slot as the chooser sees it: its record and whether its lease looked held. */
export interface SlotView {
  name: string;
  record?: DirRecord;
  live: boolean;
}

export type Tier = 'warm' | 'runner' | 'lru' | 'new';

export interface SlotPlan {
  /** Free slots in the order to try them. An empty list means: make a new slot. */
  candidates: { name: string; tier: Tier }[];
  /** A live slot worth waiting for: the predecessor of this job (same key, workflow and job). */
  waitFor?: string;
}

type Me = Pick<JobIdentity, 'repository' | 'key' | 'runnerId' | 'workflow' | 'job' | 'runId' | 'runAttempt'>;

const time = (r?: DirRecord) => (r ? Date.parse(r.lastUsed) || 0 : 0);

/**
 * Pure: which free slot a job should take. Preference, as DESIGN.md has it:
 * 1. warm: last used under this job's trust domain (incremental build and sccache hit);
 * 2. runner: this runner used it last (stable paths for this runner's caches);
 * 3. lru: any other free slot, least recently used first (its content is the least valuable);
 * 4. new: a new slot.
 * A live slot of this trust domain held by an earlier run (or attempt) of the same workflow and
 * job is a predecessor, usually one being cancelled by cancel-in-progress: waiting for it beats
 * a cold build in another slot. A matrix sibling (same run), a later run or another workflow
 * is not waited for.
 */
export function rankSlots(slots: SlotView[], me: Me): SlotPlan {
  const mine = trustDomain(me);
  const free = slots.filter((s) => !s.live);
  const warm = free
    .filter((s) => s.record && trustDomain(s.record) === mine)
    .sort((a, b) => Number(b.record!.runnerId === me.runnerId) - Number(a.record!.runnerId === me.runnerId) || time(b.record) - time(a.record));
  const runner = free
    .filter((s) => !warm.includes(s) && s.record?.runnerId === me.runnerId)
    .sort((a, b) => time(b.record) - time(a.record));
  const lru = free.filter((s) => !warm.includes(s) && !runner.includes(s)).sort((a, b) => time(a.record) - time(b.record) || a.name.localeCompare(b.name));
  const candidates = [
    ...warm.map((s) => ({ name: s.name, tier: 'warm' as const })),
    ...runner.map((s) => ({ name: s.name, tier: 'runner' as const })),
    ...lru.map((s) => ({ name: s.name, tier: 'lru' as const })),
  ];
  let waitFor: string | undefined;
  if (warm.length === 0) {
    const predecessor = slots.find(
      (s) => s.live && s.record && trustDomain(s.record) === mine && s.record.workflow === me.workflow && s.record.job === me.job && earlierRun(s.record, me),
    );
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
