import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { toolchainForAnyUid } from './helpers/anyuid.js';
import { cli } from './helpers/cli.js';
import { type Docker, WORKSPACE, containerize, removeContainer, setupDocker } from './helpers/docker.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { scaled, until } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';
import { compiled, makeHeldWorkspace, makeWorkspace } from './helpers/workspace.js';

/*
 * The fleet as it really runs (issue 9): test/lint/bench jobs in `container:` jobs as root,
 * the security job on the host as the runner's own user, on the same runners and PRs, one root
 * owned by the runner's user and bind-mounted into every job container at the same path. Real
 * Docker, real cargo in and out of containers, real uids.
 */
const RUNNER = 1001; // the runner's user
const { job: newJob, cleanup } = jobPool();
const containers: string[] = [];
let d: Docker;
let scratch: string;
let root: string;
let ws: string; // the containers' workspace, at /__w/widgets/widgets inside
let hostWs: string; // the host jobs' checkout
let rust: string; // the toolchain the runner's user can read

const find = (dir: string, test: string[]) =>
  execFileSync('find', [dir, ...test], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
const notRunners = () => find(root, ['!', '-uid', String(RUNNER)]);

beforeAll(async () => {
  d = setupDocker();
  rust = toolchainForAnyUid();
  scratch = await fs.mkdtemp('/var/tmp/ci-containers-');
  await fs.chmod(scratch, 0o755);
  root = join(scratch, 'root');
  await fs.mkdir(root);
  await fs.chown(root, RUNNER, RUNNER);
  ws = await makeWorkspace(join(scratch, 'ws'));
  hostWs = await makeWorkspace(join(scratch, 'host-ws'));
  execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, hostWs]);
}, scaled(900_000));

afterAll(async () => {
  for (const c of containers) removeContainer(d, c);
  await cleanup();
  spawnSync('umount', [join(scratch, 'fj')]);
  await removeScratch(scratch);
});

async function containerJob(o: { pr: number; runId: string; job?: string }, mounts = [{ host: ws, at: WORKSPACE }]): Promise<{ j: SimJob; name: string }> {
  const j = await newJob({ pr: o.pr, runId: o.runId, job: o.job ?? 'test', runner: 'runner-1' });
  const name = containerize(d, j, { mounts: [{ host: root, at: root }, ...mounts] });
  containers.push(name);
  return { j, name };
}

async function hostJob(o: { pr: number; runId: string }): Promise<SimJob> {
  // The runner user's PATH reaches a toolchain it can read (rustup's is under /root, 0700).
  const j = await newJob({ pr: o.pr, runId: o.runId, job: 'security', runner: 'runner-1', extraEnv: { PATH: `${rust}/bin:/usr/bin:/bin` } });
  await fs.chown(j.env.HOME, RUNNER, RUNNER);
  return j;
}

const inputs = () => ({ root });
const containerBuild = (j: SimJob, dir = WORKSPACE) => j.exec(['cargo', 'build'], dir);
const hostBuild = (j: SimJob) =>
  j.exec([`${rust}/bin/cargo`, 'build'], hostWs, {
    uid: RUNNER,
    env: { PATH: `${j.exported.CARGO_HOME}/bin:${rust}/bin:/usr/bin:/bin`, RUSTC: `${rust}/bin/rustc` },
  });

async function fullJob(j: SimJob, build: (j: SimJob) => Promise<{ code: number | null; stderr: string }>, uid?: number) {
  const m = await j.run('main', inputs(), { uid });
  expect({ code: m.code, errors: m.errors, warnings: m.warnings }).toEqual({ code: 0, errors: [], warnings: [] });
  const b = await build(j);
  if (b.code !== 0) throw new Error(`build failed: ${b.stderr}`);
  const p = await j.run('post', {}, { uid });
  expect({ code: p.code, warnings: p.warnings }).toEqual({ code: 0, warnings: [] });
  return { m, b, p };
}

