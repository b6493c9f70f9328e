import { type DirRecord, lastUsedMs } from '../model/record.js';
import { type WarmthEntry, startedWarm } from './warmth.js';

/*
 * What an idle warm build is worth, from what this host knows. The pool is a cache whose budget
 * is the disk; when something must go (the guard over its threshold, a job that must wipe a free
 * slot), the build worth least goes first, and a build worth nothing goes before anything else.
 *
 *   value = √saving / size / time to its next use
 *
 * because what a slot costs is disk for a while and what it pays is a warm start when its key
 * and job come back:
 *
 * - saving: what a warm start of that job saves, its cold leases' duration minus its warm ones'
 *   (moving averages over the host's history, `<root>/warmth.jsonl`, where post writes each
 *   job's lease time and units built and fresh). A job not seen cold yet counts as its
 *   repository's typical job. It enters as its square root: lease times are noisy (a cancelled
 *   build, a cold start with sccache hits, tests that dominate the lease), and every cold start
 *   is a slow CI round whatever it costs. Measured on the fleet simulation: weighing the saving
 *   in full keeps 10% fewer jobs warm for 2% less compile time; ignoring it keeps no compile
 *   time, and would lose it on fleets whose jobs differ more in cost per GiB. The root keeps
 *   both within about 1% of their best.
 * - size: the target dir as the last post step recorded it. Targets differ 20x (0.5 to 12 GiB):
 *   under pressure one big build of little use can hold the place of five small ones.
 * - time to the next use: the longer of the key's mean time between runs and how long it has
 *   been idle. Pushes come in bursts, but a key idle for longer than its usual gap is probably
 *   done (merged, abandoned), and its value keeps falling with its idle time: idle keys age out
 *   by themselves. A key with one run so far counts as its repository's typical key. The base
 *   branch's builds are also the start of every first run of its repository (choose.ts, tier
 *   `base`): its rate adds the repository's rate of first runs.
 * - a PR the host was told has closed (a `pull_request: closed` run of the action or
 *   `cargo-isolate forget`) is worth nothing, until it runs again (reopened).
 * - an older build of the same key and job, when a newer one is idle too, is worth nothing: the
 *   job comes back to the newest (the base branch's older builds excepted: first runs take them).
 *
 * Values within 25% of each other count as equal (valueRank); between equals the least recently
 * used goes first. Measured sizes and times are noisy, and a near tie is better decided by age
 * than by a few percent of jitter. docs/simulation.md measures the rule against plain LRU and a
 * clairvoyant reference on traces it was not tuned on.
 */

const GiB = 2 ** 30;
const HOUR = 3_600_000;
/** Before the host has seen any job cold: a typical CI build. */
export const DEFAULT_SAVING_MS = 10 * 60_000;
/** Before the host has seen any key run twice. */
export const DEFAULT_GAP_MS = 2 * HOUR;
/** A slot whose post step never recorded its size (killed job). */
const DEFAULT_BYTES = GiB;
/** Weight of the latest lease in the moving averages: recent builds say most about the next. */
const ALPHA = 0.3;
/** Run ids remembered per key to count distinct runs (a run's jobs end at different times). */
const RUNS_KEPT = 8;

interface KeyStats {
  runs: number;
  recent: string[];
  first: number;
  last: number;
  /** Seen with a base: a first run started from `base`. */
  base?: string;
}
interface JobStats {
  cold?: number;
  warm?: number;
}
export interface HostStats {
  /** `<repository>#<key>`. */
  keys: Map<string, KeyStats>;
  /** `<repository>|<workflow>|<job>|<jobKey>`. */
  jobs: Map<string, JobStats>;
  /** `<repository>#<key>` → when it was said to be closed (ms). */
  closed: Map<string, number>;
  /** `<repository>#<key>` of every branch some first run had as its base. */
  bases: Set<string>;
  /** Per repository: domains seen with a base (first runs), and since when. */
  firstRuns: Map<string, { n: number; since: number }>;
  /** Runner → when it last ended a job here (ms): who still exists, for prune-scope: runner (policy.ts `presentRunners`). */
  runners: Map<string, number>;
  /** The largest target dir a job's end recorded (bytes): the room a build may need (policy.ts `hardLevel`). */
  largest: number;
  /** Bumped by every change: `typical` is computed once per version. */
  version: number;
  typical?: { version: number; of: Typical };
}

