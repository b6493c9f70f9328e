import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { ARCHIVE_FORMAT, type ArchiveKey, type IdentityParts, archiveKey } from '../model/archive-key.js';
import type { JobIdentity } from '../model/identity.js';
import { archiveDir } from '../model/layout.js';
import { type ArchiveCap, archiveCapBytes, formatArchiveCap } from '../model/settings.js';
import { type Level, formatBytes, formatDuration } from '../model/units.js';
import type { Log } from '../os/log.js';
import { measure } from '../os/disk.js';
import { removeTree } from '../os/remove.js';
import { type ArchiveTier, type RestoreResult, recordEvent } from '../pool/events.js';
import { type UnitDir, countUnits, readUnits } from '../pool/warmth.js';
import {
  findArchive,
  findArchiveByIdentity,
  hostFacts,
  isRestoreLeftover,
  listBuildDir,
  readArchiveMeta,
  restoreArchive,
  rustcOf,
  saveArchive,
} from '../store/archive.js';
import { type HostArchive, isDeadArchive, listHostArchives, removeHostArchive } from '../store/archive-host.js';
import { planArchive } from '../model/archive-content.js';
import { findLockFile, lockDependencies } from '../store/lockfile.js';
import { listDir } from '../os/absent.js';
import { archiveView } from '../pool/guard.js';
import { NOTHING_COMPILED, keepFetched, saveArchive as saveRule, saveRefusal, trimArchives } from '../pool/policy.js';
import { archiveValues } from '../pool/value.js';
import { hostHistory } from '../pool/lease.js';
import { type ArchiveStore } from '../model/archive-store.js';
import { type EntryPoint, type FleetStore, fleetLine, openFleetStore } from '../store/fleet-store.js';

/*
 * The tiers a start comes from, and the archives a job's end leaves for later starts.
 *
 * A job starts from, best first: its slot's own warm build (or its base's, for a first run); a
 * copy of a compatible warm build another idle slot holds (pool/warm-copy.ts); a dependency
 * archive of the host tier restored into its empty target (restoreTier, here); the compile cache
 * (sccache keys that are the same in every slot, rustc-wrapper.ts); or nothing (cold). Each tier is
 * tried only where the one before left the target empty, and a cold start says why each missed.
 *
 * restoreTier runs in the slot phase, after the copy (start.ts startJob), before any build:
 *   - the action's main step and `cargo-isolate run` know the whole key (model/archive-key.ts):
 *     the toolchain (`rustc -vV` where the build runs), the Cargo.lock, the environment, the
 *     CARGO_HOME and the path view; an archive of that exact key, else the newest of its fallback
 *     key (the same but the lock: cargo rebuilds only what the new lock changed);
 *   - the runner's job-started hook runs before checkout and before a toolchain step: no lock, maybe
 *     another rustc, none of the workflow's environment. It restores the job's own newest archive
 *     on this host (the same repository, workflow, job, CARGO_HOME string and architecture:
 *     model/archive-key.ts chooseByIdentity); cargo checks every unit, so a toolchain or lock that
 *     moved since costs the units it rebuilds, never a wrong build.
 * Trust is that of warm copies: a job reads its own trust domain's archives, then its base's;
 * nothing a PR saved is ever read by its base or another PR.
 *
 * The fleet tier (`archive-store`, store/fleet-store.ts) sits behind the host tier at both points:
 * a start asks the fleet store only where the host tier has nothing, and what it fetches lands in
 * the host tier before it is restored; an end that saved an archive on the host sends it on. A
 * store's fault is a warning and a cold start (or an archive kept on its host), never a failure.
 *
 * saveTier runs in the release phase (end.ts endJob), before the lease is released, after a job
 * that compiled dependency units (counted as the warm-start metric counts them) when no archive
 * of its exact key is there to restore (policy.ts saveArchive, the rule the simulator runs too, says when not). It keys the archive by what
 * built it: the rustc cargo recorded in the build dir, the lock file as the job left it. Then the
 * host tier is brought under its cap (`host-archives`), the least recently used first. A save never
 * fails a job and never delays a start: a start never waits for one.
 */

/** Where a job's start came from: what the summary and the warm-start metric say. */
export type StartTier = 'slot' | 'copy' | 'host-archive' | 'fleet-archive' | 'compile-cache' | 'cold';

