import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import { toolchainForAnyUid } from './helpers/anyuid.js';
import { type TestLayout, expectLayout, layoutDockerEnv, layoutToolchain } from './helpers/cargo-layout.js';
import { cli } from './helpers/cli.js';
import { type Docker, docker, setupDocker } from './helpers/docker.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { compiled, makeWorkspace } from './helpers/workspace.js';
import { scaled } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * Issue 19, the seeds' workspace-test pattern: a host job of the runner's user (uid 1001) whose
 * steps build in `docker run` containers, root inside, with the action's target-dir and
 * cargo-home outputs mounted as the README shows. Real Docker, real cargo, real uids, on a root
 * owned by uid 1001. Without the probe (foreign.ts), the same PR's next job leases the same
 * warm slot and cargo fails: "failed to open: .../target/debug/.cargo-lock ... Permission denied".
 */
const RUNNER = 1001;
const { job: newJob, cleanup } = jobPool();
let d: Docker;
let scratch: string;
let root: string;
let rust: string;
let dockerGid: number; // the group of the test daemon's socket: "the job can use Docker"

const find = (dir: string, args: string[]) =>
  execFileSync('find', [dir, ...args], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
const notRunners = (dir = root) => find(dir, ['!', '-uid', String(RUNNER)]);
const USER_FIX = 'docker run --user "$(id -u):$(id -g)"';
/** Every image on the daemon, tags and untagged layers included, one `id name:tag` line each. */
const images = () => {
  const r = docker(d, ['image', 'ls', '--all', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']);
  if (r.code !== 0) throw new Error(`docker image ls failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).sort();
};

beforeAll(async () => {
  d = setupDocker();
  rust = toolchainForAnyUid();
  dockerGid = statSync(d.host.replace(/^unix:\/\//, '')).gid;
  scratch = await fs.mkdtemp('/var/tmp/ci-docker-run-');
  await fs.chmod(scratch, 0o755);
  root = join(scratch, 'root');
  await fs.mkdir(root);
  await fs.chown(root, RUNNER, RUNNER);
}, scaled(900_000));

afterAll(async () => {
  await cleanup();
  await removeScratch(scratch);
});

/** A checkout of the runner's user, one per PR. */
async function checkout(name: string): Promise<string> {
  const ws = await makeWorkspace(join(scratch, name));
  execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, ws]);
  return ws;
}

/** A host job of the runner's user; `dockerAccess`: in the socket's group, as a runner user in `docker`. */
async function hostJob(pr: number, runId: string, dockerAccess: boolean) {
  const j = await newJob({ pr, runId, job: 'workspace-test', runner: 'runner-1', extraEnv: { PATH: `${rust}/bin:/usr/bin:/bin`, DOCKER_HOST: d.host } });
  await fs.chown(j.env.HOME, RUNNER, RUNNER);
  const as = { uid: RUNNER, groups: dockerAccess ? [dockerGid] : [] };
  return { j, main: (inputs: Record<string, string> = {}) => j.run('main', { root, ...inputs }, as), post: () => j.run('post', {}, as) };
}

/**
 * The README's mapping: `docker run -v <target-dir>:/workspace/target -v <cargo-home>:/workspace/home ...`,
 * with the cargo of build-dir `layout` (v1: the machine's stable cargo; helpers/cargo-layout.ts).
 */
function dockerStep(j: SimJob, ws: string, user?: string, layout: TestLayout = 'v1') {
  const toolchain = layout === 'v1' ? rust : toolchainForAnyUid(layoutToolchain(layout));
  const r = docker(
    d,
    [
      'run',
      '--rm',
      '--network',
      'none',
      ...(user ? ['--user', user] : []),
      '-v',
      `${j.outputs['target-dir']}:/workspace/target`,
      '-v',
      `${j.outputs['cargo-home']}:/workspace/home`,
      '-v',
      `${ws}:/workspace/src`,
      '-v',
      `${toolchain}:/opt/rust:ro`,
      ...layoutDockerEnv(layout),
      '-e',
      'CARGO_TARGET_DIR=/workspace/target',
      '-e',
      'CARGO_HOME=/workspace/home',
      '-e',
      'HOME=/tmp',
      '-e',
      'PATH=/opt/rust/bin:/usr/bin:/bin',
      '-w',
      '/workspace/src',
      d.image,
      'cargo',
      'build',
    ],
    300_000,
  );
  if (r.code !== 0) throw new Error(`docker run step failed: ${r.stderr}`);
  return r;
}

/** A step of the runner's user on the host: cargo in the job's exported directories. */
const hostBuild = (j: SimJob, ws: string) =>
  j.exec([`${rust}/bin/cargo`, 'build'], ws, { uid: RUNNER, env: { PATH: `${rust}/bin:/usr/bin:/bin`, RUSTC: `${rust}/bin/rustc` } });

/**
 * The same PR's next job: passes the marked slot over with the notice, takes another, builds; its
 * post is quiet. The step also left root's files in the CARGO_HOME the runner user's jobs share
 * (it mounted the `cargo-home` output): the job says so and builds with a private one.
 */
async function nextJobPassesOver(pr: number, runId: string, ws: string, marked: string) {
  const next = await hostJob(pr, runId, false);
  const m = await next.main();
  // Whether the step created files in the shared home depends on what was there before it.
  const home = /^CARGO_HOME: a private CARGO_HOME in the slot: the shared one cannot be used \(.*holds files of uid 0 \(cargo-home\//;
  expect({ code: m.code, others: m.warnings.filter((w) => !home.test(w)) }).toEqual({ code: 0, others: [] });
  expect(m.stdout).toMatch(new RegExp(`Slot ${marked} holds files of uid 0 \\(target/.*passing it over`));
  expect(m.outputs.slot).not.toBe(marked);
  const b = await hostBuild(next.j, ws);
  expect({ code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ code: 0, stderr: '' });
  const p = await next.post();
  expect({ code: p.code, warnings: p.warnings }).toEqual({ code: 0, warnings: [] });
}

describe('docker run steps as root in a job of the runner user', () => {
  test('without Docker access in post: the slot is marked, the next job builds in another slot with a notice; gc as the user reports it, gc as root hands it back', async () => {
    const ws = await checkout('ws-a');
    const first = await hostJob(31, '3101', false);
    const m1 = await first.main();
    expect({ code: m1.code, warnings: m1.warnings }).toEqual({ code: 0, warnings: [] });
    dockerStep(first.j, ws);
    // What the issue reproduced: the top entries are the user's, what lies below is root's.
    expect(statSync(m1.outputs['target-dir']).uid).toBe(RUNNER);
    expect(statSync(join(m1.outputs['target-dir'], 'debug', '.cargo-lock')).uid).toBe(0);
    const p1 = await first.post();
    expect(p1.code).toBe(0);
    expect(p1.warnings).toHaveLength(2); // the slot, and the CARGO_HOME the runner user's jobs share
    expect(p1.warnings[1]).toMatch(
      /files of uid 0 \(cargo-home\/.* the CARGO_HOME the trusted jobs of uid 1001 share.*Could not hand them back.*private CARGO_HOME/,
    );
    expect(p1.warnings[0]).toContain(`files of uid 0 (target/`);
    expect(p1.warnings[0]).toContain(`in slot ${m1.outputs.slot}`);
    expect(p1.warnings[0]).toMatch(/docker: .*permission denied/i);
    expect(p1.warnings[0]).toContain(`marked as uid 0's`);
    expect(p1.warnings[0]).toContain(USER_FIX);
    expect(p1.summary).toMatch(/Another uid's files.*slot marked/);

    // The same PR's next job: never the slot that would fail its build.
    await nextJobPassesOver(31, '3102', ws, m1.outputs.slot);

    // The runner user's gc says what only root can do; root's gc frees it or hands it back.
    const plain = await cli(['gc', '--root', root], { uid: RUNNER });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain(`${m1.outputs.slot} (uid 0: target/`);
    expect(plain.stderr).toMatch(/slots holding files of another uid, which this uid cannot reuse or remove: needs root/);
    expect((await cli(['status', '--root', root], { uid: RUNNER })).stdout).toMatch(new RegExp(`${m1.outputs.slot} +uid 0's files: needs root`));
    const asRunner = await cli(['gc', '--root', root, '--max-age', '0s'], { uid: RUNNER });
    expect(asRunner.code).toBe(0);
    expect(asRunner.stderr).toMatch(/hold files of another uid that uid 1001 cannot remove.*Run 'cargo-isolate gc' as root/);
    expect(notRunners().length).toBeGreaterThan(0);
    const asRoot = await cli(['gc', '--root', root]);
    expect(asRoot.code).toBe(0);
    expect(asRoot.stdout).toContain(`handed ${m1.outputs.slot}, homes/u${RUNNER} back to the root's owner`);
    expect(asRoot.stderr).not.toMatch(/needs root/);
    expect(notRunners()).toEqual([]);
    // ... and the slot is the user's again: its record no longer marks it, cargo of uid 1001 builds in it.
    const rec = JSON.parse(await fs.readFile(join(root, 'slots', m1.outputs.slot, 'slot.json'), 'utf8'));
    expect({ uid: rec.uid, foreign: rec.foreign }).toEqual({ uid: RUNNER, foreign: undefined });
    const again = await hostBuild(first.j, ws);
    expect({ code: again.code, stderr: again.code ? again.stderr : '' }).toEqual({ code: 0, stderr: '' });
  });

  test('a post step that never ran (runner killed): main finds the files, marks the slot and passes it over', async () => {
    const ws = await checkout('ws-d');
    const first = await hostJob(34, '3401', false);
    const m1 = await first.main();
    expect(m1.code).toBe(0);
    dockerStep(first.j, ws);
    // No post step: the keeper dies with the runner (here: killed), the lease ends.
    const keeper = JSON.parse(first.j.state.lease).keeperPid as number;
    process.kill(-keeper, 'SIGKILL');
    const lock = join(root, 'locks', `slot-${m1.outputs.slot}.lock`);
    expect(spawnSync('flock', ['-w', '10', lock, 'true']).status).toBe(0);
    const recBefore = JSON.parse(await fs.readFile(join(root, 'slots', m1.outputs.slot, 'slot.json'), 'utf8'));
    expect({ uid: recBefore.uid, foreign: recBefore.foreign }).toEqual({ uid: RUNNER, foreign: undefined }); // nothing marked it

    await nextJobPassesOver(34, '3402', ws, m1.outputs.slot);
    const rec = JSON.parse(await fs.readFile(join(root, 'slots', m1.outputs.slot, 'slot.json'), 'utf8'));
    expect(rec.uid).toBe(0);
    expect(rec.foreign.paths[0]).toMatch(/^target\//);
    // Root's gc hands it back.
    expect((await cli(['gc', '--root', root])).code).toBe(0);
    expect(notRunners(join(root, 'slots', m1.outputs.slot))).toEqual([]);
  });

  // On both build-dir layouts: v2 (cargo 1.100) keeps every unit under target/debug/build/<pkg>/<hash>/.
  test.each<[TestLayout, number]>([
    ['v1', 32],
    ['v2', 36],
  ])('with Docker access in post, layout %s: handed back with docker, and the next job is warm in the same slot', async (layout, pr) => {
    const ws = await checkout(`ws-b-${layout}`);
    const first = await hostJob(pr, `${pr}01`, true);
    const m1 = await first.main();
    expect(m1.code).toBe(0);
    dockerStep(first.j, ws, undefined, layout);
    expectLayout(join(m1.outputs['target-dir'], 'debug'), layout);
    expect(statSync(join(m1.outputs['target-dir'], 'debug')).uid).toBe(0);
    expect(notRunners(join(root, 'slots', m1.outputs.slot)).length).toBeGreaterThan(0);
    const before = images();
    const p1 = await first.post();
    expect(p1.code).toBe(0);
    // The slot; and the CARGO_HOME the runner user's jobs share, when the step created files there
    // (the crates may already be in it from earlier jobs: then none).
    expect(p1.warnings.length).toBeGreaterThanOrEqual(1);
    expect(p1.warnings[0]).toContain('Handed them back to uid 1001 with docker');
    expect(p1.warnings[0]).toContain(USER_FIX);
    for (const w of p1.warnings.slice(1)) expect(w).toMatch(/the CARGO_HOME the trusted jobs of uid 1001 share.*Handed them back to uid 1001 with docker/);
    expect(notRunners(join(root, 'slots', m1.outputs.slot))).toEqual([]);
    expect(notRunners(m1.outputs['cargo-home'])).toEqual([]);
    // Nothing was pulled, tagged or built: the daemon holds no image it did not hold before
    // post. It is shared, so what else it holds is none of this test's business.
    expect(images().filter((i) => !before.includes(i))).toEqual([]);

    const next = await hostJob(pr, `${pr}02`, true);
    const m2 = await next.main();
    expect(m2.code).toBe(0);
    expect(m2.outputs.slot).toBe(m1.outputs.slot);
    expect(m2.stdout).not.toMatch(/passing it over/);
    const b = dockerStep(next.j, ws, `${RUNNER}:${RUNNER}`, layout); // the user's own cargo, same paths
    expect(compiled(b.stderr)).toEqual([]); // warm
    const p2 = await next.post();
    expect({ code: p2.code, warnings: p2.warnings }).toEqual({ code: 0, warnings: [] });
  });

  test("layout: job, with Docker access in post: root's files are handed back, so the job directory goes whole", async () => {
    const ws = await checkout('ws-e');
    const job = await hostJob(35, '3501', true);
    const m = await job.main({ layout: 'job' });
    expect(m.code).toBe(0);
    const dir = m.outputs['target-dir'].replace(/\/target$/, '');
    expect(dir).toContain('/jobs/');
    dockerStep(job.j, ws);
    expect(notRunners(dir).length).toBeGreaterThan(0);
    const p = await job.post();
    expect(p.code).toBe(0);
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0]).toContain(`in the job directory ${dir}`);
    expect(p.warnings[0]).toContain('Handed them back to uid 1001 with docker');
    await expect(fs.access(dir)).rejects.toThrow();
    expect(await fs.readdir(join(root, 'trash'))).toEqual([]);
  });

  test('with --user "$(id -u):$(id -g)": no notice, and the next job is warm in the same slot', async () => {
    const ws = await checkout('ws-c');
    const user = `${RUNNER}:${RUNNER}`;
    const first = await hostJob(33, '3301', false);
    const m1 = await first.main();
    expect(m1.code).toBe(0);
    expect(compiled(dockerStep(first.j, ws, user).stderr).length).toBeGreaterThan(0);
    const p1 = await first.post();
    expect({ code: p1.code, warnings: p1.warnings }).toEqual({ code: 0, warnings: [] });
    expect(p1.summary).not.toMatch(/Another uid/);

    const next = await hostJob(33, '3302', false);
    const m2 = await next.main();
    expect(m2.outputs.slot).toBe(m1.outputs.slot);
    expect(m2.stdout).not.toMatch(/passing it over/);
    expect(compiled(dockerStep(next.j, ws, user).stderr)).toEqual([]);
    const p2 = await next.post();
    expect({ code: p2.code, warnings: p2.warnings }).toEqual({ code: 0, warnings: [] });
    expect(notRunners(join(root, 'slots', m1.outputs.slot))).toEqual([]);
  });
});
