import { type Disk, beyond } from '../os/disk.js';
import type { Level } from '../model/units.js';
import { type DirRecord, lastUsedMs, trustDomain } from '../model/record.js';
import { type DiskView, type Me, type SlotPlan, type SlotView, fromBase, rankSlots, sameJob, waitBudget } from './choose.js';
import {
  type ArchiveView,
  type HostStats,
  type UseEntry,
  type WorthKey,
  addClosed,
  addEntry,
  archiveValues,
  byWorth,
  slotValues,
  statsOf,
  worthKey,
  worthless,
} from './value.js';
import { decideReset } from './reset.js';
import { type ArchiveKey, chooseArchive } from '../model/archive-key.js';

/*
 * The pool's policy: every choice the pool makes, as plain data in and decisions out, in the order
 * a job meets them.
 *
 *   the guard, before a job:  scan -> value -> what to keep -> what to prune, and where to stop
 *   the job's start:          rank (and how long to wait) -> reset -> copy source
 *
 * The effects call it: lease.ts (scanSlots values what it scanned, slotToKeep, acquireSlot),
 * guard.ts (runGuard), warm-copy.ts and job/start.ts (the copy); and so does the fleet
 * simulator (scripts/sim/), which has no decision of its own. What the simulator compares are
 * this policy with one rule changed (`PolicyOptions`: the rules the simulation measured, each
 * still a choice here) and, beside it, the previous release behind one adapter that implements
 * `Policy` (scripts/sim/previous.ts). The rules themselves live in the module named for each
 * concept: choose.ts (which slot, how long to wait), value.ts (what a build is worth, and the one
 * "worth nothing" rule), reset.ts (what of a slot a job keeps); the order of the guard's candidate
 * kinds lives in guard.ts's table of kinds, whose collector stamps it on each candidate.
 *
 * The archive tier's choices are steps of `Policy` too (the section "Dependency archives" below):
 * what an archive is worth per byte (value.ts `archiveValues`, in the unit of a build's worth, so
 * the guard weighs both in one order), which archive a start with nothing to copy restores, whether
 * a job's end saves one, and the host tier's cap.
 */

/** The data the policy takes and gives: a slot as scanned, a job, the disk as the chooser sees it, a ranking, the host's history, an archive. */
export type { ArchiveView, DiskView, HostStats, Me, SlotPlan, SlotView, UseEntry };

/**
 * Something the guard could delete, as its decision sees it: no tree is walked to make one.
 * `order` and `shared` come from the kind's row in guard.ts's table.
 */
export interface Candidate {
  kind: string;
  /** The kind's place in the removal order: cheapest loss first (guard.ts KINDS). */
  order: number;
  /** Nobody's data (trash) or everybody's (the stores): never another runner's idle data. */
  shared: boolean;
  path: string;
  /** From the owner's post step (slot.json); undefined when never recorded. */
  bytes?: number;
  lastUsedMs: number;
  owner?: string;
  live: boolean;
  slot?: string;
  /** The trust domain that used it last (targets): a spent merge-queue entry goes first. */
  key?: string;
  /** What its build is worth (value.ts; targets only): the least valuable goes first. */
  value?: number;
}

export interface PrunePlan<C extends Candidate = Candidate> {
  /** What the guard may remove, in order. */
  ordered: C[];
  /** Bytes in directories of live jobs (as last recorded): never touched. */
  liveBytes: number;
  live: C[];
  /**
   * Runner scope: other runners' idle data, least worth first: what this job's guard leaves to the
   * host's gc timer (host scope) unless the disk is over its hard level (scopeOf).
   */
  others: C[];
  /** Their bytes (as last recorded): what the guard's final line says it left. */
  othersBytes: number;
  /** The build the job running this guard is about to take: removed last, after everything else. */
  kept: C[];
}

export type Scope = 'runner' | 'host';

/**
 * How long after its last job a runner still counts as one that exists, for the runner scope: one
 * period of the host's gc timer (docs/operations.md, every 15 minutes). Ephemeral runners (a new
 * name for every job: Kubernetes, autoscaled VMs) end one job and are gone: their data is no
 * runner's once this has passed, and any job's guard frees it by its worth. A persistent runner
 * idle for longer loses only the scope's hold on its idle builds (leases keep live data safe in
 * every scope). Measured on the fleet simulation (ephemeral trace, knee/2, 2 seeds): an hour kept
 * gone runners' builds out of every job's reach and left 38% of jobs warm against host scope's
 * 60%; 15 minutes, 52%; 5 minutes, 56%, where the scope no longer holds back a runner between two
 * of its jobs.
 */
