// npm run simulate: the fleet simulation (docs/simulation.md). Prints the headline, one table per
// trace and the verdicts.
//   --write            also rewrites the tables in docs/simulation.md and the picture docs/simulation.svg
//   --trace seeds,small   some traces only
//   --seeds 2          fewer seeds per figure (default: every seed traces.json names)
//   --runners N ...    size a host instead: see scripts/sim/sizing.mjs and docs/sizing.md
import { readFileSync, writeFileSync } from 'node:fs';
import { loadDecisions } from './sim/load.mjs';
import { formatVerdicts, headline, readTraces, runAll, summarize, tables, verdicts } from './sim/run.mjs';

const args = process.argv.slice(2);
const t0 = performance.now();
const m = await loadDecisions();
const cfg = readTraces();
if (args.some((a) => ['--runners', '--fleet', '--jobs', '--disk'].includes(a))) {
  const { sizing } = await import('./sim/sizing.mjs');
  process.exitCode = await sizing(args, cfg, m);
} else {
  const value = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const pick = value('--trace')?.split(',');
  const seeds = value('--seeds') ? Number(value('--seeds')) : undefined;
  const results = runAll(cfg, m, { traces: pick, seeds, target: value('--target') });
  const rows = summarize(results);
  const text = [rows.some((r) => r.trace === 'seeds') ? headline(rows) : '', tables(rows)].join('\n');
  process.stdout.write(text + '\n');
  const vs = verdicts(rows);
  process.stdout.write(formatVerdicts(vs) + '\n');
  process.stdout.write(`${results.length} simulated days in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (args.includes('--write')) {
    const doc = 'docs/simulation.md';
    let md = readFileSync(doc, 'utf8');
    const put = (name, body) => {
      const [a, b] = [`<!-- simulate:${name} -->`, `<!-- /simulate:${name} -->`];
      if (!md.includes(a)) throw new Error(`${doc} has no ${a} marker`);
      md = md.slice(0, md.indexOf(a) + a.length) + '\n' + body + '\n' + md.slice(md.indexOf(b));
    };
    put('headline', headline(rows));
    put('verdicts', '```\n' + formatVerdicts(vs) + '\n```');
    put('table', tables(rows));
    writeFileSync(doc, md);
    const { renderTimeline } = await import('./sim/plot.mjs');
    const seed = cfg.traces.seeds.seed;
    writeFileSync('docs/simulation.svg', await renderTimeline(results.filter((r) => r.trace === 'seeds' && r.size === 'knee/2' && r.seed === seed)));
    process.stdout.write(`wrote ${doc} and docs/simulation.svg\n`);
  }
}
