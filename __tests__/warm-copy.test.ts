// The pure decisions of a start without its own warm build, table-tested: which CARGO_HOME a job
// gets, which idle slot's warm build it may start from, whether the copy fits the disk, which
// build-script runs a copy must make stale, and the compile-cache settings of fork PRs.
import { describe, expect, test } from '@jest/globals';
import type { SlotView } from '../src/pool/choose.js';
import { staleScripts } from '../src/pool/warm-copy.js';
import { chooseCopySource, copyFits } from '../src/pool/policy.js';
import type { DirRecord } from '../src/model/record.js';
import { chooseHome } from '../src/job/cargo-home.js';
import { slotDirs } from '../src/model/layout.js';
import { diskFromStatfs } from '../src/os/disk.js';
import { parseLevel } from '../src/model/units.js';
import { WRAPPER_SCRIPT, untrustedEnv, wrapperExports } from '../src/job/rustc-wrapper.js';
import { sccacheWrapper } from '../src/host/sccache.js';
import { exportsFor } from '../src/job/exports.js';
import { slotRecord } from './helpers/records.js';

const HOME = '/r/homes/u1001';
const built = (cargoHome: string) => ({ root: '/r', uid: 1001, cargoHome, target: '/r/slots/s0/target' });
const warm = { sizes: { target: 3e9, cargoHome: 0, tmp: 0, measuredAt: '2026-01-02T00:00:00Z' }, view: built(HOME) };
const rec = (o: Partial<DirRecord>): DirRecord => slotRecord({ ...warm, ...o });
const me = { repository: 'acme/w', key: 'pr-1', runnerId: 'r1', workflow: 'ci', job: 'build', jobKey: '', runId: '20', runAttempt: '1', baseKey: 'ref-main' };
const free = (name: string, o: Partial<DirRecord>): SlotView => ({ name, live: false, record: rec(o) });
const opts = { reuse: 'same-key' as const, cargoHome: HOME, self: 's9' };

describe('which warm build a start without its own may copy', () => {
  // One slot alone: the rule it is taken by, or null. Content flows from trusted to the PR only.
  const one: [string, SlotView, 'same-key' | 'never' | 'always', string | null][] = [
    ['its own trust domain and job, in another slot', free('s0', {}), 'same-key', 'own-key'],
    ['a push to its base branch, same job (a first run)', free('s0', { key: 'ref-main' }), 'same-key', 'base'],
    ['another PR, same job', free('s0', { key: 'pr-2' }), 'same-key', null],
    ['another PR, same job, reuse: always', free('s0', { key: 'pr-2' }), 'always', 'any'],
    ['its own, reuse: never', free('s0', {}), 'never', null],
    ['its own domain, another job (another profile or features)', free('s0', { job: 'lint' }), 'same-key', null],
    ['its own domain, another matrix leg', free('s0', { jobKey: 'arm' }), 'same-key', null],
    ['another repository', free('s0', { repository: 'other/w' }), 'always', null],
    ['built under another CARGO_HOME (another uid or path view)', free('s0', { view: built('/__t/x/homes/u0') }), 'same-key', null],
    ['built with a private home (a fork, an older version)', free('s0', { view: built('/r/slots/s0/cargo-home') }), 'same-key', null],
    ['a record of a version that did not say its CARGO_HOME', free('s0', { view: undefined }), 'same-key', null],
    ['pruned by the guard', free('s0', { prunedAt: '2026-01-03T00:00:00Z', sizes: { target: 0, cargoHome: 0, tmp: 0, measuredAt: 'x' } }), 'same-key', null],
    ['left empty', free('s0', { sizes: { target: 0, cargoHome: 0, tmp: 0, measuredAt: 'x' } }), 'same-key', null],
    ['files of another uid never handed back', free('s0', { foreign: { uid: 0, paths: ['target/debug'], at: 'x' } }), 'same-key', null],
    ['live (a job runs there)', { name: 's0', live: true, record: rec({}) }, 'same-key', null],
    ['without a record', { name: 's0', live: false }, 'always', null],
    ['its own slot', free('s9', {}), 'same-key', null],
    ['a job directory (layout: job)', free('s0', { layout: 'job' }), 'same-key', null],
  ];
  test.each(one)('%s', (_, slot, reuse, rule) => {
    expect(chooseCopySource([slot], me, { ...opts, reuse })?.rule ?? null).toBe(rule);
  });

  test("a push to the base branch never copies a PR's build (content never flows back)", () => {
    const main = { ...me, key: 'ref-main', baseKey: undefined };
    expect(chooseCopySource([free('s0', { key: 'pr-1' }), free('s1', { key: 'pr-2' })], main, opts)).toBeUndefined();
    expect(chooseCopySource([free('s0', { key: 'ref-main' })], main, opts)?.rule).toBe('own-key');
  });

  test("a fork PR reads the base branch's build only where it was made with the same CARGO_HOME (its own is private)", () => {
    const fork = { ...me, key: 'pr-5' };
    expect(chooseCopySource([free('s0', { key: 'ref-main' })], fork, { ...opts, cargoHome: '/r/slots/s9/cargo-home' })).toBeUndefined();
  });

  test('its own domain first, then the base branch, newest first within each', () => {
    const slots = [
      free('base-new', { key: 'ref-main', lastUsed: '2026-01-09T00:00:00Z' }),
      free('own-old', { lastUsed: '2026-01-02T00:00:00Z' }),
      free('own-new', { lastUsed: '2026-01-05T00:00:00Z' }),
      free('base-old', { key: 'ref-main', lastUsed: '2026-01-03T00:00:00Z' }),
    ];
    expect(chooseCopySource(slots, me, opts)?.name).toBe('own-new');
    expect(
      chooseCopySource(
        slots.filter((s) => !s.name.startsWith('own')),
        me,
        opts,
      )?.name,
    ).toBe('base-new');
  });
});

