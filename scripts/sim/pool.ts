// The action's slot pool on a simulated host: every decision is the pool's policy
// (src/pool/policy.ts: the one that ships, one of its variants, or the previous release), made
// over slot records like the ones the action writes; only the effects are modelled here: which
// slot holds how many bytes, which is leased, what sccache's cache holds, how long a start takes.
import type { DirRecord } from '../../src/model/record.js';
import { DEFAULTS, DEFAULT_ARCHIVE_CAP, archiveCapBytes } from '../../src/model/settings.js';
import type { Level } from '../../src/model/units.js';
import type { Disk } from '../../src/os/disk.js';
import { type Ranked, ranked, slotCandidates } from '../../src/pool/guard.js';
import {
  type ArchiveView,
  type HostStats,
  type Me,
  type Policy,
  type Scope,
  type SlotView,
  type UseEntry,
  hardLevel,
  makePolicy,
  presentRunners,
  restoreTier,
  scopeOf,
} from '../../src/pool/policy.js';
import { CompileCache, type How, type Weights } from './costs.js';
import type { ArchiveStats, GuardStats, Job, Model, StartResult } from './model.js';
import { DEFAULT_REPO, GiB } from './trace.js';

const EPOCH = Date.UTC(2026, 10, 2);
export const iso = (min: number) => new Date(EPOCH + min * 60_000).toISOString();
export const msOf = (min: number) => EPOCH + min * 60_000;

/** Every simulated job runs as one uid with that uid's shared CARGO_HOME: the path view a slot's build is made under and seen with. */
export const SIM_ROOT = '/r';
export const SIM_HOME = `${SIM_ROOT}/homes/u1001`;
const simView = (slot: string) => ({ root: SIM_ROOT, uid: 1001, cargoHome: SIM_HOME, target: `${SIM_ROOT}/slots/${slot}/target` });

export const diskOf = (D: number, u: number): Disk => ({
  totalBytes: D,
  usedBytes: u,
  freeBytes: Math.max(0, D - u),
  usedPercent: (100 * u) / D,
  inodes: 0,
  inodesFree: 0,
  inodePercent: 0,
});

/**
 * A dependency archive as the simulated host tier and fleet tier hold it: its keys as
 * model/archive-key.ts makes them from the simulated job (one Cargo.lock per job of a trace), the
 * trust domain of the job that saved it, its bytes (traces.json archiveBytesPerTarget).
 */
export interface SimArchive extends ArchiveView {
  savedAt: string;
  lastUsedMs: number;
}

/** What every host of a fleet reaches: the fleet tier's archives (a shared directory), off every host's disk. */
export interface FleetTier {
  archives: Map<string, SimArchive>;
}

/** A simulated job's archive keys: repository, workflow, job and `key` input name it; one Cargo.lock per job of a trace. */
export const archiveKeyOf = (repo: string, job: string, jobKey: string) => {
  const fallback = `${repo}|ci|${job}|${jobKey}`;
  return { fallback, exact: `${fallback}|lock-1`, parts: {} };
};
const archivePath = (repo: string, domain: string, exact: string) => `${SIM_ROOT}/archives/${repo}/${domain}/${exact}`;
/** The dependency packages of a simulated job's build: the same for every job, so only their presence is weighed. */
const PACKAGES = 98;

/** The guard's levels: over `threshold` it removes idle builds until under `target`; over `hard`, runner scope gives way (policy.ts scopeOf). */
export interface Levels {
  threshold: Level;
  target: Level;
  /** disk-hard-threshold as set; undefined: room for the largest build seen (policy.ts hardLevel). */
  hard?: Level;
}

/** A slot of the simulated host: its record as the action writes it, its bytes on the disk, its lease. */
export interface Slot {
  name: string;
  bytes: number;
  live: boolean;
  record?: DirRecord;
}

/** What a guard run did: the slots it kept for last, its plan (in order), what it removed (in order), what runner scope left to the gc timer. */
export interface GuardRun {
  keep: string[];
  plan: string[];
  removed: string[];
  others: string[];
}

