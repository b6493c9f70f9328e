// The comparison: every policy on every trace, over several seeds, at disk sizes read from the
// knee of each day; as tables, verdicts and a timeline.
import { DEFAULTS, defaultTarget } from '../../src/model/settings.js';
import { parseLevel } from '../../src/model/units.js';
import { type Policy, SHIPPED, makePolicy } from '../../src/pool/policy.js';
import { percentOf } from './baselines.js';
import { type Weights, weightsOf } from './costs.js';
import { type SimPolicy, type SimResult, type Stats, type TimelinePoint, simulate } from './fleet.js';
import type { GuardStats } from './model.js';
import type { Levels } from './pool.js';
import { type Config, GiB, type Trace, makeTrace } from './trace.js';

export { readTraces } from './trace.js';

/** The guard's levels as the action has them by default: the threshold, and the shipped default target under it. */
export function levelsOf(target?: string): Levels {
  const threshold = parseLevel(DEFAULTS['disk-threshold'])!;
  return { threshold, target: target ? level(target) : defaultTarget(threshold) };
}

const level = (text: string) => {
  const l = parseLevel(text);
  if (!l) throw new Error(`'${text}' is not a disk level (e.g. 80%)`);
  return l;
};

/** The shipped policy with `host-archives: off` and no fleet store: what shipped before the archive tiers. */
const NO_TIERS = makePolicy({ archives: false });

/** The policies compared; the first is the one that ships. Names are what a user reads in the tables. */
export function policiesFor(previous?: Policy): SimPolicy[] {
  // What ships: the chooser and guard, warm copies into a slot without its own build, and
  // compile-cache keys that are the same in every slot (one CARGO_HOME per uid, the rustc wrapper).
  const pool = { model: 'pool' as const, scope: DEFAULTS['prune-scope'] };
  const list: SimPolicy[] = [
    { name: 'shipped', ...pool, policy: SHIPPED, shipped: true },
    // The archive tiers: the fleet tier (a shared directory) behind the host tier, and neither (the release before them).
    { name: 'shipped + fleet tier (shared directory)', ...pool, policy: SHIPPED, fleetTier: true },
    { name: 'shipped without the archive tiers', ...pool, policy: NO_TIERS, noTiers: true },
    // With copies, a first run could copy its base's build instead of taking the base's slot.
    {
      name: 'shipped, a first run copying its base instead of taking its slot',
      ...pool,
      policy: makePolicy({ firstRunTakesBase: false }),
      variant: 'copies-keep-base',
    },
    { name: 'shipped without warm copies', ...pool, policy: makePolicy({ copies: false }), variant: 'no-copies' },
    {
      name: 'shipped without warm copies or compile-cache hits across slots',
      ...pool,
      policy: makePolicy({ copies: false, crossSlotHits: false }),
      variant: 'neither',
    },
    { name: 'shipped, prune-scope: host', ...pool, policy: SHIPPED, scope: 'host', hostScope: true },
    { name: 'shipped, prune-scope: host, without the archive tiers', ...pool, policy: NO_TIERS, scope: 'host', noTiers: true, hostScopeNoTiers: true },
    { name: 'shipped, no closed-PR signal (idle keys age out)', ...pool, policy: makePolicy({ closedPrs: false }) },
  ];
  if (previous) list.push({ name: 'previous release', ...pool, policy: previous, target: '75%', previous: true });
  list.push(
    { name: 'plain LRU', model: 'entry', rule: 'lru', lru: true },
    { name: 'clairvoyant reference', model: 'reference', reference: true },
    { name: 'clairvoyant reference, copying its base for every start', model: 'reference', anyBase: true, strongReference: true },
    { name: 'a new target dir per run at a stable path, with a host-wide sccache', model: 'per-run', baseline: 'per-run' },
    { name: 'a target dir per PR, with a host-wide sccache', model: 'per-pr', baseline: 'per-pr' },
    { name: 'one shared target dir', model: 'shared', baseline: 'shared' },
    { name: "rust-cache's archive, restored at the same paths", model: 'rust-cache', baseline: 'rust-cache' },
  );
  return list;
}

/**
 * The shipped policy with one of its rules put back as it was in the previous release, to say
 * what each rule is worth (docs/simulation.md, "What each rule is worth"): each an option of the
 * policy (policy.ts PolicyOptions), or a setting.
 */
