// What every model of the host implements for the simulation loop (fleet.ts): the action's slot
// pool (pool.ts), and the reference, LRU and the fleets' own layouts beside it (baselines.ts).
import type { How } from './costs.js';
import type { JobSpec, PushKind } from './trace.js';

/** One job of one push as the simulation runs it; the models note what they need on it. */
export interface Job {
  id: number;
  spec: JobSpec;
  repo: string;
  key: string;
  pr?: number;
  baseKey?: string;
  runId: string;
  kind?: PushKind;
  event: string;
  first?: boolean;
  runner?: { id: string; host?: number };
  started?: boolean;
  done?: boolean;
  cancelled?: boolean;
  failed?: boolean;
  waiting?: string;
  waitedSince?: number;
  startT?: number;
  endT?: number;
  warm?: boolean;
  /** The pool model: the start restored a dependency archive; the end saved one (its bytes, and whether it went to the fleet tier too). */
  restored?: boolean;
  saved?: { bytes: number; fleet: boolean };
  /** The pool model's slot, the entry models' entry, the layouts' directory and bytes. */
  slot?: { name: string };
  entry?: unknown;
  dup?: boolean;
  dir?: unknown;
  bytes?: number;
}

export interface Started {
  warm: boolean;
  how: How;
  failed?: 'disk' | 'race';
  copiedBytes?: number;
  /** Archive bytes fetched from a store off the host (the fleet tier; rust-cache's cache service). */
  fetchedBytes?: number;
  /** The pool model: the chooser's tier and the reset's reason. */
  tier?: string;
  reason?: string;
}

/** A start is either made or has to wait for an entry held by an earlier run. */
export type StartResult = Started | { wait: string; waitMinutes: number };

export interface GuardStats {
  runs: number;
  freed: number;
  removals: number;
  keptOwn: number;
  /** Runs of the host's gc timer that found the disk over its threshold, and what they freed. */
  gcRuns: number;
  gcFreed: number;
  /** Job guards that found the disk over its hard level: runner scope gave way to host scope. */
  hard: number;
}

export interface Model {
  used(): number;
  start(job: Job, runnerId: string, now: number, o: { noWait: boolean; retry?: boolean }): StartResult;
  /** Ends a job; what it released, for the jobs waiting for it. */
  end(job: Job, now: number): string | undefined;
  close?(repo: string, key: string, now: number): void;
  /** The host's gc timer: `cargo-isolate gc`, host scope (the pool only). */
  gc?(now: number): void;
  slots?(): number;
  guardStats?: GuardStats;
  /** The pool: what its archive tiers did (restores from each tier, saves, archives the cap and the guards removed). */
  archiveStats?: ArchiveStats;
}

export interface ArchiveStats {
  restores: number;
  fleetRestores: number;
  saves: number;
  fleetPuts: number;
  trimmed: number;
  guardRemoved: number;
}
