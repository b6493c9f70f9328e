// The pure decisions of dependency archives, table-tested: the key (what makes another job's
// artifacts fresh, and its fallback without the lock), which archive a start restores (by key, or
// by the job's identity for the runner's hook), what an archive holds of a build dir in layouts v1
// and v2, which zstd engine, which build dir, the Cargo.lock split into the workspace's own
// packages and the locked dependencies; and the tiers around them (job/tiers.ts): whether a job's
// end saves, which tier a start came from and why each missed, what is dead in the host tier, what
// the cap removes, and the cap itself.
import { basename, dirname } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { type ArchiveKeyInput, artifactEnv, archiveKey, chooseArchive, chooseByIdentity, keyDifferences } from '../src/model/archive-key.js';
import { type StartFacts, archivesOverCap, readableDomains, startTier, tierMisses } from '../src/job/tiers.js';
import { isDeadArchive, isSaveTemp } from '../src/store/archive-host.js';
import { archiveCap, archiveCapBytes } from '../src/model/settings.js';
import { type ProfileListing, planArchive } from '../src/model/archive-content.js';
import { archiveDir, archiveDomain } from '../src/model/layout.js';
import { contentKey } from '../src/model/key.js';
import { chooseCompressor } from '../src/store/archive-stream.js';
import { buildDirOf, isRestoreLeftover } from '../src/store/archive.js';
import { lockDependencies } from '../src/store/lockfile.js';

const BASE: ArchiveKeyInput = {
  repository: 'acme/w',
  workflow: 'ci',
  job: 'test',
  jobKey: '',
  rustc: 'rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nLLVM version: 20.1.8\n',
  lockedDependencies: [
    'serde 1.0.152 registry+https://github.com/rust-lang/crates.io-index aa',
    'anyhow 1.0.69 registry+https://github.com/rust-lang/crates.io-index bb',
  ],
  env: { PATH: '/usr/bin', HOME: '/home/runner', CARGO_INCREMENTAL: '0' },
  host: { arch: 'x64', os: 'debian 12', libc: 'glibc 2.36' },
  cargoHome: '/r/homes/u1001',
  view: 'host',
};

