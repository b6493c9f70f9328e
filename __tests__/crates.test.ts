import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSha256, mayPublish, publishCrates } from '../src/store/crates.js';
import { storePaths } from '../src/model/layout.js';
import { indexEntryMatches, indexPath, parseLock } from '../src/store/lockfile.js';
import { prepareRoot } from '../src/pool/root.js';
import { makeConsumer, makeRegistry, serveRegistry } from '../scripts/lib/registry.mjs';
import { toolchainForAnyUid } from './helpers/anyuid.js';
import { fakeCacheService } from '../scripts/lib/cache-server.js';
import { SimJob, jobPool } from './helpers/runner.js';
import { compiled } from './helpers/workspace.js';
import { removeScratch } from './helpers/scratch.js';

// A real sparse registry on 127.0.0.1 and real cargo builds against it.
let scratch: string;
let regDir: string;
let crates: ReturnType<typeof makeRegistry>;
const { job, cleanup: cleanupJobs } = jobPool();

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-crates-'));
  regDir = join(scratch, 'registry');
  crates = makeRegistry(regDir, { count: 5 });
});
const afterCleanup: string[] = [];
afterAll(async () => {
  await removeScratch(...afterCleanup);
  await cleanupJobs();
  await removeScratch(scratch);
});
/** A consumer workspace with its Cargo.lock, as a repository would have it checked in. */
async function consumer(dir: string, url: string, list: typeof crates): Promise<string> {
  makeConsumer(dir, url, list);
  // Asynchronously: the registry is served from this very process.
  const r = await promisify(execFile)('cargo', ['generate-lockfile'], { cwd: dir, env: { ...process.env, CARGO_HOME: join(scratch, 'lockgen-home') } });
  expect(r.stderr).not.toMatch(/error/);
  return dir;
}
const build = (j: SimJob, ws: string) => j.exec(['cargo', 'build', '--locked'], ws);
const row = (summary: string, what: string) => new RegExp(`<td>${what}</td><td>([^<]*)</td>`).exec(summary)?.[1] ?? '';

describe('Cargo.lock and index cache parsing', () => {
  test('registry packages with checksums, v4 lock', () => {
    const lock = `version = 4\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = [\n "a",\n]\n\n[[package]]\nname = "a"\nversion = "1.2.3"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "${'a'.repeat(64)}"\n\n[[package]]\nname = "g"\nversion = "0.1.0"\nsource = "git+https://example.invalid/g#abc"\n\n[[package]]\nname = "s"\nversion = "2.0.0"\nsource = "sparse+http://127.0.0.1:1/index/"\nchecksum = "${'b'.repeat(64)}"\n`;
    expect(parseLock(lock)).toEqual([
      { name: 'a', version: '1.2.3', source: 'registry+https://github.com/rust-lang/crates.io-index', checksum: 'a'.repeat(64) },
      { name: 's', version: '2.0.0', source: 'sparse+http://127.0.0.1:1/index/', checksum: 'b'.repeat(64) },
    ]);
  });
  test('index paths', () => {
    expect(['a', 'ab', 'abc', 'Serde'].map(indexPath)).toEqual(['1/a', '2/ab', '3/a/abc', 'se/rd/serde']);
  });
  test('an index cache entry matches only the locked version with the locked checksum', () => {
    const entry = (v: string, c: string) => `${v}\0${JSON.stringify({ name: 'x', vers: v, cksum: c })}\0`;
    const buf = Buffer.from(`\x03\x02\0\0\0etag\0${entry('1.0.0', 'aa')}${entry('1.1.0', 'bb')}`, 'latin1');
    expect(indexEntryMatches(buf, '1.1.0', 'bb')).toBe(true);
    expect(indexEntryMatches(buf, '1.1.0', 'aa')).toBe(false);
    expect(indexEntryMatches(buf, '2.0.0', 'bb')).toBe(false);
  });
  test('publish policy', () => {
    expect(mayPublish('trusted', { fork: false })).toBe(true);
    expect(mayPublish('trusted', { fork: true })).toBe(false);
    expect(mayPublish('always', { fork: true })).toBe(true);
    expect(mayPublish('never', { fork: false })).toBe(false);
  });
});

