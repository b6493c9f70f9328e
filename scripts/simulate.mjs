// npm run simulate: the fleet simulation (docs/simulation.md). Prints the headline, one table per
// trace and the verdicts.
//   --write            also rewrites the tables in docs/simulation.md and the picture docs/simulation.svg
//   --trace incidents,small   some traces only
//   --seeds 2          fewer seeds per figure (default: every seed traces.json names)
//   --target 80%       the shipped policy with another disk-target (the default is the settings' own)
//   --ablations        what each rule is worth: the shipped policy with one rule put back at a time
//   --levels           the guard's levels: disk-targets under the threshold, what each guard run frees
//   --runners N ...    size a host instead: see scripts/sim/sizing.mjs and docs/sizing.md
import { readFileSync, writeFileSync } from 'node:fs';
import { loadDecisions } from './sim/load.mjs';
import { ablationTable, formatVerdicts, headline, levelsTable, readTraces, runAll, summarize, tables, verdicts, weightsTable } from './sim/run.mjs';

/** Rewrites the marked sections of docs/simulation.md. */
function writeDoc(parts) {
  const doc = 'docs/simulation.md';
  let md = readFileSync(doc, 'utf8');
  for (const [name, body] of Object.entries(parts)) {
    const [a, b] = [`<!-- simulate:${name} -->`, `<!-- /simulate:${name} -->`];
    if (!md.includes(a) || !md.includes(b)) throw new Error(`${doc} has no ${a} ... ${b} markers`);
    md = md.slice(0, md.indexOf(a) + a.length) + '\n' + body + '\n' + md.slice(md.indexOf(b));
  }
  writeFileSync(doc, md);
}

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
  if (args.includes('--levels')) {
    const text = levelsTable(cfg, m, { traces: pick, seeds });
    process.stdout.write(text + `in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    if (args.includes('--write')) writeDoc({ levels: text });
    process.exit(0);
  }
  if (args.includes('--ablations')) {
    // What each rule is worth: the shipped policy with one rule put back, where the disk is scarce.
    const results = runAll(cfg, m, { traces: pick, seeds, ablations: true, sizes: ['knee', 'knee/2', 'knee/4'], policies: (p) => p.shipped || p.ablation });
    const text = ablationTable(summarize(results));
    process.stdout.write(text + `${results.length} simulated days in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    if (args.includes('--write')) writeDoc({ ablations: text });
    process.exit(0);
  }
  const results = runAll(cfg, m, { traces: pick, seeds, target: value('--target') });
  const rows = summarize(results);
  const text = [rows.some((r) => r.trace === 'incidents') ? headline(rows) : '', tables(rows)].join('\n');
  process.stdout.write(text + '\n');
  const vs = verdicts(rows);
  process.stdout.write(formatVerdicts(vs) + '\n');
  process.stdout.write(`${results.length} simulated days in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (args.includes('--write')) {
    writeDoc({ headline: headline(rows), verdicts: '```\n' + formatVerdicts(vs) + '\n```', table: tables(rows), weights: weightsTable(cfg) });
    const { renderTimeline } = await import('./sim/plot.mjs');
    const seed = cfg.traces.incidents.seed;
    writeFileSync('docs/simulation.svg', await renderTimeline(results.filter((r) => r.trace === 'incidents' && r.size === 'knee/2' && r.seed === seed)));
    process.stdout.write('wrote docs/simulation.md and docs/simulation.svg\n');
  }
}
