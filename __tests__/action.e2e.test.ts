import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimJob, jobPool } from './helpers/runner.js';
import { compiled, makeWorkspace } from './helpers/workspace.js';
import { removeScratch } from './helpers/scratch.js';
import { scaled, until } from './helpers/pace.js';

// The bundled action, run through the runner's protocol, with real cargo builds.
let scratch: string;
let ws: string;
const { job, cleanup: cleanupJobs } = jobPool();

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-e2e-'));
  ws = await makeWorkspace(join(scratch, 'ws'), 4);
});
afterAll(async () => {
  await cleanupJobs();
  await removeScratch(scratch);
});

const execa = (cmd: string, args: string[], cwd: string) => promisify(execFile)(cmd, args, { cwd });
const build = (j: SimJob) => j.exec(['cargo', 'build', '--manifest-path', join(ws, 'Cargo.toml')]);

describe('slot layout', () => {
  const root = () => join(scratch, 'root-slot');

  test('two jobs of the same PR started together get different slots and both build', async () => {
    // Matrix legs: same run id and job id, different runners.
    const [a, b] = await Promise.all([job({ pr: 7, runId: '4242', runner: 'r1' }), job({ pr: 7, runId: '4242', runner: 'r2' })]);
    const [ma, mb] = await Promise.all([a.run('main', { root: root() }), b.run('main', { root: root() })]);
    expect(ma.errors.concat(mb.errors)).toEqual([]);
    expect(ma.code).toBe(0);
    expect(mb.code).toBe(0);
    expect(ma.outputs.slot).not.toBe(mb.outputs.slot);
    expect(ma.env.CARGO_TARGET_DIR).not.toBe(mb.env.CARGO_TARGET_DIR);
    for (const name of ['CARGO_TARGET_DIR', 'CARGO_HOME', 'CARGO_INSTALL_ROOT', 'TMPDIR', 'TMP', 'TEMP']) expect(ma.env[name]?.startsWith(root())).toBe(true);
    expect(ma.env.TMP).toBe(ma.env.TMPDIR);
    // One CARGO_HOME for the uid's trusted jobs; what `cargo install` adds to PATH is the slot's.
    expect(ma.env.CARGO_HOME).toBe(mb.env.CARGO_HOME);
    expect(ma.env.CARGO_HOME).toBe(join(root(), 'homes', `u${process.getuid!()}`));
    expect(ma.env.CARGO_INSTALL_ROOT).toBe(join(ma.env.CARGO_TARGET_DIR, '..', 'install'));
    expect(ma.path[0]).toBe(join(ma.env.CARGO_INSTALL_ROOT, 'bin'));
    expect([ma.outputs['trust-domain'], ma.outputs.key]).toEqual(['pr-7', 'pr-7']); // key: the older name
    expect((await fs.stat(ma.env.TMPDIR)).mode & 0o777).toBe(0o700);
    const [ba, bb] = await Promise.all([build(a), build(b)]);
    expect(ba.code).toBe(0);
    expect(bb.code).toBe(0);
    expect(compiled(ba.stderr)).toContain('app');
    const [pa, pb] = await Promise.all([a.run('post'), b.run('post')]);
    expect(pa.code).toBe(0);
    expect(pb.code).toBe(0);
    expect(pa.summary).toContain('cargo-isolate');
    expect(pa.summary).toContain(ma.env.CARGO_TARGET_DIR);
    // A slow step is explained by the summary alone: time per phase and the disk.
    expect(pa.summary).toMatch(/<td>Time per phase<\/td><td>guard \d+ ms, slot \d+ ms, crates \d+ ms, home \d+ ms, release \d+ ms<\/td>/);
    expect(pa.summary).toMatch(/<td>Disk<\/td><td>before the guard [\d.]+% used \([^)]+ free\); after it [\d.]+% used \([^)]+ free\); at release [\d.]+% used/);
    const record = JSON.parse(await fs.readFile(join(root(), 'slots', ma.outputs.slot, 'slot.json'), 'utf8'));
    expect(record.key).toBe('pr-7');
    expect(record.runnerName).toBe('r1');
    expect(record.releasedAt).toBeDefined();
    expect(record.sizes.target).toBeGreaterThan(0);
  });

  test('the next run of the PR on the same runner reuses the warm slot: same paths, nothing recompiled', async () => {
    const first = await job({ pr: 7, runner: 'r1' });
    const m1 = await first.run('main', { root: root() });
    expect(m1.code).toBe(0);
    expect(m1.stdout).toMatch(/warm/);
    const b1 = await build(first);
    expect(b1.code).toBe(0);
    expect(compiled(b1.stderr)).toEqual([]);
    await first.run('post');
    const second = await job({ pr: 7, runner: 'r1' });
    const m2 = await second.run('main', { root: root() });
    expect(m2.env.CARGO_TARGET_DIR).toBe(m1.env.CARGO_TARGET_DIR);
    expect(m2.env.CARGO_HOME).toBe(m1.env.CARGO_HOME);
    const b2 = await build(second);
    expect(b2.code).toBe(0);
    expect(compiled(b2.stderr)).toEqual([]);
    await second.run('post');
  });

  test('a run of another PR on that runner gets no content of the first PR', async () => {
    const other = await job({ pr: 8, runner: 'r1' });
    const m = await other.run('main', { root: root() });
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/starting fresh: last used by acme\/widgets#pr-7|slot s\d+ \(new/);
    expect(await fs.readdir(m.env.CARGO_TARGET_DIR)).toEqual([]);
    // What the first PR wrote for itself: its build and its installed tools (the shared
    // CARGO_HOME holds the uid's registry caches, coordinated by cargo's own locks).
    expect(await fs.readdir(m.env.CARGO_INSTALL_ROOT)).toEqual(['bin']);
    expect(await fs.readdir(join(m.env.CARGO_INSTALL_ROOT, 'bin'))).toEqual([]);
    const b = await build(other);
    expect(b.code).toBe(0);
    expect(compiled(b.stderr)).toContain('c0');
    await other.run('post');
  });

  test('reuse: never starts fresh even for the same key', async () => {
    const j = await job({ pr: 8, runner: 'r1' });
    const m = await j.run('main', { root: root(), reuse: 'never' });
    expect(m.code).toBe(0);
    expect(await fs.readdir(m.env.CARGO_TARGET_DIR)).toEqual([]);
    await j.run('post');
  });

  test("the runner's config.toml and credentials.toml are copied into the CARGO_HOME, never linked: a job's writes never reach the runner's", async () => {
    const j = await job({ branch: 'main', runner: 'r9' });
    const own = join(j.env.HOME, '.cargo');
    await fs.mkdir(own, { recursive: true });
    await fs.writeFile(join(own, 'config.toml'), '[alias]\nisolated-hello = "version"\n');
    await fs.writeFile(join(own, 'credentials.toml'), '[registry]\ntoken = "x"\n');
    const m = await j.run('main', { root: root() });
    expect(m.code).toBe(0);
    for (const f of ['config.toml', 'credentials.toml']) {
      expect((await fs.lstat(join(m.env.CARGO_HOME, f))).isSymbolicLink()).toBe(false);
      expect(await fs.readFile(join(m.env.CARGO_HOME, f), 'utf8')).toBe(await fs.readFile(join(own, f), 'utf8'));
    }
    expect(m.outputs.key).toBe('ref-main');
    // The alias exists only in the runner's config.toml: cargo finds it in the copy.
    const alias = await j.exec(['cargo', 'isolated-hello'], scratch);
    expect(alias.stderr).toBe('');
    expect(alias.stdout).toMatch(/^cargo \d/);
    // What the job writes there (as `cargo login` would) changes its copy, never the runner's file.
    await fs.appendFile(join(m.env.CARGO_HOME, 'credentials.toml'), '[registries.mine]\ntoken = "job-token"\n');
    expect(await fs.readFile(join(own, 'credentials.toml'), 'utf8')).toBe('[registry]\ntoken = "x"\n');
    expect((await j.run('post')).code).toBe(0);
    const next = await job({ branch: 'main', runner: 'r9' });
    await fs.mkdir(join(next.env.HOME, '.cargo'), { recursive: true });
    await fs.copyFile(join(own, 'credentials.toml'), join(next.env.HOME, '.cargo', 'credentials.toml'));
    const n = await next.run('main', { root: root() });
    expect(await fs.readFile(join(n.env.CARGO_HOME, 'credentials.toml'), 'utf8')).toBe('[registry]\ntoken = "x"\n');
    expect(existsSync(join(n.env.CARGO_HOME, 'config.toml'))).toBe(false); // this runner has none
    await next.run('post');
  });
});