export const RUNNER_GONE_MS = 15 * 60_000;

/**
 * Pure: the runners that still exist, as the host tells: seen ending a job within RUNNER_GONE_MS
 * (its history, value.ts HostStats.runners; and the slots' records, which name who used each last
 * and when), or holding a lease now.
 */
export function presentRunners(history: Pick<HostStats, 'runners'> | undefined, slots: Pick<SlotView, 'record' | 'live'>[], nowMs: number): Set<string> {
  const out = new Set<string>();
  for (const [runner, t] of history?.runners ?? []) if (nowMs - t <= RUNNER_GONE_MS) out.add(runner);
  for (const s of slots) {
    const r = s.record;
    if (r && (s.live || nowMs - lastUsedMs(r) <= RUNNER_GONE_MS)) out.add(r.runnerId);
  }
  return out;
}

/**
 * Another runner's idle data, in runner scope: a runner that still exists (`present`; all of them
 * when the caller cannot tell) left it, and it is not nobody's (trash) or everybody's (the stores);
 * and the dependency archives still worth something (heldArchive; `freeArchives`: the earlier rule,
 * where runner scope freed them as it frees the stores). What the scope leaves to the host's gc timer.
 */
export const othersIdle = (
  c: Pick<Candidate, 'shared' | 'owner' | 'kind' | 'value'>,
  scope: Scope,
  runnerId: string,
  present?: ReadonlySet<string>,
  o: { freeArchives?: boolean } = {},
): boolean =>
  scope === 'runner' &&
  ((!o.freeArchives && heldArchive(c)) || (!c.shared && c.owner !== undefined && c.owner !== runnerId && (present === undefined || present.has(c.owner))));

/**
 * An archive still worth something, in runner scope: left to the gc timer and the hard level like
 * another runner's build. It serves every PR of its job and the tier has its own cap
 * (`host-archives`), so a job's guard that may free little else would otherwise free the archives
 * first: on the fleet simulation that cost more compile hours than the tier saved (incidents, the
 * floor: 53 h a day against 19 in host scope). Worth nothing (a closed PR's, what a killed save
 * or restore left): freed like trash.
 */
const heldArchive = (c: Pick<Candidate, 'kind' | 'value'>): boolean => c.kind === 'archive' && c.value !== 0;

/**
 * Pure: the level over which a guard in runner scope gives way (scopeOf): the one the operator set
 * (`disk-hard-threshold`), else room for the largest build this host has seen, as a free-space
 * floor: the largest target dir a job's end recorded in the host's history (value.ts
 * `HostStats.largest`), or a slot's record holds. Runner scope leaves other runners' idle data to
 * the host's gc timer, so the disk may stay over the threshold until the timer runs; what a job
 * must still find is room for its build. A fixed share above the threshold could not promise it
 * on every disk (halfway to full, 92.5%, leaves 7.5%: less than one build on a small host). On the
 * fleet simulation this floor failed no job for disk on any trace, on one host or several
 * (docs/simulation.md, "What each scope costs"). Nothing seen yet: the threshold itself.
 */
export function hardLevel(set: Level | undefined, history: Pick<HostStats, 'largest'> | undefined, slots: Pick<SlotView, 'record'>[], threshold: Level): Level {
  if (set) return set;
  let largest = history?.largest ?? 0;
  for (const s of slots) largest = Math.max(largest, s.record?.sizes?.target ?? 0);
  return largest > 0 ? { kind: 'free', bytes: largest } : threshold;
}

/**
 * Pure: the scope a guard run works in. `prune-scope: runner` frees only what this runner left and
 * what no runner owns; over the hard level (hardLevel) that may not leave room for the build about
 * to start, so the run frees any runner's idle data, as host scope does: the scope is never why a
 * job fails for disk.
 */
export const scopeOf = (scope: Scope, disk: Disk, hard?: Level): Scope => (scope === 'runner' && hard !== undefined && beyond(disk, hard) ? 'host' : scope);

