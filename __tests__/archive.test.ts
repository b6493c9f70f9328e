import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectLayout } from './helpers/cargo-layout.js';
import { removeScratch } from './helpers/scratch.js';
import { DEPENDENCY_CRATES as DEPS, compiled, dependencyMain as MAIN } from './helpers/workspace.js';
import { serveRegistry } from '../scripts/lib/registry.mjs';
import { ensurePackages, makeRealWorkspace, packRegistry } from '../scripts/lib/real-crates.mjs';
import { type ArchiveKeyInput, archiveKey } from '../src/model/archive-key.js';
import { archiveDir, slotDirs } from '../src/model/layout.js';
import { DATA, META, buildDirOf, findArchive, hostFacts, listArchives, restoreArchive, saveArchive } from '../src/store/archive.js';
import { lockDependencies } from '../src/store/lockfile.js';
import { unitsSince } from '../src/pool/warmth.js';

/*
 * The dependency archive engine on real cargo and real crates (Debian's, served on 127.0.0.1):
 * a workspace whose dependencies have build scripts (typenum's writes Rust into OUT_DIR that its
 * lib includes; serde's and anyhow's probe rustc) and a proc macro (serde_derive). A build in one
 * slot is saved, restored into an empty target dir of another slot (another path), and built
 * again after a one-line change: cargo's own fingerprints, counted as the post step counts them
 * (pool/warmth.ts), must find every dependency unit fresh. On build-dir layout v1 (cargo 1.95)
 * and v2 (cargo 1.100's, built by this cargo with RUSTC_BOOTSTRAP=1 and the unstable layout
 * flag: the nightly toolchain's rustc is too new for these crates' nightly probes).
 */
const run = promisify(execFile);
const LAYOUT_ENV = { v1: {}, v2: { RUSTC_BOOTSTRAP: '1', CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT: 'true' } };
type Layout = keyof typeof LAYOUT_ENV;
const MIN = 60_000;

let scratch: string;
let server: Awaited<ReturnType<typeof serveRegistry>>;
let ws: string;
let home: string;
let lock: string;

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-archive-'));
  ensurePackages();
  await packRegistry(join(scratch, 'registry'));
  server = await serveRegistry(join(scratch, 'registry'));
  ws = makeRealWorkspace(join(scratch, 'ws'), server.url, { deps: DEPS, main: MAIN(0) });
  home = join(scratch, 'home');
  await run('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: home } });
  lock = await fs.readFile(join(ws, 'Cargo.lock'), 'utf8');
}, 10 * MIN);
afterAll(async () => {
  await server?.close();
  await removeScratch(scratch);
});

let edits = 0;
/** `cargo build` in the workspace; returns the crates cargo compiled and when it started. */
async function build(env: Record<string, string>, edit = false): Promise<{ compiled: string[]; startedAt: string }> {
  if (edit) await fs.writeFile(join(ws, 'src', 'main.rs'), MAIN(++edits)); // a one-line change
  const startedAt = new Date().toISOString();
  const r = await run('cargo', ['build', '--locked'], { cwd: ws, env: { ...process.env, CARGO_HOME: home, ...env }, maxBuffer: 16 << 20 });
  return { compiled: compiled(r.stderr), startedAt };
}

const keyInput = (env: Record<string, string>): ArchiveKeyInput => ({
  repository: 'acme/w',
  workflow: 'ci',
  job: 'test',
  jobKey: '',
  rustc: 'rustc 1.95.0 (test)',
  lockedDependencies: lockDependencies(lock).external,
  env,
  host: hostFacts(),
  cargoHome: home,
  view: 'host',
});
const keyOf = (env: Record<string, string>) => archiveKey(keyInput(env));

/** The paths a saved archive holds (tar's listing through zstd). */
async function listing(dir: string): Promise<string[]> {
  const r = await run('tar', ['--zstd', '-tf', join(dir, DATA)], { maxBuffer: 64 << 20 });
  return r.stdout.split('\n').filter(Boolean);
}

const entries = (d: string) => fs.readdir(d).catch(() => [] as string[]);

