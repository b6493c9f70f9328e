// The comparison: every policy on every trace at three disk sizes, as tables and a timeline.
import { readFileSync } from 'node:fs';
import { makeTrace, simulate } from './fleet.mjs';

export const readTraces = (path = new URL('./traces.json', import.meta.url)) => JSON.parse(readFileSync(path, 'utf8'));

/** The policies compared; the first is the one that ships. */
export function policiesFor(m) {
  const shipped = (s, me, disk) => m.choose.rankSlots(s, me, disk);
  const list = [
    { name: 'shipped', model: 'pool', choose: shipped, scope: 'runner', fallback: true },
    { name: 'shipped, prune-scope: host', model: 'pool', choose: shipped, scope: 'host', fallback: false },
    { name: 'shipped, ephemeral runner names', model: 'pool', choose: shipped, scope: 'runner', fallback: true, ephemeral: true },
    { name: 'strict runner scope (no fallback)', model: 'pool', choose: shipped, scope: 'runner', fallback: false },
    { name: 'strict runner scope, ephemeral names', model: 'pool', choose: shipped, scope: 'runner', fallback: false, ephemeral: true },
    { name: 'no base takeover (a PR\'s first run never takes main\'s slot)', model: 'pool', choose: (s, me, disk) => { const p = m.choose.rankSlots(s, me, disk); return { ...p, candidates: p.candidates.filter((c) => c.tier !== 'base') }; }, scope: 'runner', fallback: true },
    { name: 'no disk view (always wipe first)', model: 'pool', choose: (s, me) => m.choose.rankSlots(s, me, { room: false }), scope: 'runner', fallback: true },
  ];
  if (m.legacy) list.push({ name: "previous policy", model: 'pool', choose: (s, me) => m.legacy.rankSlots(s, me), scope: 'runner', fallback: false, today: true });
  list.push(
    { name: 'incident fleet: per-run dirs', model: 'per-run', baseline: true },
    { name: 'incident fleet: per-PR dirs', model: 'per-pr', baseline: true },
    { name: 'incident fleet: one shared target dir', model: 'shared', baseline: true },
    { name: 'clairvoyant bound (Belady)', model: 'bound', bound: true },
  );
  return list;
}

const GiB = 2 ** 30;

export function runAll(cfg, m, o = {}) {
  const level = { threshold: m.units.parseLevel(cfg.disk.threshold), target: m.units.parseLevel(cfg.disk.target) };
  const names = o.traces ?? Object.keys(cfg.traces);
  const results = [];
  for (const name of names) {
    const trace = makeTrace({ ...cfg.traces[name], name }, cfg, m.key.contentKey);
    const peakLive = trace.runners * Math.max(...trace.specs.map((s) => s.bytes));
    const full = (trace.workingSet + peakLive) / (level.target.percent / 100);
    for (const [size, D] of [['all fit', full], ['half', full / 2], ['quarter', full / 4]]) {
      for (const policy of policiesFor(m)) {
        const t0 = performance.now();
        const { stats, timeline, slots } = simulate(trace, policy, D, m, cfg, level);
        results.push({ trace: name, size, D, policy: policy.name, flags: policy, stats, timeline, slots, ms: performance.now() - t0, pushes: trace.pushes.length, workingSet: trace.workingSet });
      }
    }
  }
  return results;
}

const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');

/** The shipped policy against the bound, the previous policy and each of the incident fleet's layouts, per disk size. */
export function ratios(results, trace) {
  const head = ['disk', 'warm starts vs bound', 'vs previous', 'vs per-run dirs', 'vs per-PR dirs', 'vs shared dir', 'compile hours: shipped / previous / per-run / per-PR / shared', 'failed jobs: shipped / per-PR / shared'];
  const out = [`**${trace}**, the shipped policy against each baseline (warm starts, ratio of counts):`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const size of ['all fit', 'half', 'quarter']) {
    const get = (pred) => results.find((r) => r.trace === trace && r.size === size && pred(r.flags))?.stats;
    const [s, bound, today, run, pr, shared] = [get((f) => f.name === 'shipped'), get((f) => f.bound), get((f) => f.today), get((f) => f.model === 'per-run'), get((f) => f.model === 'per-pr'), get((f) => f.model === 'shared')];
    const x = (o) => (!o ? '-' : o.warm ? `${(s.warm / o.warm).toFixed(2)}x` : 'all cold there');
    const h = (o) => (o ? (o.minutes / 60).toFixed(0) : '-');
    out.push(`| ${size} | ${pct(s.warm, bound.warm)} | ${x(today)} | ${x(run)} | ${x(pr)} | ${x(shared)} | ${h(s)} / ${h(today)} / ${h(run)} / ${h(pr)} / ${h(shared)} | ${s.failedDisk + s.failedRace} / ${pr.failedDisk + pr.failedRace} / ${shared.failedDisk + shared.failedRace} |`);
  }
  return out.join('\n') + '\n';
}

/** One markdown table per trace: every policy at each disk size, with ratios to the bound and to today. */
export function tables(results) {
  const out = [];
  if (results.some((r) => r.trace === 'incidents')) out.push(ratios(results, 'incidents'));
  for (const trace of [...new Set(results.map((r) => r.trace))]) {
    const rs = results.filter((r) => r.trace === trace);
    const first = rs[0];
    const queue = rs.some((r) => r.stats.queueJobs > 0);
    out.push(`**${trace}**: ${first.pushes} pushes, ${rs.find((r) => r.flags.bound).stats.jobs} jobs, warm builds the day needs: ${(first.workingSet / GiB).toFixed(0)} GiB; disk sizes ${[...new Set(rs.map((r) => `${r.size} ${(r.D / GiB).toFixed(0)} GiB`))].join(', ')}.`, '');
    const head = ['disk', 'policy', 'warm starts', 'vs bound', 'vs previous', 'cold starts', 'compile h/day', 'peak disk', 'min over threshold', 'failed: disk', 'failed: races', ...(queue ? ['queue runs warm'] : [])];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const size of ['all fit', 'half', 'quarter']) {
      const at = rs.filter((r) => r.size === size);
      const bound = at.find((r) => r.flags.bound).stats;
      const today = at.find((r) => r.flags.today)?.stats;
      for (const r of at) {
        const s = r.stats;
        out.push(`| ${size} | ${r.policy} | ${pct(s.warm, s.jobs)} (${s.warm}/${s.jobs}) | ${pct(s.warm, bound.warm)} | ${today ? (today.warm ? `${(s.warm / today.warm).toFixed(2)}x` : '-') : '-'} | ${s.cold} | ${(s.minutes / 60).toFixed(1)} | ${pct(s.peak, r.D)} | ${Math.round(s.overMinutes)} | ${s.failedDisk} | ${s.failedRace} |${queue ? ` ${s.queueJobs ? `${pct(s.queueWarm, s.queueJobs)} (bound ${pct(bound.queueWarm, bound.queueJobs)})` : '-'} |` : ''}`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}

/** The checks set for the shipped policy on the incidents trace, as rows. */
export function verdicts(results, trace = 'incidents') {
  const at = (size, pred) => results.find((r) => r.trace === trace && r.size === size && pred(r.flags));
  return ['all fit', 'half', 'quarter'].map((size) => {
    const s = at(size, (f) => f.name === 'shipped').stats;
    const b = at(size, (f) => f.bound).stats;
    const ratio = s.warm / b.warm;
    const floor = size === 'all fit' ? 0.9 : size === 'half' ? 0.75 : undefined;
    return { size, ratio, floor, failedDisk: s.failedDisk, ok: (floor === undefined || ratio >= floor) && s.failedDisk === 0 };
  });
}
