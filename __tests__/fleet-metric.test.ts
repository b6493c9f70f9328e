import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type TestLayout, expectLayout, layoutEnv } from './helpers/cargo-layout.js';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { cli } from './helpers/cli.js';
import { jobPool } from './helpers/runner.js';
import { compiled } from './helpers/workspace.js';

/*
 * Issue 14, part 4: the warm-start metric on a real fleet. The bundled action's post step
 * counts the compile units the job's real cargo built and found fresh; cargo's own
 * "Compiling" lines are the oracle. The workspace has 6 registry crates and a package with a
 * build script: 6 + 3 units (the script's compile, its run, the binary). Every test runs under
 * cargo's build-dir layout v1 and v2 (cargo 1.100's default; helpers/cargo-layout.ts), each
 * with its own root and checkout.
 */
const { job, cleanup } = jobPool();
let reg: LocalRegistry;
let reg48: LocalRegistry;
let crates: LocalRegistry['crates'];
const UNITS = 6 + 3;

beforeAll(async () => {
  [reg, reg48] = await Promise.all([localRegistry('ci-fleet-metric-'), localRegistry('ci-fleet-metric-48-', 48)]);
  ({ crates } = reg);
});
afterAll(async () => {
  await cleanup();
  await Promise.all([reg.close(), reg48.close()]);
});

type Units = { built: number; fresh: number; builtCrates?: string[] };

/** One job: main, a cargo step, post. Returns what cargo said and what the action recorded. */
async function runJob(o: {
  root: string;
  ws: string;
  layout: TestLayout;
  pr?: number;
  branch?: string;
  runId: string;
  job: string;
  runner: string;
  cmd: string[];
}) {
  const { root, ws } = o;
  const j = await job({ pr: o.pr, branch: o.branch, runId: o.runId, job: o.job, runner: o.runner, extraEnv: layoutEnv(o.layout) });
  const m = await j.run('main', { root });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  const b = await j.exec([...o.cmd, '--locked'], ws);
  if (b.code !== 0) throw new Error(b.stderr);
  const p = await j.run('post');
  expect({ code: p.code, warnings: p.warnings }).toEqual({ code: 0, warnings: [] });
  const record = JSON.parse(await fs.readFile(join(root, 'slots', m.outputs.slot, 'slot.json'), 'utf8'));
  const row = /<td>Compile units<\/td><td>([^<]*)<\/td>/.exec(p.summary)?.[1];
  const cargoSaid = [...new Set([...compiled(b.stderr), ...[...b.stderr.matchAll(/^\s*Checking (\S+) v/gm)].map((x) => x[1])])].sort();
  expectLayout(join(m.outputs['target-dir'], 'debug'), o.layout);
  return { slot: m.outputs.slot, units: record.units as Units, row, cargoSaid, post: p, compiledCount: compiled(b.stderr).length };
}

