import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import { forAnyUid, toolchainForAnyUid } from './helpers/anyuid.js';
import { cli } from './helpers/cli.js';
import { type Docker, WORKSPACE, containerize, removeContainer, setupDocker } from './helpers/docker.js';
import { type HookResult, HookWorker, fakeRunner } from './helpers/hooks.js';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { registryDeps } from './helpers/workspace.js';
import { removeScratch } from './helpers/scratch.js';
import { scaled } from './helpers/pace.js';

/*
 * The fleet's real job shapes with the runner's hooks (docs/runner-hooks.md, "Container jobs"):
 * two runners of one user (uid 1001, in the Docker socket's group unless said otherwise) share
 * one tool cache, the root under it; one PR pushes three times; each push runs its `test` job in
 * a container (root inside, `cargo build`, the root seen at /__t/...) and its `security` job on
 * the host as the runner's user (`cargo build`, the root at its host path). Real Docker, real
 * cargo against a registry on 127.0.0.1, the runner's hook protocol (helpers/hooks.ts). What is
 * counted is what users pay for: registry dependencies cargo compiled, per job and push.
 */
const RUNNER = 1001;
const DEPS = 6;
const COLD = DEPS;
const { job: newJob, cleanup } = jobPool();
const workers: HookWorker[] = [];
const containers: string[] = [];
let d: Docker;
let reg: LocalRegistry;
let scratch: string;
let rust: string;
let dockerGid: number;
const runnerDirs: Record<string, string> = {};

beforeAll(async () => {
  d = setupDocker();
  rust = toolchainForAnyUid();
  dockerGid = statSync(d.host.replace(/^unix:\/\//, '')).gid;
  reg = await localRegistry('ci-hooks-fleet-reg-', DEPS);
  await fs.chmod(reg.scratch, 0o755); // the runner's user builds the checkouts in it
  scratch = await fs.mkdtemp('/var/tmp/ci-hooks-fleet-');
  await fs.chmod(scratch, 0o755);
  for (const r of ['runner-1', 'runner-2']) runnerDirs[r] = await fakeRunner(join(scratch, r), { node: forAnyUid().node });
}, scaled(900_000));

afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  for (const c of containers) removeContainer(d, c);
  await cleanup();
  await removeScratch(scratch);
  await reg.close();
});

/** Where one runner keeps its tool cache and the root, as the docs install them, and its checkout of the PR. */
interface RunnerSetup {
  toolCache: string;
  root: string;
  /** The runner's work folder, when the tool cache lies in it (the runner's default `_work/_tool`). */
  work?: string;
  ws: string;
  env: Record<string, string>;
}

/** One host's two runners and one PR. */
interface Fleet {
  pr: number;
  dockerGroup: boolean;
  runners: Record<string, RunnerSetup>;
}

/**
 * Layouts of the tool cache: one per host outside the runners' work folders (`host`), one per
 * runner (`runner`), or runner-1's default `_work/_tool` given to both runners (`in-work`).
 */
type Layout = 'host' | 'runner' | 'in-work';

async function fleet(name: string, pr: number, o: { dockerGroup: boolean; hooks?: boolean; layout?: Layout }): Promise<Fleet> {
  const layout = o.layout ?? 'host';
  const base = join(scratch, name);
  const runners: Record<string, RunnerSetup> = {};
  for (const r of Object.keys(runnerDirs)) {
    const work = layout === 'in-work' && r === 'runner-1' ? join(base, 'runner-1', '_work') : undefined;
    const toolCache = layout === 'runner' ? join(base, r, 'tool') : layout === 'in-work' ? join(base, 'runner-1', '_work', '_tool') : join(base, 'tool');
    const root = join(toolCache, 'cargo-isolate');
    await fs.mkdir(root, { recursive: true }); // install -d -o runner -g runner <tool cache>/cargo-isolate
    const env: Record<string, string> = {
      RUNNER_TOOL_CACHE: toolCache,
      PATH: `${rust}/bin:/usr/local/bin:/usr/bin:/bin`,
      DOCKER_HOST: d.host,
      ...(o.hooks === false ? {} : { CARGO_ISOLATE_ROOT: root, CARGO_ISOLATE_DISK_THRESHOLD: '99%', CARGO_ISOLATE_DISK_TARGET: '98%' }),
    };
    runners[r] = { toolCache, root, work, ws: await reg.checkout(`${name}-${r}`), env };
  }
  execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, base]);
  return { pr, dockerGroup: o.dockerGroup, runners };
}

interface Ran {
  slot: string;
  deps: number;
  started?: HookResult;
  completed?: HookResult;
}

const slotOf = (p: string | undefined) => /slots\/(s\d+)\//.exec(`${p ?? ''}/`)?.[1] ?? '';
const runId = (f: Fleet, push: number) => `${f.pr}0${push}`;

