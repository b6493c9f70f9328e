import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootPaths, slotDirs } from '../src/model/layout.js';
import { measure } from '../src/os/disk.js';
import { readRecord, writeRecord } from '../src/os/record-file.js';
import { cli } from './helpers/cli.js';
import { SimJob, jobPool } from './helpers/runner.js';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { toolchainForAnyUid } from './helpers/anyuid.js';
import type { GuardReport } from '../src/pool/guard.js';
import { commitGitDep, makeGitConsumer, serveGit } from '../scripts/lib/gitdep.mjs';
import { removeScratch } from './helpers/scratch.js';
import { type HeldBuild, makeHeldWorkspace } from './helpers/workspace.js';

// The disk guard on real small filesystems (tmpfs mounted by the test; CI runs as root).
let scratch: string;
const mounts: string[] = [];
const { job, cleanup: cleanupJobs } = jobPool();
const procs: ChildProcess[] = [];
const MiB = 2 ** 20;

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-guard-'));
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await cleanupJobs();
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  await removeScratch(scratch);
});

async function tmpfs(name: string, opts: string): Promise<string> {
  const dir = join(scratch, name);
  await fs.mkdir(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
  mounts.push(dir);
  return join(dir, 'root');
}

/**
 * Finished jobs that each left `mib` MiB in their own slot (sizes recorded by post). All are
 * leased before any is released, or a runner's next job would simply reuse its last slot.
 * Released in the order given, so "oldest first" is observable.
 */
async function idleSlots(root: string, specs: { runner: string; pr: number; mib: number; files?: number }[]): Promise<string[]> {
  const started: SimJob[] = [];
  for (const spec of specs) {
    const j = await job({ pr: spec.pr, runner: spec.runner });
    const m = await j.run('main', { root, 'disk-threshold': '99%' });
    expect(m.code).toBe(0);
    const files = spec.files ?? 1;
    const per = Math.floor((spec.mib * MiB) / files);
    for (let i = 0; i < files; i++) await fs.writeFile(join(m.env.CARGO_TARGET_DIR, `blob${i}`), Buffer.alloc(per, 1));
    started.push(j);
  }
  for (const j of started) {
    expect((await j.run('post')).code).toBe(0);
    await sleep(20);
  }
  return started.map((j) => j.exported.CARGO_TARGET_DIR);
}
const idleSlot = async (root: string, runner: string, pr: number, mib: number, files = 1) => (await idleSlots(root, [{ runner, pr, mib, files }]))[0];

const has = (dir: string) =>
  fs.readdir(dir).then(
    (e) => e.length > 0,
    () => false,
  );
const used = async (root: string) => (await measure(root)).usedPercent;

/**
 * Moves what a root remembers of `runners` back by `ms`: their slots' records and their lines in
 * the host's history, as if they had last run a job that long ago (an ephemeral runner's name is
 * never seen again).
 */
async function age(root: string, runners: string[], ms: number): Promise<void> {
  const back = (iso?: string) => iso && new Date(Date.parse(iso) - ms).toISOString();
  for (const name of await fs.readdir(rootPaths(root).slots)) {
    const rec = await readRecord(slotDirs(root, name).record);
    if (!rec || !runners.includes(rec.runnerId)) continue;
    await writeRecord(slotDirs(root, name).record, { ...rec, leasedAt: back(rec.leasedAt)!, lastUsed: back(rec.lastUsed)!, releasedAt: back(rec.releasedAt) });
  }
  const log = rootPaths(root).warmth;
  // Only jobs that built something leave a line there.
  const lines = (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const moved = lines.map((l) => {
    const e = JSON.parse(l);
    return JSON.stringify(runners.includes(e.runner) ? { ...e, t: back(e.t) } : e);
  });
  if (moved.length) await fs.writeFile(log, moved.join('\n') + '\n');
}

/** The result of the last guard run in the root's events log (what cargo_isolate_guard_runs_total counts). */
const lastGuardResult = async (root: string) =>
  (await fs.readFile(rootPaths(root).events, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.event === 'guard')
    .pop()?.result;

describe('on a 96 MiB tmpfs with idle slots of two runners and a live build', () => {
  let root: string;
  let mineOld: string, mineNew: string, theirs: string;
  let live: SimJob;
  let build: Promise<number | null>;
  let slow: HeldBuild;

  beforeAll(async () => {
    root = await tmpfs('fs-main', 'size=96m');
    // The live job leases first: otherwise it would take (and wipe) its runner's idle slot.
    live = await job({ pr: 4, runner: 'r-other' });
    expect((await live.run('main', { root, 'disk-threshold': '99%' })).code).toBe(0);
    [mineOld, mineNew, theirs] = await idleSlots(root, [
      { runner: 'r-me', pr: 1, mib: 14 },
      { runner: 'r-me', pr: 2, mib: 14 },
      { runner: 'r-other', pr: 3, mib: 14 },
    ]);
    await fs.writeFile(join(live.exported.CARGO_TARGET_DIR, 'big'), Buffer.alloc(14 * MiB, 1));
    slow = await makeHeldWorkspace(join(scratch, 'slow'));
    const child = spawn('cargo', ['build', '--manifest-path', join(slow.dir, 'Cargo.toml')], { env: live.stepEnv(), stdio: 'ignore' });
    procs.push(child);
    build = new Promise((r) => child.on('exit', r));
    // The guard measures while the build waits inside its build script, for as long as these
    // tests need: a compile landing mid-guard adds megabytes that a tight target would notice.
    await slow.started(build);
  });

  test("runner scope frees only this runner's idle data, oldest first among equals, and stops at the target", async () => {
    const u = await used(root);
    expect(u).toBeGreaterThan(50);
    const g = await job({ pr: 9, runner: 'r-me' });
    // One 14 MiB removal (about 15 points) reaches a target 10 points down; two are not needed.
    const m = await g.run('main', { root, layout: 'job', 'disk-threshold': `${Math.floor(u - 3)}%`, 'disk-target': `${Math.floor(u - 10)}%` });
    expect(m.code).toBe(0);
    expect(await has(mineOld)).toBe(false);
    expect(await has(mineNew)).toBe(true);
    expect(await has(theirs)).toBe(true);
    expect(await has(live.exported.CARGO_TARGET_DIR)).toBe(true);
    expect(Number(m.outputs['disk-used-after'])).toBeLessThan(Number(m.outputs['disk-used-before']));
    // The live build writes meanwhile, so the measured difference is a little under 14 MiB.
    expect(Number(m.outputs['freed-bytes'])).toBeGreaterThanOrEqual(13 * MiB);
    const p = await g.run('post');
    expect(p.summary).toContain('Disk guard');
    expect(p.summary).toContain(mineOld);
  });

  test("host scope also frees the other runner's idle data, never the live slot; the build finishes", async () => {
    const u = await used(root);
    const g = await job({ pr: 9, runner: 'r-me' });
    const m = await g.run('main', { root, layout: 'job', 'prune-scope': 'host', 'disk-threshold': `${Math.floor(u - 3)}%`, 'disk-target': '5%' });
    expect(m.code).toBe(0);
    expect(await has(mineNew)).toBe(false);
    expect(await has(theirs)).toBe(false);
    expect(await has(live.exported.CARGO_TARGET_DIR)).toBe(true);
    await slow.release();
    expect(await build).toBe(0);
    expect((await live.run('post')).code).toBe(0);
    await g.run('post');
  });
});

describe('prune-scope: runner (the default) on a 64 MiB tmpfs: two idle slots of runner r1, one of r2', () => {
  /** r2's build is the oldest: host scope's order (and the previous runner scope's, first among equals only) takes it. */
  const setUp = async (name: string, size = 'size=64m') => {
    const root = await tmpfs(name, size);
    const [theirs, mineA, mineB] = await idleSlots(root, [
      { runner: 'r2', pr: 1, mib: 8 },
      { runner: 'r1', pr: 2, mib: 8 },
      { runner: 'r1', pr: 3, mib: 8 },
    ]);
    return { root, theirs, mineA, mineB };
  };

  test("a job of r1 over the threshold frees r1's builds and leaves r2's; still over, it says so in one line and in the metrics", async () => {
    const { root, theirs, mineA, mineB } = await setUp('fs-scope');
    const u = await used(root);
    const g = await job({ pr: 9, runner: 'r1' });
    // 8 MiB of 64 MiB is 12.5 points: r1's two builds free 25, and the disk stays over a threshold 31 points down.
    const levels = { 'disk-threshold': `${Math.floor(u - 31)}%`, 'disk-target': '5%' };
    const m = await g.run('main', { root, layout: 'job', ...levels });
    expect(m.code).toBe(0);
    expect([await has(theirs), await has(mineA), await has(mineB)]).toEqual([true, false, false]);
    const still = m.warnings.filter((w) => /still over the threshold/.test(w));
    expect(still).toHaveLength(1);
    expect(still[0]).toMatch(
      /idle data of other runners and the host's dependency archives holds 8\.\d+ MiB, left to the host's gc timer \(prune-scope: runner\)/,
    );
    expect(await lastGuardResult(root)).toBe('scoped');
    await g.run('post');
    // The host's gc timer (host scope) does the rest.
    expect((await cli(['gc', '--root', root, '--disk-threshold', levels['disk-threshold'], '--disk-target', '5%'])).code).toBe(0);
    expect(await has(theirs)).toBe(false);
  });

  test("over disk-hard-threshold a job's guard frees any runner's idle data: the scope is never why a job fails for disk", async () => {
    const { root, theirs, mineA, mineB } = await setUp('fs-hard');
    const u = await used(root);
    const g = await job({ pr: 9, runner: 'r1' });
    const inputs = { root, layout: 'job', 'disk-threshold': `${Math.floor(u - 3)}%`, 'disk-target': '5%' };
    const m = await g.run('main', { ...inputs, 'disk-hard-threshold': `${Math.floor(u - 1)}%` });
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/Over the hard level \d+%: freeing idle data of any runner, as prune-scope: host does\./);
    expect([await has(theirs), await has(mineA), await has(mineB)]).toEqual([false, false, false]);
    expect(await lastGuardResult(root)).not.toBe('scoped');
    await g.run('post');
    // A hard level of another kind than the threshold, or under it, is refused naming the input.
    const bad = await job({ pr: 10, runner: 'r1' });
    const k = await bad.run('main', { ...inputs, 'disk-hard-threshold': '5GiB' });
    expect(k.code).not.toBe(0);
    expect(k.stdout).toMatch(/Input 'disk-hard-threshold' is '5GiB': 'disk-threshold' is a percentage/);
    const low = await job({ pr: 11, runner: 'r1' });
    const l = await low.run('main', { ...inputs, 'disk-hard-threshold': '1%' });
    expect(l.code).not.toBe(0);
    expect(l.stdout).toMatch(/Input 'disk-hard-threshold' is '1%(25)?'\. Expected a level at or above 'disk-threshold'/);
  });

  test("unset, the hard level is room for the largest build the host has seen: with less free than that, r2's build goes too", async () => {
    // 24 MiB of builds on 32 MiB: under 8 MiB free, the largest build recorded.
    const { root, theirs } = await setUp('fs-hard-default', 'size=32m');
    expect((await measure(root)).freeBytes).toBeLessThan(8 * MiB);
    const g = await job({ pr: 9, runner: 'r1' });
    const m = await g.run('main', { root, layout: 'job', 'disk-threshold': '50%', 'disk-target': '5%' });
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/Over the hard level [\d.]+ MiB free: freeing idle data of any runner/);
    expect(await has(theirs)).toBe(false);
    await g.run('post');
  });
});

test("ephemeral runners (a new name every job): what runners that ended no job for 15 minutes left is no runner's, freed by its worth, the oldest first among equals; never live data", async () => {
  const root = await tmpfs('fs-ephemeral', 'size=64m');
  const live = await job({ pr: 20, runner: 'eph-live' });
  expect((await live.run('main', { root, 'disk-threshold': '99%' })).code).toBe(0);
  await fs.writeFile(join(live.exported.CARGO_TARGET_DIR, 'big'), Buffer.alloc(8 * MiB, 1));
  const [a, b, c] = await idleSlots(
    root,
    [1, 2, 3].map((i) => ({ runner: `eph-${i}`, pr: 20 + i, mib: 8 })),
  );
  const u = await used(root);
  // Seen minutes ago, they are runners that may come back: a new runner's guard leaves their builds.
  const early = await job({ pr: 29, runner: 'eph-early' });
  const e = await early.run('main', { root, layout: 'job', 'disk-threshold': `${Math.floor(u - 3)}%`, 'disk-target': `${Math.floor(u - 20)}%` });
  expect(e.code).toBe(0);
  expect([await has(a), await has(b), await has(c)]).toEqual([true, true, true]);
  await early.run('post');
  await age(root, ['eph-1', 'eph-2', 'eph-3', 'eph-early'], 16 * 60_000);
  const g = await job({ pr: 30, runner: 'eph-new' });
  // 8 MiB on 64 MiB is 12.5 points: two removals reach 20 points down, one does not.
  const m = await g.run('main', { root, layout: 'job', 'disk-threshold': `${Math.floor(u - 3)}%`, 'disk-target': `${Math.floor(u - 20)}%` });
  expect(m.code).toBe(0);
  expect(m.stdout).toMatch(/Removed target .*s001\/target .*last owner eph-1\)/);
  expect([await has(a), await has(b), await has(c)]).toEqual([false, false, true]);
  expect(await has(live.exported.CARGO_TARGET_DIR)).toBe(true);
  await g.run('post');
  await live.run('post');
});