/** One line of the host's history as the value rule reads it (warmth.ts writes it). */
export type UseEntry = Pick<WarmthEntry, 't' | 'repository' | 'job' | 'jobKey' | 'key' | 'built' | 'fresh' | 'workflow' | 'run' | 'ms' | 'base'> &
  Partial<Pick<WarmthEntry, 'runner' | 'target'>>;

export const emptyStats = (): HostStats => ({
  keys: new Map(),
  jobs: new Map(),
  closed: new Map(),
  bases: new Set(),
  firstRuns: new Map(),
  runners: new Map(),
  largest: 0,
  version: 0,
});

export const domainOf = (repository: string, key: string) => `${repository}#${key}`;
export const jobOf = (r: { repository: string; workflow?: string; job: string; jobKey?: string }) =>
  `${r.repository}|${r.workflow ?? ''}|${r.job}|${r.jobKey ?? ''}`;
const ewma = (prev: number | undefined, x: number) => (prev === undefined ? x : prev + ALPHA * (x - prev));

/** Adds one job's line (in time order). The accumulator is what the value rule reads. */
export function addEntry(s: HostStats, e: UseEntry): void {
  const t = Date.parse(e.t);
  if (!Number.isFinite(t)) return;
  s.version++;
  const id = domainOf(e.repository, e.key);
  // Entries of older versions carry no run id: jobs ending within 10 minutes count as one run.
  const run = e.run ?? `t${Math.floor(t / 600_000)}`;
  let k = s.keys.get(id);
  if (!k) {
    k = { runs: 0, recent: [], first: t, last: t };
    s.keys.set(id, k);
    if (e.base) {
      const f = s.firstRuns.get(e.repository) ?? { n: 0, since: t };
      f.n++;
      s.firstRuns.set(e.repository, f);
    }
  }
  if (!k.recent.includes(run)) {
    k.runs++;
    k.recent.push(run);
    if (k.recent.length > RUNS_KEPT) k.recent.shift();
    k.last = Math.max(k.last, t);
  }
  if (e.base) {
    k.base = e.base;
    s.bases.add(domainOf(e.repository, e.base));
  }
  if (e.runner !== undefined) s.runners.set(e.runner, Math.max(s.runners.get(e.runner) ?? t, t));
  if (e.target !== undefined && e.target > s.largest) s.largest = e.target;
  // A run after the close: the PR was reopened.
  if ((s.closed.get(id) ?? Infinity) < t) s.closed.delete(id);
  if (e.ms !== undefined && e.ms > 0 && e.built + e.fresh > 0) {
    const j = s.jobs.get(jobOf(e)) ?? {};
    if (startedWarm(e)) j.warm = ewma(j.warm, e.ms);
    else j.cold = ewma(j.cold, e.ms);
    s.jobs.set(jobOf(e), j);
  }
}

/** A PR (or any key) said to be closed at `tMs`. */
export function addClosed(s: HostStats, repository: string, key: string, tMs: number): void {
  s.version++;
  s.closed.set(domainOf(repository, key), tMs);
}

/** The accumulator over a whole history, oldest first. */
export function statsOf(entries: UseEntry[], closed: { t: string; repository: string; key: string }[] = []): HostStats {
  const s = emptyStats();
  const all: ({ c: false; e: UseEntry } | { c: true; e: { t: string; repository: string; key: string } })[] = [
    ...entries.map((e) => ({ c: false as const, e })),
    ...closed.map((e) => ({ c: true as const, e })),
  ];
  all.sort((a, b) => a.e.t.localeCompare(b.e.t));
  for (const x of all) {
    if (x.c) addClosed(s, x.e.repository, x.e.key, Date.parse(x.e.t));
    else addEntry(s, x.e);
  }
  return s;
}

