// A deterministic, seeded, discrete-event simulation of one host over a simulated day: the
// pushes of a trace (trace.ts) become jobs, which wait for a runner, start on one of the models
// (the action's pool, pool.ts, whose every decision is the pool's policy; or a baseline,
// baselines.ts), build for as long as their start costs (costs.ts) and end. Method and
// assumptions: docs/simulation.md.
import { DEFAULTS } from '../../src/model/settings.js';
import { parseDuration } from '../../src/model/units.js';
import { type Policy, SHIPPED, type Scope } from '../../src/pool/policy.js';
import { type EntryRule, type Layout, type Shared, entryModel, layoutModel, percentOf } from './baselines.js';
import { CompileCache, type How, type Weights, weightsOf } from './costs.js';
import type { ArchiveStats, Job, Model } from './model.js';
import { type Levels, SimPool } from './pool.js';
import { type Close, type Config, GiB, type Push, type Trace, rng } from './trace.js';

/**
 * One column of the comparison: a model of the host and, for the action's pool, the policy it
 * runs and the settings it runs with (the defaults unless given). The flags name the column for
 * the tables.
 */
export interface SimPolicy {
  name?: string;
  model: 'pool' | 'entry' | 'reference' | Layout;
  /** The pool's decisions; for the entry models, their rule for waiting (default: the shipped policy). */
  policy?: Policy;
  /** prune-scope (default: the settings' default). */
  scope?: Scope;
  /** The pool: the host's gc timer (host scope, every traces.json `gc.everyMinutes`); default on, as docs/operations.md sets it up. */
  gc?: boolean;
  /** disk-target, when not the settings' default. */
  target?: string;
  /** lease-wait in ms, when not the settings' default. */
  leaseWaitMs?: number;
  /** The entry models: their eviction rule; a first run copies its base's entry; every start may. */
  rule?: EntryRule;
  copies?: boolean;
  anyBase?: boolean;
  shipped?: boolean;
  variant?: string;
  ablation?: boolean;
  previous?: boolean;
  lru?: boolean;
  reference?: boolean;
  strongReference?: boolean;
  /** The pool: the fleet tier (a shared directory every host reaches) behind the host tier. */
  fleetTier?: boolean;
  /** The pool without the archive tiers (the policy's `archives: false`): the figures before them. */
  noTiers?: boolean;
  /** The shipped policy in host scope: what the verdicts weigh against LRU and the reference, which free any runner's data too. */
  hostScope?: boolean;
  hostScopeNoTiers?: boolean;
  baseline?: Layout;
  /** A per-job record, for analyses that compare two policies job by job. */
  jobLog?: { t: number; id: string; how: How; tier?: string; kind?: string; first?: boolean }[];
}

export interface Stats {
  jobs: number;
  warm: number;
  cold: number;
  hits: number;
  copies: number;
  failedDisk: number;
  failedRace: number;
  minutes: number;
  queueJobs: number;
  queueWarm: number;
  peak: number;
  overMinutes: number;
  cancelled: number;
  waits: number;
  waitMinutes: number;
  byHow: Partial<Record<How, number>>;
}

export interface TimelinePoint {
  minute: number;
  used: number;
  warm: number;
  jobs: number;
}

export type SimResult = { stats: Stats; timeline: TimelinePoint[]; slots?: number; guard?: Model['guardStats']; archives?: ArchiveStats };

type Event = { t: number; seq?: number } & (
  | { type: 'push'; push: Push }
  | { type: 'close'; close: Close }
  | { type: 'sample' }
  | { type: 'end'; job: Job }
  | { type: 'timeout'; job: Job }
  | { type: 'gc'; host: number }
);