test('the guard keeps the build the job is about to take while anything else idle can go; when nothing else is left it goes, and the job is told', async () => {
  const root = await tmpfs('fs-keep', 'size=64m');
  const [other, own] = await idleSlots(root, [
    { runner: 'r2', pr: 61, mib: 8 },
    { runner: 'r1', pr: 60, mib: 8 },
  ]);
  const u = await used(root);
  const again = await job({ pr: 60, runner: 'r1' });
  // 8 MiB of 64 MiB is 12.5 points: one removal reaches 10 points down. Of equal worth, this
  // runner's own build would go first: it is the one this job is about to take, so the other goes
  // (host scope: in runner scope the other runner's is not this guard's to free).
  const m = await again.run('main', {
    root,
    'prune-scope': 'host',
    'disk-threshold': `${Math.floor(u - 3)}%`,
    'disk-target': `${Math.floor(u - 10)}%`,
  });
  expect(m.code).toBe(0);
  expect([await has(other), await has(own)]).toEqual([false, true]);
  expect(m.stdout).toMatch(/\(own-job: /);
  expect(m.env.CARGO_TARGET_DIR).toBe(own);
  expect((await again.run('post')).code).toBe(0);
  const u2 = await used(root);
  const last = await job({ pr: 60, runner: 'r1' });
  const m2 = await last.run('main', {
    root,
    'prune-scope': 'host',
    'disk-threshold': `${Math.floor(u2 - 3)}%`,
    'disk-target': `${Math.floor(u2 - 10)}%`,
  });
  expect(m2.code).toBe(0);
  expect(m2.warnings.join('\n')).toMatch(
    /Nothing else idle is left to reach .*: removing .*\/target, the build this job was about to start from; it starts cold/,
  );
  expect(await has(own)).toBe(false);
  await last.run('post');
  // The build gone, the PR's next job keeps nothing of that slot; the guard, over its threshold
  // with nothing idle, names no path, least of all one that does not exist (a slot's own
  // cargo-home/registry/src: only a fork PR's slot has one).
  const next = await job({ pr: 60, runner: 'r1' });
  const m3 = await next.run('main', { root, 'disk-threshold': '1%' });
  expect(m3.code).toBe(0);
  expect(m3.stdout).toMatch(/\(own-job: /);
  expect(m3.warnings.filter((w) => /Nothing else idle|registry\/src/.test(w))).toEqual([]);
  expect(m3.stdout).not.toMatch(/^(Removed|Left|Would remove) /m);
  await next.run('post');
});

test("two guards started at the same moment: no double deletion, no error, the second sees the first's result", async () => {
  const root = await tmpfs('fs-two', 'size=64m');
  await idleSlots(
    root,
    [1, 2, 3, 4].map((pr) => ({ runner: 'r1', pr, mib: 8 })),
  );
  const u = await used(root);
  const inputs = { root, layout: 'job', 'prune-scope': 'host', 'disk-threshold': `${Math.floor(u - 3)}%`, 'disk-target': `${Math.floor(u - 20)}%` };
  const [a, b] = await Promise.all([job({ pr: 50, runner: 'ga' }), job({ pr: 51, runner: 'gb' })]);
  const [ma, mb] = await Promise.all([a.run('main', inputs), b.run('main', inputs)]);
  expect(ma.code).toBe(0);
  expect(mb.code).toBe(0);
  const removed = (s: string) => [...s.matchAll(/Removed target (\S+)/g)].map((x) => x[1]);
  const all = [...removed(ma.stdout), ...removed(mb.stdout)];
  expect(new Set(all).size).toBe(all.length);
  expect(all.length).toBe(2); // 2 x 8 MiB on 64 MiB reach 20 points down; nobody removes a third
  expect(removed(ma.stdout).length === 0 || removed(mb.stdout).length === 0).toBe(true);
  const second = removed(ma.stdout).length === 0 ? ma : mb;
  expect(second.stdout).toMatch(/no longer over the threshold|under the threshold/i);
  expect(ma.stderr + mb.stderr).not.toMatch(/Error/);
  await a.run('post');
  await b.run('post');
});

test('inode exhaustion triggers the guard like byte exhaustion', async () => {
  const root = await tmpfs('fs-inodes', 'size=64m,nr_inodes=1200');
  const slot = await idleSlot(root, 'r1', 1, 1, 900);
  const d = await measure(root);
  expect(d.usedPercent).toBeLessThan(20);
  expect(d.inodePercent).toBeGreaterThan(75);
  const g = await job({ pr: 2, runner: 'r1' });
  const m = await g.run('main', { root, layout: 'job', 'disk-threshold': '70%' });
  expect(m.code).toBe(0);
  expect(await has(slot)).toBe(false);
  expect((await measure(root)).inodePercent).toBeLessThan(60);
  await g.run('post');
});

describe('dry-run and fail-below', () => {
  test('dry-run removes nothing and reports what it would remove', async () => {
    const root = await tmpfs('fs-dry', 'size=32m');
    const slot = await idleSlot(root, 'r1', 1, 10);
    const g = await job({ pr: 2, runner: 'r1' });
    const m = await g.run('main', { root, layout: 'job', 'disk-threshold': '5%', 'dry-run': 'true' });
    expect(m.code).toBe(0);
    expect(await has(slot)).toBe(true);
    expect(Number(m.outputs['freed-bytes'])).toBeGreaterThanOrEqual(10 * MiB);
    const p = await g.run('post');
    expect(p.summary).toMatch(/would remove/);
    const gc = await cli(['gc', '--root', root, '--threshold', '5%', '--dry-run', '--json']);
    const report = JSON.parse(gc.stdout);
    expect(report.removals.map((r: { path: string }) => r.path)).toContain(slot);
    expect(await has(slot)).toBe(true);
  });

  test('fail-below fails the step at once with the documented message', async () => {
    const root = await tmpfs('fs-full', 'size=16m');
    const live = await job({ pr: 1, runner: 'r1' });
    expect((await live.run('main', { root, 'disk-threshold': '99%' })).code).toBe(0);
    await fs.writeFile(join(live.exported.CARGO_TARGET_DIR, 'big'), Buffer.alloc(12 * MiB, 1));
    const g = await job({ pr: 2, runner: 'r1' });
    const m = await g.run('main', { root, layout: 'job', 'fail-below': '8MiB' });
    expect(m.code).toBe(1);
    expect(m.stdout).toMatch(/::error::Only [\d.]+ MiB free on .* after pruning, below 'fail-below' \(8.00 MiB\): failing now rather than inside rustc later/);
    expect(m.env.CARGO_TARGET_DIR).toBeUndefined();
    // Without fail-below the job goes on, with a warning that says who holds the space.
    const w = await job({ pr: 3, runner: 'r1' });
    const mw = await w.run('main', { root, layout: 'job', 'disk-threshold': '50%' });
    expect(mw.code).toBe(0);
    expect(mw.warnings.join('\n')).toMatch(/The disk of .* is still over the threshold 50% after pruning .*Live jobs hold 12\.\d+ MiB/);
    await w.run('post');
    await live.run('post');
  });
});

describe('gc --dry-run lists what gc removes, line by line, on a root with idle data of every kind', () => {
  const RUNNER = 1001; // the runner's user; the container jobs run as root
  let root: string;
  let registry: LocalRegistry;
  let gitServer: { close(): Promise<void> } | undefined;
  let planted: string;
  let rust: string;
  /** The kinds dry runs listed, and the private sources of slots among them. */
  const kinds = new Set<string>();
  const privateSources: string[] = [];

  /**
   * A job that ends (post) or does not (its container was removed; "Complete job" kills its keeper).
   * `ws`: its workspace, whose crates main seeds from the store; `fetch`: a container job (root)
   * downloads them too, which its post step publishes into the stores.
   */
  async function idleJob(o: {
    pr?: number;
    branch?: string;
    runner: string;
    uid: number;
    fork?: boolean;
    layout?: 'job';
    ws?: string;
    fetch?: boolean;
    mib: number;
    post: boolean;
  }) {
    // The runner's user runs a toolchain it can read (rustup's is under /root).
    const j = await job({ pr: o.pr, branch: o.branch, runner: o.runner, fork: o.fork, extraEnv: o.uid ? { PATH: `${rust}/bin:/usr/bin:/bin` } : {} });
    if (o.uid) await fs.chown(j.env.HOME, o.uid, o.uid);
    const inputs = { root, 'disk-threshold': '99%', ...(o.layout ? { layout: o.layout } : {}), ...(o.ws ? { 'working-directory': o.ws } : {}) };
    const m = await j.run('main', inputs, { uid: o.uid });
    expect([m.code, m.warnings]).toEqual([0, []]);
    if (o.fetch) expect((await j.exec(['cargo', 'fetch', '--locked'], o.ws)).code).toBe(0);
    const blob = join(j.exported.CARGO_TARGET_DIR, 'build-output.bin');
    expect((await j.exec(['sh', '-c', `head -c ${o.mib * MiB} /dev/urandom > ${blob}`], undefined, { uid: o.uid })).code).toBe(0);
    if (o.post) expect((await j.run('post', {}, { uid: o.uid })).code).toBe(0);
    else process.kill(-(JSON.parse(j.state.lease) as { keeperPid: number }).keeperPid, 'SIGKILL');
    await sleep(15); // distinct idle times: the order among equals is the oldest first
    return j;
  }

  beforeAll(async () => {
    rust = toolchainForAnyUid();
    root = await tmpfs('fs-every-kind', 'size=160m');
    await fs.chmod(scratch, 0o755); // the runner's user reaches the root
    await fs.mkdir(root);
    await fs.chown(root, RUNNER, RUNNER); // a root the runner's user made, as a host's roots are
    registry = await localRegistry('ci-guard-every-kind-', 4);
    const crates = await registry.checkout('crates');
    const srv = join(registry.scratch, 'srv');
    commitGitDep(join(srv, 'dep'), { name: 'dep', answer: 1, init: true, padMiB: 1 });
    const served = await serveGit(srv);
    gitServer = served;
    const gitWs = makeGitConsumer(join(registry.scratch, 'ws-git'), 'dep', served.url('dep'));
    execFileSync('cargo', ['generate-lockfile'], { cwd: gitWs, env: { ...process.env, CARGO_HOME: join(registry.scratch, 'lockgen-home') } });
    execFileSync('chmod', ['-R', 'a+rX', registry.scratch]); // the runner's user reads the checkouts
    // A host job of the runner's user; container jobs as root (handed back at their post step)
    // that fill both stores; a container job whose post never ran (its files stay root's); a fork
    // PR (a CARGO_HOME of its own, with sources, in its slot); a job directory whose post never
    // ran, its CARGO_HOME seeded from the store by hard links.
    await idleJob({ pr: 1, runner: 'r1', uid: RUNNER, mib: 6, post: true });
    await idleJob({ branch: 'main', runner: 'r2', uid: 0, ws: crates, fetch: true, mib: 4, post: true });
    await idleJob({ branch: 'release', runner: 'r2', uid: 0, ws: gitWs, fetch: true, mib: 3, post: true });
    await idleJob({ pr: 2, runner: 'r2', uid: 0, mib: 5, post: false });
    await idleJob({ pr: 3, runner: 'r1', uid: 0, fork: true, ws: crates, fetch: true, mib: 2, post: true });
    await idleJob({ pr: 4, runner: 'r1', uid: RUNNER, layout: 'job', ws: crates, mib: 3, post: false });
    // What an interrupted deletion leaves in trash.
    planted = join(root, 'trash', 'left-by-an-interrupted-removal');
    await fs.mkdir(planted);
    await fs.writeFile(join(planted, 'rest.bin'), Buffer.alloc(MiB, 3));
    execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, planted]);
  });
  afterAll(async () => {
    await gitServer?.close();
    await registry?.close();
  });

  /** Every line of a real run is what it says: removed (gone, or a slot's build dir there and empty), or left as it was. */
  async function removed(lines: string[]): Promise<void> {
    for (const l of lines) expect([l, await has(/ (\/\S+) \(/.exec(l)![1])]).toEqual([l, !l.startsWith('Removed ')]);
  }

  /** gc's report (stdout): one line per removal, the idle time left out (it moves on between two runs), and its total. */
  async function gc(args: string[], uid?: number): Promise<{ lines: string[]; total: string; paths: string[] }> {
    const r = await cli(['gc', '--root', root, ...args], { uid });
    expect([r.code, r.stderr.replace(/^warning: .*another uid.*\n/gm, '')]).toEqual([0, '']);
    const lines = r.stdout.split('\n').filter((l) => /^(Would remove|Removed|Left|Refused|Skipped|Partly|Gone) /.test(l));
    const total = /^(?:would free|freed) (\S+ \S+ in \d+ removals?)/m.exec(r.stdout)?.[1] ?? `no total in ${r.stdout}`;
    for (const l of lines) kinds.add(l.replace(/^Left \([^)]*\) /, 'Left ').split(' ')[l.startsWith('Would') ? 2 : 1]);
    privateSources.push(...lines.filter((l) => l.startsWith('Would') && l.includes(join('cargo-home', 'registry', 'src'))));
    return {
      lines: lines.map((l) => l.replace(/, idle [^,]+, /, ', ').replace(/^Would remove /, 'Removed ')),
      total,
      paths: lines.map((l) => / (\/\S+) \(/.exec(l)![1]),
    };
  }

  test("as the runner's user, stopping half-way: the same removals in the same order, the same total", async () => {
    const all = JSON.parse((await cli(['gc', '--root', root, '--max-age', '0s', '--dry-run', '--json'], { uid: RUNNER })).stdout) as GuardReport;
    const idle = all.removals.reduce((n, x) => n + x.bytes, 0);
    expect(idle).toBeGreaterThan(15 * MiB);
    // A free-space floor half of that idle data above what is free: the guard stops half-way.
    const floor = `${Math.ceil(((await measure(root)).freeBytes + idle / 2) / 1024)}KiB`;
    const dry = await gc(['--disk-threshold', floor, '--dry-run'], RUNNER);
    for (const p of dry.paths) expect([p, existsSync(p)]).toEqual([p, true]); // never a path that is not there
    const real = await gc(['--disk-threshold', floor], RUNNER);
    expect(real.lines).toEqual(dry.lines);
    expect(real.total).toEqual(dry.total);
    expect(dry.lines.length).toBeGreaterThan(1);
    expect(dry.lines.length).toBeLessThan(all.removals.length); // it stopped where the real run stopped
    await removed(real.lines);
  });

  test("as the runner's user, everything it may remove: the same lines; another uid's slot left to root in both", async () => {
    const dry = await gc(['--max-age', '0s', '--dry-run'], RUNNER);
    for (const p of dry.paths) expect([p, existsSync(p)]).toEqual([p, true]);
    const real = await gc(['--max-age', '0s'], RUNNER);
    expect(real.lines).toEqual(dry.lines);
    expect(real.total).toEqual(dry.total);
    expect(real.lines.filter((l) => l.startsWith("Left (another uid's files: needs root) target "))).toHaveLength(1);
    await removed(real.lines);
  });

  test('as root, what only root may remove: the same lines; between the three runs, every kind, and nothing listed that is not there', async () => {
    const dry = await gc(['--max-age', '0s', '--dry-run']);
    for (const p of dry.paths) expect([p, existsSync(p)]).toEqual([p, true]);
    const real = await gc(['--max-age', '0s']);
    expect(real.lines).toEqual(dry.lines);
    expect(real.total).toEqual(dry.total);
    expect(real.lines.length).toBeGreaterThan(0);
    await removed(real.lines);
    expect([...kinds].sort()).toEqual(['crate', 'git', 'job-dir', 'registry-src', 'target', 'trash']);
    // Only the fork PR's slot had sources of its own, and only they were listed of any slot's.
    expect(privateSources).toHaveLength(1);
    expect(existsSync(planted)).toBe(false);
  });
});

test('gc --max-age removes idle slots unused for longer, whatever the disk says', async () => {
  const root = join(scratch, 'root-age');
  const slot = await idleSlot(root, 'r1', 1, 1);
  expect((await cli(['gc', '--root', root, '--max-age', '1h'])).code).toBe(0);
  expect(await has(slot)).toBe(true);
  await sleep(1100);
  const r = await cli(['gc', '--root', root, '--max-age', '1s', '--json']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).removals[0]).toMatchObject({ kind: 'target', path: slot, outcome: 'removed' });
  expect(await has(slot)).toBe(false);
});

