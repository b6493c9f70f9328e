import type { JobIdentity } from '../model/identity.js';
import type { Lease, LeaseRequest } from '../pool/lease.js';
import type { PrepareResult } from './prepare.js';
import type { DirRecord, PathView } from '../model/record.js';
import type { RemoveResult } from '../os/remove.js';
import type { Settings } from '../model/settings.js';
import type { Disk } from '../os/disk.js';
import type { PublishReport, SeedReport } from '../store/crates.js';
import type { GitPublishReport, GitSeedReport } from '../store/gitstore.js';
import type { UnitCount } from '../pool/warmth.js';
import type { ForeignOutcome } from '../owners/reclaim.js';
import type { SccacheReport } from '../host/sccache.js';
import type { HomeChoice } from './cargo-home.js';
import type { CopyReport } from '../pool/warm-copy.js';
import type { StartTier, TierRestore, TierSave } from './tiers.js';
import type { SourcesReport } from '../store/home-sources.js';
import type { TopReport } from './home-top.js';

/*
 * What a job is, as its steps pass it on: the main step to the post step (state.ts) and to the
 * summary, the started hook to the completed hook (hook-state.ts). start.ts makes a StartedJob,
 * end.ts turns it into an EndedJob.
 */

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
  /** The sccache server the job compiles through, when it uses sccache (host/sccache.ts). */
  sccache?: SccacheReport;
  /** The view the slot's content was built under when leased (kept unless this job builds). */
  view?: PathView;
  /** Which CARGO_HOME the job got and why (cargo-home.ts). */
  home?: HomeChoice;
  /** The warm build this job's empty target started from, or why not (warm-copy.ts). */
  copy?: CopyReport;
  /** The dependency archive restored into a target still empty after the copy, or why none (tiers.ts). */
  restore?: TierRestore;
  /** The host tier's cap, for the end's save (settings `host-archives`). */
  hostArchives?: Settings['hostArchives'];
  /** The fleet store the end sends a saved archive to (settings `archive-store`): only one this job can use. */
  archiveStore?: Settings['archiveStore'];
  /** What its CARGO_HOME's sources and top were found to be at the start (shared-home.ts). */
  homeCheck?: HomeCheck;
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

/** Which CARGO_HOME a job gets and the paths it would see in each slot: what the chooser compares. */
export interface HomePlan {
  /** Why the uid's shared CARGO_HOME cannot be used (then a private one); undefined: shared. */
  problem?: string;
  shared: boolean;
  view: NonNullable<LeaseRequest['view']>;
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
  /** Where the release's time went, step by step (ms): what a step's debug log and the bench read. */
  releaseSteps?: Record<string, number>;
  diskAtRelease?: Disk;
  /** Compile units this job built and found fresh (warmth.ts); undefined when not counted. */
  units?: UnitCount;
  /** The view the slot's build is recorded under (layout slot). */
  view?: PathView;
  /** The dependency archive this job's end saved, or why none (tiers.ts). */
  archive?: TierSave;
  /** Which tier the start came from, and for a start from none, why each missed (tiers.ts). */
  from?: StartTier;
  misses?: { tier: StartTier; why: string }[];
  /** The job's own container built as another uid (the hooks' jobs): its files went back, or why they stay (end.ts). */
  container?: { uid: number; handedBack?: string; kept?: string };
  /** What its CARGO_HOME's sources and top were found to be at the end (shared-home.ts). */
  homeCheck?: HomeCheck;
}

/** What a job found its shared CARGO_HOME to be, at its start or its end (shared-home.ts). */
export interface HomeCheck {
  sources?: SourcesReport;
  top?: TopReport;
  /** Why this job builds with a private CARGO_HOME after all. */
  fallback?: string;
}