describe.each<TestLayout>(['v1', 'v2'])('cargo build-dir layout %s', (layout) => {
  let root: string;
  let ws: string;
  beforeAll(async () => {
    root = join(reg.scratch, `root-${layout}`);
    ws = await reg.checkout(`repo-${layout}`, (dir) => fs.writeFile(join(dir, 'build.rs'), 'fn main() { println!("cargo:rerun-if-changed=build.rs"); }\n'));
  });
  const runIn = (o: Omit<Parameters<typeof runJob>[0], 'root' | 'ws' | 'layout'>) => runJob({ ...o, root, ws, layout });

  test("cold, then warm on the same PR's next push, then a one-line change: the units cargo built, counted", async () => {
    // Cold slots: cargo builds every unit, and the post step names what cargo said it compiled.
    // Two jobs of the PR at once, so each makes its own slot whatever the slot policy prefers;
    // cargo check's units differ from build's.
    const [cold, lint] = await Promise.all([
      runIn({ pr: 60, runId: '600', job: 'test', runner: 'r1', cmd: ['cargo', 'build'] }),
      runIn({ pr: 60, runId: '600', job: 'lint', runner: 'r2', cmd: ['cargo', 'check'] }),
    ]);
    expect(lint.slot).not.toBe(cold.slot);
    for (const r of [cold, lint]) {
      expect(r.cargoSaid).toEqual(['consumer', ...crates.map((c) => c.name)].sort());
      expect(r.units).toEqual({ built: UNITS, fresh: 0, builtCrates: r.cargoSaid });
    }
    expect(cold.row).toBe(`${UNITS} built (${cold.cargoSaid.join(', ')}), 0 fresh: a cold start`);

    // The same PR's next push, on another runner: its own warm slot, nothing to build.
    const warm = await runIn({ pr: 60, runId: '601', job: 'test', runner: 'r2', cmd: ['cargo', 'build'] });
    expect(warm.slot).toBe(cold.slot);
    expect(warm.cargoSaid).toEqual([]);
    expect(warm.units).toEqual({ built: 0, fresh: UNITS, builtCrates: [] });
    expect(warm.row).toBe(`0 built, ${UNITS} fresh: a warm start, nothing recompiled`);

    // A one-line change to the binary: its unit only; the build script's run is not redone.
    const main = join(ws, 'src', 'main.rs');
    await fs.writeFile(main, (await fs.readFile(main, 'utf8')).replace('println!("{}", 0', 'println!("{}", 1'));
    const touched = await runIn({ pr: 60, runId: '602', job: 'test', runner: 'r3', cmd: ['cargo', 'build'] });
    expect(touched.cargoSaid).toEqual(['consumer']);
    expect(touched.units).toEqual({ built: 1, fresh: UNITS - 1, builtCrates: ['consumer'] });

    // status: per repository and job, the share of recent jobs that started warm.
    const json = await cli(['status', '--root', root, '--json']);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout);
    expect(s.warmth).toEqual([
      { repository: 'acme/widgets', job: 'lint', jobs: 1, warm: 0, unitsFresh: 0, last: expect.any(String) },
      { repository: 'acme/widgets', job: 'test', jobs: 3, warm: 2, unitsFresh: (UNITS + UNITS - 1) / (3 * UNITS), last: expect.any(String) },
    ]);
    expect(s.slots.find((x: { name: string }) => x.name === cold.slot).record.units).toEqual(touched.units);
    const text = await cli(['status', '--root', root]);
    expect(text.stdout).toContain('acme/widgets test: 2/3 warm (67%), 63% of units fresh');
    expect(text.stdout).toContain('acme/widgets lint: 0/1 warm (0%), 0% of units fresh');
    expect(text.stdout).toMatch(new RegExp(`^${cold.slot} .* 1/${UNITS - 1}$`, 'm'));
  });

  test('layout: job counts before it deletes the job directory, and the history says so', async () => {
    const j = await job({ pr: 61, runId: '610', job: 'perrun', runner: 'r4', extraEnv: layoutEnv(layout) });
    const m = await j.run('main', { root, layout: 'job' });
    expect(m.code).toBe(0);
    const b = await j.exec(['cargo', 'build', '--locked'], ws);
    expect(b.code).toBe(0);
    const p = await j.run('post');
    expect({ code: p.code, warnings: p.warnings }).toEqual({ code: 0, warnings: [] });
    expect(/<td>Compile units<\/td><td>([^<]*)<\/td>/.exec(p.summary)?.[1]).toMatch(
      new RegExp(`^${UNITS} built \\(consumer, dep0, .*\\), 0 fresh: a cold start$`),
    );
    const s = JSON.parse((await cli(['status', '--root', root, '--json'])).stdout);
    expect(s.jobDirs).toBe(0);
    expect(s.warmth.find((r: { job: string }) => r.job === 'perrun')).toMatchObject({ jobs: 1, warm: 0, unitsFresh: 0 });
    const lines = (await fs.readFile(join(root, 'warmth.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ repository: 'acme/widgets', job: 'perrun', key: 'pr-61', runner: 'r4', slot: 'job', built: UNITS, fresh: 0 });
  });

  test('48 registry dependencies: a cold build counts every unit, a one-line change one', async () => {
    const ws48 = await reg48.checkout(`repo-${layout}`);
    const root48 = join(reg48.scratch, `root-${layout}`);
    const cold = await runJob({ root: root48, ws: ws48, layout, pr: 70, runId: '700', job: 'test', runner: 'r1', cmd: ['cargo', 'build'] });
    expect(cold.compiledCount).toBe(48 + 1);
    expect(cold.units).toEqual({ built: 48 + 1, fresh: 0 }); // too many to name
    const main = join(ws48, 'src', 'main.rs');
    await fs.writeFile(main, (await fs.readFile(main, 'utf8')).replace('println!("{}", 0', 'println!("{}", 1'));
    const warm = await runJob({ root: root48, ws: ws48, layout, pr: 70, runId: '701', job: 'test', runner: 'r2', cmd: ['cargo', 'build'] });
    expect(warm.slot).toBe(cold.slot);
    expect(warm.cargoSaid).toEqual(['consumer']);
    expect(warm.units).toEqual({ built: 1, fresh: 48, builtCrates: ['consumer'] });
  });
});