/**
 * Pure: what may be removed, in which order. Trash counts in any scope: it is nobody's data.
 * Then job dirs of dead jobs, then targets and archives, the least valuable first (value.ts
 * `byWorth`: a closed PR's and a spent merge-queue entry's before anything; values within 25% of
 * each other by age), then `registry/src` trees and the stores, which the next job refills cheaply.
 *
 * `keep` names the slots whose build the job running this guard is about to take (its own
 * warm build, or its base's for a first run: `keepFor`): they go last, after everything else
 * idle, so the guard and the chooser never disagree about the one build this job will use.
 * Removed anyway only when nothing else is left to free.
 *
 * Runner scope (the default) is the scope the incident fleet asked for first ("only prune
 * actions-runner-N's own target dir, never a sibling's"): this runner's idle data and data no
 * runner owns (trash, the stores, archives worth nothing, and what runners that no longer exist
 * left: `present`, presentRunners), least worth first; other runners' idle data and the archives
 * still worth something are set apart (`others`) for the host's gc timer, which runs in host scope. Over the hard level the guard runs in host
 * scope (scopeOf). Host scope orders everything idle by worth, whoever used it. Live data is never
 * a candidate in any scope.
 */
export function planPrune<C extends Candidate>(
  cands: C[],
  scope: Scope,
  runnerId: string,
  o: { keep?: string[]; present?: ReadonlySet<string>; freeArchives?: boolean } = {},
): PrunePlan<C> {
  let liveBytes = 0;
  let othersBytes = 0;
  const ordered: C[] = [];
  const live: C[] = [];
  const kept: C[] = [];
  const others: C[] = [];
  for (const c of cands) {
    if (c.live) {
      liveBytes += c.bytes ?? 0;
      live.push(c);
    } else if (c.slot !== undefined && o.keep?.includes(c.slot)) kept.push(c);
    else if (othersIdle(c, scope, runnerId, o.present, o)) {
      othersBytes += c.bytes ?? 0;
      others.push(c);
    } else ordered.push(c);
  }
  const worth = new Map<C, WorthKey>(cands.map((c) => [c, worthKey(c)]));
  const order = (a: C, b: C) => a.order - b.order || byWorth(worth.get(a)!, worth.get(b)!) || a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path);
  ordered.sort(order);
  others.sort(order);
  kept.sort(order);
  // Not held back where another runner's data is worth less (host scope's order would take that
  // first): measured on the fleet simulation, holding this runner's data back for the gc timer
  // left the disk over its threshold longer and cost warm starts (incidents, knee/2: 29% warm
  // against 45%).
  return { ordered, liveBytes, live, others, othersBytes, kept };
}

/**
 * Pure: whether the guard runs at all: over its threshold, or `gc --max-age` (which removes
 * what is idle for too long whatever the disk says).
 */
export const guardRuns = (disk: Disk, threshold: Level, maxAgeMs?: number): boolean => beyond(disk, threshold) || maxAgeMs !== undefined;

/** Where the guard is in its plan: the disk as last measured, and what it freed since that the measure does not show. */
export interface GuardProgress {
  /** The disk was over the threshold when the guard took its lock. */
  overAtStart: boolean;
  disk: Disk;
  /** Bytes freed but not in `disk` (a dry run frees nothing). */
  pendingBytes: number;
  target: Level;
  /** `gc --max-age`. */
  maxAgeMs?: number;
  nowMs: number;
}

/**
 * Pure: what the guard does with the i-th entry of its plan (`ordered`, then `kept`; `kept`
 * starts at `keptFrom`): remove it while the disk, over its threshold when the guard started, is
 * not yet under its target; with `gc --max-age`, also trash and anything idle for longer (never a
 * kept build). `stop`: nothing after it will be removed either.
 */
export function guardStep(c: Pick<Candidate, 'kind' | 'lastUsedMs'>, i: number, keptFrom: number, p: GuardProgress): 'remove' | 'skip' | 'stop' {
  const used = p.disk.usedBytes - p.pendingBytes;
  const free = p.disk.freeBytes + p.pendingBytes;
  const after = { ...p.disk, usedBytes: used, freeBytes: free, usedPercent: used + free > 0 ? (used * 100) / (used + free) : 0 };
  if (p.overAtStart && beyond(after, p.target)) return 'remove';
  if (p.maxAgeMs === undefined) return 'stop';
  return i < keptFrom && (c.kind === 'trash' || p.nowMs - c.lastUsedMs > p.maxAgeMs) ? 'remove' : 'skip';
}