test('the crate store is pruned last, least recently used first, and never a file a slot links', async () => {
  const root = await tmpfs('fs-store', 'size=32m');
  await fs.mkdir(join(root, 'crates', 'sha256', 'ab'), { recursive: true });
  await fs.writeFile(join(root, '.cargo-isolate-root'), '{"format":1}\n');
  for (let i = 0; i < 6; i++) {
    await fs.writeFile(join(root, 'crates', 'sha256', 'ab', `blob${i}.crate`), Buffer.alloc(3 * MiB, i));
    await sleep(15);
  }
  await fs.mkdir(join(root, 'slots', 's000', 'cargo-home'), { recursive: true });
  await fs.link(join(root, 'crates', 'sha256', 'ab', 'blob0.crate'), join(root, 'slots', 's000', 'cargo-home', 'linked.crate'));
  const u = await used(root);
  const r = await cli(['gc', '--root', root, '--threshold', `${Math.floor(u - 2)}%`, '--target', `${Math.floor(u - 12)}%`, '--json']);
  expect(r.code).toBe(0);
  const removed = JSON.parse(r.stdout).removals.map((x: { kind: string; path: string }) => `${x.kind}:${x.path.split('/').pop()}`);
  expect(removed).toEqual(['crate:blob1.crate', 'crate:blob2.crate']); // oldest unlinked first; ~9% each
  expect(await has(join(root, 'crates', 'sha256', 'ab'))).toBe(true);
  await fs.access(join(root, 'crates', 'sha256', 'ab', 'blob0.crate'));
});