/** A job under the hooks: started hook, the job's steps (`steps`), "Stop containers", completed hook, "Complete job". */
async function hooked(
  f: Fleet,
  push: number,
  job: string,
  runner: string,
  steps: (j: SimJob, ws: string) => Promise<{ code: number | null; stderr: string }>,
  container: boolean,
): Promise<Ran> {
  const at = f.runners[runner];
  const j = await newJob({ pr: f.pr, runId: runId(f, push), job, runner, extraEnv: at.env });
  j.env.GITHUB_WORKSPACE = at.ws;
  const w = new HookWorker(j, runnerDirs[runner], { uid: RUNNER, groups: f.dockerGroup ? [dockerGid] : [] });
  workers.push(w);
  const started = await w.hook('started');
  expect({ job, push, code: started.code, warnings: started.warnings }).toEqual({ job, push, code: 0, warnings: [] });
  let name: string | undefined;
  if (container) {
    name = containerize(d, j, { mounts: [{ host: at.ws, at: WORKSPACE }], toolCache: at.toolCache, work: at.work, network: 'host' });
    containers.push(name);
  }
  const b = await steps(j, at.ws);
  expect({ job, push, code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ job, push, code: 0, stderr: '' });
  if (name) removeContainer(d, name);
  const completed = await w.hook('completed');
  expect({ job, push, code: completed.code }).toEqual({ job, push, code: 0 });
  await w.completeJob();
  return { slot: slotOf(started.env.CARGO_TARGET_DIR), deps: registryDeps(b.stderr).length, started, completed };
}

/** `test`: a `container:` job, root inside, with the root under the tool cache (seen at /__t, or /__w/_tool). */
const testJob = (f: Fleet, push: number, runner: string) => hooked(f, push, 'test', runner, (j) => j.exec(['cargo', 'build'], WORKSPACE), true);
/** `security`: a host job of the runner's user. */
const securityJob = (f: Fleet, push: number, runner: string) =>
  hooked(f, push, 'security', runner, (j, ws) => j.exec(['cargo', 'build'], ws, { uid: RUNNER }), false);

type Order = 'test first' | 'security first' | 'together';

/** One push: both jobs on the two runners (swapped every push: GitHub assigns runners at random). */
async function push(f: Fleet, n: number, order: Order): Promise<{ test: Ran; security: Ran }> {
  const [a, b] = n % 2 ? ['runner-1', 'runner-2'] : ['runner-2', 'runner-1'];
  if (order === 'together') {
    const [test, security] = await Promise.all([testJob(f, n, a), securityJob(f, n, b)]);
    return { test, security };
  }
  if (order === 'test first') {
    const test = await testJob(f, n, a);
    return { test, security: await securityJob(f, n, b) };
  }
  const security = await securityJob(f, n, b);
  return { test: await testJob(f, n, a), security };
}

/** The measured table: [push][test, security] dependencies recompiled. */
const table = (runs: { test: Ran; security: Ran }[]) => runs.map((r) => [r.test.deps, r.security.deps]);

