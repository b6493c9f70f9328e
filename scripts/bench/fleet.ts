// Bench section 7: the fleet simulation (docs/simulation.md). Every ratio is against the
// clairvoyant reference, plain LRU and the layouts simulated in the same run, on the same days
// and disks; means over the seeds traces.json names, with their range.
import type { SimPolicy } from '../sim/fleet.js';
import { loadPrevious } from '../sim/previous.js';
import { readTraces, runAll, summarize } from '../sim/run.js';
import { type Row, note } from './kit.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const range = ([a, b]: [number, number]) => `${(100 * a).toFixed(0)}–${(100 * b).toFixed(0)}%`;

export async function fleetSection(rows: Row[]): Promise<void> {
  note('7. fleet simulation ...');
  const t0 = performance.now();
  const results = runAll(readTraces(), { traces: ['incidents', 'merge-queue'], sizes: ['knee', 'knee/2', 'knee/4'], previous: await loadPrevious() });
  const seconds = (performance.now() - t0) / 1000;
  const sum = summarize(results);
  for (const trace of ['incidents', 'merge-queue']) {
    for (const size of ['knee', 'knee/2', 'knee/4']) {
      const at = sum.filter((r) => r.trace === trace && r.size === size);
      const get = (pred: (f: SimPolicy) => unknown) => {
        const row = at.find((r) => pred(r.flags));
        if (!row) throw new Error(`bench 7: no row for ${trace}, ${size}`);
        return row;
      };
      const [s, ref, lru] = [get((f) => f.shipped), get((f) => f.reference), get((f) => f.lru)];
      const [perRun, hits] = [get((f) => f.baseline === 'per-run'), get((f) => f.variant === 'neither')];
      rows.push([
        '7',
        `${trace}, disk ${size} (${s.gib.toFixed(0)} GiB): warm starts, shipped policy`,
        `${pct(s.share)}, ${s.failedDisk} failed for disk`,
        `reference ${pct(ref.share)}, plain LRU ${pct(lru.share)}`,
        `${pct(s.vsRef)} of the reference (${range(s.vsRefRange)})`,
      ]);
      rows.push([
        '7',
        `${trace}, disk ${size}: compile hours a day`,
        `shipped ${s.hours.toFixed(1)} h (without copies or cross-slot hits ${hits.hours.toFixed(1)} h)`,
        `a new target dir per run with sccache ${perRun.hours.toFixed(1)} h`,
        `${(s.hours / perRun.hours).toFixed(2)}x`,
      ]);
    }
  }
  const policies = new Set(results.map((r) => r.policy)).size;
  const seeds = new Set(results.map((r) => r.seed)).size;
  const days = `${results.length} simulated days (2 traces x ${seeds} seeds x 3 disks x ${policies} policies, and the knees)`;
  rows.push(['7', 'fleet simulation run time', days, '', `${seconds.toFixed(1)} s`]);
}
