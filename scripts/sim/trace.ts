// A simulated day of one host: the pushes of its repositories (PRs, merges, the merge queue,
// bursts, release branches), drawn from traces.json with a seeded generator, so that every run
// of every machine simulates the same day. docs/simulation.md describes the traces.
import { readFileSync } from 'node:fs';
import { contentKey } from '../../src/model/key.js';

export const GiB = 2 ** 30;
export const DEFAULT_REPO = 'acme/widgets';

/** mulberry32: small, fast, and the same sequence on every machine. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo: number, hi: number) => lo + (hi - lo) * next(),
    pick: <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)],
    exp: (mean: number) => -mean * Math.log(1 - next()),
  };
}

/** One job of a push, as traces.json's job sets name it. */
export interface JobDef {
  job: string;
  coldMinutes: number;
  gib: number;
  /** Matrix legs, told apart by the action's `key` input. */
  legs?: string[];
  host?: boolean;
}

/** One trace of traces.json, or one repository of a multi-repository trace (`repos`). */
export interface TraceParams {
  name?: string;
  about?: string;
  seed: number;
  runners: number;
  jobs: string | JobDef[];
  repository?: string;
  repos?: Partial<TraceParams>[];
  ephemeral?: boolean;
  openAtStart: number;
  openedDuringDay: number;
  pushEveryMinutes: number;
  updateBranchShare: number;
  mainPushesOfTheirOwn: number;
  lifetimeHours: [number, number];
  mergeQueue: boolean;
  bursts?: {
    count: number;
    prs: number;
    spreadMinutes?: number;
    lifetimeHours: [number, number];
    pushEveryMinutes: number;
    abandonedShare?: number;
  };
  releaseBranches?: { count: number; everyHours: number };
}

/** A weight of the cost table: a factor (or a figure) and where it comes from. */
export interface Weight {
  x: number;
  source: string;
}

/** traces.json: every parameter of the simulation, with its source. */
export interface Config {
  about: string;
  day: { hours: number; sampleMinutes: number };
  moreSeeds: number[];
  design: string[];
  disk: { threshold: string; target: string; sizes: string };
  weights: Record<string, Weight | string>;
  sccache: { cacheSize: string; source: string };
  cancel: { releaseSeconds: number; source: string };
  gc: { everyMinutes: number; source: string };
  queueMinutes: number;
  jobSets: Record<string, JobDef[]>;
  traces: Record<string, TraceParams>;
}

export const readTraces = (path: URL | string = new URL('./traces.json', import.meta.url)): Config => JSON.parse(readFileSync(path, 'utf8'));

/** What one job of a push builds: a target dir of `bytes` that takes `coldMinutes` without any cache. */
export interface JobSpec {
  repo: string;
  job: string;
  jobKey: string;
  coldMinutes: number;
  bytes: number;
}

export type PushKind = 'main' | 'pr' | 'queue' | 'branch';

export interface Push {
  t: number;
  kind: PushKind;
  repo: string;
  key: string;
  pr?: number;
  baseKey?: string;
  event: string;
  runId?: string;
}

export interface Close {
  t: number;
  repo: string;
  key: string;
}

export interface Trace {
  name?: string;
  runners: number;
  seed: number;
  pushes: Push[];
  specs: Map<string, JobSpec[]>;
  /** Every entry the day needs (entryOf) and the minutes it is asked for. */
  uses: Map<string, number[]>;
  closes: Close[];
  workingSet: number;
  peakLive: number;
  day: number;
  ephemeral: boolean;
}

/** One entry of the day's working set: a trust domain's build of one job. */
export const entryOf = (repo: string, key: string, job: string, jobKey: string) => `${repo}|${key}|${job}|${jobKey}`;

const specsOf = (cfg: Config, jobs: string | JobDef[], repo: string): JobSpec[] => {
  const set = typeof jobs === 'string' ? cfg.jobSets[jobs] : jobs;
  if (!set) throw new Error(`traces.json: no job set '${jobs}'`);
  return set.flatMap((j) => (j.legs ?? ['']).map((leg) => ({ repo, job: j.job, jobKey: leg, coldMinutes: j.coldMinutes, bytes: j.gib * GiB })));
};

interface Pr {
  n: number;
  open: number;
  close: number;
  every: number;
  abandoned?: boolean;
}

/**
 * The pushes of one day, per repository: PR pushes (Poisson), update-branch pushes after every
 * push to main, merges (to main, or through the merge queue first), main's pushes of its own,
 * bursts of short-lived PRs, release branches. The draws for the first four come first and in
 * the order of earlier versions, so a trace without the newer kinds is the day it always was.
 */
export function makeTrace(p: TraceParams, cfg: Config, seed = p.seed): Trace {
  const r = rng(seed);
  const day = cfg.day.hours * 60;
  const repos = p.repos ?? [{}];
  const pushes: Push[] = [];
  const closes: Close[] = [];
  const specs = new Map<string, JobSpec[]>();
  repos.forEach((rp, ri) => {
    const q: TraceParams = { ...p, ...rp };
    const repo = q.repository ?? (repos.length > 1 ? `acme/repo-${ri + 1}` : DEFAULT_REPO);
    specs.set(repo, specsOf(cfg, q.jobs, repo));
    const prs: Pr[] = [];
    const mine: Push[] = [];
    let number = 1030;
    for (let i = 0; i < q.openAtStart; i++)
      prs.push({ n: ++number, open: r.uniform(0, 60), close: r.uniform(q.lifetimeHours[0], q.lifetimeHours[1]) * 60, every: q.pushEveryMinutes });
    for (let i = 0; i < q.openedDuringDay; i++) {
      const open = r.uniform(60, day * 0.85);
      prs.push({ n: ++number, open, close: open + r.uniform(q.lifetimeHours[0], q.lifetimeHours[1]) * 60, every: q.pushEveryMinutes });
    }
    const main = (t: number) => mine.push({ t, kind: 'main', repo, key: 'ref-main', event: 'push' });
    const prPushes = (pr: Pr) => {
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
    const bursts = q.bursts;
    for (let b = 0; bursts && b < bursts.count; b++) {
      const at = r.uniform(60, day * 0.85);
      for (let i = 0; i < bursts.prs; i++) {
        const open = at + r.uniform(0, bursts.spreadMinutes ?? 15);
        const pr = {
          n: ++number,
          open,
          close: open + r.uniform(bursts.lifetimeHours[0], bursts.lifetimeHours[1]) * 60,
          every: bursts.pushEveryMinutes,
          abandoned: r.next() < (bursts.abandonedShare ?? 0),
        };
        prs.push(pr);
        prPushes(pr);
      }
    }
    // Release branches: their own trust domains, pushing every few hours.
    const release = q.releaseBranches;
    for (let b = 0; release && b < release.count; b++) {
      const key = contentKey(undefined, `release/${b + 1}.x`);
      for (let t = r.uniform(0, release.everyHours * 60); t < day; t += r.exp(release.everyHours * 60))
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
  const uses = new Map<string, number[]>();
  const use = (e: string, t: number) => (uses.get(e) ?? uses.set(e, []).get(e)!).push(t);
  const firstSeen = new Set<string>();
  const bytesOf = new Map<string, number>();
  for (const x of inDay) {
    for (const s of specs.get(x.repo)!) {
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