/** Removes the downloaded crates and their sources from the uid's shared CARGO_HOME. */
async function emptyHomeCaches(root: string): Promise<void> {
  const home = join(root, 'homes', `u${process.getuid!()}`);
  for (const d of ['cache', 'src']) await fs.rm(join(home, 'registry', d), { recursive: true, force: true });
}

describe('the store through the action', () => {
  const root = () => join(scratch, 'root');
  let server: Awaited<ReturnType<typeof serveRegistry>>;
  let ws: string;

  beforeAll(async () => {
    server = await serveRegistry(regDir);
    ws = await consumer(join(scratch, 'ws'), server.url, crates);
  });
  afterAll(async () => server.close());

  test('job 1 downloads and publishes; job 2 in another slot builds with the registry stopped', async () => {
    const one = await job({ pr: 1, runner: 'r1' });
    const m1 = await one.run('main', { root: root(), 'working-directory': ws });
    expect(m1.code).toBe(0);
    const b1 = await build(one, ws);
    expect(b1.code).toBe(0);
    expect(server.stats.downloads).toBe(5);
    const p1 = await one.run('post');
    expect(p1.code).toBe(0);
    expect(row(p1.summary, 'Crates published')).toMatch(/^5 new/);
    const blobs = await fs.readdir(storePaths(root()).blobs, { recursive: true });
    expect(blobs.filter((b) => b.endsWith('.crate')).length).toBe(5);

    // Keep job 1's slot leased so that job 2 really gets another slot.
    const holder = await job({ pr: 1, runner: 'r1' });
    expect((await holder.run('main', { root: root(), 'working-directory': ws })).outputs.slot).toBe(m1.outputs.slot);
    await server.close();
    // Job 1's crates are in the CARGO_HOME its uid's trusted jobs share: the store is for what that
    // home does not hold (another uid, a fork's private home, sources the guard pruned, a new
    // machine). Empty it, as a new uid's home would be.
    await emptyHomeCaches(root());
    const two = await job({ pr: 2, runner: 'r2' });
    const m2 = await two.run('main', { root: root(), 'working-directory': ws });
    expect(m2.code).toBe(0);
    expect(m2.outputs.slot).not.toBe(m1.outputs.slot);
    expect(m2.stdout).toMatch(/seeded 5 \([\d.]+ KiB, link\)/);
    const b2 = await build(two, ws);
    expect(b2.stderr).not.toMatch(/Downloaded|Could not connect/);
    expect(b2.code).toBe(0);
    expect(compiled(b2.stderr)).toEqual(expect.arrayContaining(['dep0', 'dep4', 'consumer']));
    const p2 = await two.run('post');
    expect(row(p2.summary, 'Crates seeded')).toMatch(/^5 of 5 locked/);
    await holder.run('post');
    server = await serveRegistry(regDir); // for the next tests (another port: another index dir)
    ws = await consumer(join(scratch, 'ws2'), server.url, crates);
  });

  test('a store file whose content was replaced is not seeded; cargo downloads the real crate; the summary says why', async () => {
    // Publish for this registry URL first (a new port is a new index dir).
    const one = await job({ branch: 'main', runner: 'r1' });
    await one.run('main', { root: root(), 'working-directory': ws });
    expect((await build(one, ws)).code).toBe(0);
    await one.run('post');
    const victim = crates[2];
    const blob = join(storePaths(root()).blobs, victim.cksum.slice(0, 2), `${victim.cksum}.crate`);
    await fs.chmod(blob, 0o644);
    await fs.writeFile(blob, 'not a crate'); // same name, other bytes
    const before = server.stats.downloads;
    await emptyHomeCaches(root()); // so that it must seed
    const two = await job({ pr: 3, runner: 'r3', base: 'develop' }); // not main's: it must seed
    const m = await two.run('main', { root: root(), 'working-directory': ws });
    expect(m.warnings.join('\n')).toMatch(new RegExp(`dep2 1.0.0: store file .*${victim.cksum}.crate has sha256 .* Cargo.lock says`));
    const b = await build(two, ws);
    expect(b.code).toBe(0);
    expect(server.stats.downloads - before).toBe(1);
    const p = await two.run('post');
    expect(row(p.summary, 'Crate not seeded')).toMatch(/dep2 1.0.0: store file/);
    expect(await fileSha256(blob)).toBe(victim.cksum); // publishing repaired the store
  });

  test('a fork PR does not publish under the default policy, and gets copies, not the store inodes', async () => {
    const extra = makeRegistry(join(scratch, 'reg-fork'), { count: 2, prefix: 'forkdep' });
    const fserver = await serveRegistry(join(scratch, 'reg-fork'));
    const fws = await consumer(join(scratch, 'ws-fork'), fserver.url, extra);
    try {
      const fork = await job({ pr: 66, runner: 'r1', fork: true });
      const m = await fork.run('main', { root: root(), 'working-directory': fws });
      expect(m.code).toBe(0);
      expect((await build(fork, fws)).code).toBe(0);
      const p = await fork.run('post');
      expect(row(p.summary, 'Crates published')).toMatch(/none: publish-crates is 'trusted' and this job is not trusted/);
      const stored = (await fs.readdir(storePaths(root()).blobs, { recursive: true })).join(' ');
      for (const c of extra) expect(stored).not.toContain(c.cksum);
      // A fork job seeded from the store gets private copies.
      const seededFork = await job({ pr: 67, runner: 'r4', fork: true });
      const ms = await seededFork.run('main', { root: root(), 'working-directory': ws });
      expect(ms.stdout).toMatch(/seeded 5 \([^)]*, copy[^)]*\)/);
      const dir = (await fs.readdir(join(ms.env.CARGO_HOME, 'registry', 'cache')))[0];
      const seeded = await fs.stat(join(ms.env.CARGO_HOME, 'registry', 'cache', dir, `${crates[0].name}-1.0.0.crate`));
      const blob = await fs.stat(join(storePaths(root()).blobs, crates[0].cksum.slice(0, 2), `${crates[0].cksum}.crate`));
      expect(seeded.ino).not.toBe(blob.ino);
      await seededFork.run('post');
    } finally {
      await fserver.close();
    }
  });

  test('cache: true carries the store to a new ephemeral runner through the cache service', async () => {
    const service = await fakeCacheService();
    const eph = join(scratch, 'ephemeral-root'); // the same path on every new machine
    const cacheEnv = { ACTIONS_CACHE_URL: service.url, ACTIONS_RUNTIME_TOKEN: 'fake-runtime-token' };
    try {
      const first = await job({ branch: 'main', runner: 'eph-1', extraEnv: cacheEnv });
      const m1 = await first.run('main', { root: eph, 'working-directory': ws, cache: 'true' });
      expect(m1.stdout).toMatch(/cache: no saved crate store yet/);
      expect((await build(first, ws)).code).toBe(0);
      const p1 = await first.run('post');
      expect(p1.code).toBe(0);
      expect(p1.stdout).toMatch(/cache: saved the crate store as cargo-isolate-crates-v1-/);
      expect(service.entries()).toHaveLength(1);
      await fs.rm(eph, { recursive: true, force: true }); // the machine is gone
      await server.close();
      const second = await job({ branch: 'main', runner: 'eph-2', extraEnv: cacheEnv });
      const m2 = await second.run('main', { root: eph, 'working-directory': ws, cache: 'true' });
      expect(m2.stdout).toMatch(/cache: restored the crate store from cargo-isolate-crates-v1-/);
      expect(m2.stdout).toMatch(/seeded 5 /);
      const b2 = await build(second, ws);
      expect(b2.code).toBe(0);
      const p2 = await second.run('post');
      expect(p2.stdout).not.toMatch(/cache: saved/); // nothing new arrived: no second upload
      expect(service.entries()).toHaveLength(1);
    } finally {
      await service.close();
      server = await serveRegistry(regDir);
      ws = await consumer(join(scratch, 'ws3'), server.url, crates);
    }
  });

  test('cache: true does nothing, and fails nothing, where the cache service is absent', async () => {
    const j = await job({ branch: 'main', runner: 'r5' });
    const m = await j.run('main', { root: root(), 'working-directory': ws, cache: 'true' });
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/cache: the GitHub cache service is not available/);
    expect((await j.run('post')).code).toBe(0);
  });
});