const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.floor((v.length - 1) / 2)];
};

interface Typical {
  gap: (repo: string) => number;
  saving: (repo: string) => number;
}

/** Typical gap between runs and typical saving per repository (the fallbacks), once per version of the stats. */
function typical(s: HostStats): Typical {
  if (s.typical?.version !== s.version) s.typical = { version: s.version, of: typicalNow(s) };
  return s.typical.of;
}

function typicalNow(s: HostStats): Typical {
  const gaps = new Map<string, number[]>();
  const all: number[] = [];
  for (const [id, k] of s.keys) {
    if (k.runs < 2) continue;
    const g = (k.last - k.first) / (k.runs - 1);
    const repo = id.slice(0, id.lastIndexOf('#'));
    (gaps.get(repo) ?? gaps.set(repo, []).get(repo)!).push(g);
    all.push(g);
  }
  const savings = new Map<string, number[]>();
  const allSavings: number[] = [];
  for (const [id, j] of s.jobs) {
    if (j.cold === undefined) continue;
    const v = saving(j);
    const repo = id.slice(0, id.indexOf('|'));
    (savings.get(repo) ?? savings.set(repo, []).get(repo)!).push(v);
    allSavings.push(v);
  }
  const hostGap = median(all) ?? DEFAULT_GAP_MS;
  const hostSaving = median(allSavings) ?? DEFAULT_SAVING_MS;
  const repoGap = new Map([...gaps].map(([r, g]) => [r, median(g)!]));
  const repoSaving = new Map([...savings].map(([r, v]) => [r, median(v)!]));
  return { gap: (repo) => repoGap.get(repo) ?? hostGap, saving: (repo) => repoSaving.get(repo) ?? hostSaving };
}

/** What a warm start saves: cold minus warm, never less than a tenth of a cold start (noise). */
const saving = (j: JobStats) => Math.max((j.cold ?? 0) - (j.warm ?? 0), (j.cold ?? 0) / 10);

/**
 * A merge-queue entry's content (GitHub names its branch `gh-readonly-queue/<base>/pr-<n>-<sha>`,
 * so its key is `ref-gh-readonly-queue-...+<hash>`, see key.ts). Every entry is a branch of its
 * own that no later run uses again: once its run has ended, it is the least valuable content on
 * the host, and the first to go.
 */
export const spentQueueEntry = (r: Pick<DirRecord, 'key'>) => r.key.startsWith('ref-gh-readonly-queue-') && r.key.includes('+');

/**
 * Holds nothing another job could start warm from, as its record says: no record (the next user
 * wipes it), a target the guard pruned (or that a job left empty), or a merge-queue entry whose
 * run has ended. Worth 0 (slotValues), like a closed PR's build and an older copy.
 */
export const worthless = (r?: DirRecord) => !r || r.prunedAt !== undefined || r.sizes?.target === 0 || spentQueueEntry(r);

/** An idle build as the worth rule compares it: its key (slots only) and its value (undefined: not known). */
export interface Worth {
  key?: string;
  value?: number;
}

/** Pure: nothing another job could start warm from: its record says so, or its value is 0 (a closed PR's, an older copy). */
export const worthNothing = (s: { record?: DirRecord; value?: number }) => worthless(s.record) || s.value === 0;

/** An idle build's place in the order of worth (byWorth), made once per build: sorts compare it many times. */
export interface WorthKey {
  spent: number;
  rank: number;
}
export const worthKey = (w: Worth): WorthKey => ({ spent: Number(w.key !== undefined && spentQueueEntry({ key: w.key })), rank: valueRank(w.value) });

/**
 * Pure: the one order of worth, least first, which the chooser (a free slot to wipe) and the guard
 * (an idle build to remove) both follow: a spent merge-queue entry before anything (its bytes come
 * back and no run asks for it again), then by value, values within 25% as equal (valueRank), the
 * unknown last. 0 for equals: the caller's tie-breaks follow.
 */
export const byWorth = (a: WorthKey, b: WorthKey): number => b.spent - a.spent || a.rank - b.rank || 0;