describe('CARGO_HOME keeps working', () => {
  test('cargo install lands on PATH for later steps; git dependencies build', async () => {
    const root = join(scratch, 'root-home');
    const tool = join(scratch, 'tool');
    await fs.mkdir(join(tool, 'src'), { recursive: true });
    await fs.writeFile(join(tool, 'Cargo.toml'), '[package]\nname = "isolated-tool"\nversion = "0.1.0"\nedition = "2021"\n');
    await fs.writeFile(join(tool, 'src', 'main.rs'), 'fn main() { println!("tool ran"); }\n');
    const gitdep = join(scratch, 'gitdep');
    await fs.mkdir(join(gitdep, 'src'), { recursive: true });
    await fs.writeFile(join(gitdep, 'Cargo.toml'), '[package]\nname = "gitdep"\nversion = "0.1.0"\nedition = "2021"\n');
    await fs.writeFile(join(gitdep, 'src', 'lib.rs'), 'pub fn answer() -> u32 { 42 }\n');
    for (const args of [
      ['init', '-q'],
      ['add', '.'],
      ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'init'],
    ])
      await execa('git', args, gitdep);
    const app = join(scratch, 'gitapp');
    await fs.mkdir(join(app, 'src'), { recursive: true });
    await fs.writeFile(
      join(app, 'Cargo.toml'),
      `[package]\nname = "gitapp"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ngitdep = { git = "file://${gitdep}" }\n`,
    );
    await fs.writeFile(join(app, 'src', 'main.rs'), 'fn main() { println!("{}", gitdep::answer()); }\n');

    const j = await job({ branch: 'tools', runner: 'r7' });
    const m = await j.run('main', { root });
    expect(m.code).toBe(0);
    expect((await j.exec(['cargo', 'install', '--quiet', '--path', tool])).code).toBe(0);
    const ran = await j.exec(['isolated-tool']);
    expect(ran.stdout.trim()).toBe('tool ran');
    // In the slot's install root, never in the CARGO_HOME other trust domains share.
    expect(await fs.access(join(m.env.CARGO_INSTALL_ROOT, 'bin', 'isolated-tool')).then(() => true)).toBe(true);
    expect(
      await fs.access(join(m.env.CARGO_HOME, 'bin', 'isolated-tool')).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
    const g = await j.exec(['cargo', 'run', '--quiet'], app);
    expect(g.stderr).not.toMatch(/error/);
    expect(g.stdout.trim()).toBe('42');
    expect(await fs.readdir(join(m.env.CARGO_HOME, 'git'))).toEqual(expect.arrayContaining(['db']));
    await j.run('post');
  });
});

