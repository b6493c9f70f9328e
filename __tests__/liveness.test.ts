import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { allFree } from '../src/os/flock.js';
import { slotDirs } from '../src/model/layout.js';
import { KEEPER_POLL_SECONDS, acquireSlot, releaseLease } from '../src/pool/lease.js';
import { identityFrom } from '../src/model/identity.js';
import { consoleLog } from '../src/os/log.js';
import { removeTree } from '../src/os/remove.js';
import { prepareRoot } from '../src/pool/root.js';
import { type TestLayout, expectLayout, layoutEnv } from './helpers/cargo-layout.js';
import { cli } from './helpers/cli.js';
import { SimJob, jobPool } from './helpers/runner.js';
import { scaled, until } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';
import { compiled, makeHeldWorkspace, makeWorkspace } from './helpers/workspace.js';
import { pruneIdle } from './helpers/guard.js';

let scratch: string;
let ws: string;
const { job, cleanup: cleanupJobs } = jobPool();
const procs: ChildProcess[] = [];
/** Set when the file's cleanup starts: a loop a timed-out test left running stops there. */
let ending = false;

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-live-'));
  await fs.chmod(scratch, 0o755);
  ws = await makeWorkspace(join(scratch, 'ws'), 3);
});
afterAll(async () => {
  ending = true;
  for (const p of procs) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      p.kill('SIGKILL');
    }
  }
  await cleanupJobs();
  await removeScratch(scratch);
});

const leaseOf = (j: SimJob) => JSON.parse(j.state.lease) as { keeperPid: number; dirs: { lock: string; target: string } };
const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );
const gcAll = (root: string) => cli(['gc', '--root', root, '--scope', 'host', '--threshold', '1%']);

/** The modes (READ, WRITE) in which the kernel lists flocks held on each file, by file name. */
async function lockModes(paths: string[]): Promise<Record<string, string[]>> {
  const lines = (await fs.readFile('/proc/locks', 'utf8')).split('\n').map((l) => l.trim().split(/\s+/));
  const out: Record<string, string[]> = {};
  for (const p of paths) {
    const st = await fs.stat(p).catch(() => undefined);
    // "1: FLOCK  ADVISORY  READ 1234 00:2f:5678 0 EOF" (waiters have "->" after the number)
    out[p.split('/').pop()!] = st ? lines.filter((f) => f[1] === 'FLOCK' && f[5]?.endsWith(`:${st.ino}`)).map((f) => f[3]) : [];
  }
  return out;
}