export function ablationsFor(): SimPolicy[] {
  const base = { model: 'pool' as const, scope: DEFAULTS['prune-scope'], ablation: true };
  return [
    { ...base, name: "a sibling's build of the same PR taken first (the previous rule)", policy: makePolicy({ siblingFirst: true }) },
    { ...base, name: 'eviction by age alone (no value)', policy: makePolicy({ values: false }) },
    {
      ...base,
      name: "runner scope frees any runner's idle data, this runner's first among equals (the previous rule)",
      policy: makePolicy({ runnerScope: 'equals' }),
    },
    {
      ...base,
      name: 'runner scope frees the dependency archives as it frees the stores (the previous rule)',
      policy: makePolicy({ runnerScopeFreesArchives: true }),
    },
    { ...base, name: 'disk-target 10 points under the threshold (the previous default)', policy: SHIPPED, target: '75%' },
    { ...base, name: 'waits lease-wait (60 s) for any earlier run (the previous rule)', policy: makePolicy({ waitForAnyEarlierRun: true }) },
    { ...base, name: 'the guard may remove the build its job is about to take', policy: makePolicy({ keepOwnBuild: false }) },
  ];
}

/** One policy on one day: the reference is the better of two clairvoyant eviction rules, both with copies. */
export function runOne(trace: Trace, sp: SimPolicy, D: number, cfg: Config, lv: Levels, w: Weights): SimResult {
  const at = sp.target ? { threshold: lv.threshold, target: level(sp.target) } : lv;
  if (sp.model !== 'reference') return simulate(trace, sp, D, cfg, at, w);
  const runs = (['belady', 'belady-size'] as const).map((rule) => simulate(trace, { model: 'entry', rule, copies: true, anyBase: sp.anyBase }, D, cfg, at, w));
  return runs.reduce((a, b) => (b.stats.warm > a.stats.warm ? b : a));
}

/**
 * The knee of a day: the smallest disk (to 1%) where the reference starts as many jobs warm as
 * on an endless disk. Below it something is lost whatever the policy; that is where policies
 * differ.
 */
