/*
 * What a slot remembers in its slot.json: who used it last (trust domain, job, runner, uid), when,
 * what it holds and how big, under which paths its build was made (the view), and where a warm copy
 * came from. Plain data with the pure reads other modules decide on.
 */

/**
 * Where a job's steps see the root, and the uid cargo runs as there: the host's path for a job on
 * the host, the runner's translation (`/__w/...`, `/__t/...`) for a `container:` job, the path a
 * workflow mounts it at otherwise.
 */
export interface Viewpoint {
  root: string;
  uid: number;
}

/**
 * The path view a build was made under: the exact strings the job's exports (exportsFor) give at
 * a viewpoint. cargo's fingerprints hash the absolute path of every registry source under
 * CARGO_HOME, so a build made under one view recompiles everything under another.
 */
export interface PathView extends Viewpoint {
  cargoHome: string;
  target: string;
}

/**
 * What a slot or job directory remembers about its last lease. Informational only: liveness is
 * the lease lock, never this file, so a stale record (crash, kill -9) cannot pin anything.
 * Written only by the holder of the lease, atomically (temp file + rename).
 */
export interface DirRecord {
  format: 1;
  name: string;
  layout: 'slot' | 'job';
  repository: string;
  key: string;
  runnerId: string;
  runnerName: string;
  host: string;
  workflow: string;
  runId: string;
  runAttempt: string;
  job: string;
  /** The `key` input of the job that used it (absent: none). */
  jobKey?: string;
  jobUid: string;
  leasedAt: string;
  releasedAt?: string;
  /** Last time a job used the directory (lease or release): orders idle data for pruning. */
  lastUsed: string;
  sizes?: { target: number; cargoHome: number; tmp: number; measuredAt: string };
  /**
   * The uid whose files the slot holds: the leasing job's, until a root job's post step has
   * handed everything back to the root's owner (owner.ts). Absent in records of older versions.
   */
  uid?: number;
  /** Compile units the last job built and found fresh, from cargo's fingerprints (warmth.ts). */
  units?: { built: number; fresh: number; builtCrates?: string[] };
  /**
   * Set when a job that is not root found another uid's files below the slot's top entries (a
   * `docker run` step as root) and could not hand them back: its post step, or the main step of
   * a later job passing the slot over (reclaim.ts). `uid` says the same; a hand-back clears it.
   */
  foreign?: { uid: number; paths: string[]; at: string };
  /** The warm build this slot's target started from, when it was copied from another slot. */
  copiedFrom?: { slot: string; key: string; at: string };
  /**
   * Set while a job restores a dependency archive into the target (job/tiers.ts): a restore killed
   * midway leaves its temp directory there, which the guard then finds without walking every slot.
   */
  restoring?: string;
  /** Set when the guard removed the target dir, so the next job knows it starts cold. */
  prunedAt?: string;
  /**
   * The view the slot's build was made under, as cargo's own output showed it (pool/view.ts).
   * Absent: nothing built yet, a view nobody could tell, or a record of an older version.
   */
  view?: PathView;
}

export const trustDomain = (r: Pick<DirRecord, 'repository' | 'key'>) => `${r.repository}#${r.key}`;

const parsed = new Map<string, number>();
/**
 * A record's `lastUsed` in ms since the epoch, 0 when absent or unreadable. Memoised: the chooser
 * and the guard compare it many times per decision, and the fleet simulation makes thousands.
 */
export function lastUsedMs(r?: Pick<DirRecord, 'lastUsed'>): number {
  if (!r) return 0;
  let t = parsed.get(r.lastUsed);
  if (t === undefined) {
    if (parsed.size > 4096) parsed.clear();
    t = Date.parse(r.lastUsed) || 0;
    parsed.set(r.lastUsed, t);
  }
  return t;
}