/** Pure: room for a new slot: the disk under `disk-target`, so a new slot costs nothing anyone needs (choose.ts DiskView). */
export const roomFor = (disk: Disk, target: Level): boolean => !beyond(disk, target);

/**
 * Pure: the slot whose build this job is about to take, for the guard to keep (planPrune's
 * `keep`): rankSlots' first choice, as under pressure, when it is the job's own warm build or its
 * base's. The slots carry the job's paths (`view`), as the lease will see them.
 */
export function keepFor(slots: SlotView[], me: Me): string[] {
  const c = rankSlots(slots, me, { room: false }).candidates[0];
  return c && (c.tier === 'own-job' || c.tier === 'base') ? [c.name] : [];
}

export type CopyRule = 'own-key' | 'base' | 'any';

export const COPY_RULE_TEXT: Record<CopyRule, string> = {
  'own-key': 'this PR or branch, the same job, in another slot',
  base: 'a push to the base branch, the same job',
  any: 'the same job of another PR or branch (reuse: always)',
};

export interface CopySource {
  name: string;
  rule: CopyRule;
  record: DirRecord;
}

const COPY_RULES: CopyRule[] = ['own-key', 'base', 'any'];
const time = (r: DirRecord) => Date.parse(r.lastUsed) || 0;

/**
 * Pure: the idle slot whose warm build this job should start from, or none (warm-copy.ts says why
 * a copy works). `cargoHome` is the CARGO_HOME this job's exports give it (exportsFor); `self` is
 * the slot it leased. The same repository and job (workflow, job, `key`), built with the same
 * CARGO_HOME string, not worthless, idle, and one this job may read under the reuse rules:
 *   own-key  its own trust domain's build in another slot (its earlier run took another slot);
 *   base     a push to its base branch (a first run: trusted content may seed it);
 *   any      `reuse: always` only: any trust domain's.
 * Content of another trust domain never flows into a trusted one: a PR's build never seeds its
 * base branch or another PR. `reuse: never` copies nothing.
 */
export function chooseCopySource(
  slots: SlotView[],
  me: Me,
  o: { reuse: 'same-key' | 'never' | 'always'; cargoHome: string; self: string },
): CopySource | undefined {
  if (o.reuse === 'never') return undefined;
  const found: CopySource[] = [];
  for (const s of slots) {
    const r = s.record;
    if (s.name === o.self || s.live || !r || r.layout !== 'slot' || worthless(r)) continue;
    // Another uid's files never handed back (reclaim.ts): not a build this job can trust to read.
    if (r.foreign) continue;
    if (r.repository !== me.repository || !sameJob(r, me)) continue;
    // Built under another CARGO_HOME (another uid, path view or a private home): not warm here.
    if (r.view === undefined || r.view.cargoHome !== o.cargoHome) continue;
    const rule: CopyRule | undefined = trustDomain(r) === trustDomain(me) ? 'own-key' : fromBase(r, me) ? 'base' : o.reuse === 'always' ? 'any' : undefined;
    if (rule) found.push({ name: s.name, rule, record: r });
  }
  found.sort((a, b) => COPY_RULES.indexOf(a.rule) - COPY_RULES.indexOf(b.rule) || time(b.record) - time(a.record) || a.name.localeCompare(b.name));
  return found[0];
}

/** Pure: does adding `bytes` keep the disk under `level`? Reflinks cost no bytes up front. */
export function copyFits(d: Disk, bytes: number, level: Level): boolean {
  const used = d.usedBytes + bytes;
  const free = d.freeBytes - bytes;
  const after: Disk = { ...d, usedBytes: used, freeBytes: free, usedPercent: used + free > 0 ? (used * 100) / (used + free) : 100 };
  return free > 0 && !beyond(after, level);
}

/*
 * Dependency archives (store/archive.ts): the host tier, and the same decisions for the fleet tier.
 *
 *   the guard:      an archive is a candidate like an idle build, weighed by the same order of
 *                   worth (archiveValues; guard.ts gives the archive row the targets' place in the
 *                   order of kinds): after trash and dead jobs' dirs, before registry sources and
 *                   the stores. It is nobody's runner's data (`shared`): it serves every PR of its
 *                   job. In host scope (the gc timer, `prune-scope: host`, a job over the hard
 *                   level) it is weighed with the builds; in runner scope one still worth something
 *                   is left to the gc timer (othersIdle). Never while a restore reads it (`live`).
 *   a job's start:  with no warm build of its own and nothing to copy, the archive restoreSource
 *                   names, from the trust domains archiveDomains allows.
 *   a job's end:    saveArchive says whether it saves one, and trimArchives which archives go so
 *                   that the tier stays under its cap (model/settings.ts archiveCapBytes).
 */

