// A deterministic, seeded, discrete-event simulation of one host over a simulated day. The pool
// policies call the project's own decisions (rankSlots, waitBudget, slotValues, planPrune,
// decideReset, beyond: loaded by load.mjs); only the effects (which slot holds how many bytes,
// which runner is busy, what sccache's cache holds) are modelled here. Method and assumptions:
// docs/simulation.md. Every cost weight comes from traces.json (`weights`), with its source.

const GiB = 2 ** 30;
export const DEFAULT_REPO = 'acme/widgets';
const EPOCH = Date.UTC(2026, 10, 2);
const iso = (min) => new Date(EPOCH + min * 60_000).toISOString();
const msOf = (min) => EPOCH + min * 60_000;

/** mulberry32: small, fast, and the same sequence on every machine. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, uniform: (lo, hi) => lo + (hi - lo) * next(), pick: (xs) => xs[Math.floor(next() * xs.length)], exp: (mean) => -mean * Math.log(1 - next()) };
}

/** One entry of the day's working set: a trust domain's build of one job. */
export const entryOf = (repo, key, job, jobKey) => `${repo}|${key}|${job}|${jobKey}`;

const specsOf = (cfg, jobs, repo) => {
  const set = typeof jobs === 'string' ? cfg.jobSets[jobs] : jobs;
  if (!set) throw new Error(`traces.json: no job set '${jobs}'`);
  return set.flatMap((j) => (j.legs ?? ['']).map((leg) => ({ repo, job: j.job, jobKey: leg, coldMinutes: j.coldMinutes, bytes: j.gib * GiB })));
};

/**
 * The pushes of one day, per repository: PR pushes (Poisson), update-branch pushes after every
 * push to main, merges (to main, or through the merge queue first), main's pushes of its own,
 * bursts of short-lived PRs, release branches. The draws for the first four come first and in
 * the order of earlier versions, so a trace without the newer kinds is the day it always was.
 */