describe('the disk a copy may take', () => {
  const disk = (usedGiB: number, totalGiB = 100) =>
    diskFromStatfs({
      bsize: 1,
      blocks: totalGiB * 2 ** 30,
      bfree: (totalGiB - usedGiB) * 2 ** 30,
      bavail: (totalGiB - usedGiB) * 2 ** 30,
      files: 1000,
      ffree: 900,
    });
  const G = 2 ** 30;
  const cases: [string, number, number, string, boolean][] = [
    ['70% used, 3 GiB copy, threshold 85%', 70, 3, '85%', true],
    ['84% used, 3 GiB copy, threshold 85%: over after the copy', 84, 3, '85%', false],
    ['85.5% used already', 85.5, 0, '85%', false],
    ['50 GiB free, 3 GiB copy, floor 20GiB', 50, 3, '20GiB', true],
    ['21 GiB free, 3 GiB copy, floor 20GiB', 79, 3, '20GiB', false],
    ['a copy larger than what is free', 98, 3, '99%', false],
  ];
  test.each(cases)('%s', (_, used, copyGiB, level, fits) => {
    expect(copyFits(disk(used), copyGiB * G, parseLevel(level)!)).toBe(fits);
  });
});

describe('build-script runs a copy makes stale', () => {
  const src = '/r/slots/s001';
  const cases: [string, { unit: string; output: string; rootOutput: string }, boolean][] = [
    ['nothing of the source', { unit: 'a-1', output: 'cargo:rustc-cfg=x\n', rootOutput: '/r/slots/s001/target/debug/build/a-1/out' }, false],
    [
      'its own OUT_DIR (cargo rewrites it)',
      {
        unit: 'b-1',
        output: 'cargo:rustc-link-search=native=/r/slots/s001/target/debug/build/b-1/out\n',
        rootOutput: '/r/slots/s001/target/debug/build/b-1/out',
      },
      false,
    ],
    [
      'the target dir it read from CARGO_TARGET_DIR',
      { unit: 'c-1', output: 'cargo:rustc-env=SEEN=/r/slots/s001/target\n', rootOutput: '/r/slots/s001/target/debug/build/c-1/out' },
      true,
    ],
    [
      "another unit's OUT_DIR",
      { unit: 'd-1', output: 'cargo:rustc-env=X=/r/slots/s001/target/debug/build/e-2/out/x\n', rootOutput: '/r/slots/s001/target/debug/build/d-1/out' },
      true,
    ],
    [
      'a path that only starts like the source (made stale too: harmless)',
      { unit: 'f-1', output: 'cargo:rustc-env=X=/r/slots/s0010/t\n', rootOutput: '' },
      true,
    ],
  ];
  test.each(cases)('%s', (_, o, stale) => {
    expect(staleScripts([o], src)).toEqual(stale ? [o.unit] : []);
  });
});