describe("root container jobs beside the runner user's host jobs, one root", () => {
  test("container PR 7, host PR 7, container PR 8, host PR 9: every job builds, and the root stays the runner user's", async () => {
    const c7 = await containerJob({ pr: 7, runId: '100' });
    const r7 = await fullJob(c7.j, (j) => containerBuild(j));
    expect(r7.p.summary).toMatch(/Handed back.*to uid 1001/);
    expect(notRunners()).toEqual([]); // the post step gave everything back

    const h7 = await hostJob({ pr: 7, runId: '101' });
    const rh7 = await fullJob(h7, hostBuild, RUNNER);
    // The host job of PR 7 does not take the container's build: it was made with root's CARGO_HOME
    // and would recompile everything under the runner user's. Nothing is passed over: the slot is
    // the runner user's again, only not warm for this job.
    expect(rh7.m.outputs.slot).not.toBe(r7.m.outputs.slot);
    expect(rh7.m.stdout).not.toMatch(/passing it over/);

    const c8 = await containerJob({ pr: 8, runId: '102' });
    await fullJob(c8.j, (j) => containerBuild(j));
    const h9 = await hostJob({ pr: 9, runId: '103' });
    await fullJob(h9, hostBuild, RUNNER);
    expect(notRunners()).toEqual([]);
  });

  test("a live container build survives the runner user's gc in host scope", async () => {
    const slow = await makeHeldWorkspace(join(scratch, 'slow'));
    const c = await containerJob({ pr: 10, runId: '104' }, [{ host: slow.dir, at: '/__w/slow/slow' }]);
    const m = await c.j.run('main', inputs());
    expect(m.code).toBe(0);
    const building = containerBuild(c.j, '/__w/slow/slow');
    await slow.started(building); // cargo is inside the build script, holding its lock
    const gc = await cli(['gc', '--root', root, '--max-age', '0s'], { uid: RUNNER });
    expect(gc.code).toBe(0);
    await slow.release();
    expect((await building).code).toBe(0);
    await expect(fs.access(join(m.outputs['target-dir'], 'debug', 'slow'))).resolves.toBeUndefined();
    expect((await c.j.run('post')).code).toBe(0);
  });

  test('a container removed without its post step: the lease ends, the runner user passes the slot over, the next container job of the PR gets it warm', async () => {
    const first = await containerJob({ pr: 11, runId: '110' });
    const m = await first.j.run('main', inputs());
    expect(m.code).toBe(0);
    expect((await containerBuild(first.j)).code).toBe(0);
    removeContainer(d, first.name); // the runner's cleanup of a cancelled job: no post step
    const lock = join(root, 'locks', `slot-${m.outputs.slot}.lock`);
    await until('the lease to end with the container', () => spawnSync('flock', ['-n', lock, 'true']).status === 0); // free again

    const h = await hostJob({ pr: 11, runId: '111' });
    const hm = await h.run('main', inputs(), { uid: RUNNER });
    expect(hm.code).toBe(0);
    // Never the slot holding root's files: either passed over, or (with room) not even tried, as
    // its build is another job's, made with root's CARGO_HOME.
    expect(hm.outputs.slot).not.toBe(m.outputs.slot);
    expect((await hostBuild(h)).code).toBe(0);
    expect((await h.run('post', {}, { uid: RUNNER })).code).toBe(0);

    const next = await containerJob({ pr: 11, runId: '112' });
    const nm = await next.j.run('main', inputs());
    expect(nm.outputs.slot).toBe(m.outputs.slot);
    const b = await containerBuild(next.j);
    expect(b.code).toBe(0);
    expect(compiled(b.stderr)).toEqual([]); // warm: nothing recompiled
    expect((await next.j.run('post')).code).toBe(0);
    expect(notRunners()).toEqual([]);
  });

  test("what no post step handed back: the runner user's gc reports it, root's gc removes it and returns the rest", async () => {
    const c = await containerJob({ pr: 12, runId: '120' });
    const m = await c.j.run('main', inputs());
    expect((await containerBuild(c.j)).code).toBe(0);
    removeContainer(d, c.name);
    expect(notRunners().length).toBeGreaterThan(0);

    const asRunner = await cli(['gc', '--root', root, '--max-age', '0s'], { uid: RUNNER });
    expect(asRunner.code).toBe(0);
    expect(asRunner.stderr).toMatch(/hold files of another uid that uid 1001 cannot remove.*Run 'cargo-isolate gc' as root/);

    const asRoot = await cli(['gc', '--root', root, '--max-age', '0s']);
    expect(asRoot.code).toBe(0);
    expect(notRunners()).toEqual([]);
    // The slot is the runner user's again: its jobs could use it, and it is not passed over. (This
    // host job takes a slot of its own: the container's build was made with root's CARGO_HOME.)
    const h = await hostJob({ pr: 12, runId: '121' });
    const hm = await h.run('main', inputs(), { uid: RUNNER });
    expect(hm.code).toBe(0);
    expect(hm.stdout).not.toMatch(new RegExp(`Slot ${m.outputs.slot} holds files`));
    expect((await h.run('post', {}, { uid: RUNNER })).code).toBe(0);
  });

  test("afterwards the runner user's gc --max-age leaves nothing it cannot remove", async () => {
    const r = await cli(['gc', '--root', root, '--max-age', '0s'], { uid: RUNNER });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/cannot remove/);
    expect(await fs.readdir(join(root, 'trash'))).toEqual([]);
    expect(find(join(root, 'slots'), ['-path', '*/target/*'])).toEqual([]);
    expect(notRunners()).toEqual([]);
  });
});