export interface Valued {
  name: string;
  record?: DirRecord;
  live: boolean;
}

/**
 * Pure: the value of every idle slot's build (live slots get none: the chooser and the guard never
 * weigh them). A build `worthless` by its record is worth 0.
 */
export function slotValues(slots: Valued[], s: HostStats, nowMs: number): Map<string, number> {
  const out = new Map<string, number>();
  const ty = typical(s);
  const idle: { name: string; r: DirRecord; d: Derived }[] = [];
  const newest = new Map<string, { name: string; t: number }>();
  for (const x of slots) {
    if (x.live) continue;
    const r = x.record;
    if (!r || worthless(r)) {
      out.set(x.name, 0);
      continue;
    }
    const d = derive(r);
    idle.push({ name: x.name, r, d });
    const cur = newest.get(d.entry);
    if (!cur || d.t > cur.t || (d.t === cur.t && x.name < cur.name)) newest.set(d.entry, { name: x.name, t: d.t });
  }
  for (const { name, r, d } of idle) {
    const isBase = s.bases.has(d.domain);
    const closedAt = s.closed.get(d.domain);
    if ((closedAt !== undefined && closedAt >= d.t) || (!isBase && newest.get(d.entry)!.name !== name)) {
      out.set(name, 0);
      continue;
    }
    const j = s.jobs.get(d.job);
    const save = j?.cold !== undefined ? saving(j) : ty.saving(r.repository);
    const k = s.keys.get(d.domain);
    const gap = k && k.runs >= 2 ? (k.last - k.first) / (k.runs - 1) : ty.gap(r.repository);
    let rate = 1 / Math.max(gap, 60_000);
    if (isBase) {
      const f = s.firstRuns.get(r.repository);
      if (f) rate += f.n / Math.max(nowMs - f.since, HOUR);
    }
    const wait = Math.max(1 / rate, nowMs - d.t, 60_000);
    const bytes = r.sizes?.target || DEFAULT_BYTES;
    out.set(name, Math.sqrt(save / 60_000) / (bytes / GiB) / (wait / HOUR));
  }
  return out;
}

interface Derived {
  domain: string;
  job: string;
  entry: string;
  t: number;
}
const derived = new WeakMap<DirRecord, Derived>();
/** The strings a record is looked up by, made once per record object. */
function derive(r: DirRecord): Derived {
  let d = derived.get(r);
  if (!d) {
    const domain = domainOf(r.repository, r.key);
    const job = jobOf(r);
    d = { domain, job, entry: `${domain}|${job}`, t: lastUsedMs(r) };
    derived.set(r, d);
  }
  return d;
}

/** Values within 25% of each other share a rank: near ties are decided by age, not by noise. */
export const valueRank = (v: number | undefined): number => (v === undefined ? Infinity : v <= 0 ? -Infinity : Math.floor(Math.log(v) / Math.log(1.25)));

/**
 * A dependency archive on the host as the worth rule reads it: its archive.json (store/archive.ts)
 * and whether a restore reads it now. Its path is the directory the guard would remove.
 */
export interface ArchiveView {
  path: string;
  repository: string;
  workflow: string;
  job: string;
  jobKey?: string;
  /** The trust domain of the job that saved it. */
  domain: string;
  /** Its keys (model/archive-key.ts): a start restores its exact key, else the newest of its fallback. */
  fallback: string;
  exact: string;
  bytes: number;
  /** When its save finished (ms). */
  savedMs: number;
  /** A restore reads it: never weighed, never removed. */
  live: boolean;
}