export function makeTrace(p, cfg, contentKey, seed = p.seed) {
  const r = rng(seed);
  const day = cfg.day.hours * 60;
  const repos = p.repos ?? [{}];
  const pushes = [];
  const closes = [];
  const specs = new Map();
  repos.forEach((rp, ri) => {
    const q = { ...p, ...rp };
    const repo = q.repository ?? (repos.length > 1 ? `acme/repo-${ri + 1}` : DEFAULT_REPO);
    specs.set(repo, specsOf(cfg, q.jobs, repo));
    const prs = [];
    const mine = [];
    let number = 1030;
    for (let i = 0; i < q.openAtStart; i++)
      prs.push({ n: ++number, open: r.uniform(0, 60), close: r.uniform(q.lifetimeHours[0], q.lifetimeHours[1]) * 60, every: q.pushEveryMinutes });
    for (let i = 0; i < q.openedDuringDay; i++) {
      const open = r.uniform(60, day * 0.85);
      prs.push({ n: ++number, open, close: open + r.uniform(q.lifetimeHours[0], q.lifetimeHours[1]) * 60, every: q.pushEveryMinutes });
    }
    const main = (t) => mine.push({ t, kind: 'main', repo, key: 'ref-main', event: 'push' });
    const prPushes = (pr) => {
      for (let t = pr.open; t < Math.min(pr.close, day); t += r.exp(pr.every))
        mine.push({ t, kind: 'pr', repo, key: `pr-${pr.n}`, pr: pr.n, baseKey: 'ref-main', event: 'pull_request' });
      if (pr.close >= day) return;
      closes.push({ t: pr.close, repo, key: `pr-${pr.n}` });
      if (q.mergeQueue) {
        const branch = `gh-readonly-queue/main/pr-${pr.n}-${((pr.n * 2654435761) >>> 0).toString(16)}`;
        mine.push({ t: pr.close, kind: 'queue', repo, key: contentKey(undefined, branch), baseKey: 'ref-main', event: 'merge_group' });
        main(pr.close + cfg.queueMinutes);
      } else if (!pr.abandoned) main(pr.close);
    };
    for (const pr of prs) prPushes(pr);
    for (let i = 0; i < q.mainPushesOfTheirOwn; i++) main(r.uniform(0, day));
    // Bursts: many PRs opened within minutes (a dependency bot, a refactor split up), each living
    // an hour or two; most merge, some are closed unmerged.
    for (let b = 0; b < (q.bursts?.count ?? 0); b++) {
      const at = r.uniform(60, day * 0.85);
      for (let i = 0; i < q.bursts.prs; i++) {
        const open = at + r.uniform(0, q.bursts.spreadMinutes ?? 15);
        const pr = {
          n: ++number,
          open,
          close: open + r.uniform(q.bursts.lifetimeHours[0], q.bursts.lifetimeHours[1]) * 60,
          every: q.bursts.pushEveryMinutes,
          abandoned: r.next() < (q.bursts.abandonedShare ?? 0),
        };
        prs.push(pr);
        prPushes(pr);
      }
    }
    // Release branches: their own trust domains, pushing every few hours.
    for (let b = 0; b < (q.releaseBranches?.count ?? 0); b++) {
      const key = contentKey(undefined, `release/${b + 1}.x`);
      for (let t = r.uniform(0, q.releaseBranches.everyHours * 60); t < day; t += r.exp(q.releaseBranches.everyHours * 60))
        mine.push({ t, kind: 'branch', repo, key, event: 'push' });
    }
    // update-branch: open PRs follow main within minutes.
    for (const m of mine.filter((x) => x.kind === 'main')) {
      for (const pr of prs)
        if (pr.open < m.t && m.t < pr.close && r.next() < q.updateBranchShare)
          mine.push({ t: m.t + r.uniform(1, 10), kind: 'pr', repo, key: `pr-${pr.n}`, pr: pr.n, baseKey: 'ref-main', event: 'pull_request' });
    }
    pushes.push(...mine);
  });
  const inDay = pushes.filter((x) => x.t < day).sort((a, b) => a.t - b.t);
  inDay.forEach((x, i) => (x.runId = String(90000 + i)));
  // Every entry the day needs and when each is asked for; a first run also asks for its base's
  // entry of the same job (the base rule).
  const uses = new Map();
  const use = (e, t) => (uses.get(e) ?? uses.set(e, []).get(e)).push(t);
  const firstSeen = new Set();
  const bytesOf = new Map();
  for (const x of inDay) {
    for (const s of specs.get(x.repo)) {
      const e = entryOf(x.repo, x.key, s.job, s.jobKey);
      use(e, x.t);
      bytesOf.set(e, s.bytes);
      if (x.baseKey && !firstSeen.has(`${x.repo}#${x.key}`)) use(entryOf(x.repo, x.baseKey, s.job, s.jobKey), x.t);
    }
    firstSeen.add(`${x.repo}#${x.key}`);
  }
  const workingSet = [...uses.keys()].reduce((a, e) => a + (bytesOf.get(e) ?? 0), 0);
  const allSpecs = [...specs.values()].flat();
  const peakLive = p.runners * Math.max(...allSpecs.map((s) => s.bytes));
  return {
    name: p.name,
    runners: p.runners,
    seed,
    pushes: inDay,
    specs,
    uses,
    closes: closes.filter((c) => c.t < day),
    workingSet,
    peakLive,
    day,
    ephemeral: Boolean(p.ephemeral),
  };
}