test("Forgejo-style container jobs (no RUNNER_NAME, a host name each, RUNNER_TEMP=/tmp, the image's node): the default guard frees idle slots of earlier jobs", async () => {
  const fj = join(scratch, 'fj');
  await fs.mkdir(fj);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', fj]);
  const fjRoot = join(fj, 'root');
  const forgejo = async (pr: number, n: number) => {
    const j = await newJob({ pr, runId: String(300 + n), job: 'test' }); // no runner: no RUNNER_NAME
    const name = containerize(d, j, { mounts: [{ host: fjRoot, at: fjRoot }], hostname: `forgejo-job-${n}`, nodeAt: '/usr/local/bin/node' });
    containers.push(name);
    j.env.RUNNER_TEMP = '/tmp';
    return j;
  };
  await fs.mkdir(fjRoot);
  const [a, b] = await Promise.all([forgejo(1, 1), forgejo(2, 2)]);
  for (const j of [a, b]) expect((await j.run('main', { root: fjRoot })).code).toBe(0);
  for (const j of [a, b]) {
    expect((await j.exec(['sh', '-c', 'dd if=/dev/zero of="$CARGO_TARGET_DIR/fill" bs=1M count=22 status=none'], '/')).code).toBe(0);
    expect((await j.run('post')).code).toBe(0);
  }
  const before = Number(execFileSync('df', ['--output=pcent', fj], { encoding: 'utf8' }).split('\n')[1].replace('%', ''));
  expect(before).toBeGreaterThan(60);

  const c = await forgejo(3, 3);
  const m = await c.run('main', { root: fjRoot, 'disk-threshold': '50%' });
  expect(m.code).toBe(0);
  expect(m.stdout).toMatch(/Runner \(this host\) \(from root, in a container\)/);
  // Runner scope, the default: the earlier jobs' idle slots are this runner's, and the guard
  // frees them down to its target (40%). Each container has its own host name: keyed by host
  // name, every earlier job would be "another runner" and nothing would be freed.
  expect(Number(m.outputs['freed-bytes'])).toBeGreaterThanOrEqual(22 * 2 ** 20);
  expect(Number(m.outputs['disk-used-after'])).toBeLessThan(40);
  expect((await c.run('post')).code).toBe(0);
});