describe('a live slot survives every deletion path', () => {
  test('(a) while its keeper holds the lease: another job, the guard in host scope, the CLI', async () => {
    const root = join(scratch, 'root-a');
    const a = await job({ pr: 1, runner: 'ra' });
    expect((await a.run('main', { root })).code).toBe(0);
    expect((await a.exec(['cargo', 'build', '--manifest-path', join(ws, 'Cargo.toml')])).code).toBe(0);
    const artefact = join(a.exported.CARGO_TARGET_DIR, 'debug', 'app');
    expect(await exists(artefact)).toBe(true);
    // Another PR's job with reuse: never, then a guard that prunes every idle byte of the host.
    const b = await job({ pr: 2, runner: 'rb' });
    expect((await b.run('main', { root, reuse: 'never' })).code).toBe(0);
    expect((await b.run('post')).code).toBe(0);
    const c = await job({ pr: 3, runner: 'rc' });
    const mc = await c.run('main', { root, 'disk-threshold': '1%', 'prune-scope': 'host' });
    expect(mc.code).toBe(0);
    expect(mc.stdout).toMatch(/Removed target .*slots\/s001\/target/); // b's idle slot went
    expect(mc.stdout).not.toContain(a.exported.CARGO_TARGET_DIR);
    expect((await gcAll(root)).code).toBe(0);
    expect(await exists(artefact)).toBe(true);
    const again = await a.exec(['cargo', 'build', '--manifest-path', join(ws, 'Cargo.toml')]);
    expect(again.code).toBe(0);
    expect(compiled(again.stderr)).toEqual([]);
    await c.run('post');
    await a.run('post');
  });

  /*
   * A zombie build: no lease, but cargo runs. On every layout and lock protocol: v1 (cargo 1.95:
   * `.cargo-lock` exclusive), v2 (1.100: `.cargo-build-lock` exclusive, `.cargo-lock` shared) and
   * v2 with fine-grained locking running `cargo check`, where cargo holds no profile lock
   * exclusively at all (`.cargo-build-lock` and `.cargo-lock` shared, a shared `.lock` per unit).
   * Only the target dir's locks protect it: the build uses a CARGO_HOME of its own.
   */
  test.each<[TestLayout, string]>([
    ['v1', 'build'],
    ['v2', 'build'],
    ['v2-fine', 'check'],
  ])('(b) while only cargo holds its locks (keeper killed), layout %s, cargo %s: not deleted, not handed out', async (layout, cmd) => {
    const root = join(scratch, `root-b-${layout}`);
    const slow = await makeHeldWorkspace(join(scratch, `slow-${layout}`));
    const a = await job({ pr: 1, runner: 'ra', extraEnv: layoutEnv(layout) });
    expect((await a.run('main', { root })).code).toBe(0);
    // Its own CARGO_HOME (a `docker run` step that mounts only the target dir): cargo holds
    // `.package-cache-mutate` shared for the whole build, which would protect the slot on its own.
    const home = join(scratch, `home-b-${layout}`);
    const build = spawn('cargo', [cmd, '--manifest-path', join(slow.dir, 'Cargo.toml')], { env: { ...a.stepEnv(), CARGO_HOME: home }, stdio: 'ignore' });
    procs.push(build);
    const buildDone = new Promise<number | null>((r) => build.on('exit', r));
    const profile = join(a.exported.CARGO_TARGET_DIR, 'debug');
    const lockFile = join(profile, '.cargo-lock');
    await slow.started(buildDone);
    expect(allFree([lockFile])).toBe(false);
    if (layout === 'v2-fine') {
      // The case the probe must not miss: every profile lock this cargo holds is shared.
      const modes = await lockModes([join(profile, '.cargo-lock'), join(profile, '.cargo-build-lock'), join(profile, '.cargo-artifact-lock')]);
      expect(modes).toEqual({ '.cargo-lock': ['READ'], '.cargo-build-lock': ['READ'], '.cargo-artifact-lock': [] });
    }
    const lease = leaseOf(a);
    process.kill(-lease.keeperPid, 'SIGKILL');
    await until('the killed keeper to drop the lease', () => allFree([lease.dirs.lock], true));
    // The guard in host scope under pressure, the CLI and the next job keep away.
    const gc = await gcAll(root);
    expect(gc.code).toBe(0);
    expect(await exists(lockFile)).toBe(true);
    const next = await job({ pr: 1, runner: 'ra', extraEnv: layoutEnv(layout) });
    const m = await next.run('main', { root, 'lease-wait': '0' });
    expect(m.code).toBe(0);
    expect(m.outputs.slot).not.toBe(a.outputs.slot);
    expect(m.stdout).toMatch(/cargo still holds its locks/);
    await slow.release();
    expect(await buildDone).toBe(0);
    expectLayout(profile, layout);
    await next.run('post');
    await a.run('post');
  });

  test('(c) while the lease is held from another mount namespace through a bind mount', async () => {
    const root = join(scratch, 'root-c');
    const a = await job({ pr: 1, runner: 'ra' });
    expect((await a.run('main', { root })).code).toBe(0);
    await fs.writeFile(join(a.exported.CARGO_TARGET_DIR, 'output.bin'), 'built');
    expect((await a.run('post')).code).toBe(0);
    const mnt = join(scratch, 'mnt-c');
    await fs.mkdir(mnt);
    const holder = spawn(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind "$1" "$2" && echo ready && exec flock -x "$2/locks/slot-${a.outputs.slot}.lock" sleep 900`,
        'sh',
        root,
        mnt,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    procs.push(holder);
    const holderDone = new Promise((r) => holder.on('exit', r));
    await new Promise((r) => holder.stdout!.once('data', r));
    const lock = slotDirs(root, a.outputs.slot).lock;
    await until('the other namespace to take the lease', () => !allFree([lock], true), { unless: holderDone });
    expect(await fs.readdir(mnt)).toEqual([]); // the bind mount is invisible out here
    expect((await gcAll(root)).code).toBe(0);
    expect(await exists(join(a.exported.CARGO_TARGET_DIR, 'output.bin'))).toBe(true);
    process.kill(-holder.pid!, 'SIGKILL');
    await until('the killed holder to drop the lease', () => allFree([lock], true));
    expect((await gcAll(root)).code).toBe(0);
    expect(await exists(join(a.exported.CARGO_TARGET_DIR, 'output.bin'))).toBe(false); // idle now: pruned
  });
});

test('after SIGKILL of the whole job, the slot is free within the keeper poll and the next job takes it', async () => {
  const root = join(scratch, 'root-kill');
  const a = await job({ pr: 4, runner: 'rk' });
  const { child, done } = await a.start('main', { root }, { worker: true });
  procs.push(child);
  expect((await done).code).toBe(0);
  const lease = leaseOf(a);
  expect(allFree([lease.dirs.lock], true)).toBe(false);
  process.kill(-child.pid!, 'SIGKILL'); // the worker and everything in its process group
  // One poll, and a margin for a busy machine to schedule the keeper's wake-up.
  const within = KEEPER_POLL_SECONDS * 1000 + scaled(3000);
  const freedAfter = await until('the keeper to see its worker gone', () => allFree([lease.dirs.lock], true), { ms: 2 * within });
  expect(freedAfter).toBeLessThan(within);
  const b = await job({ pr: 4, runner: 'rk' });
  const m = await b.run('main', { root });
  expect(m.outputs.slot).toBe(a.outputs.slot);
  await b.run('post');
});

test('kill -9 at random points of main and post leaves a root the next job and the CLI understand', async () => {
  const root = join(scratch, 'root-chaos');
  for (let i = 0; i < 12; i++) {
    const a = await job({ pr: 5, runner: `rc${i % 3}` });
    const { child, done } = await a.start('main', { root, 'lease-wait': '0' }, { worker: true });
    procs.push(child);
    await sleep(Math.random() * 300);
    const killMain = i % 2 === 0;
    if (killMain) {
      try {
        execFileSync('pkill', ['-KILL', '-P', String(child.pid)]); // the main step's node only
      } catch {
        /* already finished */
      }
    }
    await Promise.race([done, sleep(scaled(3000))]);
    if (!killMain && a.state.lease) {
      const post = await a.start('post');
      await sleep(Math.random() * 150);
      post.child.kill('SIGKILL');
      await post.done;
    }
    process.kill(-child.pid!, 'SIGKILL');
  }
  // Every keeper notices its worker is gone within its poll (and what a busy machine adds).
  const liveSlots = async () => {
    const status = await cli(['status', '--root', root, '--json']);
    expect(status.code).toBe(0);
    return (JSON.parse(status.stdout) as { slots: { live: boolean }[] }).slots.filter((x) => x.live);
  };
  await until('every keeper to see its worker gone', async () => (await liveSlots()).length === 0, { ms: (KEEPER_POLL_SECONDS + 3) * 1000, every: 250 }).catch(
    () => undefined,
  );
  expect(await liveSlots()).toEqual([]);
  const next = await job({ pr: 5, runner: 'rc0' });
  const m = await next.run('main', { root, 'lease-wait': '0' });
  expect(m.code).toBe(0);
  expect((await next.exec(['cargo', 'build', '--manifest-path', join(ws, 'Cargo.toml')])).code).toBe(0);
  expect((await next.run('post')).code).toBe(0);
  expect(Number(m.outputs.slot.slice(1))).toBeLessThan(12); // slots are reused, not leaked
});

describe('deletion never leaves the root', () => {
  async function canary(): Promise<{ dir: string; digest: () => Promise<string> }> {
    const dir = await fs.mkdtemp(join(scratch, 'outside-'));
    for (let i = 0; i < 20; i++) await fs.writeFile(join(dir, `f${i}`), `precious ${i}`);
    await fs.mkdir(join(dir, 'sub'));
    await fs.writeFile(join(dir, 'sub', 'deep'), 'deep');
    const digest = async () => {
      const h = createHash('sha256');
      for (const f of (await fs.readdir(dir, { recursive: true })).sort()) {
        const st = await fs.lstat(join(dir, f));
        h.update(f);
        if (st.isFile()) h.update(await fs.readFile(join(dir, f)));
      }
      return h.digest('hex');
    };
    return { dir, digest };
  }

  test('symlinks planted in a target dir (to a dir, to a file, the target itself) are removed as links', async () => {
    const root = await prepareRoot(join(scratch, 'root-sym'), {});
    const out = await canary();
    const before = await out.digest();
    const target = join(root, 'slots', 's000', 'target');
    await fs.mkdir(join(target, 'debug'), { recursive: true });
    await fs.symlink(out.dir, join(target, 'debug', 'escape'));
    await fs.symlink(join(out.dir, 'f1'), join(target, 'file-link'));
    await fs.symlink('../../../../..', join(target, 'up'));
    expect((await removeTree(root, target, { why: 'test' })).outcome).toBe('removed');
    await fs.symlink(out.dir, target); // a build replaced the whole target dir by a link
    expect((await removeTree(root, target, { why: 'test' })).outcome).toBe('removed');
    expect(await out.digest()).toBe(before);
    await expect(removeTree(root, out.dir, { why: 'test' })).rejects.toThrow(/outside the root/);
    await expect(removeTree(root, join(root, 'slots', '..', '..'), { why: 'test' })).rejects.toThrow(/not a plain absolute path|outside the root/);
    await fs.symlink(out.dir, join(root, 'slots', 'via-link'));
    await expect(removeTree(root, join(root, 'slots', 'via-link', 'f2'), { why: 'test' })).rejects.toThrow(/outside the root/);
    expect(await out.digest()).toBe(before);
  });

  test('a symlink swapped in while the deletion runs does not lead it out', async () => {
    const root = await prepareRoot(join(scratch, 'root-swap'), {});
    const out = await canary();
    const before = await out.digest();
    for (let round = 0; round < 3; round++) {
      const target = join(root, 'slots', 's000', 'target');
      for (let d = 0; d < 40; d++) {
        await fs.mkdir(join(target, `d${d}`, 'victim'), { recursive: true });
        await Promise.all(Array.from({ length: 50 }, (_, f) => fs.writeFile(join(target, `d${d}`, 'victim', `f${f}`), 'x')));
      }
      // The swapper's cwd follows the tree into trash (a cwd is an inode, not a path).
      const swapper = spawn(
        'sh',
        [
          '-c',
          `while :; do for d in d*; do mv "$d/victim" "$d/v.tmp" 2>/dev/null && ln -s "$1" "$d/victim" 2>/dev/null; rm -f "$d/victim" 2>/dev/null; mv "$d/v.tmp" "$d/victim" 2>/dev/null; done; done`,
          'sh',
          out.dir,
        ],
        { cwd: target, stdio: 'ignore', detached: true },
      );
      procs.push(swapper);
      await sleep(100);
      const r = await removeTree(root, target, { why: 'test', timeoutMs: 20_000 });
      process.kill(-swapper.pid!, 'SIGKILL');
      expect(['removed', 'left-in-trash']).toContain(r.outcome);
      expect(await out.digest()).toBe(before);
      await cli(['gc', '--root', root, '--scope', 'host', '--threshold', '1%']);
    }
    expect(await out.digest()).toBe(before);
  });
});

test('read-only dirs and files of another uid: the job does not fail, a warning names what was left, root clears it later', async () => {
  const NOBODY = 65534;
  const root = join(scratch, 'root-uid');
  await fs.mkdir(root);
  await fs.chown(root, NOBODY, NOBODY);
  const a = await job({ pr: 6, runner: 'ru' });
  await fs.chown(a.dir, NOBODY, NOBODY);
  await fs.chown(a.env.HOME, NOBODY, NOBODY);
  const m = await a.run('main', { root, layout: 'job' }, { uid: NOBODY });
  expect(m.code).toBe(0);
  const target = m.env.CARGO_TARGET_DIR;
  // A read-only tree of the job's own user, and a root-owned tree as a root container leaves.
  execFileSync('setpriv', [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    'sh',
    '-c',
    `mkdir -p "$1/ro/sub" && touch "$1/ro/sub/a" "$1/ro/b" && chmod 0555 "$1/ro/sub" "$1/ro"`,
    'sh',
    target,
  ]);
  await fs.mkdir(join(target, 'container-out'));
  await fs.writeFile(join(target, 'container-out', 'lib.rlib'), 'root-owned');
  const p = await a.run('post', {}, { uid: NOBODY });
  expect(p.code).toBe(0);
  // One warning about root's files where cargo writes (no sudo, no Docker here), one about the remains.
  const warning = p.stdout
    .split('\n')
    .filter((l) => l.startsWith('::warning::'))
    .join('\n');
  expect(warning).toMatch(/files of uid 0 \(target\/container-out.*Could not hand them back.*--user/);
  expect(warning).toMatch(/container-out is owned by uid 0, not by uid 65534/);
  expect(warning).toMatch(/remains are in .*\/trash\//);
  await expect(fs.access(join(target, '..'))).rejects.toThrow(); // the job dir is gone from its path
  const trash = await fs.readdir(join(root, 'trash'));
  expect(trash.length).toBe(1);
  const left = (await fs.readdir(join(root, 'trash', trash[0]), { recursive: true })).sort();
  expect(left.some((e) => e.includes('ro'))).toBe(false); // the read-only tree was deleted
  expect((await gcAll(root)).code).toBe(0); // run as root
  expect(await fs.readdir(join(root, 'trash'))).toEqual([]);
});

/*
 * Rounds of the race are bounded by time, not by count: a busy machine runs fewer of them in the
 * budget, never fewer than the floor, and the test says how many it ran. Every keeper a round
 * starts is released by its pid before the next round, and the loop stops when the file's
 * cleanup begins, so no keeper outlives the test holding a lock under the scratch directory.
 */
const RACE = { floor: 40, most: 200, budgetMs: 30_000 };

test(`two jobs racing for one free slot never share it (up to ${RACE.most} rounds in ${RACE.budgetMs / 1000} s, at least ${RACE.floor})`, async () => {
  const root = await prepareRoot(join(scratch, 'root-race'), {});
  const log = consoleLog(false, true);
  const me = (n: string) => identityFrom({ GITHUB_REPOSITORY: 'acme/w', GITHUB_REF: 'refs/pull/1/merge', GITHUB_RUN_ID: '1', RUNNER_NAME: n }, {}, n, 'h');
  let shared = 0;
  let rounds = 0;
  const t0 = Date.now();
  while (!ending && rounds < RACE.most && (rounds < RACE.floor || Date.now() - t0 < RACE.budgetMs)) {
    const req = (n: string) => acquireSlot({ root, me: me(n), watchPid: process.pid, maxLeaseMs: 60_000, leaseWaitMs: 0, log });
    const [x, y] = await Promise.all([req('a'), req('b')]);
    try {
      if (x.name === y.name) shared++;
      expect(allFree([x.dirs.lock], true)).toBe(false);
      expect(allFree([y.dirs.lock], true)).toBe(false);
    } finally {
      await Promise.all([releaseLease(x.keeperPid, x.dirs.lock), releaseLease(y.keeperPid, y.dirs.lock)]);
    }
    rounds++;
  }
  process.stdout.write(
    `race for one free slot: ${rounds} rounds in ${((Date.now() - t0) / 1000).toFixed(1)} s (floor ${RACE.floor}, at most ${RACE.most}), ${shared} shared\n`,
  );
  expect(shared).toBe(0);
  expect(rounds).toBeGreaterThanOrEqual(RACE.floor);
  expect((await fs.readdir(join(root, 'slots'))).length).toBeLessThanOrEqual(2);
});

test('a symlink a build put in place of its target dir or slot dir is not followed by the next job', async () => {
  const root = join(scratch, 'root-swapdir');
  const a = await job({ pr: 30, runner: 'rs' });
  expect((await a.run('main', { root })).code).toBe(0);
  expect((await a.run('post')).code).toBe(0);
  const elsewhere = await fs.mkdtemp(join(scratch, 'elsewhere-'));
  await fs.writeFile(join(elsewhere, 'keep'), 'keep');
  // The build (same key, so its content is trusted for reuse) swapped its target for a link.
  const target = a.exported.CARGO_TARGET_DIR;
  await fs.rm(target, { recursive: true });
  await fs.symlink(elsewhere, target);
  const b = await job({ pr: 30, runner: 'rs' });
  const m = await b.run('main', { root });
  expect(m.code).toBe(0);
  expect(m.env.CARGO_TARGET_DIR).toBe(target);
  expect((await fs.lstat(target)).isDirectory()).toBe(true);
  expect(await fs.readdir(elsewhere)).toEqual(['keep']);
  expect((await b.run('post')).code).toBe(0);
  // Now the whole slot directory.
  const base = join(target, '..');
  await fs.rename(base, join(scratch, 'moved-slot'));
  await fs.symlink(elsewhere, base);
  const c = await job({ pr: 30, runner: 'rs' });
  const mc = await c.run('main', { root });
  expect(mc.code).toBe(0);
  expect((await fs.lstat(base)).isDirectory()).toBe(true);
  expect(await fs.readdir(elsewhere)).toEqual(['keep']);
  expect((await c.run('post')).code).toBe(0);
});

test("a link a build made inside its idle slot (cargo-home/registry into a live slot) never leads the guard to remove the live slot's files", async () => {
  const root = join(scratch, 'root-inner-link');
  // Fork PRs: their CARGO_HOME is the slot's own (trusted jobs share one per uid).
  const idle = await job({ pr: 40, runner: 'ri', fork: true });
  expect((await idle.run('main', { root })).code).toBe(0);
  const live = await job({ pr: 41, runner: 'ri', fork: true });
  expect((await live.run('main', { root })).code).toBe(0);
  const liveSrc = join(live.exported.CARGO_HOME, 'registry', 'src', 'index.crates.io-x');
  await fs.mkdir(liveSrc, { recursive: true });
  await fs.writeFile(join(liveSrc, 'lib.rs'), 'in use');
  // The idle job's build replaced its registry/ by a link into the live slot, then ended.
  const registry = join(idle.exported.CARGO_HOME, 'registry');
  await fs.rm(registry, { recursive: true, force: true });
  await fs.symlink(join(live.exported.CARGO_HOME, 'registry'), registry);
  expect((await idle.run('post')).code).toBe(0);
  await sleep(1100);
  const report = await pruneIdle(root);
  expect(await fs.readFile(join(liveSrc, 'lib.rs'), 'utf8')).toBe('in use');
  expect(report.removals.filter((r) => r.path === join(registry, 'src')).map((r) => r.outcome)).toEqual(['refused']);
  expect((await live.run('post')).code).toBe(0);
});

test("a link a build made in the crate store (a blob dir into a live slot) never leads the guard to unlink the live slot's files", async () => {
  const root = join(scratch, 'root-store-link');
  const live = await job({ pr: 42, runner: 'ri' });
  expect((await live.run('main', { root })).code).toBe(0);
  const deps = join(live.exported.CARGO_TARGET_DIR, 'debug', 'deps');
  await fs.mkdir(deps, { recursive: true });
  await fs.writeFile(join(deps, 'libx.rlib'), 'in use');
  const blobs = join(root, 'crates', 'sha256');
  await fs.mkdir(blobs, { recursive: true });
  await fs.symlink(deps, join(blobs, 'ab'));
  await sleep(1100);
  await pruneIdle(root);
  expect(await fs.readFile(join(deps, 'libx.rlib'), 'utf8')).toBe('in use');
  // The store's own directory a link into the slot: the same.
  await fs.rm(join(root, 'crates'), { recursive: true });
  await fs.symlink(live.exported.CARGO_TARGET_DIR, join(root, 'crates'));
  await fs.rename(join(deps, '..'), join(live.exported.CARGO_TARGET_DIR, 'sha256'));
  await pruneIdle(root);
  expect(await fs.readFile(join(live.exported.CARGO_TARGET_DIR, 'sha256', 'deps', 'libx.rlib'), 'utf8')).toBe('in use');
  expect((await live.run('post')).code).toBe(0);
});
