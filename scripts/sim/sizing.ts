// Sizing a host: `npm run simulate -- --runners 16 --jobs test:4GiB:14m,lint:2GiB:8m --disk 500GiB`.
// The operator's own fleet as a trace (docs/sizing.md): runners, jobs (size of the target dir and
// the time of a cold build without a compile cache), how many PRs are open and how often they push.
// It prints, for a range of disks, how many jobs start warm and how many hours a day the host
// compiles, with the shipped policy, the clairvoyant reference and a new directory per run with
// sccache; and the floor and the knee of the day.
import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../../src/model/settings.js';
import { parseDuration, parseSize } from '../../src/model/units.js';
import { weightsOf } from './costs.js';
import type { SimPolicy, Stats } from './fleet.js';
import { floorOf, kneeOf, levelsOf, policiesFor, runOne, seedsOf } from './run.js';
import { type Config, GiB, type JobDef, type TraceParams, makeTrace } from './trace.js';

export const SIZING_USAGE = `usage: npm run simulate -- --runners N --jobs NAME:SIZE:COLD[,...] [options]
  --runners N          runners on the host (required)
  --jobs LIST          the jobs of one push: name:target size:cold build time, e.g.
                       test:4GiB:14m,lint:2GiB:8m (cold: without a compile cache)
  --jobs-file FILE     the same as JSON: [{"job": "test", "gib": 4, "coldMinutes": 14}, ...]
  --fleet FILE         a whole trace as in scripts/sim/traces.json (overrides the options below)
  --disk SIZES         disks to simulate besides the floor and the knee, e.g. 500GiB,1TiB
  --prs N              PRs open at the start of the day (default 11)
  --new-prs N          PRs opened during the day (default 6)
  --push-every D       mean time between pushes to a PR (default 2h)
  --pr-lifetime A-B    hours a PR stays open (default 3-30)
  --seeds N            days simulated per figure (default 5)`;

class UsageError extends Error {}

function parseJobs(text: string): JobDef[] {
  return text.split(',').map((part) => {
    const [job, size, cold] = part.split(':');
    const bytes = size && parseSize(size);
    const ms = cold && parseDuration(cold);
    if (!job || !bytes || !ms) throw new UsageError(`--jobs '${part}': expected NAME:SIZE:COLD, e.g. test:4GiB:14m`);
    return { job, gib: bytes / GiB, coldMinutes: ms / 60_000 };
  });
}

interface Fleet {
  trace: TraceParams;
  disks?: string;
  seeds: number;
}