/**
 * The action's slot pool, driven by `policy`. `scope` is the guard's prune-scope; `room` fixes
 * the chooser's view of the disk (the replay test sets disk-target to match).
 */
export class SimPool implements Model {
  readonly guardStats: GuardStats = { runs: 0, freed: 0, removals: 0, keptOwn: 0, gcRuns: 0, gcFreed: 0, hard: 0 };
  private readonly all: Slot[] = [];
  private readonly byName = new Map<string, Slot>();
  private slotBytes = 0;
  private readonly cc: CompileCache;
  private readonly stats: HostStats;

  constructor(
    private readonly policy: Policy,
    private readonly D: number,
    private readonly level: Levels,
    private readonly w: Pick<Weights, 'sccacheBytes' | 'sccacheFraction' | 'copyDiskFraction'> & Partial<Pick<Weights, 'archiveFraction'>>,
    private readonly o: { scope: Scope; leaseWaitMs: number; room?: boolean; fleet?: FleetTier },
  ) {
    this.cc = new CompileCache(w.sccacheBytes);
    this.stats = policy.history([], []);
    this.archiveCap = archiveCapBytes(DEFAULT_ARCHIVE_CAP, D);
  }

  /** The host tier: archives by path, on this host's disk, under host-archives' default cap. */
  readonly archives = new Map<string, SimArchive>();
  private archiveBytes = 0;
  private readonly archiveCap: number;
  readonly archiveStats: ArchiveStats = { restores: 0, fleetRestores: 0, saves: 0, fleetPuts: 0, trimmed: 0, guardRemoved: 0 };

  /**
   * A host as it is, for the differential test (__tests__/policy.test.ts): slots with their
   * records, bytes and leases, the history so far, oldest first, as the day would have added it,
   * and the host tier's archives.
   */
  seed(slots: Slot[], history: ({ job: UseEntry } | { closed: { repository: string; key: string; tMs: number } })[], archives: SimArchive[] = []): void {
    for (const a of archives) this.addArchive({ ...a });
    for (const s of slots) {
      const slot = { ...s, bytes: 0 };
      this.all.push(slot);
      this.byName.set(slot.name, slot);
      this.setBytes(slot, s.bytes);
    }
    for (const h of history) {
      if ('job' in h) this.policy.addJob(this.stats, h.job);
      else this.policy.addClosed(this.stats, h.closed.repository, h.closed.key, h.closed.tMs);
    }
  }

  used(): number {
    return this.slotBytes + this.cc.disk + this.archiveBytes;
  }

  private addArchive(a: SimArchive) {
    this.archives.set(a.path, a);
    this.archiveBytes += a.bytes;
  }
  private dropArchive(path: string) {
    const a = this.archives.get(path);
    if (!a) return;
    this.archives.delete(path);
    this.archiveBytes -= a.bytes;
  }

  /** scan -> value for the host tier: each archive with what archiveValues says it is worth (guard.ts's archive row). */
  private archiveViews(nowMs: number): (SimArchive & { value?: number })[] {
    const views = [...this.archives.values()];
    const worth = this.policy.archiveValues(views, this.stats, nowMs);
    return views.map((a) => ({ ...a, value: worth?.get(a.path) }));
  }

  /** Keeps the host tier under its cap, as a job's save does (tiers.ts trimToCap): trimArchives' order. */
  private trim(keep: string, nowMs: number) {
    for (const a of this.policy.trimArchives(this.archiveViews(nowMs), this.archiveCap, keep)) {
      this.dropArchive(a.path);
      this.archiveStats.trimmed++;
    }
  }
  slots(): number {
    return this.all.length;
  }
  private disk() {
    return diskOf(this.D, this.used());
  }
  private setBytes(s: Slot, b: number) {
    this.slotBytes += b - s.bytes;
    s.bytes = b;
  }

