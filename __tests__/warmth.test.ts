import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type TestLayout, expectLayout, layoutEnv } from './helpers/cargo-layout.js';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { cli } from './helpers/cli.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { makeHeldWorkspace, registryDeps } from './helpers/workspace.js';

/*
 * Issue 10: every job of a PR starts warm. Real cargo through the bundled action, with real
 * registry dependencies (a sparse registry on 127.0.0.1), each runner with its own checkout
 * as on a real fleet. "Recompiled dependencies" are the registry crates cargo compiled.
 */
const { job, cleanup } = jobPool();
let reg: LocalRegistry;
let scratch: string;
let root: string;
let crates: LocalRegistry['crates'];

beforeAll(async () => {
  reg = await localRegistry('ci-warmth-');
  ({ scratch, crates } = reg);
  root = join(scratch, 'root');
});
afterAll(async () => {
  await cleanup();
  await reg.close();
});

/** This runner's checkout of the repository (a runner's work folder is its own). */
const checkout = (runner: string) => reg.checkout(runner);

const deps = registryDeps;
type Spec = { pr?: number; branch?: string; runId: string; job: string; runner: string; cmd: string[]; key?: string };

/** Jobs that start together, build, and end: what one push of a workflow does. */
async function push(specs: Spec[]): Promise<{ j: SimJob; slot: string; tier: string; deps: string[] }[]> {
  const js = await Promise.all(specs.map((s) => job({ pr: s.pr, branch: s.branch, runId: s.runId, job: s.job, runner: s.runner })));
  const mains = await Promise.all(js.map((j, i) => j.run('main', { root, key: specs[i].key ?? '' })));
  for (const m of mains) expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  const builds = await Promise.all(js.map(async (j, i) => j.exec([...specs[i].cmd, '--locked'], await checkout(specs[i].runner))));
  for (const b of builds) if (b.code !== 0) throw new Error(b.stderr);
  for (const j of js) expect((await j.run('post')).code).toBe(0);
  return js.map((j, i) => ({
    j,
    slot: mains[i].outputs.slot,
    tier: /slot \S+ \((own-job|own-key|base|same-job|lru|new)/.exec(mains[i].stdout)?.[1] ?? '?',
    deps: deps(builds[i].stderr),
  }));
}

const THREE = [
  { job: 'test', cmd: ['cargo', 'build'] },
  { job: 'lint', cmd: ['cargo', 'check'] },
  { job: 'bench', cmd: ['cargo', 'build', '--release'] },
];

test('three jobs of a PR on shuffled runners: the second push recompiles no dependency', async () => {
  const first = await push(THREE.map((t, i) => ({ ...t, pr: 7, runId: '500', runner: ['r1', 'r2', 'r3'][i] })));
  for (const r of first) expect(r.deps.length).toBe(crates.length); // cold: every dependency
  const second = await push(THREE.map((t, i) => ({ ...t, pr: 7, runId: '501', runner: ['r3', 'r1', 'r2'][i] })));
  expect(second.map((r) => [r.tier, r.deps])).toEqual(THREE.map(() => ['own-job', []]));
  expect(second.map((r) => r.slot)).toEqual(first.map((r) => r.slot)); // each job back in its own slot
});

test('matrix legs of one job with different `key`s each come back to their own slot', async () => {
  const legs = (runId: string, runners: string[]) => [
    { pr: 17, runId, job: 'build', runner: runners[0], key: 'dev', cmd: ['cargo', 'build'] },
    { pr: 17, runId, job: 'build', runner: runners[1], key: 'release', cmd: ['cargo', 'build', '--release'] },
  ];
  const first = await push(legs('510', ['r1', 'r2']));
  const second = await push(legs('511', ['r2', 'r1']));
  expect(second.map((r) => r.slot)).toEqual(first.map((r) => r.slot));
  expect(second.map((r) => r.deps)).toEqual([[], []]);
});

test("a new PR's first run after a push to main recompiles no dependency, and main never sees what the PR wrote", async () => {
  const test1 = [{ job: 'test', cmd: ['cargo', 'build'] }];
  const [main1] = await push(test1.map((t) => ({ ...t, branch: 'main', runId: '520', runner: 'r1' })));
  expect(main1.deps.length).toBe(crates.length);

  const pr = await job({ pr: 30, runId: '521', job: 'test', runner: 'r1' });
  const m = await pr.run('main', { root });
  expect(m.outputs.slot).toBe(main1.slot);
  expect(m.stdout).toMatch(/\(base: a first run from the base branch/);
  expect(m.stdout).toMatch(/seeded by the base branch: last used by a push to main/);
  const b = await pr.exec(['cargo', 'build', '--locked'], await checkout('r1'));
  expect(deps(b.stderr)).toEqual([]);
  // What a PR (possibly a fork) could plant for the next user of the slot.
  await fs.writeFile(join(m.env.CARGO_TARGET_DIR, 'planted-by-pr'), 'x');
  await fs.writeFile(join(m.env.CARGO_INSTALL_ROOT, 'bin', 'cargo-planted'), 'x');
  expect((await pr.run('post')).code).toBe(0);

  const [main2] = await push(test1.map((t) => ({ ...t, branch: 'main', runId: '522', runner: 'r1' })));
  const next = main2.j.exported;
  expect(existsSync(join(next.CARGO_TARGET_DIR, 'planted-by-pr'))).toBe(false);
  expect(existsSync(join(next.CARGO_INSTALL_ROOT, 'bin', 'cargo-planted'))).toBe(false);
  expect(main2.tier).not.toBe('own-job'); // its old slot is the PR's now: another trust domain
});

describe.each<TestLayout>(['v1', 'v2'])('cargo build-dir layout %s', (layout) => {
  test("a repository's build.build-dir, in any template, is overridden: cargo reports the slot's target dir", async () => {
    const ws = (await makeHeldWorkspace(join(scratch, `templates-ws-${layout}`))).dir;
    await fs.mkdir(join(ws, '.cargo'));
    const j = await job({ pr: 41, runId: `531${layout}`, job: 'test', runner: 'r1', extraEnv: layoutEnv(layout) });
    const m = await j.run('main', { root });
    expect(m.code).toBe(0);
    // cargo metadata's build_directory (Rust 1.91+) is where this cargo puts intermediate artifacts.
    for (const template of [
      '{workspace-root}/build-dir',
      '{cargo-cache-home}/build-dir/{workspace-path-hash}',
      '/var/tmp/shared-build-dir/{workspace-path-hash}',
    ]) {
      await fs.writeFile(join(ws, '.cargo', 'config.toml'), `[build]\nbuild-dir = "${template}"\n`);
      const md = await j.exec(['cargo', 'metadata', '--format-version', '1', '--no-deps'], ws);
      expect({ template, code: md.code, stderr: md.code ? md.stderr : '' }).toEqual({ template, code: 0, stderr: '' });
      expect({ template, dir: JSON.parse(md.stdout).build_directory }).toEqual({ template, dir: m.env.CARGO_TARGET_DIR });
    }
    expect((await j.run('post')).code).toBe(0);
  });

  test("a repository's build.build-dir leaves nothing outside the job's directories, and a live build there is protected", async () => {
    const slow = await makeHeldWorkspace(join(scratch, `build-dir-ws-${layout}`));
    const ws = slow.dir;
    const shared = join(scratch, `shared-build-dir-${layout}`);
    await fs.mkdir(join(ws, '.cargo'));
    await fs.writeFile(join(ws, '.cargo', 'config.toml'), `[build]\nbuild-dir = "${shared}"\n`);
    const j = await job({ pr: layout === 'v1' ? 40 : 42, runId: `530${layout}`, job: 'test', runner: 'r1', extraEnv: layoutEnv(layout) });
    const m = await j.run('main', { root });
    expect(m.env.CARGO_BUILD_BUILD_DIR).toBe(m.env.CARGO_TARGET_DIR);
    const building = j.exec(['cargo', 'build'], ws);
    await slow.started(building); // inside the build script, cargo holding its locks
    // Only cargo's own lock protects it now: the lease's keeper is gone (a zombie build).
    process.kill(-JSON.parse(j.state.lease).keeperPid, 'SIGKILL');
    const gc = await cli(['gc', '--root', root, '--max-age', '0s']);
    expect(gc.code).toBe(0);
    await slow.release();
    expect((await building).code).toBe(0);
    expect(existsSync(shared)).toBe(false);
    expect(existsSync(join(m.env.CARGO_TARGET_DIR, 'debug', 'slow'))).toBe(true);
    expectLayout(join(m.env.CARGO_TARGET_DIR, 'debug'), layout);
    expect((await j.run('post')).code).toBe(0);
  });
});

test("a build that rewrites its slot record cannot pass its slot off as another trust domain's", async () => {
  const j = await job({ pr: 50, runId: '540', job: 'test', runner: 'r5' });
  const m = await j.run('main', { root });
  const recPath = join(root, 'slots', m.outputs.slot, 'slot.json');
  const rec = JSON.parse(await fs.readFile(recPath, 'utf8'));
  // The build runs as the action's uid: it can write the record, claiming main's key.
  await fs.writeFile(recPath, JSON.stringify({ ...rec, key: 'ref-main', job: 'test' }));
  expect((await j.run('post')).code).toBe(0);
  expect(JSON.parse(await fs.readFile(recPath, 'utf8'))).toMatchObject({ key: 'pr-50', repository: 'acme/widgets', job: 'test' });
});