export function kneeOf(trace: Trace, cfg: Config, lv: Levels, w: Weights): number {
  const warmAt = (D: number) => runOne(trace, { model: 'reference' }, D, cfg, lv, w).stats.warm;
  const all = warmAt(2 ** 60);
  let hi = (trace.workingSet + trace.peakLive + w.sccacheBytes) / (percentOf(lv.threshold) / 100);
  while (warmAt(hi) < all) hi *= 1.5;
  let lo = hi / 8;
  while (hi - lo > hi * 0.01) {
    const mid = (lo + hi) / 2;
    if (warmAt(mid) >= all) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The floor of a day: a disk on which every runner can build the day's largest target at once
 * next to sccache's cache, and whose room above `disk-threshold` holds one more such build (the
 * guard runs before a job writes). Below it a layout that keeps anything can fail jobs for disk
 * (with 16 runners and 5 GiB targets, 80 GiB of live builds), so no size below it is simulated.
 */
export const floorOf = (trace: Pick<Trace, 'peakLive' | 'runners'>, w: Pick<Weights, 'sccacheBytes'>, lv?: Levels): number => {
  const largest = trace.peakLive / trace.runners;
  return Math.max(trace.peakLive + w.sccacheBytes, lv ? largest / (1 - percentOf(lv.threshold) / 100) : 0);
};

type Size = [label: string, bytes: number, clamped: boolean];

/**
 * The disk sizes of one day, labelled: the knee, half and a quarter of it, each at least the
 * floor (`clamped` says where a fraction fell below it); for `incidents` the earlier sizes too.
 */
export function sizesFor(name: string, trace: Trace, cfg: Config, lv: Levels, w: Weights): Size[] {
  const knee = kneeOf(trace, cfg, lv, w);
  const floor = floorOf(trace, w, lv);
  const sizes: Size[] = [
    ['knee', knee, false],
    ['knee/2', Math.max(knee / 2, floor), knee / 2 < floor],
    ['knee/4', Math.max(knee / 4, floor), knee / 4 < floor],
  ];
  if (name === 'incidents') {
    const full = (trace.workingSet + trace.peakLive) / 0.75;
    sizes.push(
      ['all fit (earlier)', full, false],
      ['half (earlier)', Math.max(full / 2, floor), full / 2 < floor],
      ['quarter (earlier)', Math.max(full / 4, floor), full / 4 < floor],
    );
  }
  return sizes;
}

export const seedsOf = (cfg: Config, name: string, n = 1 + cfg.moreSeeds.length) => [cfg.traces[name].seed, ...cfg.moreSeeds].slice(0, n);

export interface Result {
  trace: string;
  seed: number;
  size: string;
  D: number;
  clamped: boolean;
  policy: string;
  flags: SimPolicy;
  stats: Stats;
  timeline: TimelinePoint[];
  slots?: number;
  guard?: GuardStats;
  ms: number;
  pushes: number;
  workingSet: number;
  peakLive: number;
}

export interface RunOptions {
  traces?: string[];
  /** How many seeds per trace. */
  seeds?: number;
  sizes?: string[];
  policies?: (p: SimPolicy) => boolean;
  /** disk-target for every policy without its own. */
  target?: string;
  ablations?: boolean;
  extra?: SimPolicy[];
  /** The previous release's policy (previous.ts), for its column. */
  previous?: Policy;
}

/**
 * Every policy on every trace, seed and size. `o.traces`, `o.seeds` (how many), `o.policies`
 * (a filter) and `o.sizes` (labels) narrow it for tests; `o.extra` adds policies to try.
 */
export function runAll(cfg: Config, o: RunOptions = {}): Result[] {
  const lv = levelsOf(o.target);
  const w = weightsOf(cfg);
  const names = o.traces ?? Object.keys(cfg.traces);
  const policies = [...policiesFor(o.previous), ...(o.ablations ? ablationsFor() : []), ...(o.extra ?? [])].filter((p) => !o.policies || o.policies(p));
  const results: Result[] = [];
  for (const name of names) {
    for (const seed of seedsOf(cfg, name, o.seeds)) {
      const trace = makeTrace({ ...cfg.traces[name], name }, cfg, seed);
      for (const [size, D, clamped] of sizesFor(name, trace, cfg, lv, w).filter(([s]) => !o.sizes || o.sizes.includes(s))) {
        for (const policy of policies) {
          const t0 = performance.now();
          const { stats, timeline, slots, guard } = runOne(trace, policy, D, cfg, lv, w);
          results.push({
            trace: name,
            seed,
            size,
            D,
            clamped,
            policy: policy.name!,
            flags: policy,
            stats,
            timeline,
            slots,
            guard,
            ms: performance.now() - t0,
            pushes: trace.pushes.length,
            workingSet: trace.workingSet,
            peakLive: trace.peakLive,
          });
        }
      }
    }
  }
  return results;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

export interface Row {
  trace: string;
  size: string;
  policy: string;
  flags: SimPolicy;
  seeds: number;
  gib: number;
  clamped: number;
  share: number;
  shareRange: [number, number];
  vsRef: number;
  vsRefRange: [number, number];
  vsLru: number;
  vsLruRange: [number, number];
  vsStrong: number;
  hours: number;
  hoursRange: [number, number];
  jobs: number;
  failedDisk: number;
  failedRace: number;
  overMinutes: number;
  peak: number;
  hits: number;
  copies: number;
  waits: number;
  waitMinutes: number;
  guardRuns?: number;
  freedPerRun?: number;
  pushes: number;
  workingSet: number;
  peakLive: number;
}

/** Per trace, size and policy: means and ranges over the seeds, ratios per seed to the reference and to LRU. */
export function summarize(results: Result[]): Row[] {
  const groups = new Map<string, Result[]>();
  for (const r of results) {
    const k = `${r.trace}\u0000${r.size}\u0000${r.policy}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const find = (r: Result, pred: (f: SimPolicy) => boolean | undefined) =>
    results.find((x) => x.trace === r.trace && x.seed === r.seed && x.size === r.size && pred(x.flags));
  const rows: Row[] = [];
  for (const rs of groups.values()) {
    const f = rs[0].flags;
    const share = rs.map((r) => r.stats.warm / Math.max(1, r.stats.jobs));
    const ratio = (pred: (f: SimPolicy) => boolean | undefined) =>
      rs.map((r) => {
        const o = find(r, pred)?.stats;
        return o ? (o.warm ? r.stats.warm / o.warm : r.stats.warm ? Infinity : 1) : NaN;
      });
    const vsRef = ratio((x) => x.reference);
    const vsStrong = ratio((x) => x.strongReference);
    const vsLru = ratio((x) => x.lru);
    const hours = rs.map((r) => r.stats.minutes / 60);
    const guards = rs.map((r) => r.guard);
    rows.push({
      trace: rs[0].trace,
      size: rs[0].size,
      policy: rs[0].policy,
      flags: f,
      seeds: rs.length,
      gib: mean(rs.map((r) => r.D / GiB)),
      clamped: rs.filter((r) => r.clamped).length,
      share: mean(share),
      shareRange: range(share),
      vsRef: mean(vsRef),
      vsRefRange: range(vsRef),
      vsLru: mean(vsLru),
      vsLruRange: range(vsLru),
      vsStrong: mean(vsStrong),
      hours: mean(hours),
      hoursRange: range(hours),
      jobs: mean(rs.map((r) => r.stats.jobs)),
      failedDisk: rs.reduce((a, r) => a + r.stats.failedDisk, 0),
      failedRace: rs.reduce((a, r) => a + r.stats.failedRace, 0),
      overMinutes: mean(rs.map((r) => r.stats.overMinutes)),
      peak: mean(rs.map((r) => r.stats.peak / r.D)),
      hits: mean(rs.map((r) => r.stats.hits)),
      copies: mean(rs.map((r) => r.stats.copies)),
      waits: mean(rs.map((r) => r.stats.waits)),
      waitMinutes: mean(rs.map((r) => r.stats.waitMinutes)),
      guardRuns: guards[0] ? mean(guards.map((g) => g!.runs)) : undefined,
      freedPerRun: guards[0] ? mean(rs.map((r) => (r.guard!.runs ? r.guard!.freed / r.guard!.runs / r.D : 0))) : undefined,
      pushes: mean(rs.map((r) => r.pushes)),
      workingSet: mean(rs.map((r) => r.workingSet)),
      peakLive: rs[0].peakLive,
    });
  }
  return rows;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pctRange = ([a, b]: [number, number]) => `${(100 * a).toFixed(0)}–${(100 * b).toFixed(0)}`;
const hRange = ([a, b]: [number, number]) => `${a.toFixed(0)}–${b.toFixed(0)}`;
/** A count a day, mean of the seeds: whole numbers, tenths under 10 (0.2 a day is not 0). */
const perDay = (n: number) => (n === 0 ? '0' : n < 10 ? n.toFixed(1) : n.toFixed(0));
const SIZES = ['knee', 'knee/2', 'knee/4', 'all fit (earlier)', 'half (earlier)', 'quarter (earlier)'];
/** A size's label, saying where it was raised to the floor (on every day, or on some). */
const sizeLabel = (r: Pick<Row, 'size' | 'clamped' | 'seeds'>) =>
  r.clamped === 0 ? r.size : r.clamped === r.seeds ? `${r.size}, the floor` : `${r.size} (the floor on ${r.clamped} of ${r.seeds} days)`;
const bySize = (a: string, b: string) => SIZES.indexOf(a) - SIZES.indexOf(b);

/** The headline: compile hours a day of every layout on one trace, per disk size. */
export function headline(rows: Row[], trace = 'incidents'): string {
  const at = rows.filter((r) => r.trace === trace);
  const sizes = [...new Set(at.map((r) => r.size))].sort(bySize);
  const cols = (
    [
      ['shipped', (f) => f.shipped],
      ['shipped + fleet tier', (f) => f.fleetTier],
      ['without the archive tiers', (f) => f.noTiers && !f.hostScopeNoTiers],
      ['host scope', (f) => f.hostScope],
      ['host scope, no tiers', (f) => f.hostScopeNoTiers],
      ['new dir per run, stable path, sccache', (f) => f.baseline === 'per-run'],
      ['dir per PR, sccache', (f) => f.baseline === 'per-pr'],
      ["rust-cache's restore", (f) => f.baseline === 'rust-cache'],
      ['previous release', (f) => f.previous],
    ] as [string, (f: SimPolicy) => boolean | undefined][]
  ).filter(([, p]) => at.some((r) => p(r.flags)));
  const head = ['disk', ...cols.map(([n]) => n)];
  const out = [
    `Compile hours a day on **${trace}**, mean of ${at[0]?.seeds ?? 0} seeds (range), and jobs failed a day:`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const size of sizes) {
    const cells = cols.map(([, p]) => {
      const r = at.find((x) => x.size === size && p(x.flags))!;
      const failed = (r.failedDisk + r.failedRace) / r.seeds;
      return `${r.hours.toFixed(0)} (${hRange(r.hoursRange)})${failed ? `, ${perDay(failed)} failed` : ''}`;
    });
    const any = at.find((x) => x.size === size)!;
    out.push(`| ${sizeLabel(any)} (${any.gib.toFixed(0)} GiB) | ${cells.join(' | ')} |`);
  }
  return out.join('\n') + '\n';
}

/** One markdown table per trace: every policy at each disk size, over the seeds. */
export function tables(rows: Row[]): string {
  const out: string[] = [];
  for (const trace of [...new Set(rows.map((r) => r.trace))]) {
    const rs = rows.filter((r) => r.trace === trace);
    const first = rs[0];
    const sizes = [...new Set(rs.map((r) => r.size))].sort(bySize);
    const disks = sizes.map((s) => `${sizeLabel(rs.find((r) => r.size === s)!)} ${rs.find((r) => r.size === s)!.gib.toFixed(0)} GiB`).join(', ');
    const jobs = rs.find((r) => r.flags.reference)!.jobs.toFixed(0);
    out.push(
      `**${trace}**: ${first.pushes.toFixed(0)} pushes and ${jobs} jobs a day, warm builds the day needs ${(first.workingSet / GiB).toFixed(0)} GiB ` +
        `(means of ${first.seeds} seeds); disks ${disks}.`,
      '',
    );
    const head = [
      'disk',
      'policy',
      'warm starts (range)',
      'vs reference (range)',
      'vs LRU',
      'compile h/day (range)',
      'peak disk',
      'min over threshold',
      'failed a day: disk / races',
    ];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const size of sizes) {
      for (const r of rs.filter((x) => x.size === size)) {
        const cells = [
          sizeLabel(r),
          r.policy,
          `${pct(r.share)} (${pctRange(r.shareRange)})`,
          `${pct(r.vsRef)} (${pctRange(r.vsRefRange)})`,
          r.vsLru === Infinity ? '-' : `${r.vsLru.toFixed(2)}x`,
          `${r.hours.toFixed(1)} (${hRange(r.hoursRange)})`,
          pct(r.peak),
          String(Math.round(r.overMinutes)),
          `${perDay(r.failedDisk / r.seeds)} / ${perDay(r.failedRace / r.seeds)}`,
        ];
        out.push(`| ${cells.join(' | ')} |`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * The guard's levels: for each disk-target under the default threshold, how often the guard runs,
 * what one run frees, how full the disk stays and how many jobs start warm (the shipped policy,
 * mean of the seeds, per trace and size).
 */
export function levelsTable(cfg: Config, o: { traces?: string[]; seeds?: number; targets?: string[] } = {}): string {
  const w = weightsOf(cfg);
  const out = [
    '| trace, disk | disk-target | guard runs a day | builds removed per run | freed per run (of the disk) | disk used, mean over the day | warm starts |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const name of o.traces ?? ['incidents', 'skewed']) {
    const days = seedsOf(cfg, name, o.seeds).map((seed) => makeTrace({ ...cfg.traces[name], name }, cfg, seed));
    const sizes = days.map((t) => sizesFor(name, t, cfg, levelsOf(), w));
    for (const label of ['knee', 'knee/2', 'knee/4']) {
      for (const target of o.targets ?? ['75%', '80%', '82%', '85%']) {
        const lv = levelsOf(target);
        const rs = days.map((t, i) => {
          const D = sizes[i].find(([l]) => l === label)![1];
          const r = runOne(t, policiesFor()[0], D, cfg, lv, w);
          const g = r.guard!;
          return {
            runs: g.runs,
            removals: g.removals,
            freed: g.freed / D,
            used: r.timeline.reduce((a, p) => a + p.used, 0) / r.timeline.length,
            warm: r.stats.warm / r.stats.jobs,
          };
        });
        const mean = (f: (r: (typeof rs)[number]) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
        const runs = mean((r) => r.runs);
        const cells = [
          `${name}, ${label}`,
          `${target}${target === DEFAULTS['disk-threshold'] ? ' (default)' : ''}`,
          runs.toFixed(0),
          runs ? (mean((r) => r.removals) / runs).toFixed(1) : '-',
          runs ? pct(mean((r) => r.freed) / runs) : '-',
          `${mean((r) => r.used).toFixed(1)}%`,
          pct(mean((r) => r.warm)),
        ];
        out.push(`| ${cells.join(' | ')} |`);
      }
    }
  }
  return out.join('\n') + '\n';
}

/** The cost weights, as traces.json states them, for the docs. */
export function weightsTable(cfg: Config): string {
  const rows = Object.entries(cfg.weights).filter(([k]) => k !== 'about') as [string, { x: number; source: string }][];
  return (
    [
      '| weight | value | source |',
      '|---|---|---|',
      ...rows.map(([k, v]) => `| \`${k}\` | ${v.x} | ${v.source} |`),
      `| \`sccache.cacheSize\` | ${cfg.sccache.cacheSize} | ${cfg.sccache.source} |`,
      `| \`cancel.releaseSeconds\` | ${cfg.cancel.releaseSeconds} | ${cfg.cancel.source} |`,
    ].join('\n') + '\n'
  );
}