/** A binary heap of events ordered by time, then by insertion. */
class Events {
  #h = [];
  #seq = 0;
  push(e) {
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
  pop() {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
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
  static less(a, b) {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }
}

/**
 * sccache's local cache: least recently used entries go once it passes SCCACHE_CACHE_SIZE. Its
 * key is the job's units compiled at one set of paths (sccache hashes CARGO_HOME, the target
 * dir and the cwd, FIELD-NOTES): `path|job`, or the job alone where paths are the same for
 * every run (a stable in-container path, or cross-slot hits).
 */
class CompileCache {
  constructor(cap) {
    this.cap = cap;
    this.m = new Map();
    this.bytes = 0;
    // On the disk: its full size. A busy host's cache sits at its limit; the guard cannot free it.
    this.disk = Math.max(0, cap);
  }
  hit(key) {
    const b = this.m.get(key);
    if (b === undefined) return false;
    this.m.delete(key);
    this.m.set(key, b);
    return true;
  }
  put(key, bytes) {
    if (this.cap <= 0) return;
    const old = this.m.get(key);
    if (old !== undefined) {
      this.m.delete(key);
      this.bytes -= old;
    }
    this.m.set(key, bytes);
    this.bytes += bytes;
    for (const [k, b] of this.m) {
      if (this.bytes <= this.cap) break;
      this.m.delete(k);
      this.bytes -= b;
    }
  }
}

/** The weights (traces.json `weights`), resolved: each a factor of the job's cold build. */
export function weightsOf(cfg, parseSize) {
  const w = cfg.weights;
  const x = (name) => {
    if (typeof w[name]?.x !== 'number') throw new Error(`traces.json: weights.${name}.x is missing`);
    return w[name].x;
  };
  const sccacheBytes = parseSize(cfg.sccache.cacheSize);
  if (sccacheBytes === undefined) throw new Error(`traces.json: sccache.cacheSize '${cfg.sccache.cacheSize}' is not a size`);
  return {
    factor: {
      warm: x('warmSlotChange'),
      copy: x('warmSlotChange'),
      hit: x('stablePathHit'),
      cold: x('newPathCold'),
      first: x('firstCacheRun'),
      restore: x('rustCacheRestore'),
      coldSave: x('noCompileCache') + x('rustCacheSave'),
      none: x('noCompileCache'),
    },
    copySecondsPerGiB: x('copySecondsPerGiB'),
    copyDiskFraction: x('copyDiskFraction'),
    sccacheFraction: x('sccacheBytesPerTarget'),
    overheadMinutes: x('jobOverheadMinutes'),
    sccacheBytes,
    cancelMinutes: cfg.cancel.releaseSeconds / 60,
  };
}

/** Every simulated job runs as one uid with that uid's shared CARGO_HOME: the path view a slot's build is made under and seen with. */
export const SIM_HOME = '/r/homes/u1001';
const simView = (slot) => ({ root: '/r', uid: 1001, cargoHome: SIM_HOME, target: `/r/slots/${slot}/target` });

const diskOf = (D, u) => ({
  totalBytes: D,
  usedBytes: u,
  freeBytes: Math.max(0, D - u),
  usedPercent: (100 * u) / D,
  inodes: 0,
  inodesFree: 0,
  inodePercent: 0,
});

/**
 * The action's slot pool, driven by the project's decisions. `policy.choose` is rankSlots,
 * `policy.scope` the guard's scope; `policy.crossSlot` prices a start without its build as a
 * compile-cache hit wherever any slot compiled the job; `policy.copyFrom(views, me, slot)` names
 * an idle build to copy into the job's slot (a warm start at the copy's disk and time).
 */
export function poolModel(m, policy, D, level, w, o = {}) {
  const slots = [];
  const byName = new Map();
  let slotBytes = 0;
  const cc = new CompileCache(policy.sccache === false ? 0 : w.sccacheBytes);
  const value = policy.values !== false && m.value ? m.value : undefined;
  const stats = value?.emptyStats();
  const g = { runs: 0, freed: 0, removals: 0, keptOwn: 0 };
  const used = () => slotBytes + cc.disk;
  const setBytes = (s, b) => {
    slotBytes += b - s.bytes;
    s.bytes = b;
  };
  const views = (now) => {
    const vs = slots.map((s) => ({ name: s.name, record: s.record, live: s.live, view: simView(s.name) }));
    if (value) {
      const val = value.slotValues(vs, stats, msOf(now), m.choose.worthless);
      for (const v of vs) v.value = val.get(v.name);
    }
    return vs;
  };
  const beyond = (l) => m.disk.beyond(diskOf(D, used()), l);
  const guard = (runnerId, now, vs, me) => {
    if (!beyond(level.threshold)) return false;
    g.runs++;
    const keep =
      policy.keep === false
        ? []
        : m.choose
            .rankSlots(vs, me, { room: false })
            .candidates.filter((c) => c.tier === 'own-job' || c.tier === 'base')
            .slice(0, 1)
            .map((c) => c.name);
    const valueOf = new Map(vs.map((v) => [v.name, v.value]));
    const cands = slots
      .filter((s) => s.bytes > 0 || s.live)
      .map((s) => ({
        kind: 'target',
        path: s.name,
        bytes: s.bytes,
        lastUsedMs: s.lastMs,
        owner: s.record?.runnerId,
        live: s.live,
        slot: s.name,
        key: s.record?.key,
        value: valueOf.get(s.name),
      }));
    const plan = m.guard.planPrune(cands, policy.scope, runnerId, { keep });
    let any = false;
    for (const c of [...plan.ordered, ...(plan.fallback ?? []), ...(plan.kept ?? [])]) {
      if (!beyond(level.target)) break;
      const s = byName.get(c.slot);
      if (s.bytes === 0) continue;
      if (keep.includes(s.name)) g.keptOwn++;
      g.freed += s.bytes;
      g.removals++;
      setBytes(s, 0);
      any = true;
      if (s.record) s.record = { ...s.record, prunedAt: iso(now), sizes: { ...s.record.sizes, target: 0 } };
    }
    return any;
  };
  return {
    used,
    guardStats: g,
    slots: () => slots.length,
    start(job, runnerId, now, { noWait, retry }) {
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
      let vs = views(now);
      // The guard runs first (the main step's order) and keeps the build this job is about to
      // take while anything less valuable is idle.
      if (!retry && guard(runnerId, now, vs, me)) vs = views(now);
      const room = o.room ?? !beyond(level.target);
      const plan = policy.choose(vs, me, { room });
      if (plan.waitFor && !noWait) {
        const pred = byName.get(plan.waitFor).record;
        const ms = m.choose.waitBudget ? m.choose.waitBudget(me, pred, policy.leaseWaitMs).ms : policy.leaseWaitMs;
        if (ms > 0) return { wait: plan.waitFor, waitMinutes: ms / 60_000 };
      }
      const c = plan.candidates[0];
      let slot = c && byName.get(c.name);
      if (!slot) {
        slot = { name: `s${String(slots.length).padStart(3, '0')}`, bytes: 0, live: false, lastMs: 0 };
        slots.push(slot);
        byName.set(slot.name, slot);
      }
      const tier = c ? c.tier : 'new';
      const decision = m.prepare.decideReset('same-key', slot.record, slot.bytes > 0, { ...me, pr: job.pr });
      if (decision.reset) setBytes(slot, 0);
      let how = slot.bytes > 0 && (tier === 'own-job' || tier === 'base') ? 'warm' : undefined;
      let copied = 0;
      if (!how && policy.copyFrom) {
        const src = policy.copyFrom(vs, me, slot.name);
        const from = src && byName.get(src);
        // The action copies only while the copy keeps the disk under the threshold (copyFits).
        const fits = !m.warmCopy || m.warmCopy.copyFits(diskOf(D, used()), from?.bytes * w.copyDiskFraction, level.threshold);
        if (from && from.bytes > 0 && !from.live && fits) {
          copied = from.bytes;
          setBytes(slot, slot.bytes + from.bytes * w.copyDiskFraction);
          how = 'copy';
        }
      }
      const jobId = `${job.repo}|${spec.job}|${spec.jobKey}`;
      const ccKey = policy.crossSlot ? jobId : `${slot.name}|${jobId}`;
      if (!how) how = cc.hit(ccKey) ? 'hit' : 'cold';
      if (how === 'hit' || how === 'cold') cc.put(ccKey, spec.bytes * w.sccacheFraction);
      const before = slot.bytes;
      // A warm build rewrites what it has; a cold one writes the whole target next to what is there.
      setBytes(slot, how === 'warm' || how === 'copy' ? Math.max(slot.bytes, spec.bytes) : slot.bytes + spec.bytes);
      const failed = used() > D;
      if (failed) setBytes(slot, before);
      slot.live = true;
      slot.lastMs = msOf(now);
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
    },
    end(job, now) {
      const s = job.slot;
      if (job.failed) setBytes(s, 0);
      s.live = false;
      s.lastMs = msOf(now);
      const units = job.warm ? { built: 1, fresh: 99 } : { built: 99, fresh: 0 };
      s.record = { ...s.record, releasedAt: iso(now), lastUsed: iso(now), sizes: { target: s.bytes, cargoHome: 0, tmp: 0, measuredAt: iso(now) }, units };
      if (stats && !job.failed) {
        value.addEntry(stats, {
          t: iso(now),
          repository: job.repo,
          workflow: 'ci',
          job: job.spec.job,
          jobKey: job.spec.jobKey || undefined,
          key: job.key,
          run: job.runId,
          ms: (now - job.startT) * 60_000,
          ...units,
          base: job.baseKey,
        });
      }
      return s.name;
    },
    close(repo, key, now) {
      if (stats && policy.closeSignal !== false) value.addClosed(stats, repo, key, msOf(now));
    },
  };
}

/**
 * Entries of (trust domain, job) with no slots: the clairvoyant reference and plain LRU. Both
 * fill the disk up to the guard's threshold and evict only what must go, both share sccache's
 * cache on the disk, and both follow the base rule (a first run starts from its base's entry).
 * - rule `belady`: evict the idle entry asked for again furthest in the future;
 * - rule `belady-size`: the largest (time to next use x size), for entries of unequal size;
 * - rule `lru`: the least recently used idle entry.
 * `copies`: a first run copies its base's entry (the base keeps its own) instead of taking it.
 */
export function entryModel(trace, D, level, w, o) {
  const entries = new Map();
  const cap = (D * level.threshold.percent) / 100;
  let idleBytes = 0;
  let liveBytes = 0;
  const cc = new CompileCache(w.sccacheBytes);
  const used = () => idleBytes + liveBytes + cc.disk;
  const nextUse = (e, now) => {
    const ts = trace.uses.get(e) ?? [];
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] <= now) lo = mid + 1;
      else hi = mid;
    }
    return lo < ts.length ? ts[lo] : Infinity;
  };
  const score = (k, v, now) => {
    if (o.rule === 'lru') return now - v.lastUse;
    const n = nextUse(k, now);
    return o.rule === 'belady' ? n : n === Infinity ? Infinity : (n - now) * v.bytes;
  };
  const evictFor = (need, now, except) => {
    while (used() + need > cap) {
      let victim;
      let best = -Infinity;
      let bestBytes = 0;
      for (const [k, v] of entries) {
        if (v.live || k === except) continue;
        const s = score(k, v, now);
        if (s > best || (s === best && v.bytes > bestBytes)) [victim, best, bestBytes] = [k, s, v.bytes];
      }
      if (victim === undefined) return;
      idleBytes -= entries.get(victim).bytes;
      entries.delete(victim);
    }
  };
  const seen = new Set();
  return {
    used,
    start(job, _runner, now, { noWait }) {
      const spec = job.spec;
      const e = entryOf(job.repo, job.key, spec.job, spec.jobKey);
      const first = !seen.has(e);
      seen.add(e);
      let cur = entries.get(e);
      let dup = false;
      if (cur?.live) {
        if (!noWait && o.waitMinutes(job) > 0) return { wait: e, waitMinutes: o.waitMinutes(job) };
        dup = true;
        cur = undefined;
      }
      let how;
      if (cur) how = 'warm';
      else if (!dup && (first || o.anyBase) && job.baseKey) {
        const b = entryOf(job.repo, job.baseKey, spec.job, spec.jobKey);
        const base = entries.get(b);
        if (base && !base.live) {
          if (o.copies) {
            evictFor(base.bytes, now, e);
            cur = { bytes: base.bytes, live: false, lastUse: now };
            entries.set(e, cur);
            idleBytes += cur.bytes;
          } else {
            entries.delete(b);
            entries.set(e, base);
            cur = base;
          }
          how = 'warm';
        }
      }
      if (!how) {
        evictFor(spec.bytes, now, e);
        cur = { bytes: spec.bytes, live: false, lastUse: now };
        if (!dup) {
          entries.set(e, cur);
          idleBytes += cur.bytes;
        }
        how = 'cold';
        cc.put(`${job.repo}|${spec.job}|${spec.jobKey}`, spec.bytes * w.sccacheFraction);
      }
      if (!dup) idleBytes -= cur.bytes;
      cur.live = true;
      liveBytes += cur.bytes;
      job.entry = cur;
      job.dup = dup;
      return { warm: how === 'warm', how, failed: used() > D ? 'disk' : undefined };
    },
    end(job, now) {
      const cur = job.entry;
      cur.live = false;
      cur.lastUse = now;
      liveBytes -= cur.bytes;
      if (!job.dup) idleBytes += cur.bytes;
      return entryOf(job.repo, job.key, job.spec.job, job.spec.jobKey);
    },
  };
}