export const START_TIER_TEXT: Record<StartTier, string> = {
  slot: "the slot's own warm build",
  copy: 'a copy of the warm build of another idle slot',
  'host-archive': "a dependency archive from the host's tier",
  'fleet-archive': 'a dependency archive from the fleet store',
  'compile-cache': 'the compile cache (sccache) only',
  cold: 'nothing: a cold build',
};

/** What a start did with one archive tier. */
export interface TierRestore {
  tier: ArchiveTier;
  /** How the archive was looked for: by its whole key, or by the job's identity (the runner's hook). */
  by: 'key' | 'identity';
  outcome: RestoreResult | 'off';
  /** Why none was restored (a miss), or what was wrong with the one refused. */
  why?: string;
  archive?: string;
  /** exact: its whole key; fallback: the same but the lock; newest: the job's newest (identity). */
  how?: 'exact' | 'fallback' | 'newest';
  domain?: string;
  bytes?: number;
  ms: number;
}

/** What a job's end did about an archive. */
export interface TierSave {
  tier: ArchiveTier;
  outcome: 'saved' | 'skipped' | 'failed';
  why: string;
  archive?: string;
  bytes?: number;
  ms?: number;
  /** Archives removed to keep the tier under its cap. */
  trimmed?: number;
  /** What the fleet store said of the archive sent on to it. */
  fleet?: string;
}

/** The view of the paths a key names: a job's steps on the host, or in a container (another OS and libc). */
export const viewPart = (container: boolean): string => (container ? 'container' : 'host');

/** Everything a key is made of that the job knows, and the workspace's own packages (left out of archives). */
export interface KeyContext {
  identity: Pick<JobIdentity, 'repository' | 'workflow' | 'job' | 'jobKey'>;
  /** The build's environment as far as it is known here. */
  env: Record<string, string | undefined>;
  cargoHome: string;
  view: string;
  /** The build dir: its record of rustc, when it holds one. */
  buildDir?: string;
  /** Where the lock file is searched, and `rustc -vV` run. */
  search: { manifestPath?: string; workingDirectory: string };
  lockFile?: string;
  /** That lock file's text as the step read it already (read here when absent). */
  lockText?: string;
}

/** The key of a build, and the workspace's own packages; why not when the toolchain cannot be asked. */
export async function keyOf(c: KeyContext): Promise<{ key: ArchiveKey; local: string[]; lockFile?: string } | { why: string }> {
  const lockFile = c.lockFile ?? (await findLockFile(c.search.manifestPath, c.search.workingDirectory, c.env as NodeJS.ProcessEnv).catch(() => undefined));
  const cwd = lockFile ? dirname(lockFile) : c.search.workingDirectory;
  const rustc = await rustcOf(c.buildDir, cwd, c.env as NodeJS.ProcessEnv);
  if (!rustc) return { why: `'rustc -vV' gave no answer in ${cwd}: the archive key names the toolchain` };
  const lock = c.lockText ?? (lockFile ? await fs.readFile(lockFile, 'utf8').catch(() => undefined) : undefined);
  const deps = lock === undefined ? undefined : lockDependencies(lock);
  const key = archiveKey({
    repository: c.identity.repository,
    workflow: c.identity.workflow,
    job: c.identity.job,
    jobKey: c.identity.jobKey,
    rustc,
    lockedDependencies: deps?.external,
    env: c.env,
    host: hostFacts(),
    cargoHome: c.cargoHome,
    view: c.view,
  });
  return { key, local: deps?.local ?? [], lockFile };
}

/** Pure: the trust domains whose archives a job may restore: its own, then its base's (never another PR's). */
export const readableDomains = (me: Pick<JobIdentity, 'key' | 'baseKey'>): string[] => [me.key, ...(me.baseKey && me.baseKey !== me.key ? [me.baseKey] : [])];

/** Refusals: the archive is corrupt and never will restore; removed at once, and said as a warning. */
const REFUSED = new Set(['truncated', 'altered', 'unreadable']);

export interface RestoreRequest {
  root: string;
  me: JobIdentity;
  cap: ArchiveCap;
  /** The empty build dir to fill (the slot's target: CARGO_BUILD_BUILD_DIR is set to it). */
  buildDir: string;
  /** `key`: the action and the CLI; `identity`: the runner's job-started hook. */
  by: 'key' | 'identity';
  context: KeyContext;
  timeoutMs: number;
  log: Log;
  /** Marks the slot's record while a restore may leave its temp directory in the target. */
  mark: (restoring: boolean) => Promise<void>;
  /** The fleet store behind the host tier (openFleet), if the job has one. */
  fleet?: FleetStore;
  /**
   * The hard level (policy.ts hardLevel), asked only after a restore from the fleet store: over it
   * the fetched archive leaves the host tier again (keepFetched). Absent: it stays.
   */
  hard?: () => Promise<Level>;
}