describe.each(['v1', 'v2'] as Layout[])('build-dir layout %s', (layout) => {
  const env = LAYOUT_ENV[layout];

  test('saved from one slot, restored into an empty target of another slot: no dependency unit rebuilt after a one-line change', async () => {
    const root = join(scratch, `root-${layout}`);
    const [a, b] = [slotDirs(root, 's000').target, slotDirs(root, 's001').target];
    const cold = await build({ ...env, CARGO_TARGET_DIR: a });
    expect(cold.compiled).toEqual(expect.arrayContaining(['serde', 'serde_derive', 'typenum', 'anyhow', 'app']));
    expectLayout(join(a, 'debug'), layout);
    const key = keyOf(env);
    const dir = archiveDir(root, 'acme/w', 'ref-main', key.fallback, key.exact);
    const saved = await saveArchive({ buildDir: a, dir, key, local: lockDependencies(lock).local, timeoutMs: 5 * MIN });
    if (!saved.saved) throw new Error(`not saved: ${saved.detail}`);
    expect(saved.meta.packages).toBeGreaterThanOrEqual(8);

    // What it holds: dependency units, with their build scripts' runs; not the workspace's own
    // units, not incremental/, not the uplifted binary, not cargo's locks.
    const paths = await listing(dir);
    expect(paths.some((p) => /typenum/.test(p) && /(^|\/)out\//.test(p))).toBe(true);
    expect(paths.filter((p) => /incremental|(^|\/)app(-[0-9a-f]{16})?(\/|$)|\.cargo-lock|\/app$|\/app\.d$/.test(p))).toEqual([]);
    expect(saved.meta.bytes).toBeLessThan(saved.meta.sourceBytes);

    const restored = await restoreArchive({ dir, buildDir: b, timeoutMs: 5 * MIN });
    if (!restored.restored) throw new Error(`not restored: ${restored.detail}`);
    expect(restored.entries).toEqual(['debug']);
    expect((await entries(b)).filter((e) => e.startsWith('.'))).toEqual([]); // no temp dir left

    const next = await build({ ...env, CARGO_TARGET_DIR: b }, true);
    expect(next.compiled).toEqual(['app']);
    expect(unitsSince(b, next.startedAt).builtCrates).toEqual(['app']);
    expectLayout(join(b, 'debug'), layout);
  });
});

describe('what a restore refuses, on the v1 archive', () => {
  let good: string;
  let key: ReturnType<typeof keyOf>;
  beforeAll(async () => {
    const root = join(scratch, 'root-refused');
    const a = slotDirs(root, 's000').target;
    await build({ CARGO_TARGET_DIR: a });
    key = keyOf({});
    good = archiveDir(root, 'acme/w', 'ref-main', key.fallback, key.exact);
    const saved = await saveArchive({ buildDir: a, dir: good, key, local: ['app'], timeoutMs: 5 * MIN });
    if (!saved.saved) throw new Error(`not saved: ${saved.detail}`);
  }, 10 * MIN);

  /** A copy of the good archive, spoiled by `spoil`, restored into a new empty target. */
  async function refused(name: string, spoil: (dir: string) => Promise<void>) {
    const dir = join(scratch, 'spoiled', name);
    await fs.mkdir(join(dir, '..'), { recursive: true });
    await run('cp', ['-a', good, dir]);
    await spoil(dir);
    const target = join(scratch, 'spoiled', `${name}-target`);
    const r = await restoreArchive({ dir, buildDir: target, timeoutMs: 5 * MIN });
    return { r, left: await entries(target) };
  }

  test.each([
    ['truncated', 'truncated', (d: string) => fs.truncate(join(d, DATA), 4096)],
    [
      'a byte altered in the middle',
      'altered',
      async (d: string) => {
        const f = await fs.open(join(d, DATA), 'r+');
        const { size } = await f.stat();
        const b = Buffer.alloc(1);
        await f.read(b, 0, 1, Math.floor(size / 2));
        b[0] ^= 0xff;
        await f.write(b, 0, 1, Math.floor(size / 2));
        await f.close();
      },
    ],
    [
      'its checksum changed beside it (extracted into the temp dir, then refused)',
      'altered',
      async (d: string) => {
        const m = JSON.parse(await fs.readFile(join(d, META), 'utf8'));
        m.sha256 = m.sha256.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
        await fs.writeFile(join(d, META), JSON.stringify(m));
      },
    ],
    ['without its checksum', 'unreadable', (d: string) => fs.rm(join(d, META))],
    ['without its data', 'missing', (d: string) => fs.rm(join(d, DATA))],
  ])('%s: refused, the target dir left empty', async (name, reason, spoil) => {
    const { r, left } = await refused(name.replace(/\W+/g, '-'), spoil);
    expect(r.restored ? 'restored' : r.reason).toBe(reason);
    if (!r.restored) expect(r.detail).toMatch(/archive|refused|bytes|sha256/);
    expect(left).toEqual([]);
  });

  test('a target dir that already holds a profile: refused, what it holds untouched', async () => {
    const target = join(scratch, 'spoiled', 'busy-target');
    await fs.mkdir(join(target, 'debug'), { recursive: true });
    await fs.writeFile(join(target, 'debug', 'mine'), 'x');
    const r = await restoreArchive({ dir: good, buildDir: target, timeoutMs: 5 * MIN });
    expect(r.restored ? 'restored' : r.reason).toBe('not-empty');
    expect(await entries(target)).toEqual(['debug']);
    expect(await entries(join(target, 'debug'))).toEqual(['mine']);
  });

  test('which archive a start finds: its exact key, a near one under its fallback, or why none', async () => {
    const root = join(scratch, 'root-refused');
    const found = findArchive(root, 'acme/w', ['pr-7', 'ref-main'], key);
    expect(found.found && [found.how, found.domain, found.dir]).toEqual(['exact', 'ref-main', good]);
    const nearLock = archiveKey({ ...keyInput({}), lockedDependencies: ['serde 1.0.999 registry+x y'] });
    const near = findArchive(root, 'acme/w', ['pr-7', 'ref-main'], nearLock);
    expect(near.found && near.how).toBe('fallback');
    const otherToolchain = findArchive(root, 'acme/w', ['ref-main'], archiveKey({ ...keyInput({}), rustc: 'rustc 1.96.0 (test)' }));
    expect(otherToolchain.found ? '' : otherToolchain.why).toMatch(/built with another rustc$/);
    const otherDomain = findArchive(root, 'acme/w', ['pr-8'], key);
    expect(otherDomain.found ? '' : otherDomain.why).toMatch(/no dependency archive of acme\/w for pr-8/);
  });

  test('three jobs saving one key at once leave one whole archive, and no temp dir', async () => {
    const root = join(scratch, 'root-race');
    const src = join(scratch, 'root-refused', 'slots', 's000', 'target');
    const dir = archiveDir(root, 'acme/w', 'ref-main', key.fallback, key.exact);
    const all = await Promise.all([0, 1, 2].map(() => saveArchive({ buildDir: src, dir, key, local: ['app'], timeoutMs: 5 * MIN })));
    expect(all.filter((s) => s.saved)).toHaveLength(1);
    expect(
      all
        .filter((s) => !s.saved)
        .map((s) => (s.saved ? '' : s.reason))
        .every((r) => r === 'raced' || r === 'exists'),
    ).toBe(true);
    const parent = join(dir, '..');
    expect(await entries(parent)).toEqual([join(dir).split('/').pop()]);
    expect(listArchives(parent).map((c) => c.exact)).toEqual([key.exact]);
    const r = await restoreArchive({ dir, buildDir: join(scratch, 'race-target'), timeoutMs: 5 * MIN });
    expect(r.restored).toBe(true);
  });
});

test('CARGO_BUILD_BUILD_DIR outside the target dir: the archive is of the build dir, and a restore there keeps every dependency fresh', async () => {
  const t = (n: number) => ({ CARGO_TARGET_DIR: join(scratch, `bd-target-${n}`), CARGO_BUILD_BUILD_DIR: join(scratch, `bd-build-${n}`) });
  await build(t(1));
  const buildDir = buildDirOf(t(1), t(1).CARGO_TARGET_DIR, ws)!;
  expect(buildDir).toBe(t(1).CARGO_BUILD_BUILD_DIR);
  expect(await entries(join(t(1).CARGO_TARGET_DIR, 'debug'))).not.toContain('deps'); // intermediate artifacts are elsewhere
  const key = keyOf({});
  const dir = archiveDir(join(scratch, 'root-bd'), 'acme/w', 'ref-main', key.fallback, key.exact);
  const saved = await saveArchive({ buildDir, dir, key, local: ['app'], timeoutMs: 5 * MIN });
  expect(saved.saved).toBe(true);
  const r = await restoreArchive({ dir, buildDir: buildDirOf(t(2), t(2).CARGO_TARGET_DIR, ws)!, timeoutMs: 5 * MIN });
  expect(r.restored).toBe(true);
  const next = await build(t(2), true);
  expect(next.compiled).toEqual(['app']);
  expect(buildDirOf({ CARGO_BUILD_BUILD_DIR: '{workspace-root}/b' }, 'target', ws)).toBeUndefined();
});