/**
 * The layouts of the fleet in the incident reports and of rust-cache, each with the compile cache
 * its users run:
 * - `per-run`: a new target dir per run, mounted at the same in-container path, CARGO_HOME kept,
 *   a host-wide sccache: every job's units hit wherever any earlier run compiled them;
 * - `per-pr`: a directory per PR (same sccache), kept until the PR closes; a job starting while
 *   a cancelled earlier run of its PR still writes there fails (the cancel-in-progress collision);
 * - `shared`: one target dir per repository, always warm, but a job starting while another is
 *   live in it fails (the concurrent collisions);
 * - `rust-cache`: the target dir (without incremental output) and the registry archived after a
 *   job that found no archive, restored by the next job of that job name on the branch or its base.
 */
export function layoutModel(kind, trace, D, w) {
  const dirs = new Map();
  const cc = new CompileCache(kind === 'rust-cache' ? 0 : w.sccacheBytes);
  const archives = new Set();
  let bytes = 0;
  const used = () => bytes + cc.disk;
  const dirOf = (job) => (kind === 'shared' ? job.repo : kind === 'per-pr' ? `${job.repo}#${job.key}` : `run-${job.id}`);
  const cached = (job) => {
    const key = `${job.repo}|${job.spec.job}|${job.spec.jobKey}`;
    const how = cc.hit(key) ? 'hit' : 'first';
    cc.put(key, job.spec.bytes * w.sccacheFraction);
    return how;
  };
  return {
    used,
    start(job) {
      const spec = job.spec;
      if (kind === 'rust-cache') {
        const a = (k) => `${job.repo}|${k}|${spec.job}|${spec.jobKey}`;
        const how = archives.has(a(job.key)) || (job.baseKey && archives.has(a(job.baseKey))) ? 'restore' : 'coldSave';
        bytes += spec.bytes;
        job.bytes = spec.bytes;
        return { warm: how === 'restore', how, failed: used() > D ? 'disk' : undefined };
      }
      const name = dirOf(job);
      const d = dirs.get(name) ?? dirs.set(name, { content: new Map(), live: new Set() }).get(name);
      const what = `${spec.job}|${spec.jobKey}`;
      const race = kind === 'shared' ? d.live.size > 0 : kind === 'per-pr' ? [...d.live].some((j) => j.runId !== job.runId) : false;
      const how = d.content.has(what) ? 'warm' : cached(job);
      const prev = d.content.get(what) ?? 0;
      d.content.set(what, Math.max(prev, spec.bytes));
      bytes += Math.max(prev, spec.bytes) - prev;
      d.live.add(job);
      job.dir = d;
      return { warm: how === 'warm', how, failed: race ? 'race' : used() > D ? 'disk' : undefined };
    },
    end(job) {
      if (kind === 'rust-cache') {
        bytes -= job.bytes;
        archives.add(`${job.repo}|${job.key}|${job.spec.job}|${job.spec.jobKey}`);
        return undefined;
      }
      job.dir.live.delete(job);
      if (kind === 'per-run') {
        for (const b of job.dir.content.values()) bytes -= b;
        dirs.delete(dirOf(job));
      }
      return undefined;
    },
    close(repo, key) {
      // The fleet's reaper removed a closed PR's directory.
      const name = `${repo}#${key}`;
      const d = dirs.get(name);
      if (kind === 'per-pr' && d && d.live.size === 0) {
        for (const b of d.content.values()) bytes -= b;
        dirs.delete(name);
      }
    },
  };
}