/**
 * Pure: the trust domains whose archives a start may restore, as for warm copies
 * (chooseCopySource): its own and its base branch's (a first run's, or any later start of a PR
 * whose own archive is not there); any domain with `reuse: always`; none with `reuse: never`.
 * A PR's archive never reaches its base or another PR, since no job has a PR as its base.
 */
export function archiveDomains(me: Pick<Me, 'key' | 'baseKey'>, reuse: 'same-key' | 'never' | 'always'): string[] | 'any' {
  if (reuse === 'never') return [];
  if (reuse === 'always') return 'any';
  return me.baseKey !== undefined && me.baseKey !== me.key ? [me.key, me.baseKey] : [me.key];
}

/** An archive as a start may find it: model/archive-key.ts's candidate, with its domain and fallback key. */
export interface RestoreCandidate {
  exact: string;
  fallback: string;
  savedAt: string;
  domain: string;
  repository: string;
}

/**
 * Pure: which archive a start restores, among those of its repository in the domains it may read
 * (archiveDomains): its exact key, else the newest of its fallback key (model/archive-key.ts
 * `chooseArchive`: cargo rebuilds only what the lock changed). Undefined: none, and the start
 * builds as it would have.
 */
export function restoreSource<A extends RestoreCandidate>(
  archives: A[],
  want: ArchiveKey,
  me: Pick<Me, 'repository' | 'key' | 'baseKey'>,
  reuse: 'same-key' | 'never' | 'always',
): { pick: A; how: 'exact' | 'fallback' } | undefined {
  const domains = archiveDomains(me, reuse);
  const readable = archives.filter(
    (a) => a.repository === me.repository && (domains === 'any' || domains.includes(a.domain)) && (a.exact === want.exact || a.fallback === want.fallback),
  );
  const r = chooseArchive(readable, want);
  return r && { pick: r.pick as A, how: r.how };
}

/**
 * Pure: which tier a start restores from, given what each would give (restoreSource on the host's
 * archives and on the fleet store's): the host's exact key; else the fleet's exact key (a
 * transfer costs seconds, a near archive a rebuild of what the lock changed: minutes); else the
 * host's near archive, else the fleet's. The fleet is asked only where the host has no exact key;
 * a restore from it then fills the host tier (where it fits, as a save).
 */
export function restoreTier<A>(
  host: { pick: A; how: 'exact' | 'fallback' } | undefined,
  fleet: (() => { pick: A; how: 'exact' | 'fallback' } | undefined) | undefined,
): { pick: A; how: 'exact' | 'fallback'; tier: 'host' | 'fleet' } | undefined {
  if (host?.how === 'exact') return { ...host, tier: 'host' };
  const f = fleet?.();
  if (f?.how === 'exact' || (f && !host)) return { ...f, tier: 'fleet' };
  return host && { ...host, tier: 'host' };
}

/**
 * Pure: whether an archive a start fetched from the fleet store stays in the host tier, measured
 * once it is restored: only while the disk is under the hard level (hardLevel), whose room is for
 * the build about to write. It landed after the job's guard made that room; kept anyway, it fails
 * builds for disk on small hosts (on the fleet simulation, up to 57 jobs a day on hosts at the
 * smallest disk their runners' builds fit on; none with this check, for the same compile hours).
 * Not kept, the next start on this host fetches it again.
 */
export const keepFetched = (disk: Disk, hard: Level): boolean => !beyond(disk, hard);

/** What a job's end knows when it decides whether to save an archive, as plain data. */
export interface SaveInput {
  /** The host tier is on (`host-archives` not off). */
  enabled: boolean;
  layout: 'slot' | 'job';
  /** A fork PR's job: never writes what another job reads. */
  fork: boolean;
  /** The build ran where this process cannot tell its OS and libc (the runner's hook, for a container job). */
  builtElsewhere?: boolean;
  /** Dependency units (packages not the workspace's own) the job compiled. */
  builtDependencies: number;
  /** The job's exact key (model/archive-key.ts): undefined without a Cargo.lock. */
  exact?: string;
  /** Dependency packages its build dir holds now. */
  packages: number;
  /** The archive of its exact key in its own trust domain, and in its base's: their packages. */
  own?: { packages: number };
  base?: { packages: number };
}