/** What each rule is worth: warm starts and compile hours of the shipped policy with one rule put back. */
export function ablationTable(rows: Row[]): string {
  const names = [...new Set(rows.filter((r) => r.flags.ablation).map((r) => r.policy))];
  const out = [`| trace, disk | shipped: warm starts, compile h/day | ${names.join(' | ')} |`];
  out.push(`|${['', '', ...names].map(() => '---').join('|')}|`);
  const signed = (d: number, text: string) => `${d >= 0 ? '+' : '−'}${text}`;
  for (const trace of [...new Set(rows.map((r) => r.trace))]) {
    for (const size of [...new Set(rows.filter((r) => r.trace === trace).map((r) => r.size))].sort(bySize)) {
      const at = rows.filter((r) => r.trace === trace && r.size === size);
      const s = at.find((r) => r.flags.shipped);
      if (!s) continue;
      const cells = names.map((n) => {
        const r = at.find((x) => x.policy === n)!;
        const d = 100 * (r.share - s.share);
        const waited = r.waitMinutes - s.waitMinutes;
        const wait = Math.abs(waited) >= 1 ? `, ${signed(waited, Math.abs(waited).toFixed(0))} min waiting` : '';
        return `${signed(d, Math.abs(d).toFixed(1))} pts, ${r.hours >= s.hours ? '+' : '−'}${Math.abs(r.hours - s.hours).toFixed(0)} h${wait}`;
      });
      out.push(`| ${trace}, ${sizeLabel(s)} | ${pct(s.share)}, ${s.hours.toFixed(0)} h | ${cells.join(' | ')} |`);
    }
  }
  return out.join('\n') + '\n';
}

