// A deterministic, seeded, discrete-event simulation of one host over a simulated day. The pool
// policies call the project's own decisions (rankSlots, planPrune, decideReset, beyond: loaded
// by load.mjs); only the effects (which slot holds how many bytes, which runner is busy) are
// modelled here. Method and assumptions: docs/simulation.md.

const GiB = 2 ** 30;
const REPO = 'acme/widgets';
const EPOCH = Date.UTC(2026, 10, 2);
const iso = (min) => new Date(EPOCH + min * 60_000).toISOString();

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

const entryOf = (key, job, jobKey) => `${key}|${job}|${jobKey}`;

/**
 * The pushes of one day: PR pushes (Poisson), update-branch pushes after every push to main,
 * merges (to main, or through the merge queue first), and main's pushes of its own.
 */
export function makeTrace(p, cfg, contentKey) {
  const r = rng(p.seed);
  const day = cfg.day.hours * 60;
  const specs = cfg.jobSets[p.jobs].flatMap((j) => (j.legs ?? ['']).map((leg) => ({ job: j.job, jobKey: leg, coldMinutes: j.coldMinutes, bytes: j.gib * GiB })));
  const prs = [];
  let number = 1030;
  for (let i = 0; i < p.openAtStart; i++) prs.push({ n: ++number, open: r.uniform(0, 60), close: r.uniform(p.lifetimeHours[0], p.lifetimeHours[1]) * 60 });
  for (let i = 0; i < p.openedDuringDay; i++) {
    const open = r.uniform(60, day * 0.85);
    prs.push({ n: ++number, open, close: open + r.uniform(p.lifetimeHours[0], p.lifetimeHours[1]) * 60 });
  }
  const pushes = [];
  const main = (t) => pushes.push({ t, kind: 'main', key: 'ref-main' });
  for (const pr of prs) {
    for (let t = pr.open; t < Math.min(pr.close, day); t += r.exp(p.pushEveryMinutes)) pushes.push({ t, kind: 'pr', key: `pr-${pr.n}`, pr: pr.n, baseKey: 'ref-main' });
    if (pr.close >= day) continue;
    if (p.mergeQueue) {
      const branch = `gh-readonly-queue/main/pr-${pr.n}-${(pr.n * 2654435761 >>> 0).toString(16)}`;
      pushes.push({ t: pr.close, kind: 'queue', key: contentKey(undefined, branch), baseKey: 'ref-main' });
      main(pr.close + cfg.queueMinutes);
    } else main(pr.close);
  }
  for (let i = 0; i < p.mainPushesOfTheirOwn; i++) main(r.uniform(0, day));
  // update-branch: open PRs follow main within minutes.
  for (const m of pushes.filter((x) => x.kind === 'main')) {
    for (const pr of prs) if (pr.open < m.t && m.t < pr.close && r.next() < p.updateBranchShare) pushes.push({ t: m.t + r.uniform(1, 10), kind: 'pr', key: `pr-${pr.n}`, pr: pr.n, baseKey: 'ref-main' });
  }
  const inDay = pushes.filter((x) => x.t < day).sort((a, b) => a.t - b.t);
  inDay.forEach((x, i) => (x.runId = String(90000 + i)));
  // Every entry the day needs (a trust domain's build of one job) and when each is asked for;
  // a PR's first run also asks for main's entry of its job (the base rule).
  const uses = new Map();
  const use = (e, t) => (uses.get(e) ?? uses.set(e, []).get(e)).push(t);
  const firstSeen = new Set();
  for (const x of inDay) {
    for (const s of specs) {
      use(entryOf(x.key, s.job, s.jobKey), x.t);
      if (x.baseKey && !firstSeen.has(x.key)) use(entryOf(x.baseKey, s.job, s.jobKey), x.t);
    }
    firstSeen.add(x.key);
  }
  const closes = prs.filter((pr) => pr.close < day).map((pr) => ({ t: pr.close, key: `pr-${pr.n}` }));
  const workingSet = [...uses.keys()].reduce((a, e) => a + specs.find((s) => e.endsWith(`|${s.job}|${s.jobKey}`)).bytes, 0);
  return { name: p.name, runners: p.runners, seed: p.seed, pushes: inDay, specs, uses, closes, workingSet, day };
}