export type SaveDecision = { save: true; replace: boolean; why: string } | { save: false; why: string };

/**
 * Pure: why a job never saves an archive, whatever its build holds (the setting, its layout, its
 * trust, where it built); undefined when it may. The first steps of saveArchive, which a job's end
 * asks before it reads its build or asks the toolchain for the key.
 */
export function saveRefusal(i: Pick<SaveInput, 'enabled' | 'layout' | 'fork' | 'builtElsewhere'>): string | undefined {
  if (!i.enabled) return 'host-archives is off';
  if (i.layout === 'job') return 'layout: job gives each job a CARGO_HOME of its own, so no later job could use an archive of its build';
  if (i.fork) return 'a fork PR never writes an archive another PR or branch could restore';
  if (i.builtElsewhere) return "the build ran in the job's container, whose OS and libc (parts of the key) the job-completed hook on the host cannot tell";
  return undefined;
}

/** Why a job that compiled no dependency saves nothing (saveArchive; a job's end says it before it asks for the key). */
export const NOTHING_COMPILED = 'it compiled no dependency: an archive would add nothing';

/**
 * Pure: whether a job's end saves an archive of its dependencies, and why (or why not), in words
 * for its log. The one rule: the product's job end (job/tiers.ts saveTier) and the simulator both
 * call it. A job saves when it compiled dependency units and no archive of its exact key is in a
 * domain it reads; a job that restored its exact key, or kept every dependency fresh, has nothing
 * to add. An archive of the exact key that holds fewer packages than this build (a cancelled
 * build's) is replaced in the job's own domain; a base's is never replaced by a PR, which then
 * saves its own. Fork PRs never write one; nor does `layout: job`, whose CARGO_HOME is its own (a
 * registry unit's fingerprint hashes its path: no other job could restore it).
 */
export function saveArchive(i: SaveInput): SaveDecision {
  const refused = saveRefusal(i);
  if (refused) return { save: false, why: refused };
  if (i.builtDependencies <= 0) return { save: false, why: NOTHING_COMPILED };
  if (i.exact === undefined) return { save: false, why: 'no Cargo.lock: an archive is saved only under the exact lock' };
  if (i.packages <= 0) return { save: false, why: 'the build dir holds no dependency artifacts' };
  if (i.own && i.own.packages >= i.packages) return { save: false, why: 'an archive of its exact key is there already' };
  const why = `${i.packages} dependency packages, ${i.builtDependencies} compiled by this job`;
  if (i.own) return { save: true, replace: true, why: `${why}, replacing one that held fewer` };
  if (i.base && i.base.packages >= i.packages) return { save: false, why: "its base branch's archive of the exact key is there already" };
  return { save: true, replace: false, why };
}

/**
 * Pure: the archives to remove so that the tier holds at most `capBytes`, least worth first (the
 * guard's order of worth, then the oldest), never one a restore reads nor `keep` (the archive
 * just saved: its job was just seen without one). Values as archiveValues gives them.
 */
export function trimArchives<A extends Pick<ArchiveView, 'path' | 'bytes' | 'live' | 'savedMs' | 'domain'> & { value?: number }>(
  archives: A[],
  capBytes: number,
  keep?: string,
): A[] {
  let held = archives.reduce((n, a) => n + a.bytes, 0);
  if (held <= capBytes) return [];
  const w = new Map(archives.map((a) => [a, worthKey({ key: a.domain, value: a.value })]));
  const order = [...archives]
    .filter((a) => !a.live && a.path !== keep)
    .sort((a, b) => byWorth(w.get(a)!, w.get(b)!) || a.savedMs - b.savedMs || a.path.localeCompare(b.path));
  const out: A[] = [];
  for (const a of order) {
    if (held <= capBytes) break;
    out.push(a);
    held -= a.bytes;
  }
  return out;
}

/** A PR the host was told has closed (warmth.ts closed entries, forget.ts). */
export interface Closed {
  t: string;
  repository: string;
  key: string;
}

/**
 * The rules of the shipped policy that the fleet simulation measured, each a choice (docs/simulation.md,
 * "What each rule is worth"). The default of every option is what ships; the product runs `SHIPPED`.
 */