test('two jobs publishing the same crate at the same moment leave one intact file', async () => {
  const root = await prepareRoot(join(scratch, 'root-race'), {});
  const reg = makeRegistry(join(scratch, 'reg-race'), { count: 3, prefix: 'race' });
  const lock = reg.map((c) => ({ name: c.name, version: c.vers, source: 'registry+https://github.com/rust-lang/crates.io-index', checksum: c.cksum }));
  const homes = await Promise.all(
    ['a', 'b'].map(async (h) => {
      const dir = join(scratch, `home-${h}`, 'registry', 'cache', 'example-0123456789abcdef');
      await fs.mkdir(dir, { recursive: true });
      for (const c of reg) await fs.copyFile(join(scratch, 'reg-race', 'crates', `${c.name}-1.0.0.crate`), join(dir, `${c.name}-1.0.0.crate`));
      return join(scratch, `home-${h}`);
    }),
  );
  for (let round = 0; round < 20; round++) {
    await fs.rm(storePaths(root).blobs, { recursive: true, force: true });
    const [a, b] = await Promise.all(homes.map((h) => publishCrates(root, h, lock, '1.95.0')));
    expect(a.published + b.published).toBeGreaterThanOrEqual(3);
    expect(a.published + a.skipped).toBe(3);
    const files = await fs.readdir(storePaths(root).blobs, { recursive: true });
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const c of reg) {
      const blob = join(storePaths(root).blobs, c.cksum.slice(0, 2), `${c.cksum}.crate`);
      expect(await fileSha256(blob)).toBe(c.cksum);
      expect((await fs.stat(blob)).mode & 0o777).toBe(0o444);
    }
  }
});

