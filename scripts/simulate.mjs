// npm run simulate: the fleet simulation (docs/simulation.md). Prints one table per trace.
//   --write   also rewrites the table in docs/simulation.md and the picture docs/simulation.svg
//   --trace incidents,small   some traces only
import { readFileSync, writeFileSync } from 'node:fs';
import { loadDecisions } from './sim/load.mjs';
import { readTraces, runAll, tables, verdicts } from './sim/run.mjs';

const args = process.argv.slice(2);
const pick = args.includes('--trace') ? args[args.indexOf('--trace') + 1].split(',') : undefined;
const t0 = performance.now();
const m = await loadDecisions();
const cfg = readTraces();
const results = runAll(cfg, m, { traces: pick });
const text = tables(results);
process.stdout.write(text + '\n');
if (!pick || pick.includes('incidents')) {
  for (const v of verdicts(results)) {
    process.stdout.write(`incidents, ${v.size}: shipped at ${(100 * v.ratio).toFixed(1)}% of the bound's warm starts${v.floor ? ` (needs ${100 * v.floor}%)` : ''}, ${v.failedDisk} jobs failed for disk: ${v.ok ? 'ok' : 'NOT MET'}\n`);
  }
}
process.stdout.write(`${results.length} simulated days in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
if (args.includes('--write')) {
  const doc = 'docs/simulation.md';
  const md = readFileSync(doc, 'utf8');
  const [a, b] = ['<!-- simulate:table -->', '<!-- /simulate:table -->'];
  writeFileSync(doc, md.slice(0, md.indexOf(a) + a.length) + '\n' + text + '\n' + md.slice(md.indexOf(b)));
  const { renderTimeline } = await import('./sim/plot.mjs');
  writeFileSync('docs/simulation.svg', await renderTimeline(results.filter((r) => r.trace === 'incidents' && r.size === 'half')));
  process.stdout.write(`wrote ${doc} and docs/simulation.svg\n`);
}