/** A binary heap of events ordered by time, then by insertion. */
class Events {
  #h: Event[] = [];
  #seq = 0;
  push(e: Event) {
    e.seq = this.#seq++;
    const h = this.#h;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (Events.less(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  pop(): Event {
    const h = this.#h;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < h.length && Events.less(h[l], h[m])) m = l;
        if (r < h.length && Events.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
  get size() {
    return this.#h.length;
  }
  static less(a: Event, b: Event) {
    return a.t < b.t || (a.t === b.t && a.seq! < b.seq!);
  }
}

/** The settings' default lease-wait, in ms. */
export const LEASE_WAIT_MS = parseDuration(DEFAULTS['lease-wait'])!;

/** The wait rule the entry models share with the action: for a job's own entry held by the run before it. */
const entryWait = (policy: Policy, leaseWaitMs: number) => (job: Job) => {
  const me = { key: job.key, eventName: job.event, runId: job.runId, runAttempt: '1' };
  return policy.wait(me, { key: job.key, runId: String(Number(job.runId) - 1), runAttempt: '1' }, leaseWaitMs).ms / 60_000;
};

export function modelFor(trace: Trace, sp: SimPolicy, D: number, level: Levels, w: Weights, shared?: Shared): Model {
  const leaseWaitMs = sp.leaseWaitMs ?? LEASE_WAIT_MS;
  if (sp.model === 'pool')
    return new SimPool(sp.policy ?? SHIPPED, D, level, w, { scope: sp.scope ?? DEFAULTS['prune-scope'], leaseWaitMs, fleet: shared?.fleet });
  if (sp.model === 'entry') {
    const waitMinutes = entryWait(sp.policy ?? SHIPPED, leaseWaitMs);
    return entryModel(trace, D, level, w, { rule: sp.rule ?? 'lru', copies: sp.copies, anyBase: sp.anyBase, waitMinutes });
  }
  if (sp.model === 'reference') throw new Error('the reference is two entry models (run.ts runOne)');
  return layoutModel(sp.model, D, w, shared);
}

/**
 * Runs one policy over one trace on a disk of D bytes; metrics and a timeline. `hosts`: the
 * trace's runners spread over that many hosts (runner i on host i mod hosts), each with a disk of
 * D bytes and its own pool, gc timer and local caches; a job goes to a random idle runner of the
 * fleet, as GitHub assigns them. What hosts share is off their disks: rust-cache's archives (the
 * cache service), the pool's fleet tier (a shared directory) and, for the per-run layout on several
 * hosts, a remote sccache backend.
 */
export function simulate(
  trace: Trace,
  sp: SimPolicy,
  D: number,
  cfg: Config,
  level: Levels,
  w: Weights = weightsOf(cfg),
  o: { hosts?: number } = {},
): SimResult {
  const r = rng(trace.seed * 7919 + 17);
  const hosts = o.hosts ?? 1;
  if (hosts > 1 && sp.model !== 'pool' && sp.model !== 'per-run' && sp.model !== 'rust-cache') throw new Error(`the ${sp.model} model runs on one host only`);
  const shared: Shared = {
    archives: new Set(),
    remote: hosts > 1 && sp.model === 'per-run' ? new CompileCache(w.sccacheBytes * hosts) : undefined,
    fleet: sp.fleetTier ? { archives: new Map() } : undefined,
  };
  const models = Array.from({ length: hosts }, () => modelFor(trace, sp, D, level, w, shared));
  const model = models[0];
  const events = new Events();
  for (const p of trace.pushes) events.push({ t: p.t, type: 'push', push: p });
  for (const c of trace.closes) events.push({ t: c.t, type: 'close', close: c });
  for (let t = 0; t <= trace.day; t += cfg.day.sampleMinutes) events.push({ t, type: 'sample' });
  // The host's gc timer, where the model has one (the pool; sp.gc false: a host without it).
  if (model.gc && sp.gc !== false)
    for (let t = w.gcEveryMinutes; t <= trace.day; t += w.gcEveryMinutes) for (let h = 0; h < hosts; h++) events.push({ t, type: 'gc', host: h });
  const runners: { id: string; host?: number }[] = Array.from({ length: trace.runners }, (_, i) => ({ id: `runner-${i + 1}`, host: i % hosts }));
  const modelOf = (job: Job) => models[job.runner!.host ?? 0];
  // What a job waits for is a slot of its runner's host.
  const onHost = (job: Job, slot: string) => `${job.runner!.host ?? 0}|${slot}`;
  const idle = [...runners];
  const queue: Job[] = [];
  let qHead = 0;
  const runs = new Map<string, Job[]>();
  const waiters = new Map<string, Job[]>();
  const stats: Stats = {
    jobs: 0,
    warm: 0,
    cold: 0,
    hits: 0,
    copies: 0,
    failedDisk: 0,
    failedRace: 0,
    minutes: 0,
    queueJobs: 0,
    queueWarm: 0,
    peak: 0,
    overMinutes: 0,
    cancelled: 0,
    waits: 0,
    waitMinutes: 0,
    byHow: {},
  };
  const timeline: TimelinePoint[] = [];
  let jobSeq = 0;
  let lastT = 0;
  const thresholdBytes = (D * percentOf(level.threshold)) / 100;
  const finish = (job: Job, t: number) => {
    job.endT = t;
    events.push({ t, type: 'end', job });
  };
  const free = (runner: { id: string; host?: number }) => idle.push(runner);
  // Archives off the host travel: the fleet tier's shared directory, rust-cache's cache service.
  const fetchMinutes = (res: { how: How; fetchedBytes?: number }) =>
    res.fetchedBytes ? ((res.fetchedBytes / GiB) * (res.how === 'restore' ? w.cacheServiceFetchSecondsPerGiB : w.fleetFetchSecondsPerGiB)) / 60 : 0;
  // rust-cache's save after a job that found no archive: its price is in coldSave, its trip to the cache service here.
  const putMinutes = (job: Job, how: How) => (how === 'coldSave' ? ((job.spec.bytes * w.rustCacheFraction) / GiB) * (w.cacheServicePutSecondsPerGiB / 60) : 0);
  const tryStart = (job: Job, now: number, noWait: boolean) => {
    const runnerId = trace.ephemeral ? `${job.runner!.id}-job-${job.id}` : job.runner!.id;
    const res = modelOf(job).start(job, runnerId, now, { noWait, retry: job.waitedSince !== undefined });
    if ('wait' in res) {
      job.waiting = onHost(job, res.wait);
      (waiters.get(job.waiting) ?? waiters.set(job.waiting, []).get(job.waiting)!).push(job);
      if (job.waitedSince === undefined) {
        job.waitedSince = now;
        stats.waits++;
        events.push({ t: now + res.waitMinutes, type: 'timeout', job });
      }
      return;
    }
    job.waiting = undefined;
    job.started = true;
    stats.jobs++;
    stats.waitMinutes += now - (job.waitedSince ?? now);
    if (job.kind === 'queue') stats.queueJobs++;
    if (res.failed) {
      job.failed = true;
      stats[res.failed === 'disk' ? 'failedDisk' : 'failedRace']++;
    }
    stats.byHow[res.how] = (stats.byHow[res.how] ?? 0) + 1;
    sp.jobLog?.push({ t: now, id: `${job.repo}|${job.key}|${job.spec.job}|${job.runId}`, how: res.how, tier: res.tier, kind: job.kind, first: job.first });
    if (res.warm) {
      stats.warm++;
      if (job.kind === 'queue') stats.queueWarm++;
    } else stats.cold++;
    if (res.how === 'hit') stats.hits++;
    if (res.how === 'copy') stats.copies++;
    const compile = job.spec.coldMinutes * w.factor[res.how] + (res.copiedBytes ? ((res.copiedBytes / GiB) * w.copySecondsPerGiB) / 60 : 0) + fetchMinutes(res);
    stats.minutes += compile + putMinutes(job, res.how);
    finish(job, now + (job.failed ? 1 : w.overheadMinutes + compile));
  };
  const dispatch = (now: number) => {
    while (idle.length && qHead < queue.length) {
      const job = queue[qHead++];
      if (job.cancelled) continue;
      const i = Math.floor(r.next() * idle.length);
      job.runner = idle[i];
      idle[i] = idle[idle.length - 1];
      idle.pop();
      tryStart(job, now, false);
    }
    if (qHead > 1024 && qHead * 2 > queue.length) {
      queue.splice(0, qHead);
      qHead = 0;
    }
  };
  while (events.size) {
    const e = events.pop();
    // The fullest host: each has its own disk and threshold.
    let u = 0;
    for (const m of models) u = Math.max(u, m.used());
    if (u > thresholdBytes) stats.overMinutes += e.t - lastT;
    if (u > stats.peak) stats.peak = u;
    lastT = e.t;
    if (e.type === 'sample') {
      timeline.push({ minute: e.t, used: (100 * u) / D, warm: stats.warm, jobs: stats.jobs });
      continue;
    }
    if (e.type === 'gc') {
      models[e.host].gc?.(e.t);
      continue;
    }
    if (e.type === 'close') {
      for (const m of models) m.close?.(e.close.repo, e.close.key, e.t);
      continue;
    }
    if (e.type === 'push') {
      const p = e.push;
      const id = `${p.repo}#${p.key}`;
      const prev = runs.get(id);
      if (prev && p.kind === 'pr') {
        // cancel-in-progress: queued jobs vanish, a main step waiting for a slot gives its runner
        // back, running jobs release their slot after the runner's cancel sequence and post.
        for (const j of prev) {
          if (j.done || j.cancelled) continue;
          if (!j.started) {
            j.cancelled = true;
            stats.cancelled++;
            if (j.waiting !== undefined) {
              j.waiting = undefined;
              free(j.runner!);
            }
          } else if (j.endT! > e.t + w.cancelMinutes) finish(j, e.t + w.cancelMinutes);
        }
      }
      const specs = trace.specs.get(p.repo)!;
      const jobs: Job[] = specs.map((spec) => ({
        id: ++jobSeq,
        spec,
        repo: p.repo,
        key: p.key,
        pr: p.pr,
        baseKey: p.baseKey,
        runId: p.runId!,
        kind: p.kind,
        event: p.event,
      }));
      runs.set(id, jobs);
      queue.push(...jobs);
    } else if (e.type === 'end') {
      const job = e.job;
      if (job.endT !== e.t || job.done) continue; // rescheduled by a cancel
      job.done = true;
      const ended = modelOf(job).end(job, e.t);
      // The post step's save of a dependency archive, and its trip to the fleet tier.
      if (job.saved) stats.minutes += job.spec.coldMinutes * w.archiveSave + (job.saved.fleet ? ((job.saved.bytes / GiB) * w.fleetPutSecondsPerGiB) / 60 : 0);
      const released = ended === undefined ? undefined : onHost(job, ended);
      free(job.runner!);
      // Taken out before the walk: a waiter that must wait again joins a new list, never this one.
      const ws = released === undefined ? undefined : waiters.get(released);
      if (ws) {
        waiters.delete(released!);
        for (const wj of ws) if (wj.waiting === released && !wj.cancelled && !wj.started) tryStart(wj, e.t, false);
      }
    } else if (e.type === 'timeout') {
      const job = e.job;
      if (job.waiting !== undefined && !job.started && !job.cancelled) tryStart(job, e.t, true);
    }
    dispatch(e.t);
  }
  const archives = model.archiveStats && { ...model.archiveStats };
  if (archives) for (const m of models.slice(1)) for (const k of Object.keys(archives) as (keyof ArchiveStats)[]) archives[k] += m.archiveStats![k];
  return { stats, timeline, slots: models.reduce((n, m) => n + (m.slots?.() ?? 0), 0) || undefined, guard: model.guardStats, archives };
}