  /** scan -> value: what the action's scan reads (records, leases), at the job's own paths. */
  views(nowMs: number): SlotView[] {
    const vs: SlotView[] = this.all.map((s) => ({ name: s.name, record: s.record, live: s.live, view: simView(s.name) }));
    const values = this.policy.values(vs, this.stats, nowMs);
    if (values) for (const v of vs) v.value = values.get(v.name);
    return vs;
  }

  /**
   * A guard run: keep, prune, remove until the policy says stop; undefined when under the
   * threshold. `me`: the job whose main step runs it (undefined: the host's gc timer, which keeps
   * nothing for anyone); `scope`: the gc timer's.
   */
  guard(runnerId: string, now: number, vs: SlotView[], me?: Me, scope: Scope = this.o.scope): GuardRun | undefined {
    const policy = this.policy;
    if (!policy.guardRuns(this.disk(), this.level.threshold)) return undefined;
    const g = this.guardStats;
    if (me) g.runs++;
    else g.gcRuns++;
    const keep = me ? policy.keep(vs, me) : [];
    // The product's guard.ts planGuard, on the simulated host's history and slots.
    const acting = scopeOf(scope, this.disk(), hardLevel(this.level.hard, this.stats, vs, this.level.threshold));
    if (me && acting !== scope) g.hard++;
    scope = acting;
    const present = scope === 'runner' ? presentRunners(this.stats, vs, msOf(now)) : undefined;
    // The archive row as guard.ts builds it: nobody's runner's data, in the targets' place, weighed by archiveValues.
    const archives = this.archiveViews(msOf(now)).map((a): Ranked =>
      ranked({ kind: 'archive', order: 0, shared: true, path: a.path, bytes: a.bytes, lastUsedMs: a.lastUsedMs, live: a.live, value: a.value }),
    );
    const plan = policy.prune([...slotCandidates(SIM_ROOT, vs), ...archives], scope, runnerId, keep, present);
    const removed: string[] = [];
    for (const [i, c] of [...plan.ordered, ...plan.kept].entries()) {
      // Over its threshold when it started: the guard runs for nothing else here (no --max-age).
      const progress = { overAtStart: true, disk: this.disk(), pendingBytes: 0, target: this.level.target, nowMs: msOf(now) };
      const step = policy.guardStep(c, i, plan.ordered.length, progress);
      if (step === 'stop') break;
      if (step === 'skip') continue;
      if (c.kind === 'archive') {
        if (!this.archives.has(c.path)) continue;
        if (me) g.freed += c.bytes ?? 0;
        else g.gcFreed += c.bytes ?? 0;
        g.removals++;
        this.dropArchive(c.path);
        this.archiveStats.guardRemoved++;
        removed.push(c.path);
        continue;
      }
      const s = this.byName.get(c.slot!)!;
      if (s.bytes === 0) continue;
      if (keep.includes(s.name)) g.keptOwn++;
      if (me) g.freed += s.bytes;
      else g.gcFreed += s.bytes;
      g.removals++;
      this.setBytes(s, 0);
      removed.push(s.name);
      if (s.record) s.record = { ...s.record, prunedAt: iso(now), sizes: { ...s.record.sizes!, target: 0 } };
    }
    return { keep, plan: plan.ordered.map((c) => c.slot ?? c.path), removed, others: plan.others.map((c) => c.slot ?? c.path) };
  }

  /** The host's gc timer: `cargo-isolate gc`, host scope, the action's levels. */
  gc(now: number): void {
    this.guard('gc', now, this.views(msOf(now)), undefined, 'host');
  }