describe('a predecessor still holding the warm slot', () => {
  const root = () => join(scratch, 'root-wait');
  test('the next run waits for it and gets the warm slot when it releases', async () => {
    const before = await job({ pr: 20, runId: '100', runner: 'r1' });
    const m1 = await before.run('main', { root: root() });
    const after = await job({ pr: 20, runId: '101', runner: 'r2' });
    const next = await after.start('main', { root: root(), 'lease-wait': `${Math.round(scaled(30_000) / 1000)}s` });
    let said = '';
    next.child.stdout!.on('data', (d) => (said += d));
    // However long a busy machine takes to get it there: release once it is waiting.
    await until('the next run to wait for the slot', () => /still leased by an earlier run \(.*\); waiting up to/.test(said), { unless: next.done });
    await before.run('post'); // the cancelled run's post step releases
    const m2 = await next.done;
    expect(m2.code).toBe(0);
    expect(m2.outputs.slot).toBe(m1.outputs.slot);
    expect(m2.stdout).toMatch(/still leased by an earlier run \(an earlier run of this PR, cancelled by the new push\); waiting up to \d+ s/);
    await after.run('post');
  });
  test('after lease-wait it takes another slot instead of sharing', async () => {
    const holder = await job({ pr: 21, runId: '200', runner: 'r1' });
    const m1 = await holder.run('main', { root: root() });
    const next = await job({ pr: 21, runId: '201', runner: 'r2' });
    const started = Date.now();
    const m2 = await next.run('main', { root: root(), 'lease-wait': '1s' });
    expect(m2.code).toBe(0);
    expect(m2.outputs.slot).not.toBe(m1.outputs.slot);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    await next.run('post');
    await holder.run('post');
  });
});

describe('job layout', () => {
  test('gives distinct paths per job, even for matrix legs of one run, and post removes them', async () => {
    const root = join(scratch, 'root-job');
    const [a, b] = await Promise.all([job({ pr: 9, runId: '555', runner: 'r1' }), job({ pr: 9, runId: '555', runner: 'r1' })]);
    const [ma, mb] = await Promise.all([a.run('main', { root, layout: 'job' }), b.run('main', { root, layout: 'job' })]);
    expect(ma.errors.concat(mb.errors)).toEqual([]);
    expect(ma.code).toBe(0);
    expect(mb.code).toBe(0);
    expect(ma.env.CARGO_TARGET_DIR).not.toBe(mb.env.CARGO_TARGET_DIR);
    expect(ma.env.CARGO_TARGET_DIR).toContain(join(root, 'jobs', 'acme__widgets', 'pr-9', 'run-555-1-build-'));
    expect((await build(a)).code).toBe(0);
    const base = join(ma.env.CARGO_TARGET_DIR, '..');
    expect((await fs.readdir(base)).sort()).toEqual(expect.arrayContaining(['target', 'cargo-home', 'tmp']));
    const [pa, pb] = await Promise.all([a.run('post'), b.run('post')]);
    expect(pa.code).toBe(0);
    expect(pb.code).toBe(0);
    await expect(fs.access(base)).rejects.toThrow();
    await expect(fs.access(join(mb.env.CARGO_TARGET_DIR, '..'))).rejects.toThrow();
    expect(await fs.readdir(join(root, 'trash'))).toEqual([]);
    expect(await fs.readdir(join(root, 'jobs'))).toEqual([]); // empty key and repo dirs go too
  });
});

describe('post step', () => {
  test('without a main step state it does nothing and succeeds', async () => {
    const j = await job({ branch: 'main' });
    const p = await j.run('post');
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/nothing to release/);
  });
});