/** The wait rule the entry models share with the action: the action's own, when it has one. */
const entryWait = (m, leaseWaitMs) => (job) => {
  if (!m.choose.waitBudget) return leaseWaitMs / 60_000;
  const me = { key: job.key, eventName: job.event, runId: job.runId, runAttempt: '1' };
  return m.choose.waitBudget(me, { key: job.key, runId: String(Number(job.runId) - 1), runAttempt: '1' }, leaseWaitMs).ms / 60_000;
};

export function modelFor(trace, policy, D, m, cfg, level, w) {
  if (policy.model === 'pool') return poolModel(m, { leaseWaitMs: cfg.leaseWaitSeconds * 1000, ...policy }, D, level, w);
  if (policy.model === 'entry')
    return entryModel(trace, D, level, w, {
      rule: policy.rule,
      copies: policy.copies,
      anyBase: policy.anyBase,
      waitMinutes: entryWait(m, cfg.leaseWaitSeconds * 1000),
    });
  return layoutModel(policy.model, trace, D, w);
}

/** Runs one policy over one trace on a disk of D bytes; metrics and a timeline. */
export function simulate(trace, policy, D, m, cfg, level, w = weightsOf(cfg, m.units.parseSize)) {
  const r = rng(trace.seed * 7919 + 17);
  const model = modelFor(trace, policy, D, m, cfg, level, w);
  const events = new Events();
  for (const p of trace.pushes) events.push({ t: p.t, type: 'push', push: p });
  for (const c of trace.closes) events.push({ t: c.t, type: 'close', close: c });
  for (let t = 0; t <= trace.day; t += cfg.day.sampleMinutes) events.push({ t, type: 'sample' });
  const runners = Array.from({ length: trace.runners }, (_, i) => ({ id: `runner-${i + 1}` }));
  const idle = [...runners];
  const queue = [];
  let qHead = 0;
  const runs = new Map();
  const waiters = new Map();
  const stats = {
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
  const timeline = [];
  let jobSeq = 0;
  let lastT = 0;
  const thresholdBytes = (D * level.threshold.percent) / 100;
  const finish = (job, t) => {
    job.endT = t;
    events.push({ t, type: 'end', job });
  };
  const free = (runner) => idle.push(runner);
  const tryStart = (job, now, noWait) => {
    const runnerId = trace.ephemeral ? `${job.runner.id}-job-${job.id}` : job.runner.id;
    const res = model.start(job, runnerId, now, { noWait, retry: job.waitedSince !== undefined });
    if (res.wait !== undefined) {
      job.waiting = res.wait;
      (waiters.get(res.wait) ?? waiters.set(res.wait, []).get(res.wait)).push(job);
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
    // A per-job record, for analyses that compare two policies job by job.
    if (policy.jobLog)
      policy.jobLog.push({ t: now, id: `${job.repo}|${job.key}|${job.spec.job}|${job.runId}`, how: res.how, tier: res.tier, kind: job.kind, first: job.first });
    if (res.warm) {
      stats.warm++;
      if (job.kind === 'queue') stats.queueWarm++;
    } else stats.cold++;
    if (res.how === 'hit') stats.hits++;
    if (res.how === 'copy') stats.copies++;
    const compile = job.spec.coldMinutes * w.factor[res.how] + (res.copiedBytes ? ((res.copiedBytes / GiB) * w.copySecondsPerGiB) / 60 : 0);
    stats.minutes += compile;
    finish(job, now + (job.failed ? 1 : w.overheadMinutes + compile));
  };
  const dispatch = (now) => {
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
    const u = model.used();
    if (u > thresholdBytes) stats.overMinutes += e.t - lastT;
    if (u > stats.peak) stats.peak = u;
    lastT = e.t;
    if (e.type === 'sample') {
      timeline.push({ minute: e.t, used: (100 * u) / D, warm: stats.warm, jobs: stats.jobs });
      continue;
    }
    if (e.type === 'close') {
      model.close?.(e.close.repo, e.close.key, e.t);
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
              free(j.runner);
            }
          } else if (j.endT > e.t + w.cancelMinutes) finish(j, e.t + w.cancelMinutes);
        }
      }
      const specs = trace.specs.get(p.repo);
      const jobs = specs.map((spec) => ({
        id: ++jobSeq,
        spec,
        repo: p.repo,
        key: p.key,
        pr: p.pr,
        baseKey: p.baseKey,
        runId: p.runId,
        kind: p.kind,
        event: p.event,
      }));
      runs.set(id, jobs);
      queue.push(...jobs);
    } else if (e.type === 'end') {
      const job = e.job;
      if (job.endT !== e.t || job.done) continue; // rescheduled by a cancel
      job.done = true;
      const released = model.end(job, e.t);
      free(job.runner);
      // Taken out before the walk: a waiter that must wait again joins a new list, never this one.
      const ws = released === undefined ? undefined : waiters.get(released);
      if (ws) {
        waiters.delete(released);
        for (const wj of ws) if (wj.waiting === released && !wj.cancelled && !wj.started) tryStart(wj, e.t, false);
      }
    } else if (e.type === 'timeout') {
      const job = e.job;
      if (job.waiting !== undefined && !job.started && !job.cancelled) tryStart(job, e.t, true);
    }
    dispatch(e.t);
  }
  return { stats, timeline, slots: model.slots?.(), guard: model.guardStats };
}

