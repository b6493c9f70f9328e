// Bench section 7: the fleet simulation (docs/simulation.md). Every ratio is against the
// clairvoyant bound and the baselines simulated in the same run, on the same trace and disk.
import { loadDecisions } from '../sim/load.mjs';
import { readTraces, runAll } from '../sim/run.mjs';

const pct = (a, b) => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;

export async function fleetSection(rows, note) {
  note('7. fleet simulation ...');
  const t0 = performance.now();
  const results = runAll(readTraces(), await loadDecisions());
  const seconds = (performance.now() - t0) / 1000;
  for (const trace of ['incidents', 'merge-queue']) {
    for (const size of ['all fit', 'half', 'quarter']) {
      const at = results.filter((r) => r.trace === trace && r.size === size);
      const get = (pred) => at.find((r) => pred(r.flags))?.stats;
      const [s, bound, today, perRun, perPr, shared] = [
        get((f) => f.name === 'shipped'), get((f) => f.bound), get((f) => f.today),
        get((f) => f.model === 'per-run'), get((f) => f.model === 'per-pr'), get((f) => f.model === 'shared'),
      ];
      const x = (o) => (o && o.warm ? `${(s.warm / o.warm).toFixed(2)}x` : 'n/a (0 warm)');
      rows.push(['7', `${trace}, disk ${size}: warm starts, shipped policy`, `${pct(s.warm, s.jobs)} (${s.warm}/${s.jobs}), ${s.failedDisk} failed for disk`, `clairvoyant bound ${pct(bound.warm, bound.jobs)}`, `${pct(s.warm, bound.warm)} of the bound`]);
      rows.push(['7', `${trace}, disk ${size}: against the baselines`, `compile ${(s.minutes / 60).toFixed(1)} h/day`, `previous ${(today ? today.minutes / 60 : NaN).toFixed(1)} h, per-run ${(perRun.minutes / 60).toFixed(1)} h (${perRun.failedDisk} failed), per-PR ${(perPr.minutes / 60).toFixed(1)} h (${perPr.failedDisk + perPr.failedRace} failed), shared ${(shared.minutes / 60).toFixed(1)} h (${shared.failedRace} failed)`, `warm starts: ${x(today)} the previous policy's, ${x(perPr)} per-PR's, ${x(shared)} shared's; per-run has none`]);
    }
  }
  rows.push(['7', 'fleet simulation run time', `${results.length} simulated days (4 traces x 3 disks x ${results.length / 12} policies)`, '', `${seconds.toFixed(1)} s`]);
}