/**
 * The fleet store `archive-store` names, for a job started through `via`; undefined when none is
 * set, or when the job cannot use it (the Actions cache service from the hooks or the CLI), which
 * the log says once, as a line.
 */
export function openFleet(setting: ArchiveStore | undefined, env: Record<string, string | undefined>, via: EntryPoint, log?: Log): FleetStore | undefined {
  if (!setting) return undefined;
  const s = openFleetStore(setting, env, via);
  if (s && 'unavailable' in s) {
    log?.info(`archive-store: ${s.unavailable}.`);
    return undefined;
  }
  return s;
}

/** Says a fleet store's outcome in the log: a warning for a fault, a line otherwise. */
function sayFleet(log: Log | undefined, line: { warning: boolean; text: string }): void {
  if (line.warning) log?.warning(line.text);
  else log?.info(line.text);
}

/**
 * A start's restore from the host tier, into its empty build dir. Never throws; a refused archive is
 * removed and said as a warning, and the build dir is left empty (the restore is all or nothing).
 * The one restore point of the archive tiers: a fleet tier joins here.
 */
export async function restoreTier(o: RestoreRequest): Promise<TierRestore> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const base: { tier: TierRestore['tier']; by: TierRestore['by'] } = { tier: 'host', by: o.by };
  if (o.cap.kind === 'off') return { ...base, outcome: 'off', why: 'host-archives is off', ms: 0 };
  const domains = readableDomains(o.me);
  let found: { dir: string; domain: string; how: TierRestore['how'] } | undefined;
  let why: string | undefined;
  /** What the fleet store is asked for, where the host tier has nothing. */
  let ask: { key?: ArchiveKey; identity?: IdentityParts } | undefined;
  if (o.by === 'identity') {
    const identity: IdentityParts = {
      format: String(ARCHIVE_FORMAT),
      repository: o.me.repository,
      workflow: o.me.workflow,
      job: o.me.job,
      key: o.me.jobKey,
      arch: hostFacts().arch,
      cargoHome: o.context.cargoHome,
    };
    const f = findArchiveByIdentity(o.root, o.me.repository, domains, identity);
    if (f.found) found = { dir: f.dir, domain: f.domain, how: 'newest' };
    else [why, ask] = [f.why, { identity }];
  } else {
    const k = await keyOf(o.context);
    if ('why' in k) why = k.why;
    else {
      const f = findArchive(o.root, o.me.repository, domains, k.key);
      if (f.found) found = { dir: f.dir, domain: f.domain, how: f.how };
      else [why, ask] = [f.why, { key: k.key }];
    }
  }
  // The host has nothing: the fleet store, into the host tier, then restored from there as a host archive is.
  if (!found && ask && o.fleet) {
    const got = await o.fleet.fetch({ root: o.root, repository: o.me.repository, domains, ...ask });
    sayFleet(o.log, fleetLine(o.fleet.name, 'fetch', got));
    if (got.fetched) {
      found = { dir: got.dir, domain: got.domain, how: ask.identity ? 'newest' : got.how };
      base.tier = 'fleet';
    } else why = `${why}; ${o.fleet.name}: ${got.detail}`;
  }
  if (!found) {
    const r: TierRestore = { ...base, outcome: 'missed', why: why ?? 'no archive', ms: ms() };
    await note(o, r);
    return r;
  }
  await o.mark(true);
  const got = await restoreArchive({ dir: found.dir, buildDir: o.buildDir, timeoutMs: o.timeoutMs });
  await o.mark(false);
  const at = { archive: found.dir, how: found.how, domain: found.domain };
  let r: TierRestore;
  if (got.restored) {
    r = { ...base, ...at, outcome: 'restored', bytes: got.meta.bytes, ms: ms() };
    o.log.info(`${describeRestore(r)}.`);
    if (base.tier === 'fleet' && o.hard && !keepFetched(await measure(o.root), await o.hard())) {
      const gone = await removeHostArchive(o.root, found.dir, 'fetched from the fleet store onto a disk over its hard level', o.timeoutMs).catch(
        () => undefined,
      );
      if (gone?.outcome === 'removed') o.log.info(`Not kept in the host's tier: the disk of ${o.root} is over its hard level, whose room is for this build.`);
    }
  } else if (REFUSED.has(got.reason)) {
    const gone = await removeHostArchive(o.root, found.dir, 'a corrupt dependency archive, refused by a restore', o.timeoutMs).catch(() => undefined);
    r = { ...base, ...at, outcome: 'refused', why: got.detail, ms: ms() };
    o.log.warning(
      `The dependency archive ${found.dir} was refused (${got.reason}): ${got.detail}. ` +
        `${gone?.outcome === 'removed' ? 'It was removed; ' : ''}this job builds without it, and nothing of it is left in ${o.buildDir}.`,
    );
  } else if (got.reason === 'missing') {
    r = { ...base, ...at, outcome: 'missed', why: got.detail, ms: ms() };
  } else {
    r = { ...base, ...at, outcome: 'failed', why: got.detail, ms: ms() };
    o.log.warning(`Restoring the dependency archive ${found.dir} failed: ${got.detail}. This job builds without it.`);
  }
  await note(o, r);
  return r;
}