test("the CARGO_HOME a uid's jobs share: its registry/src goes only while no slot of that uid is leased and no cargo holds that home's locks", async () => {
  const root = await tmpfs('shared-home', 'size=64m');
  const a = await job({ pr: 31, runner: 'r1' });
  const m = await a.run('main', { root, 'disk-threshold': '99%' });
  expect(m.code).toBe(0);
  const home = m.env.CARGO_HOME;
  expect(home).toBe(join(root, 'homes', `u${process.getuid!()}`));
  const src = join(home, 'registry', 'src', 'index-x', 'big-1.0.0');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(join(src, 'lib.rs'), Buffer.alloc(30 * MiB, 1));
  const gc = async () => JSON.parse((await cli(['gc', '--root', root, '--threshold', '5%', '--target', '1%', '--scope', 'host', '--json'])).stdout);
  const srcRemovals = (r: { removals: { kind: string; path: string; outcome: string }[] }) =>
    r.removals.filter((x) => x.path === join(home, 'registry', 'src'));
  // A job of that uid is leased: its cargo reads sources from start to end of its build.
  expect(srcRemovals(await gc())).toEqual([]);
  expect(existsSync(join(src, 'lib.rs'))).toBe(true);
  expect((await a.run('post')).code).toBe(0);
  // No lease, but a cargo (outside any slot) holds the home's shared lock for its build.
  const cargo = spawn('flock', ['-s', join(home, '.package-cache-mutate'), 'sleep', '600'], { stdio: 'ignore', detached: true });
  procs.push(cargo);
  for (let i = 0; i < 200 && !(await fs.readFile('/proc/locks', 'utf8')).includes(String(cargo.pid)); i++) await sleep(10);
  expect(srcRemovals(await gc())).toEqual([expect.objectContaining({ outcome: 'live' })]);
  expect(existsSync(join(src, 'lib.rs'))).toBe(true);
  const gone = new Promise((r) => cargo.once('exit', r));
  process.kill(-cargo.pid!, 'SIGKILL'); // flock and the sleep holding its descriptor
  await gone;
  // Idle: removed under cargo's own exclusive locks of that home; cargo extracts again what it needs.
  expect(srcRemovals(await gc())).toEqual([expect.objectContaining({ outcome: 'removed' })]);
  expect(existsSync(join(src, 'lib.rs'))).toBe(false);
});