/**
 * Pure: what each idle archive is worth, by path, in the unit of a build's worth (slotValues), so
 * that the guard weighs both in one order:
 *
 *   value = √saving / size / time to its next restore
 *
 * - saving: what a restore saves against the start its job would make without one: the job's
 *   cold leases as the host saw them (a start at a path its compile cache knows, or truly cold)
 *   less its warm ones. A restored start is a warm start plus the restore itself (bench 11a: 2 to
 *   4 s for 170 MB, every dependency unit fresh), so it saves what a warm build saves.
 * - size: the archive's bytes, about a fifth of the target dir it came from (bench 11a): per byte
 *   an archive holds about five times a build's warm starts.
 * - time to its next restore: an archive serves every start of its job in the trust domains that
 *   read it, its own and, for a base branch's, every PR and first run based on it (trust flows from
 *   a base to its PRs, as for warm copies): the sum of their rates, each the inverse of the longer
 *   of its mean gap between runs and its idle time (an idle key ages out, as for builds), plus the
 *   repository's rate of first runs for a base branch. A start that holds its own warm build does
 *   not restore; the rate counts it anyway, since the host cannot tell which starts will lack
 *   theirs: it says how much an archive is asked for relative to another, and the host tier's cap
 *   (policy.ts `trimArchives`) bounds what the archives of a busy repository may take.
 * - worth nothing: an archive of a closed PR; one whose domain and job have a newer archive (a
 *   start restores its exact key, else the newest of its fallback key; a newer fallback key is a
 *   job that moved on: another toolchain or settings); and a PR's archive of an exact key its base
 *   branch has too (saved before the base's was: every start that reads it reads the base's).
 */
export function archiveValues(archives: ArchiveView[], s: HostStats, nowMs: number): Map<string, number> {
  const out = new Map<string, number>();
  const ty = typical(s);
  const sameJob = (a: ArchiveView) => `${domainOf(a.repository, a.domain)}|${jobOf(a)}`;
  const newest = new Map<string, ArchiveView>();
  for (const a of archives) {
    const cur = newest.get(sameJob(a));
    if (!cur || a.savedMs > cur.savedMs || (a.savedMs === cur.savedMs && a.path < cur.path)) newest.set(sameJob(a), a);
  }
  // Every key's rate of runs now, and the sum of those based on each base branch.
  const rateOf = (id: string, k: KeyStats | undefined, repository: string, sinceMs: number): number => {
    // A closed PR runs no more (a run after its close reopened it: addEntry forgot the close).
    if (s.closed.has(id)) return 0;
    const gap = k && k.runs >= 2 ? (k.last - k.first) / (k.runs - 1) : ty.gap(repository);
    return 1 / Math.max(gap, nowMs - (k?.last ?? sinceMs), 60_000);
  };
  const based = new Map<string, number>();
  for (const [id, k] of s.keys) {
    if (k.base === undefined) continue;
    const repository = id.slice(0, id.lastIndexOf('#'));
    const base = domainOf(repository, k.base);
    based.set(base, (based.get(base) ?? 0) + rateOf(id, k, repository, k.last));
  }
  // Exact keys by domain: a PR's archive of its base's exact key adds nothing to the base's.
  const exactIn = new Set(archives.map((a) => `${domainOf(a.repository, a.domain)}|${a.exact}`));
  for (const a of archives) {
    if (a.live) continue;
    const id = domainOf(a.repository, a.domain);
    const closedAt = s.closed.get(id);
    const base = s.keys.get(id)?.base;
    const copyOfBase = base !== undefined && exactIn.has(`${domainOf(a.repository, base)}|${a.exact}`);
    if ((closedAt !== undefined && closedAt >= a.savedMs) || newest.get(sameJob(a)) !== a || copyOfBase) {
      out.set(a.path, 0);
      continue;
    }
    const j = s.jobs.get(jobOf(a));
    const save = j?.cold !== undefined ? saving(j) : ty.saving(a.repository);
    let rate = rateOf(id, s.keys.get(id), a.repository, a.savedMs);
    if (s.bases.has(id)) {
      rate += based.get(id) ?? 0;
      const f = s.firstRuns.get(a.repository);
      if (f) rate += f.n / Math.max(nowMs - f.since, HOUR);
    }
    const wait = rate > 0 ? Math.max(1 / rate, 60_000) : Infinity;
    out.set(a.path, wait === Infinity ? 0 : Math.sqrt(save / 60_000) / (Math.max(a.bytes, 1) / GiB) / (wait / HOUR));
  }
  return out;
}