  start(job: Job, runnerId: string, now: number, { noWait, retry }: { noWait: boolean; retry?: boolean }): StartResult {
    const { policy, w, level, D } = this;
    const spec = job.spec;
    const me = {
      repository: job.repo,
      key: job.key,
      runnerId,
      workflow: 'ci',
      job: spec.job,
      jobKey: spec.jobKey,
      runId: job.runId,
      runAttempt: '1',
      baseKey: job.baseKey,
      eventName: job.event,
    };
    let vs = this.views(msOf(now));
    // The guard runs first (the main step's order) and keeps the build this job is about to
    // take while anything less valuable is idle.
    if (!retry && this.guard(runnerId, now, vs, me)?.removed.length) vs = this.views(msOf(now));
    const room = this.o.room ?? policy.room(this.disk(), level.target);
    const plan = policy.rank(vs, me, { room });
    if (plan.waitFor && !noWait) {
      const ms = policy.wait(me, this.byName.get(plan.waitFor)!.record, this.o.leaseWaitMs).ms;
      if (ms > 0) return { wait: plan.waitFor, waitMinutes: ms / 60_000 };
    }
    const c = plan.candidates[0];
    let slot = c && this.byName.get(c.name);
    if (!slot) {
      slot = { name: `s${String(this.all.length).padStart(3, '0')}`, bytes: 0, live: false };
      this.all.push(slot);
      this.byName.set(slot.name, slot);
    }
    const tier = c ? c.tier : 'new';
    const decision = policy.reset(DEFAULTS.reuse, slot.record, slot.bytes > 0, me);
    if (decision.reset) this.setBytes(slot, 0);
    // Priced warm: the job's own build or its base's, still there.
    let how: How | undefined = slot.bytes > 0 && (tier === 'own-job' || tier === 'base') ? 'warm' : undefined;
    let copied = 0;
    if (!how) {
      const src = policy.copySource(vs, me, { reuse: DEFAULTS.reuse, cargoHome: SIM_HOME, self: slot.name });
      const from = src && this.byName.get(src.name);
      // The action copies only while the copy keeps the disk under the threshold (copyFits).
      if (from && from.bytes > 0 && !from.live && policy.copyFits(this.disk(), from.bytes * w.copyDiskFraction, level.threshold)) {
        copied = from.bytes;
        this.setBytes(slot, slot.bytes + from.bytes * w.copyDiskFraction);
        how = 'copy';
      }
    }
    let fetched = 0;
    if (!how) {
      const r = this.restore(job, me, now, slot.bytes);
      if (r) {
        how = r.tier === 'host' ? 'archive' : 'fleet';
        fetched = r.tier === 'fleet' ? r.bytes : 0;
      }
    }
    const ccKey = policy.compileCacheKey(slot.name, `${job.repo}|${spec.job}|${spec.jobKey}`);
    if (!how) how = this.cc.hit(ccKey) ? 'hit' : 'cold';
    if (how === 'hit' || how === 'cold') this.cc.put(ccKey, spec.bytes * w.sccacheFraction);
    const before = slot.bytes;
    // A warm build rewrites what it has; a cold one writes the whole target next to what is there.
    // A restore fills the empty target with the dependencies' artifacts, which the build then keeps.
    this.setBytes(slot, how === 'warm' || how === 'copy' || how === 'archive' || how === 'fleet' ? Math.max(slot.bytes, spec.bytes) : slot.bytes + spec.bytes);
    const failed = this.used() > D;
    if (failed) this.setBytes(slot, before);
    slot.live = true;
    slot.record = {
      format: 1,
      name: slot.name,
      layout: 'slot',
      repository: job.repo,
      key: job.key,
      runnerId,
      runnerName: runnerId,
      host: 'h',
      workflow: 'ci',
      runId: job.runId,
      runAttempt: '1',
      job: spec.job,
      jobKey: spec.jobKey || undefined,
      jobUid: `${job.runId}-${job.id}`,
      leasedAt: iso(now),
      lastUsed: iso(now),
      sizes: decision.reset ? undefined : slot.record?.sizes,
      view: simView(slot.name),
    };
    job.slot = slot;
    job.startT = now;
    job.warm = how === 'warm' || how === 'copy';
    job.restored = how === 'archive' || how === 'fleet';
    return { warm: job.warm, how, copiedBytes: copied, fetchedBytes: fetched, failed: failed ? 'disk' : undefined, tier, reason: decision.reason };
  }