export interface Verdict {
  trace: string;
  size: string;
  label: string;
  gib: number;
  /** The shipped policy in host scope (what the checks against LRU and the reference weigh), and in runner scope, the default. */
  share: number;
  runnerShare: number;
  refShare: number;
  vsRef: number;
  vsRefRange: [number, number];
  lruShare?: number;
  strongShare?: number;
  vsStrong?: number;
  failedDisk: number;
  hours: number;
  perRunHours?: number;
  rustCacheHours?: number;
  noTiersHours?: number;
  fleetHours?: number;
  scarce: boolean;
  checks: { what: string; ok: boolean }[];
  ok: boolean;
}

/**
 * The checks the issues set, per trace and size: where the reference starts at most 75% of jobs
 * warm, the shipped policy reaches 80% of its warm starts (mean over the seeds); it never falls
 * below plain LRU; it fails no job for disk; and on `incidents` it compiles less than the incident
 * fleet's layout with sccache.
 */
export function verdicts(rows: Row[]): Verdict[] {
  const out: Verdict[] = [];
  for (const trace of [...new Set(rows.map((r) => r.trace))]) {
    for (const size of [...new Set(rows.filter((r) => r.trace === trace).map((r) => r.size))].sort(bySize)) {
      const at = rows.filter((r) => r.trace === trace && r.size === size);
      const s = at.find((r) => r.flags.shipped);
      const ref = at.find((r) => r.flags.reference);
      const lru = at.find((r) => r.flags.lru);
      const strong = at.find((r) => r.flags.strongReference);
      const perRun = at.find((r) => r.flags.baseline === 'per-run');
      const rustCache = at.find((r) => r.flags.baseline === 'rust-cache');
      const noTiers = at.find((r) => r.flags.noTiers && !r.flags.hostScopeNoTiers);
      const fleet = at.find((r) => r.flags.fleetTier);
      // The policy's order is weighed like for like: LRU and the reference free any runner's data,
      // as host scope does, and hold warm builds only (no archive tier takes a share of their disk).
      // What runner scope (the default) and the archive tiers change is judged in compile hours.
      const host = at.find((r) => r.flags.hostScopeNoTiers) ?? at.find((r) => r.flags.hostScope) ?? s;
      if (!s || !ref || !host) continue;
      const scarce = ref.share <= 0.75;
      const checks: Verdict['checks'] = [];
      if (scarce) checks.push({ what: 'at least 80% of the reference (host scope, no tiers)', ok: host.vsRef >= 0.8 });
      if (lru) checks.push({ what: 'not below plain LRU (host scope, no tiers)', ok: host.share >= lru.share - 1e-9 });
      const failed = [s, host, ...at.filter((r) => r.flags.hostScope || r.flags.fleetTier || r.flags.noTiers)].some((r) => r.failedDisk > 0);
      checks.push({ what: 'no job failed for disk', ok: !failed });
      if (perRun && trace === 'incidents') checks.push({ what: 'fewer compile hours than a new dir per run with sccache', ok: s.hours < perRun.hours });
      // The archive tiers' goals: no more compile hours than rust-cache's restore where the disk is
      // scarce, and at the knee no more than without the tiers.
      if (rustCache && size.startsWith('knee')) checks.push({ what: "no more compile hours than rust-cache's restore", ok: s.hours <= rustCache.hours + 1e-9 });
      if (noTiers && size === 'knee') checks.push({ what: 'no more compile hours than without the archive tiers', ok: s.hours <= noTiers.hours + 1e-9 });
      out.push({
        trace,
        size,
        label: sizeLabel(s),
        gib: s.gib,
        share: host.share,
        runnerShare: s.share,
        refShare: ref.share,
        vsRef: host.vsRef,
        vsRefRange: host.vsRefRange,
        lruShare: lru?.share,
        strongShare: strong?.share,
        vsStrong: strong ? host.vsStrong : undefined,
        failedDisk: s.failedDisk,
        hours: s.hours,
        perRunHours: perRun?.hours,
        rustCacheHours: rustCache?.hours,
        noTiersHours: noTiers?.hours,
        fleetHours: fleet?.hours,
        scarce,
        checks,
        ok: checks.every((c) => c.ok),
      });
    }
  }
  return out;
}

