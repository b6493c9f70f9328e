// The picture for docs/simulation.md: warm starts and disk use over the simulated day, one
// line per policy, rendered to SVG by vega-lite and vega (headless: no canvas, no browser).
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { Result } from './run.js';

const SHOWN = [
  'shipped',
  'shipped + cross-slot compile-cache hits',
  'previous release',
  'plain LRU',
  'clairvoyant reference',
  'a new target dir per run at a stable path, with a host-wide sccache',
];

export async function renderTimeline(results: Result[]): Promise<string> {
  const values: { policy: string; hour: number; panel: string; value: number }[] = [];
  for (const r of results.filter((x) => SHOWN.includes(x.policy))) {
    for (const p of r.timeline) {
      values.push({ policy: r.policy, hour: p.minute / 60, panel: 'warm starts so far', value: p.warm });
      values.push({ policy: r.policy, hour: p.minute / 60, panel: 'disk used (% of the disk)', value: p.used });
    }
  }
  const trace = results[0];
  const line = (panel: string, title: string) => ({
    transform: [{ filter: { field: 'panel', equal: panel } }],
    mark: { type: 'line' as const, interpolate: 'step-after' as const, strokeWidth: 1.8 },
    encoding: {
      x: { field: 'hour', type: 'quantitative' as const, title: 'hour of the simulated day', scale: { domain: [0, 24] }, axis: { tickCount: 12 } },
      y: { field: 'value', type: 'quantitative' as const, title },
      color: { field: 'policy', type: 'nominal' as const, sort: SHOWN, legend: { orient: 'bottom' as const, columns: 2, title: null, labelLimit: 320 } },
      strokeDash: { condition: { test: "datum.policy === 'clairvoyant reference'", value: [5, 3] }, value: [1, 0] },
    },
    width: 640,
    height: 200,
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Fleet simulation, trace '${trace.trace}' (seed ${trace.seed}), disk ${(trace.D / 2 ** 30).toFixed(0)} GiB: half the knee`,
      subtitle: 'npm run simulate -- --write (docs/simulation.md)',
    },
    data: { values },
    vconcat: [line('warm starts so far', 'warm starts so far'), line('disk used (% of the disk)', 'disk used (%)')],
    config: { font: 'sans-serif', background: 'white' },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