describe('the archive key', () => {
  // What changes: [case, change, exact key changes, fallback key changes]
  const cases: [string, Partial<ArchiveKeyInput>, boolean, boolean][] = [
    ['nothing', {}, false, false],
    ['another repository', { repository: 'acme/x' }, true, true],
    ['another workflow', { workflow: 'release' }, true, true],
    ['another job (clippy builds other units)', { job: 'clippy' }, true, true],
    ['another matrix leg (`key` input)', { jobKey: 'arm' }, true, true],
    ['another toolchain', { rustc: BASE.rustc.replace('1.95.0', '1.96.0') }, true, true],
    ['another cargo (another build-dir layout)', { cargo: 'cargo 1.100.0' }, true, true],
    ['another Cargo.lock', { lockedDependencies: ['serde 1.0.153 registry+x cc'] }, true, false],
    ['the same lock in another order', { lockedDependencies: [...BASE.lockedDependencies!].reverse() }, false, false],
    ['another architecture', { host: { ...BASE.host, arch: 'arm64' } }, true, true],
    ['another OS release', { host: { ...BASE.host, os: 'ubuntu 24.04' } }, true, true],
    ['another libc', { host: { ...BASE.host, libc: 'musl or other' } }, true, true],
    ['another CARGO_HOME string', { cargoHome: '/r/homes/u0' }, true, true],
    ["a container's path view", { view: '/__t' }, true, true],
    ['RUSTFLAGS', { env: { ...BASE.env, RUSTFLAGS: '-C target-cpu=native' } }, true, true],
    ['RUSTFLAGS set empty (cargo reads it as unset)', { env: { ...BASE.env, RUSTFLAGS: '' } }, false, false],
    ['CARGO_ENCODED_RUSTFLAGS', { env: { ...BASE.env, CARGO_ENCODED_RUSTFLAGS: '-Dwarnings' } }, true, true],
    ['a target', { env: { ...BASE.env, CARGO_BUILD_TARGET: 'x86_64-unknown-linux-musl' } }, true, true],
    ['a profile setting', { env: { ...BASE.env, CARGO_PROFILE_DEV_DEBUG: '0' } }, true, true],
    ['incremental on', { env: { ...BASE.env, CARGO_INCREMENTAL: '1' } }, true, true],
    ['an unstable cargo flag (the v2 layout)', { env: { ...BASE.env, CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT: 'true' } }, true, true],
    ['a per-target linker', { env: { ...BASE.env, CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER: 'clang' } }, true, true],
    ['CC', { env: { ...BASE.env, CC: 'clang' } }, true, true],
    ['CFLAGS', { env: { ...BASE.env, CFLAGS: '-O2' } }, true, true],
    ['CFLAGS for one target', { env: { ...BASE.env, CFLAGS_x86_64_unknown_linux_gnu: '-O2' } }, true, true],
    ['AR', { env: { ...BASE.env, AR: 'llvm-ar' } }, true, true],
    ['PKG_CONFIG_PATH', { env: { ...BASE.env, PKG_CONFIG_PATH: '/opt/lib/pkgconfig' } }, true, true],
    ['another PATH or HOME (no artifact reads them)', { env: { ...BASE.env, PATH: '/bin', HOME: '/root' } }, false, false],
    ['another target dir (restores keep units fresh at any path)', { env: { ...BASE.env, CARGO_TARGET_DIR: '/r/slots/s001/target' } }, false, false],
    ['a compile cache (sccache returns what rustc would write)', { env: { ...BASE.env, RUSTC_WRAPPER: 'sccache' } }, false, false],
  ];
  const base = archiveKey(BASE);
  test.each(cases)('%s', (_, change, exact, fallback) => {
    const k = archiveKey({ ...BASE, ...change });
    expect(k.exact !== base.exact).toBe(exact);
    expect(k.fallback !== base.fallback).toBe(fallback);
  });

  test('keys are path components, and the exact key differs from the fallback', () => {
    expect(base.exact).toMatch(/^[0-9a-f]{32}$/);
    expect(base.fallback).toMatch(/^[0-9a-f]{32}$/);
    expect(base.exact).not.toBe(base.fallback);
  });

  test('without a Cargo.lock only the fallback key is known', () => {
    const k = archiveKey({ ...BASE, lockedDependencies: undefined });
    expect(k.exact).toBeUndefined();
    expect(k.fallback).toBe(base.fallback);
  });

  test('why a start missed: the parts that differ, by name', () => {
    const other = archiveKey({ ...BASE, rustc: 'rustc 1.96.0', env: { ...BASE.env, RUSTFLAGS: '-g' }, lockedDependencies: [] });
    expect(keyDifferences(base.parts, other.parts)).toEqual(['env.RUSTFLAGS', 'lock', 'rustc']);
    expect(keyDifferences(base.parts, base.parts)).toEqual([]);
  });

  test('the variables read, sorted, empty ones left out', () => {
    expect(
      artifactEnv({
        RUSTFLAGS: '-g',
        CC: 'gcc',
        CARGO_TARGET_DIR: '/t',
        TARGET_CC: 'x',
        HOST_CFLAGS: '-O',
        CMAKE_GENERATOR: 'Ninja',
        CARGO_HOME: '/h',
        CFLAGS: '',
      }),
    ).toEqual([
      ['CC', 'gcc'],
      ['CMAKE_GENERATOR', 'Ninja'],
      ['HOST_CFLAGS', '-O'],
      ['RUSTFLAGS', '-g'],
      ['TARGET_CC', 'x'],
    ]);
  });
});

describe('which archive a start restores', () => {
  const k = archiveKey(BASE);
  const c = (exact: string, savedAt: string) => ({ exact, savedAt });
  const cases: [string, ReturnType<typeof c>[], string | undefined, 'exact' | 'fallback' | undefined][] = [
    ['none saved', [], undefined, undefined],
    ['its exact key, though older', [c('new', '2026-02-02T00:00:00Z'), c(k.exact!, '2026-01-01T00:00:00Z')], k.exact, 'exact'],
    ['no exact: the newest of its fallback', [c('a', '2026-01-01T00:00:00Z'), c('b', '2026-03-01T00:00:00Z'), c('c', '2026-02-01T00:00:00Z')], 'b', 'fallback'],
  ];
  test.each(cases)('%s', (_, candidates, pick, how) => {
    const r = chooseArchive(candidates, k);
    expect(r?.pick.exact).toBe(pick);
    expect(r?.how).toBe(how);
  });
  test('a start without a lock takes the newest of its fallback', () => {
    expect(chooseArchive([c('a', '2026-01-01T00:00:00Z'), c('b', '2026-03-01T00:00:00Z')], { fallback: k.fallback, parts: {} })?.pick.exact).toBe('b');
  });
});