  /**
   * A start with no warm build and nothing to copy: restoreSource over the host tier's archives
   * (and the fleet tier's, when the host has no exact key: policy.ts restoreTier). A fleet archive
   * lands in the host tier first, which is then kept under its cap as after a save.
   */
  private restore(job: Job, me: Me, now: number, held: number): { tier: 'host' | 'fleet'; bytes: number } | undefined {
    const want = archiveKeyOf(job.repo, job.spec.job, job.spec.jobKey);
    const host = this.policy.restoreSource([...this.archives.values()], want, me, DEFAULTS.reuse);
    const fleet = this.o.fleet;
    const r = restoreTier(host, fleet && (() => this.policy.restoreSource([...fleet.archives.values()], want, me, DEFAULTS.reuse)));
    if (!r) return undefined;
    const nowMs = msOf(now);
    if (r.tier === 'fleet') {
      // What the fleet store gives lands in the host tier, then is restored from there, and stays
      // only while the disk with the restored build is under the hard level (tiers.ts restoreTier).
      this.archiveStats.fleetRestores++;
      if (!this.archives.has(r.pick.path)) {
        this.addArchive({ ...r.pick, lastUsedMs: nowMs });
        const hard = hardLevel(this.level.hard, this.stats, this.views(nowMs), this.level.threshold);
        const restored = diskOf(this.D, this.used() + Math.max(0, job.spec.bytes - held));
        if (this.policy.keepFetched(restored, hard)) this.trim(r.pick.path, nowMs);
        else this.dropArchive(r.pick.path);
      }
    } else {
      this.archiveStats.restores++;
      r.pick.lastUsedMs = nowMs;
    }
    return { tier: r.tier, bytes: r.pick.bytes };
  }

  end(job: Job, now: number): string {
    const s = job.slot as Slot;
    if (job.failed) this.setBytes(s, 0);
    s.live = false;
    // A restored archive's dependencies are fresh: only the workspace's own units compile.
    const units = job.warm || job.restored ? { built: 1, fresh: 99 } : { built: 99, fresh: 0 };
    s.record = { ...s.record!, releasedAt: iso(now), lastUsed: iso(now), sizes: { target: s.bytes, cargoHome: 0, tmp: 0, measuredAt: iso(now) }, units };
    if (!job.failed) {
      const t = iso(now);
      const ms = (now - job.startT!) * 60_000;
      const e = {
        t,
        repository: job.repo,
        workflow: 'ci',
        job: job.spec.job,
        jobKey: job.spec.jobKey || undefined,
        key: job.key,
        run: job.runId,
        ms,
        runner: s.record!.runnerId,
        target: s.bytes,
        ...units,
      };
      this.policy.addJob(this.stats, { ...e, base: job.baseKey });
      job.saved = this.save(job, now, units.built > 1);
    }
    return s.name;
  }