export function formatVerdicts(vs: Verdict[]): string {
  return vs
    .map((v) => {
      const lru = v.lruShare !== undefined ? `, LRU ${pct(v.lruShare)}` : '';
      const strong = v.vsStrong !== undefined ? ` (${pct(v.vsStrong)} of a reference copying its base for every start, ${pct(v.strongShare!)} warm)` : '';
      const perRun = v.perRunHours !== undefined && v.trace === 'incidents' ? `, a new dir per run ${v.perRunHours.toFixed(1)}` : '';
      const hours =
        v.rustCacheHours !== undefined
          ? `; compile h a day: shipped ${v.hours.toFixed(1)}, + fleet tier ${v.fleetHours?.toFixed(1)}, ` +
            `without tiers ${v.noTiersHours?.toFixed(1)}, rust-cache ${v.rustCacheHours.toFixed(1)}${perRun}`
          : '';
      const failed = v.checks
        .filter((c) => !c.ok)
        .map((c) => c.what)
        .join('; ');
      return (
        `${v.trace}, ${v.label} (${v.gib.toFixed(0)} GiB): host scope without tiers ${pct(v.share)} warm, ${pct(v.vsRef)} of the reference ` +
        `(${pctRange(v.vsRefRange)}; reference ${pct(v.refShare)} warm)${lru}${strong}; shipped ${pct(v.runnerShare)} warm; ` +
        `${v.failedDisk} failed for disk${hours}: ` +
        `${v.ok ? 'ok' : `NOT MET (${failed})`}`
      );
    })
    .join('\n');
}