describe('what an archive holds of a build dir', () => {
  const H = (n: number) => String(n).repeat(16);
  const [serde, serdeRun, app, appScript] = [H(1), H(2), H(3), H(4)];
  const v1: ProfileListing = {
    path: 'debug',
    fingerprints: [`serde-${serde}`, `serde-${serdeRun}`, `app-${app}`, `app-${appScript}`],
    build: [`serde-${serdeRun}`, `app-${appScript}`],
    deps: [`libserde-${serde}.rlib`, `libserde-${serde}.rmeta`, `serde-${serde}.d`, `app-${app}`, `app-${app}.d`, `libapp-${app}.rlib`, 'stray.txt'],
  };
  test("layout v1: the dependencies' fingerprints, build-script dirs and deps files; not the workspace's, not a stray file", () => {
    const p = planArchive([v1], new Set(['app']));
    expect(p.include).toEqual([
      `debug/.fingerprint/serde-${serde}`,
      `debug/.fingerprint/serde-${serdeRun}`,
      `debug/build/serde-${serdeRun}`,
      `debug/deps/libserde-${serde}.rlib`,
      `debug/deps/libserde-${serde}.rmeta`,
      `debug/deps/serde-${serde}.d`,
    ]);
    expect(p.packages).toBe(1);
    expect(p.workspaceEntries).toBe(2 + 1 + 3);
  });
  test("layout v2: each dependency package's whole unit dir; the workspace package left out", () => {
    const p = planArchive([{ path: 'debug', fingerprints: [], build: ['serde', 'app', 'proc-macro2'], deps: [] }], new Set(['app']));
    expect(p.include).toEqual(['debug/build/proc-macro2', 'debug/build/serde']);
    expect(p.packages).toBe(2);
  });
  test("a profile holding both layouts (a toolchain upgrade), and a target triple's profile", () => {
    const both: ProfileListing = {
      path: 'x86_64-unknown-linux-musl/release',
      fingerprints: [`serde-${serde}`],
      build: ['serde', `serde-${serdeRun}`],
      deps: [],
    };
    expect(planArchive([both], new Set()).include).toEqual([
      `x86_64-unknown-linux-musl/release/.fingerprint/serde-${serde}`,
      'x86_64-unknown-linux-musl/release/build/serde',
      `x86_64-unknown-linux-musl/release/build/serde-${serdeRun}`,
    ]);
  });
  test("a workspace package with a dependency's name leaves the dependency out: it rebuilds, nothing worse", () => {
    expect(planArchive([v1], new Set(['serde', 'app'])).include).toEqual([]);
  });
  test('an empty build dir: nothing', () => {
    expect(planArchive([], new Set(['app']))).toEqual({ include: [], packages: 0, workspaceEntries: 0 });
  });
});

describe('the rest', () => {
  test.each([
    [{ zstdOnPath: true, nodeZstd: true }, undefined, 'zstd'],
    [{ zstdOnPath: false, nodeZstd: true }, undefined, 'node'],
    [{ zstdOnPath: true, nodeZstd: true }, 'node', 'node'],
    [{ zstdOnPath: true, nodeZstd: false }, 'node', 'zstd'],
    [{ zstdOnPath: false, nodeZstd: false }, undefined, undefined],
  ] as [{ zstdOnPath: boolean; nodeZstd: boolean }, 'node' | undefined, string | undefined][])(
    'compressor, host has %j, archive made with %s: %s',
    (has, wanted, out) => {
      expect(chooseCompressor(has, wanted)).toBe(out);
    },
  );

  test.each([
    [{}, 'target', '/ws/target'],
    [{ CARGO_BUILD_BUILD_DIR: '' }, '/t', '/t'],
    [{ CARGO_BUILD_BUILD_DIR: '/b' }, '/t', '/b'],
    [{ CARGO_BUILD_BUILD_DIR: 'b' }, '/t', '/ws/b'],
    [{ CARGO_BUILD_BUILD_DIR: '{workspace-root}/b' }, '/t', undefined],
  ])('build dir of %j with target %s: %s', (env, target, out) => {
    expect(buildDirOf(env, target, '/ws')).toBe(out);
  });

  test("Cargo.lock: the workspace's own packages (no source) and the locked dependencies", () => {
    const lock = `version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "serde",
]

[[package]]
name = "util"
version = "0.2.0"

[[package]]
name = "serde"
version = "1.0.152"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb"

[[package]]
name = "gitdep"
version = "0.1.0"
source = "git+https://example.invalid/g.git#0123456789abcdef0123456789abcdef01234567"
`;
    expect(lockDependencies(lock)).toEqual({
      local: ['app', 'util'],
      external: [
        'serde 1.0.152 registry+https://github.com/rust-lang/crates.io-index bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb',
        'gitdep 0.1.0 git+https://example.invalid/g.git#0123456789abcdef0123456789abcdef01234567 ',
      ],
    });
  });

  test('where an archive lives: repository, trust domain, fallback, exact; odd names made safe', () => {
    expect(archiveDir('/r', 'acme/w', 'pr-7', 'f'.repeat(32), 'e'.repeat(32))).toBe(`/r/archives/acme__w/pr-7/${'f'.repeat(32)}/${'e'.repeat(32)}`);
    expect(archiveDir('/r', 'acme/w', 'ref-main', 'f'.repeat(32))).toBe(`/r/archives/acme__w/ref-main/${'f'.repeat(32)}`);
    expect(archiveDir('/r', 'acme/w', 'ref-../../x', 'f')).not.toContain('..');
    expect(isRestoreLeftover('.cargo-isolate-restore-0a1b2c3d')).toBe(true);
    expect(isRestoreLeftover('debug')).toBe(false);
  });
});