async function note(o: Pick<RestoreRequest, 'root' | 'log'>, r: TierRestore): Promise<void> {
  if (r.outcome === 'off') return;
  if (r.outcome === 'missed') o.log.info(`No dependency archive restored: ${r.why}.`);
  const err = await recordEvent(o.root, { event: 'archive', tier: r.tier, op: 'restore', result: r.outcome, bytes: r.bytes, ms: r.ms });
  if (err) o.log.debug(`Recording the archive restore in ${o.root}'s events log: ${err.message}`);
}

/** Pure: the line a restore gets in the log and the summary. */
export function describeRestore(r: TierRestore): string {
  const where = r.tier === 'host' ? "the host's tier" : 'the fleet store';
  if (r.outcome === 'restored') {
    const which = r.how === 'exact' ? 'its exact key' : r.how === 'fallback' ? 'an older Cargo.lock' : "the job's newest";
    return `Restored a dependency archive from ${where} (${which}, saved by ${r.domain}, ${formatBytes(r.bytes ?? 0)}) in ${formatDuration(r.ms)}`;
  }
  if (r.outcome === 'off') return `No restore from ${where}: ${r.why}`;
  return `No dependency archive from ${where}: ${r.why}`;
}

/**
 * Removes the temp directories restores killed midway left in a target dir (the job holds its
 * lease); how many it found: when any, the target's size measured before is stale.
 */
export async function clearRestoreLeftovers(root: string, target: string, timeoutMs: number): Promise<number> {
  const left = (await listDir(target, { notADirectory: 'absent' })).filter(isRestoreLeftover);
  for (const e of left) await removeTree(root, join(target, e), { why: 'a restore killed midway left it', timeoutMs });
  return left.length;
}

/**
 * Pure: the archives to remove, in order, to bring the tier under `capBytes`: dead ones first
 * (isDeadArchive), then the least worth first as the guard weighs them (policy.ts trimArchives,
 * `worth` from value.ts archiveValues), the oldest first among equals; `keep` (the one just saved)
 * last, and only when it alone is over the cap.
 */
export function archivesOverCap(
  archives: Pick<HostArchive, 'dir' | 'bytes' | 'lastUsedMs' | 'meta' | 'temp' | 'domain'>[],
  worth: ReadonlyMap<string, number>,
  capBytes: number,
  keep: string,
  nowMs: number,
): string[] {
  let total = archives.reduce((n, a) => n + a.bytes, 0);
  const others = archives.filter((a) => a.dir !== keep);
  const dead = others.filter((a) => isDeadArchive(a, false, nowMs));
  const alive = others.filter((a) => !a.temp && !isDeadArchive(a, false, nowMs));
  // trimArchives under a cap of 0 gives every archive, in its order.
  const ranked = trimArchives(
    alive.map((a) => ({ path: a.dir, bytes: a.bytes, live: false, savedMs: a.lastUsedMs, domain: a.domain, value: worth.get(a.dir) })),
    0,
  );
  const out: string[] = [];
  for (const dir of [...dead.map((a) => a.dir), ...ranked.map((a) => a.path), ...archives.filter((x) => x.dir === keep).map((a) => a.dir)]) {
    if (total <= capBytes) break;
    out.push(dir);
    total -= archives.find((a) => a.dir === dir)!.bytes;
  }
  return out;
}