/** One cell of the hosts table: compile hours a day of each seed, and jobs failed for disk. */
interface HostsCell {
  hours: number[];
  failed: number;
}

/** The columns of the hosts table: the shipped policy with and without each tier, in each scope, and the layouts fleets run instead. */
export function hostsColumns(): [string, SimPolicy][] {
  const all = policiesFor();
  return [
    ['shipped', all.find((p) => p.shipped)!],
    ['shipped + fleet tier', all.find((p) => p.fleetTier)!],
    ['shipped without the tiers', all.find((p) => p.noTiers && !p.hostScopeNoTiers)!],
    ['host scope', all.find((p) => p.hostScope)!],
    ['host scope without the tiers', all.find((p) => p.hostScopeNoTiers)!],
    ["rust-cache's restore", all.find((p) => p.baseline === 'rust-cache')!],
    ['new dir per run, sccache (one backend for all hosts)', all.find((p) => p.baseline === 'per-run')!],
  ];
}

/**
 * The fleet on several hosts (docs/simulation.md, "On several hosts"): each trace's runners spread
 * over 1, 2, 4 and 8 hosts (never more hosts than runners), compile hours a day for every column of
 * hostsColumns. Each host's disk is the one host's size divided by the hosts (the same disk for the
 * fleet in all), and never under the floor of its own runners (every one of them building the day's
 * largest target at once next to sccache's cache, with room above the threshold for one more). The
 * check: on 4 hosts, the shipped policy with the fleet tier compiles no more than rust-cache's restore.
 */
