// The action's slot pool on a simulated host: every decision is the pool's policy
// (src/pool/policy.ts: the one that ships, one of its variants, or the previous release), made
// over slot records like the ones the action writes; only the effects are modelled here: which
// slot holds how many bytes, which is leased, what sccache's cache holds, how long a start takes.
import type { DirRecord } from '../../src/model/record.js';
import { DEFAULTS } from '../../src/model/settings.js';
import type { Level } from '../../src/model/units.js';
import type { Disk } from '../../src/os/disk.js';
import { slotCandidates } from '../../src/pool/guard.js';
import { type HostStats, type Me, type Policy, type Scope, type SlotView, type UseEntry, makePolicy } from '../../src/pool/policy.js';
import { CompileCache, type How, type Weights } from './costs.js';
import type { GuardStats, Job, Model, StartResult } from './model.js';
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

/** The guard's levels: over `threshold` it removes idle builds until under `target`. */
export interface Levels {
  threshold: Level;
  target: Level;
}

/** A slot of the simulated host: its record as the action writes it, its bytes on the disk, its lease. */
export interface Slot {
  name: string;
  bytes: number;
  live: boolean;
  record?: DirRecord;
}

/** What a guard run did: the slots it kept for last, its plan (in order), what it removed (in order). */
export interface GuardRun {
  keep: string[];
  plan: string[];
  removed: string[];
}

/**
 * The action's slot pool, driven by `policy`. `scope` is the guard's prune-scope; `room` fixes
 * the chooser's view of the disk (the replay test sets disk-target to match).
 */
export class SimPool implements Model {
  readonly guardStats: GuardStats = { runs: 0, freed: 0, removals: 0, keptOwn: 0 };
  private readonly all: Slot[] = [];
  private readonly byName = new Map<string, Slot>();
  private slotBytes = 0;
  private readonly cc: CompileCache;
  private readonly stats: HostStats;

  constructor(
    private readonly policy: Policy,
    private readonly D: number,
    private readonly level: Levels,
    private readonly w: Pick<Weights, 'sccacheBytes' | 'sccacheFraction' | 'copyDiskFraction'>,
    private readonly o: { scope: Scope; leaseWaitMs: number; room?: boolean },
  ) {
    this.cc = new CompileCache(w.sccacheBytes);
    this.stats = policy.history([], []);
  }

  /**
   * A host as it is, for the differential test (__tests__/policy.test.ts): slots with their
   * records, bytes and leases, and the history so far, oldest first, as the day would have added it.
   */
  seed(slots: Slot[], history: ({ job: UseEntry } | { closed: { repository: string; key: string; tMs: number } })[]): void {
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
    return this.slotBytes + this.cc.disk;
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

  /** The main step's guard: keep, prune, remove until the policy says stop; undefined when under the threshold. */
  guard(runnerId: string, now: number, vs: SlotView[], me: Me): GuardRun | undefined {
    const policy = this.policy;
    if (!policy.guardRuns(this.disk(), this.level.threshold)) return undefined;
    const g = this.guardStats;
    g.runs++;
    const keep = policy.keep(vs, me);
    const plan = policy.prune(slotCandidates(SIM_ROOT, vs), this.o.scope, runnerId, keep);
    const removed: string[] = [];
    for (const [i, c] of [...plan.ordered, ...plan.kept].entries()) {
      // Over its threshold when it started: the guard runs for nothing else here (no --max-age).
      const progress = { overAtStart: true, disk: this.disk(), pendingBytes: 0, target: this.level.target, nowMs: msOf(now) };
      const step = policy.guardStep(c, i, plan.ordered.length, progress);
      if (step === 'stop') break;
      if (step === 'skip') continue;
      const s = this.byName.get(c.slot!)!;
      if (s.bytes === 0) continue;
      if (keep.includes(s.name)) g.keptOwn++;
      g.freed += s.bytes;
      g.removals++;
      this.setBytes(s, 0);
      removed.push(s.name);
      if (s.record) s.record = { ...s.record, prunedAt: iso(now), sizes: { ...s.record.sizes!, target: 0 } };
    }
    return { keep, plan: plan.ordered.map((c) => c.slot!), removed };
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
    const ccKey = policy.compileCacheKey(slot.name, `${job.repo}|${spec.job}|${spec.jobKey}`);
    if (!how) how = this.cc.hit(ccKey) ? 'hit' : 'cold';
    if (how === 'hit' || how === 'cold') this.cc.put(ccKey, spec.bytes * w.sccacheFraction);
    const before = slot.bytes;
    // A warm build rewrites what it has; a cold one writes the whole target next to what is there.
    this.setBytes(slot, how === 'warm' || how === 'copy' ? Math.max(slot.bytes, spec.bytes) : slot.bytes + spec.bytes);
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
    return { warm: job.warm, how, copiedBytes: copied, failed: failed ? 'disk' : undefined, tier, reason: decision.reason };
  }

  end(job: Job, now: number): string {
    const s = job.slot as Slot;
    if (job.failed) this.setBytes(s, 0);
    s.live = false;
    const units = job.warm ? { built: 1, fresh: 99 } : { built: 99, fresh: 0 };
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
        ...units,
      };
      this.policy.addJob(this.stats, { ...e, base: job.baseKey });
    }
    return s.name;
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