describe("hook mode: a PR's container job and host job each stay warm", () => {
  test.each<[Order, number]>([
    ['test first', 281],
    ['security first', 282],
    ['together', 283],
  ])('%s, three pushes: pushes 2 and 3 recompile no dependency in either job', async (order, pr) => {
    const f = await fleet(`order-${pr}`, pr, { dockerGroup: true });
    const root = f.runners['runner-1'].root;
    const runs = [];
    for (let n = 1; n <= 3; n++) runs.push(await push(f, n, order));
    expect(table(runs)).toEqual([
      [COLD, COLD],
      [0, 0],
      [0, 0],
    ]);
    // Each job has one slot of its own, the same on every push.
    const [t, s] = [runs.map((r) => r.test.slot), runs.map((r) => r.security.slot)];
    expect(new Set(t).size).toBe(1);
    expect(new Set(s).size).toBe(1);
    expect(t[0]).not.toBe(s[0]);
    // The completed hook names the view each build was made under; root's files went back.
    expect(runs[0].test.completed!.summary).toContain(`built as uid 0 under /__t/cargo-isolate;`);
    expect(runs[0].security.completed!.summary).toContain(`built as uid ${RUNNER} under ${root};`);
    for (const r of runs) for (const x of [r.test, r.security]) expect(x.completed!.warnings).toEqual([]);
    // One after the other, the second job's hook says why the first one's build is not for it.
    if (order !== 'together') {
      const [first, second] = order === 'test first' ? [runs[0].test, runs[0].security] : [runs[0].security, runs[0].test];
      expect(second.started!.output).toContain(
        `Slot ${first.slot} holds pr-${pr}'s build of job ${order === 'test first' ? 'test' : 'security'}, made at ${order === 'test first' ? '/__t/cargo-isolate' : root}/slots/${first.slot}/target; this job's paths are not known before its first build on this host`,
      );
    }
    const rec = JSON.parse(await fs.readFile(join(root, 'slots', t[0], 'slot.json'), 'utf8'));
    expect(rec.view).toEqual({
      root: '/__t/cargo-isolate',
      uid: 0,
      cargoHome: `/__t/cargo-isolate/slots/${t[0]}/cargo-home`,
      target: `/__t/cargo-isolate/slots/${t[0]}/target`,
    });
    expect(rec.uid).toBe(RUNNER);
  });

  test.each<[Layout, number, number[][]]>([
    // Jobs switch runners on every push: each finds its build only on the runner that made it.
    [
      'runner',
      286,
      [
        [COLD, COLD],
        [COLD, COLD],
        [0, 0],
      ],
    ],
    // One tool cache inside runner-1's work folder: its containers see the root at /__w/_tool,
    // runner-2's at /__t: two views of one slot, so the container job rebuilds when it switches.
    [
      'in-work',
      287,
      [
        [COLD, COLD],
        [COLD, 0],
        [COLD, 0],
      ],
    ],
  ])('tool cache layout %s: what it costs in warmth', async (layout, pr, expected) => {
    const f = await fleet(`layout-${layout}`, pr, { dockerGroup: true, layout });
    const runs = [];
    for (let n = 1; n <= 3; n++) runs.push(await push(f, n, 'test first'));
    expect(table(runs)).toEqual(expected);
    for (const r of runs) for (const x of [r.test, r.security]) expect(x.completed!.warnings).toEqual([]);
  });

  test("without the docker group the container job's files cannot go back: its next push starts cold and the hook says why and what to change; root's gc makes it warm again", async () => {
    const f = await fleet('no-group', 284, { dockerGroup: false });
    const p1 = await push(f, 1, 'test first');
    const w = p1.test.completed!.warnings;
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(
      new RegExp(
        `^This job's container built as uid 0 in slot ${p1.test.slot} \\(seen at /__t/cargo-isolate\\), and this hook, running as uid ${RUNNER}, could not give those files back \\(docker: .*permission denied`,
        'i',
      ),
    );
    expect(w[0]).toContain("this PR's next container job starts cold in another slot");
    expect(w[0]).toContain('add it to the docker group');
    expect(p1.test.completed!.summary).toContain(w[0]);
    expect(p1.security.completed!.warnings).toEqual([]);

    const p2 = await push(f, 2, 'test first');
    expect(p2.test.started!.output).toContain(
      `Slot ${p1.test.slot} holds files of uid 0 from a container job's build (seen at /__t/cargo-isolate) that were never handed back to uid ${RUNNER}`,
    );
    expect(p2.test.slot).not.toBe(p1.test.slot);

    // The operator's remedy without the group: root's gc between jobs (a timer) gives the slots back.
    const gc = await cli(['gc', '--root', f.runners['runner-1'].root]);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toContain(`handed ${p1.test.slot}`);
    const p3 = await push(f, 3, 'test first');
    expect(table([p1, p2, p3])).toEqual([
      [COLD, COLD],
      [COLD, 0],
      [0, 0],
    ]);
    expect([p1.security.slot, p2.security.slot, p3.security.slot].every((s) => s === p1.security.slot)).toBe(true);
  });
});

describe('the action alone (no hooks): the same jobs stay warm', () => {
  test('test first, three pushes', async () => {
    const f = await fleet('action', 285, { dockerGroup: true, hooks: false });
    const room = { 'disk-threshold': '99%', 'disk-target': '98%' };
    const viaAction = async (n: number, job: string, runner: string, container: boolean): Promise<Ran> => {
      const at = f.runners[runner];
      const j = await newJob({ pr: f.pr, runId: runId(f, n), job, runner, extraEnv: at.env });
      await fs.chown(j.env.HOME, RUNNER, RUNNER);
      j.env.GITHUB_WORKSPACE = at.ws;
      let name: string | undefined;
      if (container) {
        name = containerize(d, j, { mounts: [{ host: at.ws, at: WORKSPACE }], toolCache: at.toolCache, network: 'host' });
        containers.push(name);
      }
      const as = container ? {} : { uid: RUNNER, groups: [dockerGid] };
      const m = await j.run('main', { root: container ? '/__t/cargo-isolate' : at.root, ...room }, as);
      expect({ job, n, code: m.code, warnings: m.warnings }).toEqual({ job, n, code: 0, warnings: [] });
      const b = container ? await j.exec(['cargo', 'build'], WORKSPACE) : await j.exec(['cargo', 'build'], at.ws, { uid: RUNNER });
      expect({ job, n, code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ job, n, code: 0, stderr: '' });
      const p = await j.run('post', {}, as);
      expect({ job, n, code: p.code, warnings: p.warnings }).toEqual({ job, n, code: 0, warnings: [] });
      if (name) removeContainer(d, name);
      return { slot: m.outputs.slot, deps: registryDeps(b.stderr).length };
    };
    const runs = [];
    for (let n = 1; n <= 3; n++) {
      const [a, b] = n % 2 ? ['runner-1', 'runner-2'] : ['runner-2', 'runner-1'];
      const test = await viaAction(n, 'test', a, true);
      runs.push({ test, security: await viaAction(n, 'security', b, false) });
    }
    expect(table(runs)).toEqual([
      [COLD, COLD],
      [0, 0],
      [0, 0],
    ]);
    expect(new Set(runs.map((r) => r.test.slot)).size).toBe(1);
    expect(new Set(runs.map((r) => r.security.slot)).size).toBe(1);
  });
});