export function hostsTable(
  cfg: Config,
  o: { traces?: string[]; seeds?: number; hosts?: number[] } = {},
): { text: string; cells: Map<string, HostsCell>; checks: { what: string; ok: boolean }[] } {
  const lv = levelsOf();
  const w = weightsOf(cfg);
  const hostsList = o.hosts ?? [1, 2, 4, 8];
  const cols = hostsColumns();
  const cells = new Map<string, HostsCell>();
  const checks: { what: string; ok: boolean }[] = [];
  const out: string[] = [];
  for (const name of o.traces ?? Object.keys(cfg.traces)) {
    const gib = new Map<string, number[]>();
    const rows: string[] = [];
    for (const seed of seedsOf(cfg, name, o.seeds)) {
      const trace = makeTrace({ ...cfg.traces[name], name }, cfg, seed);
      for (const [size, D] of sizesFor(name, trace, cfg, lv, w).filter(([s]) => s.startsWith('knee'))) {
        for (const h of hostsList.filter((n) => n <= trace.runners)) {
          const per = Math.ceil(trace.runners / h);
          const perHost = Math.max(D / h, floorOf({ peakLive: (trace.peakLive * per) / trace.runners, runners: per }, w, lv));
          const row = `${name}|${size}|${h}`;
          if (!rows.includes(row)) rows.push(row);
          (gib.get(row) ?? gib.set(row, []).get(row)!).push(perHost / GiB);
          for (const [col, sp] of cols) {
            const r = simulate(trace, sp, perHost, cfg, lv, w, { hosts: h });
            const c = cells.get(`${row}|${col}`) ?? cells.set(`${row}|${col}`, { hours: [], failed: 0 }).get(`${row}|${col}`)!;
            c.hours.push(r.stats.minutes / 60);
            c.failed += r.stats.failedDisk;
          }
        }
      }
    }
    const seeds = seedsOf(cfg, name, o.seeds).length;
    out.push(
      `**${name}**: compile hours a day, its runners spread over several hosts, mean of ${seeds} seeds (range), and jobs failed a day for disk:`,
      '',
      `| disk (one host's) | hosts | each host's disk | ${cols.map(([c]) => c).join(' | ')} |`,
      `|---|---|---|${cols.map(() => '---|').join('')}`,
    );
    for (const row of rows) {
      const [, size, h] = row.split('|');
      const at = (col: string) => cells.get(`${row}|${col}`)!;
      const cell = (col: string) => {
        const c = at(col);
        return `${mean(c.hours).toFixed(0)} (${hRange(range(c.hours))})${c.failed ? `, ${perDay(c.failed / seeds)} failed` : ''}`;
      };
      out.push(`| ${size} | ${h} | ${mean(gib.get(row)!).toFixed(0)} GiB | ${cols.map(([c]) => cell(c)).join(' | ')} |`);
      const failed = cols.slice(0, 5).filter(([c]) => at(c).failed > 0);
      if (failed.length) checks.push({ what: `${name}, ${size}, ${h} hosts: ${failed.map(([c]) => c).join(', ')} failed jobs for disk`, ok: false });
      if (h === '4') {
        const [fleet, rc] = [mean(at('shipped + fleet tier').hours), mean(at("rust-cache's restore").hours)];
        const host = mean(at('shipped').hours);
        checks.push({
          what: `${name}, ${size}, 4 hosts: shipped + fleet tier ${fleet.toFixed(1)} h, host tier alone ${host.toFixed(1)} h, rust-cache ${rc.toFixed(1)} h`,
          ok: fleet <= rc + 1e-9,
        });
      }
    }
    out.push('');
  }
  return { text: out.join('\n'), cells, checks };
}

/**
 * What each prune-scope costs, with and without the archive tiers (docs/simulation.md, "What each
 * scope costs"): compile hours a day, warm starts and minutes over the threshold of the shipped
 * policy in runner and host scope, the host tier on and off, per trace and size (mean of the seeds).
 */
export function scopeTable(rows: Row[]): string {
  const cols: [string, (f: SimPolicy) => boolean | undefined][] = [
    ['runner', (f) => f.shipped],
    ['host', (f) => f.hostScope],
    ['runner, no tiers', (f) => f.noTiers && !f.hostScopeNoTiers],
    ['host, no tiers', (f) => f.hostScopeNoTiers],
  ];
  const out = [
    `| trace, disk | ${cols.map(([c]) => `${c}: h/day`).join(' | ')} | ${cols.map(([c]) => `${c}: warm`).join(' | ')} | runner / host: min over threshold |`,
    `|---|${cols.map(() => '---|---|').join('')}---|`,
  ];
  for (const trace of [...new Set(rows.map((r) => r.trace))]) {
    for (const size of [...new Set(rows.filter((r) => r.trace === trace && r.size.startsWith('knee')).map((r) => r.size))].sort(bySize)) {
      const at = cols.map(([, p]) => rows.find((r) => r.trace === trace && r.size === size && p(r.flags)));
      if (at.some((r) => !r)) continue;
      const rs = at as Row[];
      out.push(
        `| ${trace}, ${sizeLabel(rs[0])} | ${rs.map((r) => r.hours.toFixed(1)).join(' | ')} | ${rs.map((r) => pct(r.share)).join(' | ')} | ` +
          `${Math.round(rs[0].overMinutes)} / ${Math.round(rs[1].overMinutes)} |`,
      );
    }
  }
  return out.join('\n') + '\n';
}