  /**
   * A job's end: saveArchive with its inputs as tiers.ts gives them (the dependency units it
   * compiled; whether its own domain or its base's holds the exact key), then the cap
   * (trimArchives), then the fleet tier. What was saved and sent, for its price.
   */
  private save(job: Job, now: number, compiledDependencies: boolean): { bytes: number; fleet: boolean } | undefined {
    const fraction = this.w.archiveFraction;
    if (fraction === undefined) return undefined;
    const k = archiveKeyOf(job.repo, job.spec.job, job.spec.jobKey);
    const nowMs = msOf(now);
    const bytes = job.spec.bytes * fraction;
    // The product's rule with its inputs as tiers.ts saveTier gives them: the dependency units it
    // compiled, the archive of its exact key in its own domain and in its base's. Every build of a
    // job holds the same dependency packages here: an archive there is as full as this build.
    const held = (domain: string | undefined) => (domain && this.archives.has(archivePath(job.repo, domain, k.exact)) ? { packages: PACKAGES } : undefined);
    const decision = this.policy.saveArchive({
      enabled: this.archiveCap > 0,
      layout: 'slot',
      fork: false,
      builtDependencies: compiledDependencies ? PACKAGES : 0,
      exact: k.exact,
      packages: PACKAGES,
      own: held(job.key),
      base: job.baseKey !== job.key ? held(job.baseKey) : undefined,
    });
    if (!decision.save) return undefined;
    const path = archivePath(job.repo, job.key, k.exact);
    const a: SimArchive = {
      path,
      repository: job.repo,
      workflow: 'ci',
      job: job.spec.job,
      jobKey: job.spec.jobKey || undefined,
      domain: job.key,
      fallback: k.fallback,
      exact: k.exact,
      bytes,
      savedMs: nowMs,
      savedAt: iso(now),
      lastUsedMs: nowMs,
      live: false,
    };
    this.addArchive(a);
    this.archiveStats.saves++;
    this.trim(path, nowMs);
    const fleet = this.o.fleet;
    if (fleet) {
      fleet.archives.set(path, { ...a });
      this.archiveStats.fleetPuts++;
    }
    return { bytes, fleet: fleet !== undefined };
  }

  close(repo: string, key: string, now: number): void {
    this.policy.addClosed(this.stats, repo, key, msOf(now));
  }
}

export interface ReplayJob {
  pr?: number;
  branch?: string;
  job: string;
  runner: string;
  runId: number;
}
export interface ReplayResult {
  tier: string;
  reason: string;
  deps: 'none' | 'some';
  slot: string;
}
export type ReplayStep = ReplayJob[] | { close: number[] };

/**
 * What the action does, job by job, for explicit steps (jobs that start together, then end in
 * order): the same pool model as the simulation, for the real-cargo replay test to compare
 * with. `room` fixes the chooser's view of the disk (the test sets disk-target to match). A
 * step may also close PRs (`{ close: [1] }`: the action's run on a closed PR, or `forget`).
 * No copies and no compile cache: the replay compares the slot rule, the reset and whether
 * dependencies were built.
 */
export function replay(steps: ReplayStep[], o: { room: boolean; policy?: Policy }): ReplayResult[][] {
  const level: Levels = { threshold: { kind: 'percent', percent: 99.9 }, target: { kind: 'percent', percent: 99 } };
  const w = { sccacheBytes: 0, sccacheFraction: 0, copyDiskFraction: 1 };
  const policy = o.policy ?? makePolicy({ copies: false, crossSlotHits: false });
  const pool = new SimPool(policy, 2 ** 60, level, w, { scope: 'runner', leaseWaitMs: 0, room: o.room });
  let id = 0;
  return steps.map((step, i) => {
    if (!Array.isArray(step)) {
      for (const pr of step.close ?? []) pool.close(DEFAULT_REPO, `pr-${pr}`, i * 10);
      return [];
    }
    const jobs: Job[] = step.map((j) => ({
      id: ++id,
      spec: { repo: DEFAULT_REPO, job: j.job, jobKey: '', bytes: GiB, coldMinutes: 1 },
      repo: DEFAULT_REPO,
      key: j.pr ? `pr-${j.pr}` : `ref-${j.branch ?? 'main'}`,
      pr: j.pr,
      baseKey: j.pr ? 'ref-main' : undefined,
      runId: String(j.runId),
      event: j.pr ? 'pull_request' : 'push',
    }));
    const out = jobs.map((job, k) => {
      const r = pool.start(job, step[k].runner, i * 10, { noWait: true });
      if ('wait' in r) throw new Error('replay: a start without waiting waited');
      return { tier: r.tier!, reason: r.reason!, deps: r.warm ? ('none' as const) : ('some' as const), slot: job.slot!.name };
    });
    jobs.forEach((job, k) => pool.end(job, i * 10 + 5 + k / 100));
    return out;
  });
}