describe('which CARGO_HOME a job gets', () => {
  const dirs = slotDirs('/r', 's003');
  test.each([
    ['a trusted job in a slot', { uid: 1001, layout: 'slot' as const, fork: false }, '/r/homes/u1001', true],
    ['root (a container job)', { uid: 0, layout: 'slot' as const, fork: false }, '/r/homes/u0', true],
    ['a fork PR', { uid: 1001, layout: 'slot' as const, fork: true }, '/r/slots/s003/cargo-home', false],
    ['layout: job', { uid: 1001, layout: 'job' as const, fork: false }, '/r/slots/s003/cargo-home', false],
    ['a shared home this uid cannot trust', { uid: 1001, layout: 'slot' as const, fork: false, problem: 'files of uid 0' }, '/r/slots/s003/cargo-home', false],
  ])('%s', (_, o, home, shared) => {
    const c = chooseHome('/r', dirs, o);
    expect([c.cargoHome, c.shared]).toEqual([home, shared]);
    // The one rule for a job's paths: the exports carry the choice, install/ stays the slot's.
    expect(exportsFor(dirs, c.cargoHome)).toMatchObject({
      CARGO_HOME: home,
      CARGO_INSTALL_ROOT: '/r/slots/s003/install',
      CARGO_TARGET_DIR: '/r/slots/s003/target',
    });
  });
});

describe('the compile cache: our wrapper and fork PRs', () => {
  test('our wrapper in front of sccache still counts as sccache (a second main step, post)', () => {
    const ex = wrapperExports('/r/homes/u1001/cargo-isolate-rustc', { variable: 'RUSTC_WRAPPER', command: '/usr/bin/sccache' });
    expect(sccacheWrapper(ex)).toEqual({ variable: 'RUSTC_WRAPPER', command: '/usr/bin/sccache' });
    expect(sccacheWrapper({ RUSTC_WRAPPER: '/r/homes/u1001/cargo-isolate-rustc' })).toBeUndefined();
  });
  test('the wrapper unsets every variable that names the slot or the root, and nothing rustc needs', () => {
    const unset = /^unset (.*)$/m.exec(WRAPPER_SCRIPT)![1].split(' ');
    expect(unset.sort()).toEqual(['CARGO_BUILD_BUILD_DIR', 'CARGO_INSTALL_ROOT', 'CARGO_ISOLATE_ROOT', 'CARGO_ISOLATE_RUSTC_WRAPPER', 'CARGO_TARGET_DIR']);
  });
  test("a fork PR's server: its own cache dir, no remote backend, no config file, the size limit kept", () => {
    const env = {
      PATH: '/bin',
      SCCACHE_DIR: '/trusted',
      SCCACHE_REDIS: 'redis://x',
      SCCACHE_BUCKET: 'b',
      SCCACHE_GHA_ENABLED: 'true',
      SCCACHE_CACHE_SIZE: '10G',
      SCCACHE_CONF: '/etc/sccache.toml',
      SCCACHE_WEBDAV_ENDPOINT: 'http://x',
    };
    expect(untrustedEnv(env, '/r/homes/u1001-untrusted-sccache/cache', '/r/homes/u1001-untrusted-sccache/config.toml')).toEqual({
      PATH: '/bin',
      SCCACHE_CACHE_SIZE: '10G',
      SCCACHE_DIR: '/r/homes/u1001-untrusted-sccache/cache',
      SCCACHE_CONF: '/r/homes/u1001-untrusted-sccache/config.toml',
    });
  });
});