describe('which archive a start restores by its identity (the runner hook)', () => {
  const parts = (o: Record<string, string> = {}) => ({
    format: '1',
    repository: 'acme/w',
    workflow: 'ci',
    job: 'test',
    key: '',
    arch: 'x64',
    cargoHome: '/r/homes/u0',
    rustc: 'rustc 1.95.0',
    lock: 'l1',
    ...o,
  });
  const want = { format: '1', repository: 'acme/w', workflow: 'ci', job: 'test', key: '', arch: 'x64', cargoHome: '/r/homes/u0' };
  const c = (exact: string, savedAt: string, domain: string, o: Record<string, string> = {}) => ({ exact, savedAt, domain, parts: parts(o) });
  test.each([
    [
      'the newest of its own domain, whatever its lock and toolchain',
      [c('a', '2026-01-01', 'pr-5'), c('b', '2026-01-02', 'pr-5', { rustc: 'rustc 1.96.0', lock: 'l2' })],
      'b',
    ],
    ['its own domain before its base, however new the base', [c('a', '2026-01-01', 'pr-5'), c('b', '2026-03-01', 'ref-main')], 'a'],
    ["its base's when it has none", [c('b', '2026-03-01', 'ref-main'), c('x', '2026-04-01', 'pr-6')], 'b'],
    ['never another CARGO_HOME string', [c('a', '2026-01-01', 'pr-5', { cargoHome: '/__t/r/homes/u0' })], undefined],
    [
      'never another job, workflow, key or architecture',
      [
        c('a', '1', 'pr-5', { job: 'lint' }),
        c('b', '1', 'pr-5', { workflow: 'w2' }),
        c('d', '1', 'pr-5', { key: 'arm' }),
        c('e', '1', 'pr-5', { arch: 'arm64' }),
      ],
      undefined,
    ],
    ['never another PR', [c('a', '2026-01-01', 'pr-6')], undefined],
  ])('%s', (_, cands, pick) => expect(chooseByIdentity(cands, want, ['pr-5', 'ref-main'])?.exact).toBe(pick));
  test('a job reads its own trust domain, then its base, and no other', () => {
    expect(readableDomains({ key: 'pr-5', baseKey: 'ref-main' })).toEqual(['pr-5', 'ref-main']);
    expect(readableDomains({ key: 'ref-main', baseKey: undefined })).toEqual(['ref-main']);
    expect(readableDomains({ key: 'ref-main', baseKey: 'ref-main' })).toEqual(['ref-main']);
  });
});

describe('which tier a start came from, and why each missed', () => {
  const cold: StartFacts = { layout: 'slot', kept: false, keptWhy: 'a new slot', compileCache: false };
  const restore = (outcome: 'restored' | 'missed') => ({
    tier: 'host' as const,
    by: 'key' as const,
    outcome,
    why: 'no dependency archive of acme/w for pr-5',
    ms: 1,
  });
  test.each([
    ['its slot kept', { kept: true }, 'slot', []],
    ['a copy', { copy: { outcome: 'copied', text: 'Started from a copy' } }, 'copy', []],
    ['a host archive', { restore: restore('restored') }, 'host-archive', []],
    ['a fleet archive', { restore: { ...restore('restored'), tier: 'fleet' } }, 'fleet-archive', []],
    ['sccache alone', { compileCache: true, restore: restore('missed') }, 'compile-cache', ['slot', 'copy', 'host-archive']],
    ['nothing', { restore: restore('missed') }, 'cold', ['slot', 'copy', 'host-archive', 'compile-cache']],
    ['layout: job', { layout: 'job' }, 'cold', ['slot', 'copy']],
  ])('%s', (_, change, tier, missed) => {
    const f = { ...cold, ...(change as Partial<StartFacts>) };
    expect(startTier(f)).toBe(tier);
    expect(tierMisses(f).map((m) => m.tier)).toEqual(missed);
  });
  test('a miss says why', () => {
    expect(tierMisses({ ...cold, restore: restore('missed') })).toEqual([
      { tier: 'slot', why: 'a new slot' },
      { tier: 'copy', why: 'no idle slot holds a compatible warm build of this job' },
      { tier: 'host-archive', why: 'no dependency archive of acme/w for pr-5' },
      { tier: 'compile-cache', why: 'no RUSTC_WRAPPER: the job compiles through no compile cache' },
    ]);
  });
});