test("across uids: a root job hands its published crates back; where it could not, the runner user's job copies them and builds offline", async () => {
  const RUNNER = 65534;
  const rust = toolchainForAnyUid();
  const srv = await serveRegistry(regDir);
  const base = await fs.mkdtemp('/var/tmp/ci-crates-uids-'); // scratch is 0700: closed to the runner user
  await fs.chmod(base, 0o755);
  afterCleanup.push(base);
  const r = join(base, 'root');
  await fs.mkdir(r);
  await fs.chown(r, RUNNER, RUNNER);
  const w = await consumer(join(base, 'ws'), srv.url, crates);
  execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, w]);
  const notRunners = () => execFileSync('find', [r, '!', '-uid', String(RUNNER)], { encoding: 'utf8' }).trim();

  const a = await job({ pr: 1, runner: 'r1' }); // a container job, as root
  expect((await a.run('main', { root: r, 'working-directory': w })).code).toBe(0);
  expect((await build(a, w)).code).toBe(0);
  const pa = await a.run('post');
  // The archive of the dependencies it compiled goes back too: the runner user's jobs and guard read and remove it.
  expect(row(pa.summary, 'Handed back')).toMatch(/to uid 65534: locks, crates, archives, slots\/s000/);
  expect(notRunners()).toBe('');

  // As if that job's container had been removed before its post step: the store files are root's.
  execFileSync('chown', ['-R', '0:0', storePaths(r).blobs]);
  await srv.close();
  const b = await job({ pr: 2, runner: 'r2', extraEnv: { PATH: `${rust}/bin:/usr/bin:/bin` } });
  await fs.chown(b.env.HOME, RUNNER, RUNNER);
  const m = await b.run('main', { root: r, 'working-directory': w }, { uid: RUNNER });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  expect(m.stdout).toMatch(/seeded 5 \(.*, link, 5 copied because the kernel refused hardlinks to store files of uid 0 \(fs.protected_hardlinks\)\)/);
  const bb = await b.exec([`${rust}/bin/cargo`, 'build', '--locked'], w, {
    uid: RUNNER,
    env: { PATH: `${rust}/bin:/usr/bin:/bin`, RUSTC: `${rust}/bin/rustc` },
  });
  expect(bb.stderr).not.toMatch(/Downloaded|Could not connect/);
  expect(bb.code).toBe(0);
  const pb = await b.run('post', {}, { uid: RUNNER });
  expect(row(pb.summary, 'Crates copied')).toMatch(/^5 copied instead of linked/);
});