/** The trace the flags describe, or the --fleet file. */
export function fleetFrom(args: string[], cfg: Config): Fleet {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    if (i + 1 >= args.length || args[i + 1].startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return args[i + 1];
  };
  const num = (flag: string, dflt: number | undefined) => {
    const v = value(flag);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} '${v}': expected a number`);
    return n;
  };
  const fleetFile = value('--fleet');
  if (fleetFile) return { trace: { name: 'your fleet', ...JSON.parse(readFileSync(fleetFile, 'utf8')) }, disks: value('--disk'), seeds: num('--seeds', 5)! };
  const runners = num('--runners', undefined);
  if (!runners) throw new UsageError('--runners N is required');
  const jobsFile = value('--jobs-file');
  const jobsFlag = value('--jobs');
  const jobs: JobDef[] | undefined = jobsFile ? JSON.parse(readFileSync(jobsFile, 'utf8')) : jobsFlag ? parseJobs(jobsFlag) : undefined;
  if (!jobs?.length) throw new UsageError('--jobs (or --jobs-file) is required');
  const pushEvery = value('--push-every');
  const every = pushEvery ? parseDuration(pushEvery) : 2 * 3_600_000;
  if (!every) throw new UsageError(`--push-every '${pushEvery}': expected a duration such as 90m or 2h`);
  const life = (value('--pr-lifetime') ?? '3-30').split('-').map(Number);
  if (life.length !== 2 || !life.every((x) => x > 0)) throw new UsageError('--pr-lifetime: expected hours as A-B, e.g. 3-30');
  const base = cfg.traces.incidents;
  return {
    trace: {
      ...base,
      name: 'your fleet',
      about: 'from the command line',
      runners,
      jobs,
      openAtStart: num('--prs', 11)!,
      openedDuringDay: num('--new-prs', 6)!,
      pushEveryMinutes: every / 60_000,
      lifetimeHours: [life[0], life[1]],
    },
    disks: value('--disk'),
    seeds: num('--seeds', 5)!,
  };
}

/** Runs the sizing; returns the process exit code. */
export async function sizing(args: string[], cfg: Config): Promise<number> {
  let fleet: Fleet;
  try {
    fleet = fleetFrom(args, cfg);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`simulate: ${e.message}\n${SIZING_USAGE}\n`);
    return 2;
  }
  const extra = (fleet.disks ?? '')
    .split(',')
    .filter(Boolean)
    .map((d) => {
      const b = parseSize(d);
      if (!b) throw new UsageError(`--disk '${d}': expected a size such as 500GiB`);
      return b;
    });
  const lv = levelsOf();
  const w = weightsOf(cfg);
  const policies = policiesFor().filter((p) => p.shipped || p.reference || p.baseline === 'per-run');
  const seeds = seedsOf({ ...cfg, traces: { fleet: { ...cfg.traces.incidents, seed: cfg.traces.incidents.seed } } }, 'fleet', fleet.seeds);
  const days = seeds.map((seed) => makeTrace({ ...fleet.trace, jobs: fleet.trace.jobs }, { ...cfg, jobSets: { ...cfg.jobSets } }, seed));
  const knee = Math.max(...days.map((t) => kneeOf(t, cfg, lv, w)));
  const floor = floorOf(days[0], w, lv);
  const sizes = [...new Set([floor, Math.max(floor, knee / 4), Math.max(floor, knee / 2), knee, ...extra].map((b) => Math.round(b / GiB)))].sort(
    (a, b) => a - b,
  );
  type Figure = { p: SimPolicy; warm: number; hours: number; failed: number };
  const rows: { gib: number; shipped: Figure; reference: Figure; perRun: Figure }[] = [];
  for (const gib of sizes) {
    const at: Figure[] = policies.map((p) => {
      const rs = days.map((t) => runOne(t, p, gib * GiB, cfg, lv, w).stats);
      const mean = (f: (s: Stats) => number) => rs.reduce((a, s) => a + f(s), 0) / rs.length;
      return { p, warm: mean((s) => s.warm / Math.max(1, s.jobs)), hours: mean((s) => s.minutes / 60), failed: rs.reduce((a, s) => a + s.failedDisk, 0) };
    });
    const get = (pred: (p: SimPolicy) => boolean | undefined) => at.find((x) => pred(x.p))!;
    rows.push({ gib, shipped: get((p) => p.shipped), reference: get((p) => p.reference), perRun: get((p) => p.baseline === 'per-run') });
  }
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const jobs = fleet.trace.jobs;
  const jobText = Array.isArray(jobs) ? jobs.map((j) => `${j.job} (${j.gib} GiB, ${j.coldMinutes} min cold)`).join(', ') : jobs;
  const mark = (gib: number) => `${gib === Math.round(floor / GiB) ? ' (floor)' : ''}${gib === Math.round(knee / GiB) ? ' (knee)' : ''}`;
  const out = [
    `${fleet.trace.runners} runners; jobs per push: ${jobText}; ${days[0].pushes.length} pushes a day (first of ${days.length} simulated days).`,
    `The floor (every runner building its largest target at once, next to sccache's ${Math.round(w.sccacheBytes / GiB)} GiB, with room for one more build ` +
      `above the ${DEFAULTS['disk-threshold']} threshold): ${Math.round(floor / GiB)} GiB. ` +
      `The knee (the smallest disk where the clairvoyant reference loses no warm start): ${Math.round(knee / GiB)} GiB.`,
    '',
    '| disk | warm starts (shipped) | a clairvoyant policy (reference) | compile h/day (shipped) | ' +
      'compile h/day, a new target dir per run with sccache | jobs failed for disk |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const cells = [
        `${r.gib} GiB${mark(r.gib)}`,
        pct(r.shipped.warm),
        pct(r.reference.warm),
        r.shipped.hours.toFixed(0),
        r.perRun.hours.toFixed(0),
        r.shipped.failed,
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