describe('the host tier: what is dead, what the cap removes, the cap', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  test.each([
    ["a save's temp directory, its lock free, an hour old", { temp: true, lastUsedMs: now - 3_600_000 }, false, true],
    ["a save's temp directory whose save still writes it", { temp: true, lastUsedMs: now - 3_600_000 }, true, false],
    ['a temp directory just made, its lock not yet taken', { temp: true, lastUsedMs: now - 1000 }, false, false],
    ['an archive whose archive.json does not read', { meta: undefined }, false, true],
    ['an archive', { meta: {} }, false, false],
  ])('%s', (_, a, locked, dead) => expect(isDeadArchive({ lastUsedMs: now, ...a } as Parameters<typeof isDeadArchive>[0], locked, now)).toBe(dead));
  test('temp directory names', () => {
    expect(isSaveTemp('.0123abcd.deadbeef.tmp')).toBe(true);
    expect(isSaveTemp('0123abcd')).toBe(false);
  });
  const a = (dir: string, bytes: number, lastUsedMs: number, o: object = {}) => ({ dir, bytes, lastUsedMs, domain: 'main', meta: {} as never, ...o });
  test.each([
    ['under the cap: nothing', [a('x', 10, 1), a('y', 10, 2)], 30, 'y', []],
    ['over it: the least recently used first, until under', [a('x', 10, 3), a('y', 10, 1), a('z', 10, 2), a('new', 10, 9)], 25, 'new', ['y', 'z']],
    ['dead ones before any other', [a('x', 10, 1), a('dead', 10, 8, { meta: undefined })], 15, 'x', ['dead']],
    ['the new one last, only when it alone is over the cap', [a('x', 10, 1), a('new', 50, 9)], 20, 'new', ['x', 'new']],
    ['a save in progress is never counted for removal', [a('t', 10, now - 1000, { meta: undefined, temp: true }), a('x', 10, 1)], 5, 'none', ['x']],
  ])('%s', (_, archives, cap, keep, removed) => expect(archivesOverCap(archives, new Map(), cap, keep, now)).toEqual(removed));
  test('over the cap, the least worth goes first whatever its age', () => {
    const worth = new Map([
      ['old', 5],
      ['young', 1],
    ]);
    expect(archivesOverCap([a('old', 10, 1), a('young', 10, 9), a('new', 10, 10)], worth, 25, 'new', now)).toEqual(['young']);
  });
  test.each([
    ['10%', { kind: 'share', percent: 10 }, 100 * 2 ** 30, 10 * 2 ** 30],
    ['20GiB', { kind: 'size', bytes: 20 * 2 ** 30 }, 100 * 2 ** 30, 20 * 2 ** 30],
    ['off', { kind: 'off' }, 100, 0],
    ['0', { kind: 'off' }, 100, 0],
    ['10', undefined, 0, 0],
    ['100%', undefined, 0, 0],
    ['20G', undefined, 0, 0],
  ])('host-archives %s', (text, cap, disk, bytes) => {
    expect(archiveCap(text)).toEqual(cap);
    if (cap) expect(archiveCapBytes(cap as NonNullable<ReturnType<typeof archiveCap>>, disk)).toBe(bytes);
  });
});

describe("an archive's trust domain, as the guard and the cap read it", () => {
  const queue = contentKey(undefined, 'gh-readonly-queue/main/pr-3-abc123');
  const queueDir = basename(dirname(archiveDir('/r', 'o/w', queue, 'f')));
  test.each([
    ['a plain key: its directory name', 'ref-main', undefined, 'ref-main'],
    ["a merge queue's key, recorded in archive.json: the key, not its re-hashed directory name", queueDir, queue, queue],
    ['an archive of an earlier version (none recorded): the directory name', queueDir, undefined, queueDir],
    ["a recorded domain that is not the directory's: the directory's, never another domain", 'pr-5', 'ref-main', 'pr-5'],
  ])('%s', (_, dir, recorded, want) => {
    expect(queueDir).not.toBe(queue);
    expect(archiveDomain(dir, recorded)).toBe(want);
  });
});