export interface PolicyOptions {
  /** Weigh idle builds by value (value.ts); false: by age alone. */
  values?: boolean;
  /** A closed PR's builds are worth nothing; false: they age out like any idle key. */
  closedPrs?: boolean;
  /** The guard keeps the build its job is about to take for last; false: by its worth like any other. */
  keepOwnBuild?: boolean;
  /**
   * What runner scope frees: `own` (what ships) only this runner's idle data and what no runner
   * owns, other runners' left to the gc timer and the hard level; `equals` (the previous rule) any
   * runner's, this runner's first among equals; `first` (the rule before that) all of this runner's
   * idle data first, then the rest in the order of kinds.
   */
  runnerScope?: 'own' | 'equals' | 'first';
  /** A sibling's build of the job's own PR or branch is taken right after its own and its base's (the previous rule); false: by worth. */
  siblingFirst?: boolean;
  /** A first run takes its base's slot; false: only copies it (the base keeps its slot). */
  firstRunTakesBase?: boolean;
  /** Wait for an earlier run only where it is ending (choose.ts waitBudget); true: for any earlier run, up to lease-wait (the previous rule). */
  waitForAnyEarlierRun?: boolean;
  /** A start without its own build copies a compatible idle one (warm-copy.ts). */
  copies?: boolean;
  /**
   * Compile-cache keys are the same in every slot (one CARGO_HOME per uid, job/rustc-wrapper.ts),
   * so a start hits what any slot compiled; false: each slot has keys of its own.
   */
  crossSlotHits?: boolean;
  /** Dependency archives on the host (the host tier): restored by a start with nothing to copy, saved by a job's end; false: none. */
  archives?: boolean;
  /** Runner scope frees archives still worth something as it frees the stores (the earlier rule); false: leaves them to the gc timer (othersIdle). */
  runnerScopeFreesArchives?: boolean;
}

/** Every step of the policy, in the order a job meets them. The previous release implements the same (scripts/sim/previous.ts). */
export interface Policy {
  /** The host's history as the value rule reads it: ended jobs and closed PRs (warmth.ts). */
  history(jobs: UseEntry[], closed: Closed[]): HostStats;
  /** A history as it grows (the simulator's day); the product reads it whole. */
  addJob(s: HostStats, e: UseEntry): void;
  addClosed(s: HostStats, repository: string, key: string, tMs: number): void;
  /**
   * scan -> value: what each scanned slot's build is worth, by name (undefined: no values, idle
   * builds go by age alone). The scan sets them on its views (lease.ts scanSlots).
   */
  values(slots: SlotView[], history: HostStats | undefined, nowMs: number): Map<string, number> | undefined;
  /** What to keep: the slots whose build this job is about to start from. */
  keep(slots: SlotView[], me: Me): string[];
  /** What to prune, in which order (the candidates carry their kind's order); `present`: the runners that still exist (presentRunners). */
  prune<C extends Candidate>(cands: C[], scope: Scope, runnerId: string, keep: string[], present?: ReadonlySet<string>): PrunePlan<C>;
  guardRuns(disk: Disk, threshold: Level, maxAgeMs?: number): boolean;
  /** Where the guard stops: what it does with the i-th entry of its plan. */
  guardStep(c: Pick<Candidate, 'kind' | 'lastUsedMs'>, i: number, keptFrom: number, p: GuardProgress): 'remove' | 'skip' | 'stop';
  room(disk: Disk, target: Level): boolean;
  /** rank: the free slots to try, best first, and the predecessor worth waiting for. */
  rank(slots: SlotView[], me: Me, disk: DiskView): SlotPlan;
  wait(me: Parameters<typeof waitBudget>[0], predecessor: Parameters<typeof waitBudget>[1], leaseWaitMs: number): { ms: number; why: string };
  /** reset: what of the leased slot the job keeps. */
  reset: typeof decideReset;
  /** copy source: the idle build a start without its own copies (undefined: none). */
  copySource(slots: SlotView[], me: Me, o: Parameters<typeof chooseCopySource>[2]): CopySource | undefined;
  copyFits(d: Disk, bytes: number, level: Level): boolean;
  /** What each idle archive is worth, by path, in the unit of `values` (undefined: no history, by age alone). */
  archiveValues(archives: ArchiveView[], history: HostStats | undefined, nowMs: number): Map<string, number> | undefined;
  /** restore: the archive a start with nothing to copy restores (undefined: none, or the tier is off). */
  restoreSource: typeof restoreSource;
  /** Whether what a start fetched from the fleet store stays in the host tier. */
  keepFetched: typeof keepFetched;
  /** A job's end: whether it saves an archive. */
  saveArchive: typeof saveArchive;
  /** The archives that go so that the host tier stays under its cap. */
  trimArchives: typeof trimArchives;
  /** The compile cache's key for a job's units built in a slot (the simulator prices starts with it). */
  compileCacheKey(slot: string, job: string): string;
}