/**
 * What the action does, job by job, for explicit steps (jobs that start together, then end in
 * order): the same pool model as the simulation, for the real-cargo replay test to compare
 * with. `room` fixes the chooser's view of the disk (the test sets disk-target to match). A
 * step may also close PRs (`{ close: [1] }`: the action's run on a closed PR, or `forget`).
 */
export function replay(m, steps, o) {
  const level = { threshold: { kind: 'percent', percent: 99.9 }, target: { kind: 'percent', percent: 99 } };
  const w = { sccacheBytes: 0, sccacheFraction: 0, copyDiskFraction: 1 };
  const pool = poolModel(m, { choose: (s, me, disk) => m.choose.rankSlots(s, me, disk), scope: 'runner', leaseWaitMs: 0 }, 2 ** 60, level, w, { room: o.room });
  let id = 0;
  return steps.map((step, i) => {
    if (!Array.isArray(step)) {
      for (const pr of step.close ?? []) pool.close(DEFAULT_REPO, `pr-${pr}`, i * 10);
      return [];
    }
    const jobs = step.map((j) => ({
      id: ++id,
      spec: { job: j.job, jobKey: '', bytes: GiB, coldMinutes: 1 },
      repo: DEFAULT_REPO,
      key: j.pr ? `pr-${j.pr}` : `ref-${j.branch ?? 'main'}`,
      pr: j.pr,
      baseKey: j.pr ? 'ref-main' : undefined,
      runId: String(j.runId),
      event: j.pr ? 'pull_request' : 'push',
    }));
    const out = jobs.map((job, k) => {
      const r = pool.start(job, step[k].runner, i * 10, { noWait: true });
      return { tier: r.tier, reason: r.reason, deps: r.warm ? 'none' : 'some', slot: job.slot.name };
    });
    jobs.forEach((job, k) => pool.end(job, i * 10 + 5 + k / 100));
    return out;
  });
}
