// npm run simulate: the fleet simulation (docs/simulation.md). Prints the headline, one table per
// trace and the verdicts.
//   --write            also rewrites the tables in docs/simulation.md and the picture docs/simulation.svg
//   --trace incidents,small   some traces only
//   --seeds 2          fewer seeds per figure (default: every seed traces.json names)
//   --target 80%       the shipped policy with another disk-target (the default is the settings' own)
//   --ablations        what each rule is worth: the shipped policy with one rule put back at a time
//   --levels           the guard's levels: disk-targets under the threshold, what each guard run frees
//   --hosts [1,2,4,8]  the fleet on several hosts: compile hours a day per disk and host count (every trace unless --trace)
//   --runners N ...    size a host instead: see scripts/sim/sizing.ts and docs/sizing.md
// Runs under scripts/lib/typescript.mjs (package.json), which says why.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadPrevious } from './sim/previous.js';
import {
  ablationTable,
  formatVerdicts,
  headline,
  hostsTable,
  levelsTable,
  readTraces,
  runAll,
  scopeTable,
  summarize,
  tables,
  verdicts,
  weightsTable,
} from './sim/run.js';

/** Rewrites the marked sections of docs/simulation.md. */
function writeDoc(parts: Record<string, string>) {
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
const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);
const cfg = readTraces();
if (args.some((a) => ['--runners', '--fleet', '--jobs', '--disk'].includes(a))) {
  const { sizing } = await import('./sim/sizing.js');
  process.exitCode = await sizing(args, cfg);
} else {
  const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const pick = value('--trace')?.split(',');
  const seeds = value('--seeds') ? Number(value('--seeds')) : undefined;
  if (args.includes('--hosts')) {
    const list = value('--hosts')?.startsWith('-') === false ? value('--hosts')!.split(',').map(Number) : undefined;
    const { text, checks } = hostsTable(cfg, { traces: pick, seeds, hosts: list });
    const verdict = checks.map((c) => `${c.what}: ${c.ok ? 'ok' : 'NOT MET'}`).join('\n');
    process.stdout.write(text + '\n' + verdict + `\nin ${seconds()} s\n`);
    if (args.includes('--write')) writeDoc({ hosts: text, 'hosts-verdicts': '```\n' + verdict + '\n```' });
    process.exit(0);
  }
  if (args.includes('--levels')) {
    const text = levelsTable(cfg, { traces: pick, seeds });
    process.stdout.write(text + `in ${seconds()} s\n`);
    if (args.includes('--write')) writeDoc({ levels: text });
    process.exit(0);
  }
  const previous = await loadPrevious();
  if (args.includes('--ablations')) {
    // What each rule is worth: the shipped policy with one rule put back, where the disk is scarce.
    const results = runAll(cfg, {
      traces: pick,
      seeds,
      ablations: true,
      sizes: ['knee', 'knee/2', 'knee/4'],
      policies: (p) => Boolean(p.shipped || p.ablation),
      previous,
    });
    const text = ablationTable(summarize(results));
    process.stdout.write(text + `${results.length} simulated days in ${seconds()} s\n`);
    if (args.includes('--write')) writeDoc({ ablations: text });
    process.exit(0);
  }
  const results = runAll(cfg, { traces: pick, seeds, target: value('--target'), previous });
  const rows = summarize(results);
  const text = [rows.some((r) => r.trace === 'incidents') ? headline(rows) : '', tables(rows)].join('\n');
  process.stdout.write(text + '\n');
  const vs = verdicts(rows);
  process.stdout.write(formatVerdicts(vs) + '\n');
  process.stdout.write(`${results.length} simulated days in ${seconds()} s\n`);
  if (args.includes('--write')) {
    writeDoc({
      headline: headline(rows),
      verdicts: '```\n' + formatVerdicts(vs) + '\n```',
      table: tables(rows),
      weights: weightsTable(cfg),
      scopes: scopeTable(rows),
    });
    const { renderTimeline } = await import('./sim/plot.js');
    const seed = cfg.traces.incidents.seed;
    const shown = results.filter((r) => r.trace === 'incidents' && r.size === 'knee/2' && r.seed === seed);
    writeFileSync('docs/simulation.svg', await renderTimeline(shown));
    process.stdout.write('wrote docs/simulation.md and docs/simulation.svg\n');
  }
}