/** A binary heap of events ordered by time, then by insertion. */
class Events {
  #h = [];
  #seq = 0;
  push(e) {
    e.seq = this.#seq++;
    const h = this.#h;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
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
      for (let i = 0; ; ) {
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
 * The action's slot pool, driven by the project's decisions. `policy.choose` is rankSlots (or
 * today's), `scope` and `fallback` say how the guard's plan is walked.
 */
export function poolModel(m, policy, D, level, roomOverride) {
  const slots = [];
  const byName = new Map();
  const used = () => slots.reduce((a, s) => a + s.bytes, 0);
  const diskOf = (u) => ({ totalBytes: D, usedBytes: u, freeBytes: Math.max(0, D - u), usedPercent: (100 * u) / D, inodes: 0, inodesFree: 0, inodePercent: 0 });
  const time = (rec) => (rec ? Date.parse(rec.lastUsed) : 0);
  const guard = (runnerId, now) => {
    if (!m.disk.beyond(diskOf(used()), level.threshold)) return;
    const cands = slots
      .filter((s) => s.bytes > 0 || s.live)
      .map((s) => ({ kind: 'target', path: s.name, bytes: s.bytes, lastUsedMs: time(s.record), owner: s.record?.runnerId, live: s.live, slot: s.name, key: s.record?.key }));
    const plan = m.guard.planPrune(cands, policy.scope, runnerId);
    for (const c of [...plan.ordered, ...(policy.fallback ? plan.fallback : [])]) {
      if (!m.disk.beyond(diskOf(used()), level.target)) break;
      const s = byName.get(c.slot);
      s.bytes = 0;
      if (s.record) s.record = { ...s.record, prunedAt: iso(now), sizes: { ...s.record.sizes, target: 0 } };
    }
  };
  return {
    used,
    start(job, runnerId, now, noWait) {
      const me = { repository: REPO, key: job.key, runnerId, workflow: 'ci', job: job.spec.job, jobKey: job.spec.jobKey, runId: job.runId, runAttempt: '1', baseKey: job.baseKey };
      guard(runnerId, now);
      const room = roomOverride ?? !m.disk.beyond(diskOf(used()), level.target);
      const plan = policy.choose(slots, me, { room });
      if (plan.waitFor && !noWait) return { wait: plan.waitFor };
      const c = plan.candidates[0];
      let slot = c && byName.get(c.name);
      if (!slot) {
        slot = { name: `s${String(slots.length).padStart(3, '0')}`, bytes: 0, live: false };
        slots.push(slot);
        byName.set(slot.name, slot);
      }
      const tier = c ? c.tier : 'new';
      const decision = m.prepare.decideReset('same-key', slot.record, slot.bytes > 0, { ...me, pr: job.pr });
      if (decision.reset) slot.bytes = 0;
      const warm = slot.bytes > 0 && (tier === 'own-job' || tier === 'base');
      const before = slot.bytes;
      // A warm build rewrites what it has; a cold one writes the whole target next to what is there.
      slot.bytes = warm ? Math.max(slot.bytes, job.spec.bytes) : slot.bytes + job.spec.bytes;
      const failed = used() > D;
      if (failed) slot.bytes = before;
      slot.live = true;
      slot.record = {
        format: 1, name: slot.name, layout: 'slot', repository: REPO, key: job.key, runnerId, runnerName: runnerId, host: 'h', workflow: 'ci',
        runId: job.runId, runAttempt: '1', job: job.spec.job, jobKey: job.spec.jobKey || undefined, jobUid: `${job.runId}-${job.id}`,
        leasedAt: iso(now), lastUsed: iso(now), sizes: decision.reset ? undefined : slot.record?.sizes,
      };
      job.slot = slot;
      return { warm, knownPath: tier === 'same-job', failed: failed ? 'disk' : undefined, tier, reason: decision.reason };
    },
    end(job, now) {
      const s = job.slot;
      if (job.failed) s.bytes = 0;
      s.live = false;
      s.record = { ...s.record, releasedAt: iso(now), lastUsed: iso(now), sizes: { target: s.bytes, cargoHome: 0, tmp: 0, measuredAt: iso(now) } };
      return s.name;
    },
    slots: () => slots.length,
  };
}

/**
 * The offline bound: knows every future request. Never evicts while the entries fit under the
 * guard's threshold; then evicts the idle entry whose next use is furthest away (Belady). Same
 * base rule as the action: a PR's first run takes main's idle entry of its job.
 */
function boundModel(trace, D, level) {
  const entries = new Map();
  const cap = (D * level.threshold.percent) / 100;
  let live = 0;
  const used = () => live + [...entries.values()].reduce((a, e) => a + (e.live ? 0 : e.bytes), 0);
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
  const seen = new Set();
  return {
    used,
    start(job, _runner, now, noWait) {
      const e = entryOf(job.key, job.spec.job, job.spec.jobKey);
      const first = !seen.has(e);
      seen.add(e);
      let cur = entries.get(e);
      if (cur?.live && !noWait) return { wait: e };
      let warm = false;
      if (cur && !cur.live) warm = true;
      else if (!cur && first && job.baseKey) {
        const b = entryOf(job.baseKey, job.spec.job, job.spec.jobKey);
        const base = entries.get(b);
        if (base && !base.live) {
          entries.delete(b);
          entries.set(e, base);
          cur = base;
          warm = true;
        }
      }
      if (!warm) {
        const need = job.spec.bytes;
        while (used() + need > cap) {
          let victim;
          let far = -1;
          for (const [k, v] of entries) {
            if (v.live || k === e) continue;
            const n = nextUse(k, now);
            if (n > far) [victim, far] = [k, n];
          }
          if (!victim) break;
          entries.delete(victim);
        }
        cur = { bytes: need, live: false };
        if (!entries.get(e)?.live) entries.set(e, cur);
      }
      cur.live = true;
      live += cur.bytes;
      job.entry = cur;
      return { warm, knownPath: false, failed: used() > D ? 'disk' : undefined };
    },
    end(job) {
      job.entry.live = false;
      live -= job.entry.bytes;
      return entryOf(job.key, job.spec.job, job.spec.jobKey);
    },
  };
}

/** The seeds' own layouts. */
function seedsModel(kind, trace, D) {
  const dirs = new Map(); // dir -> { content: Map(job -> bytes), live: Set(job) }
  const dirOf = (job) => (kind === 'shared' ? 'shared' : kind === 'per-pr' ? job.key : `run-${job.id}`);
  const used = () => {
    let u = 0;
    for (const d of dirs.values()) for (const b of d.content.values()) u += b;
    return u;
  };
  return {
    used,
    start(job) {
      const name = dirOf(job);
      const d = dirs.get(name) ?? dirs.set(name, { content: new Map(), live: new Set() }).get(name);
      const what = `${job.spec.job}|${job.spec.jobKey}`;
      // per-PR: the cancelled run still writes into the new run's directory; shared: anyone does.
      const race = kind === 'shared' ? d.live.size > 0 : kind === 'per-pr' ? [...d.live].some((j) => j.runId !== job.runId) : false;
      const warm = d.content.has(what);
      d.content.set(what, Math.max(d.content.get(what) ?? 0, job.spec.bytes));
      d.live.add(job);
      job.dir = d;
      return { warm, knownPath: kind !== 'per-run', failed: race ? 'race' : used() > D ? 'disk' : undefined };
    },
    end(job) {
      job.dir.live.delete(job);
      if (kind === 'per-run') job.dir.content.clear();
      return undefined;
    },
    close(key) {
      // The seeds' reaper removed a closed PR's directory.
      const d = dirs.get(key);
      if (kind === 'per-pr' && d && d.live.size === 0) dirs.delete(key);
    },
  };
}

/** Runs one policy over one trace on a disk of D bytes; metrics and a timeline. */
export function simulate(trace, policy, D, m, cfg, level) {
  const r = rng(trace.seed * 7919 + 17);
  const model = policy.model === 'pool' ? poolModel(m, policy, D, level) : policy.model === 'bound' ? boundModel(trace, D, level) : seedsModel(policy.model, trace, D);
  const events = new Events();
  for (const p of trace.pushes) events.push({ t: p.t, type: 'push', push: p });
  for (const c of trace.closes) events.push({ t: c.t, type: 'close', key: c.key });
  for (let t = 0; t <= trace.day; t += cfg.day.sampleMinutes) events.push({ t, type: 'sample' });
  const runners = Array.from({ length: trace.runners }, (_, i) => ({ id: `runner-${i + 1}`, busy: false }));
  const queue = [];
  const runs = new Map();
  const waiters = new Map();
  const stats = { jobs: 0, warm: 0, cold: 0, knownPath: 0, failedDisk: 0, failedRace: 0, minutes: 0, queueJobs: 0, queueWarm: 0, peak: 0, overMinutes: 0, cancelled: 0 };
  const timeline = [];
  let jobSeq = 0;
  let lastT = 0;
  const thresholdBytes = (D * level.threshold.percent) / 100;
  const finish = (job, t) => {
    job.endT = t;
    events.push({ t, type: 'end', job });
  };
  const tryStart = (job, now, noWait) => {
    const runnerId = policy.ephemeral ? `${job.runner.id}-job-${job.id}` : job.runner.id;
    const res = model.start(job, runnerId, now, noWait);
    if (res.wait !== undefined) {
      job.waiting = res.wait;
      (waiters.get(res.wait) ?? waiters.set(res.wait, []).get(res.wait)).push(job);
      events.push({ t: now + cfg.leaseWaitSeconds / 60, type: 'timeout', job });
      return;
    }
    job.waiting = undefined;
    job.started = true;
    stats.jobs++;
    if (job.kind === 'queue') stats.queueJobs++;
    if (res.failed) {
      job.failed = true;
      stats[res.failed === 'disk' ? 'failedDisk' : 'failedRace']++;
    }
    if (res.warm) {
      stats.warm++;
      if (job.kind === 'queue') stats.queueWarm++;
    } else {
      stats.cold++;
      if (res.knownPath) stats.knownPath++;
    }
    const minutes = res.warm ? job.spec.coldMinutes * cfg.cost.warmFraction : job.spec.coldMinutes;
    stats.minutes += minutes;
    finish(job, now + (job.failed ? 1 : minutes));
  };
  const dispatch = (now) => {
    for (;;) {
      const idle = runners.filter((x) => !x.busy);
      if (!idle.length || !queue.length) return;
      const job = queue.shift();
      job.runner = r.pick(idle);
      job.runner.busy = true;
      tryStart(job, now, false);
    }
  };
  while (events.size) {
    const e = events.pop();
    const u = model.used();
    if (u > thresholdBytes) stats.overMinutes += e.t - lastT;
    stats.peak = Math.max(stats.peak, u);
    lastT = e.t;
    if (e.type === 'sample') {
      timeline.push({ minute: e.t, used: (100 * u) / D, warm: stats.warm, jobs: stats.jobs });
      continue;
    }
    if (e.type === 'close') {
      model.close?.(e.key);
      continue;
    }
    if (e.type === 'push') {
      const p = e.push;
      const prev = runs.get(p.key);
      if (prev && p.kind === 'pr') {
        // cancel-in-progress: queued jobs vanish, running ones end within the cancel window.
        for (const j of prev) {
          const qi = queue.indexOf(j);
          if (qi >= 0) queue.splice(qi, 1);
          else if (j.started && !j.done && j.endT > e.t + cfg.cancelSeconds / 60) finish(j, e.t + cfg.cancelSeconds / 60);
          else if (j.waiting !== undefined) {
            j.waiting = undefined; // its main step was waiting for a slot: the runner is free again
            j.runner.busy = false;
          }
          if (!j.started) stats.cancelled++;
        }
      }
      const jobs = trace.specs.map((spec) => ({ id: ++jobSeq, spec, key: p.key, pr: p.pr, baseKey: p.baseKey, runId: p.runId, kind: p.kind }));
      runs.set(p.key, jobs);
      queue.push(...jobs);
    } else if (e.type === 'end') {
      const job = e.job;
      if (job.endT !== e.t || job.done) continue; // rescheduled by a cancel
      job.done = true;
      const released = model.end(job, e.t);
      job.runner.busy = false;
      for (const w of waiters.get(released) ?? []) if (w.waiting === released) tryStart(w, e.t, false);
      waiters.delete(released);
    } else if (e.type === 'timeout') {
      if (e.job.waiting !== undefined && !e.job.started) tryStart(e.job, e.t, true);
      continue;
    }
    dispatch(e.t);
  }
  return { stats, timeline, slots: model.slots?.() };
}

/**
 * What the action does, job by job, for explicit steps (jobs that start together, then end in
 * order): the same pool model as the simulation, for the real-cargo replay test to compare
 * with. `room` fixes the chooser's view of the disk (the test sets disk-target to match).
 */
export function replay(m, steps, o) {
  const level = { threshold: { kind: 'percent', percent: 99.9 }, target: { kind: 'percent', percent: 99 } };
  const pool = poolModel(m, { choose: (s, me, disk) => m.choose.rankSlots(s, me, disk), scope: 'runner', fallback: true }, 2 ** 60, level, o.room);
  let id = 0;
  return steps.map((step, i) => {
    const jobs = step.map((j) => ({ id: ++id, spec: { job: j.job, jobKey: '', bytes: GiB, coldMinutes: 1 }, key: j.pr ? `pr-${j.pr}` : `ref-${j.branch ?? 'main'}`, pr: j.pr, baseKey: j.pr ? 'ref-main' : undefined, runId: String(j.runId) }));
    const out = jobs.map((job, k) => {
      const r = pool.start(job, step[k].runner, i * 10, true);
      return { tier: r.tier, reason: r.reason, deps: r.warm ? 'none' : 'some', slot: job.slot.name };
    });
    jobs.forEach((job, k) => pool.end(job, i * 10 + 5 + k / 100));
    return out;
  });
}