/** Pure: the policy with these rules; every default is what ships. */
export function makePolicy(o: PolicyOptions = {}): Policy {
  const rank = (slots: SlotView[], me: Me, disk: DiskView): SlotPlan => {
    const plan = rankSlots(slots, me, disk);
    let candidates = plan.candidates;
    if (o.firstRunTakesBase === false) candidates = candidates.filter((c) => c.tier !== 'base');
    if (o.siblingFirst) {
      // Its own PR's or branch's slots of another job, warm or not, right after its own and its base's.
      const mine = trustDomain(me);
      const own = slots
        .filter((v) => !v.live && v.record && trustDomain(v.record) === mine && !sameJob(v.record, me))
        .map((v) => ({ name: v.name, tier: 'own-key' as const }));
      const head = candidates.filter((c) => c.tier === 'own-job' || c.tier === 'base');
      candidates = [...head, ...own, ...candidates.filter((c) => c.tier !== 'own-job' && c.tier !== 'base' && c.tier !== 'own-key')];
    }
    return candidates === plan.candidates ? plan : { ...plan, candidates };
  };
  return {
    history: (jobs, closed) => statsOf(jobs, o.closedPrs === false ? [] : closed),
    addJob: addEntry,
    addClosed: (s, repository, key, tMs) => {
      if (o.closedPrs !== false) addClosed(s, repository, key, tMs);
    },
    values: (slots, history, nowMs) => (o.values === false || !history ? undefined : slotValues(slots, history, nowMs)),
    keep: (slots, me) => (o.keepOwnBuild === false ? [] : keepFor(slots, me)),
    prune: (cands, scope, runnerId, keep, present) => {
      if (scope === 'host' || (o.runnerScope ?? 'own') === 'own')
        return planPrune(cands, scope, runnerId, { keep, present, freeArchives: o.runnerScopeFreesArchives });
      // The earlier runner scopes: host scope's order, this runner's data moved up.
      const plan = planPrune(cands, 'host', runnerId, { keep });
      const mine = (c: Candidate) => Number(c.owner === runnerId || (o.runnerScope === 'first' && c.shared));
      const worth = new Map(plan.ordered.map((c) => [c, worthKey(c)]));
      plan.ordered.sort((a, b) =>
        o.runnerScope === 'first'
          ? mine(b) - mine(a) || a.order - b.order
          : a.order - b.order || byWorth(worth.get(a)!, worth.get(b)!) || mine(b) - mine(a) || a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path),
      );
      for (const c of plan.ordered) if (othersIdle(c, scope, runnerId, present, { freeArchives: o.runnerScopeFreesArchives })) plan.othersBytes += c.bytes ?? 0;
      return plan;
    },
    guardRuns,
    guardStep,
    room: roomFor,
    rank,
    wait: (me, predecessor, leaseWaitMs) => (o.waitForAnyEarlierRun ? { ms: leaseWaitMs, why: 'the previous rule' } : waitBudget(me, predecessor, leaseWaitMs)),
    reset: decideReset,
    copySource: (slots, me, c) => (o.copies === false ? undefined : chooseCopySource(slots, me, c)),
    copyFits,
    archiveValues: (archives, history, nowMs) => (o.values === false || !history ? undefined : archiveValues(archives, history, nowMs)),
    restoreSource: (archives, want, me, reuse) => (o.archives === false ? undefined : restoreSource(archives, want, me, reuse)),
    keepFetched,
    saveArchive: (i) => saveArchive(o.archives === false ? { ...i, enabled: false } : i),
    trimArchives,
    compileCacheKey: (slot, job) => (o.crossSlotHits === false ? `${slot}|${job}` : job),
  };
}

/** The policy that ships: what the action, the hooks and the CLI run. */
export const SHIPPED: Policy = makePolicy();