export interface SaveRequest {
  root: string;
  me: JobIdentity;
  cap: ArchiveCap;
  layout: 'slot' | 'job';
  buildDir: string;
  /** When the lease began: units written since were compiled by this job. */
  startedAt: string;
  builtElsewhere: boolean;
  context: KeyContext;
  timeoutMs: number;
  log?: Log;
  /** The fleet store an archive saved here is sent on to (openFleet), if the job has one. */
  fleet?: FleetStore;
  /** The build dir's units as the end read them already (readUnits); read here when absent. */
  units?: UnitDir[];
}

/** The archive of the exact key in `domain`, when one is saved there: its packages. */
const savedIn = (root: string, repository: string, domain: string, key: ArchiveKey) => {
  const m = key.exact === undefined ? undefined : readArchiveMeta(archiveDir(root, repository, domain, key.fallback, key.exact));
  return m ? { packages: m.packages } : undefined;
};

/**
 * A job's end: saves an archive of its build's dependencies into its own trust domain's part of the
 * host tier when policy.ts saveArchive says so, then keeps the tier under its cap. Never throws. The one save
 * point of the archive tiers: a fleet tier joins here.
 */
export async function saveTier(o: SaveRequest): Promise<TierSave> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const skip = (why: string): TierSave => ({ tier: 'host', outcome: 'skipped', why, ms: ms() });
  // The cheap refusals first: no toolchain to ask, no units to read.
  const who = { enabled: o.cap.kind !== 'off', layout: o.layout, fork: o.me.fork, builtElsewhere: o.builtElsewhere };
  const refused = saveRefusal(who);
  if (refused) return skip(refused);
  try {
    // A job that compiled nothing (a warm start's usual end) compiled no dependency either: said
    // without the key, which costs a `rustc -vV` and the lock file.
    const units = o.units ?? readUnits(o.buildDir);
    const since = Date.parse(o.startedAt);
    if (countUnits(units, since).built === 0) return skip(NOTHING_COMPILED);
    const k = await keyOf({ ...o.context, buildDir: o.buildDir });
    if ('why' in k) return skip(k.why);
    const local = new Set(k.local);
    const pkg = (unit: string) => unit.replace(/-[0-9a-f]{16}$/, '');
    const deps = countUnits(
      units.filter((u) => !local.has(pkg(u.name))),
      since,
    ).built;
    const plan = planArchive(listBuildDir(o.buildDir), local);
    const packages = plan.packages;
    const decision = saveRule({
      ...who,
      builtDependencies: deps,
      exact: k.key.exact,
      packages,
      own: savedIn(o.root, o.me.repository, o.me.key, k.key),
      base: o.me.baseKey ? savedIn(o.root, o.me.repository, o.me.baseKey, k.key) : undefined,
    });
    if (!decision.save) return skip(decision.why);
    const dir = archiveDir(o.root, o.me.repository, o.me.key, k.key.fallback, k.key.exact);
    if (decision.replace) {
      const gone = await removeHostArchive(o.root, dir, 'replaced by a fuller archive of the same key', o.timeoutMs);
      if (gone.outcome === 'live') return skip('a restore is reading the archive of its exact key, which holds fewer packages: kept');
    }
    const saved = await saveArchive({ buildDir: o.buildDir, dir, key: k.key, domain: o.me.key, local: [...local], plan, timeoutMs: o.timeoutMs });
    if (!saved.saved) {
      if (saved.reason === 'exists' || saved.reason === 'raced' || saved.reason === 'nothing' || saved.reason === 'no-lock') return skip(saved.detail);
      // A host without zstd has no host tier: said in the log and the summary, not warned at every job's end.
      if (saved.reason === 'no-zstd') return skip(`${saved.detail}: install zstd on the host for its dependency archives`);
      const r: TierSave = { tier: 'host', outcome: 'failed', why: saved.detail, ms: ms() };
      await recordEvent(o.root, { event: 'archive', tier: 'host', op: 'save', result: 'failed', ms: r.ms });
      return r;
    }
    const trimmed = await trimToCap(o.root, o.cap, dir, o.timeoutMs);
    const r: TierSave = {
      tier: 'host',
      outcome: 'saved',
      why: decision.why,
      archive: dir,
      bytes: saved.meta.bytes,
      ms: ms(),
      trimmed: trimmed.length,
    };
    if (trimmed.includes(dir))
      return { ...r, outcome: 'skipped', why: `the archive alone (${formatBytes(saved.meta.bytes)}) is over host-archives (${formatArchiveCap(o.cap)})` };
    await recordEvent(o.root, { event: 'archive', tier: 'host', op: 'save', result: 'saved', bytes: r.bytes, ms: r.ms });
    if (o.fleet) {
      const put = await o.fleet.put({ root: o.root, repository: o.me.repository, domain: o.me.key, key: { ...k.key, exact: k.key.exact! }, dir });
      const line = fleetLine(o.fleet.name, 'put', put);
      sayFleet(o.log, line);
      r.fleet = line.text;
      if (put.put) await recordEvent(o.root, { event: 'archive', tier: 'fleet', op: 'save', result: 'saved', bytes: put.bytes, ms: put.ms });
      else if (line.warning) await recordEvent(o.root, { event: 'archive', tier: 'fleet', op: 'save', result: 'failed', ms: put.ms });
    }
    return r;
  } catch (e) {
    return { tier: 'host', outcome: 'failed', why: `saving a dependency archive of ${o.buildDir}: ${(e as Error).message}`, ms: ms() };
  }
}

/** Removes archives until the tier is under its cap (archivesOverCap); the ones removed. */
async function trimToCap(root: string, cap: ArchiveCap, keep: string, timeoutMs: number): Promise<string[]> {
  const disk = await measure(root);
  const now = Date.now();
  const archives = await listHostArchives(root);
  // A restore holds its archive's lock: removeHostArchive refuses it, so none is weighed as live here.
  const views = archives.flatMap((a) => (a.meta && !a.temp ? [archiveView({ ...a, meta: a.meta }, false)] : []));
  const worth = archiveValues(views, await hostHistory(root), now);
  const order = archivesOverCap(archives, worth, archiveCapBytes(cap, disk.totalBytes), keep, now);
  const removed: string[] = [];
  for (const dir of order) {
    const r = await removeHostArchive(root, dir, `the host tier over host-archives (${formatArchiveCap(cap)})`, timeoutMs);
    if (r.outcome === 'removed' || r.outcome === 'left-in-trash') removed.push(dir);
  }
  return removed;
}

/** Pure: the line a save gets in the log and the summary. */
export function describeSave(s: TierSave): string {
  if (s.outcome === 'saved') {
    const trimmed = s.trimmed ? `; ${s.trimmed} older archives removed for host-archives` : '';
    return `Saved a dependency archive to the host's tier (${s.why}; ${formatBytes(s.bytes ?? 0)} in ${formatDuration(s.ms ?? 0)}${trimmed})`;
  }
  if (s.outcome === 'failed') return `Saving a dependency archive failed: ${s.why}`;
  return `No dependency archive saved: ${s.why}`;
}

/** What a start's tiers were, for startTier and the misses of a cold start. */
export interface StartFacts {
  layout: 'slot' | 'job';
  /** The slot's previous build was kept (decideReset's `warm`), and why it was or was not. */
  kept: boolean;
  keptWhy: string;
  copy?: { outcome: string; text: string };
  restore?: TierRestore;
  /** The job compiles through a compile cache (sccache). */
  compileCache: boolean;
}

/** Pure: which tier the start came from. */
export function startTier(f: StartFacts): StartTier {
  if (f.kept) return 'slot';
  if (f.copy?.outcome === 'copied') return 'copy';
  if (f.restore?.outcome === 'restored') return f.restore.tier === 'host' ? 'host-archive' : 'fleet-archive';
  return f.compileCache ? 'compile-cache' : 'cold';
}

/** Pure: for a start that came from no warm tier, why each missed, in the order they were tried. */
export function tierMisses(f: StartFacts): { tier: StartTier; why: string }[] {
  const t = startTier(f);
  if (t === 'slot' || t === 'copy' || t === 'host-archive' || t === 'fleet-archive') return [];
  const out: { tier: StartTier; why: string }[] = [{ tier: 'slot', why: f.keptWhy }];
  if (f.layout === 'job') return [...out, { tier: 'copy', why: 'layout: job starts every job empty' }];
  out.push({ tier: 'copy', why: f.copy ? f.copy.text : 'no idle slot holds a compatible warm build of this job' });
  if (f.restore) out.push({ tier: f.restore.tier === 'host' ? 'host-archive' : 'fleet-archive', why: f.restore.why ?? f.restore.outcome });
  if (!f.compileCache) out.push({ tier: 'compile-cache', why: 'no RUSTC_WRAPPER: the job compiles through no compile cache' });
  return out;
}
