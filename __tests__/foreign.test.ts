import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeForeign, findForeign, foreignOf, listed, probeOwners } from '../src/owners/foreign.js';
import { chooseImages, dockerChownArgs, foreignMessage, handBackMethods } from '../src/owners/reclaim.js';
import { summaryRows } from '../src/job/summary.js';
import type { EndedJob } from '../src/job/types.js';

/*
 * Issue 19: another uid's files below a slot's top entries. The decisions as tables; the probe
 * against a real tree whose owners are set with chown (the test runs as root).
 */
describe('which directories the probe lists (never a tree walk)', () => {
  test.each([
    [['target'], true],
    [['target', 'debug'], true],
    [['target', 'x86_64-unknown-linux-gnu'], true],
    [['target', 'x86_64-unknown-linux-gnu', 'release'], true],
    [['target', 'debug', 'deps'], false],
    [['target', 'debug', '.fingerprint'], false],
    [['target', 'debug', 'build'], false],
    [['target', 'debug', 'incremental'], false],
    [['target', 'x86_64-unknown-linux-gnu', 'release', 'deps'], false],
    // Build-dir layout v2 (cargo 1.100): every unit's dir below build/.
    [['target', 'debug', 'build', 'serde'], false],
    [['target', 'debug', 'build', 'serde', '0123456789abcdef'], false],
    [['target', 'x86_64-unknown-linux-gnu', 'release', 'build'], false],
    [['target', 'a', 'b', 'c'], false],
    [['cargo-home'], true],
    [['cargo-home', 'registry'], true],
    [['cargo-home', 'registry', 'src'], true],
    [['cargo-home', 'registry', 'cache'], true],
    [['cargo-home', 'registry', 'index'], true],
    [['cargo-home', 'registry', 'src', 'index.crates.io-1949cf8c6b5b557f'], false],
    [['cargo-home', 'git'], true],
    [['cargo-home', 'git', 'checkouts'], true],
    [['cargo-home', 'git', 'db'], true],
    [['cargo-home', 'git', 'checkouts', 'repo-abc'], false],
    [['cargo-home', 'bin'], false],
    [['tmp'], false],
    [[], false],
  ])('%j: %p', (rel, expected) => expect(listed(rel)).toBe(expected));
});

describe('what a uid cannot rely on', () => {
  const seen = [
    { rel: 'target/debug', uid: 0 },
    { rel: 'target/debug/.cargo-lock', uid: 0 },
    { rel: 'target/.rustc_info.json', uid: 1001 },
    { rel: 'cargo-home/registry', uid: 1002 },
  ];
  test.each([
    [0, []],
    [1001, ['target/debug', 'target/debug/.cargo-lock', 'cargo-home/registry']],
    [1002, ['target/debug', 'target/debug/.cargo-lock', 'target/.rustc_info.json']],
  ])('uid %p', (uid, expected) => expect(foreignOf(uid, seen).map((s) => s.rel)).toEqual(expected));

  test('a message names the uids and the build directories first', () => {
    expect(describeForeign(seen)).toBe('uid 0, 1001, 1002 (target/.rustc_info.json, target/debug, target/debug/.cargo-lock and 1 more)');
    expect(describeForeign([{ rel: 'cargo-home/.package-cache', uid: 0 }])).toBe('uid 0 (cargo-home/.package-cache)');
  });
});

describe('handing back', () => {
  const methods: [number, number, { sudo: boolean; docker: boolean }, string[]][] = [
    [0, 5, { sudo: true, docker: true }, []],
    [1001, 0, { sudo: true, docker: true }, []],
    [1001, 3, { sudo: true, docker: true }, ['sudo', 'docker']],
    [1001, 3, { sudo: false, docker: true }, ['docker']],
    [1001, 3, { sudo: true, docker: false }, ['sudo']],
    [1001, 3, { sudo: false, docker: false }, []],
  ];
  test.each(methods)('uid %p, %p found, on PATH %j: %j', (uid, found, onPath, expected) => expect(handBackMethods(uid, found, onPath)).toEqual(expected));

  test.each([
    ['e10d97c2b407 cargo-isolate-test-base:bookworm\n', ['e10d97c2b407']],
    [
      'aaaaaaaaaaaa rust:1.95\nbbbbbbbbbbbb <none>:<none>\naaaaaaaaaaaa rust:latest\ncccccccccccc debian:12\ndddddddddddd alpine:3\n',
      ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc'],
    ],
    ['', []],
    ['Cannot connect to the Docker daemon\n', []],
    [
      'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef x:y\n',
      ['sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
    ],
  ])('images from %j', (listing, expected) => expect(chooseImages(listing)).toEqual(expected));

  test('the docker hand-back never pulls, has no network, and chowns only the mounted slot without following links', () => {
    const args = dockerChownArgs('e10d97c2b407', '/ci/root/slots/s003', { uid: 1001, gid: 1001 });
    expect(args).toEqual([
      'run',
      '--rm',
      '--pull',
      'never',
      '--network',
      'none',
      '--user',
      '0:0',
      '--entrypoint',
      'chown',
      '--mount',
      'type=bind,source=/ci/root/slots/s003,target=/cargo-isolate-slot',
      'e10d97c2b407',
      '-R',
      '-h',
      '1001:1001',
      '/cargo-isolate-slot',
    ]);
  });
});

describe('the probe on a real slot', () => {
  let base: string;
  const mk = async (rel: string, uid: number, file = false) => {
    const p = join(base, rel);
    if (file) await fs.writeFile(p, '');
    else await fs.mkdir(p, { recursive: true });
    await fs.lchown(p, uid, uid);
  };
  beforeAll(async () => {
    base = await fs.mkdtemp(join(tmpdir(), 'foreign-probe-'));
    for (const d of [
      'target',
      'cargo-home',
      'target/debug',
      'target/debug/deps',
      'target/debug/.fingerprint',
      'target/x86_64-unknown-linux-gnu',
      'cargo-home/registry',
      'cargo-home/registry/src',
      'cargo-home/registry/src/idx-1',
      'cargo-home/bin',
    ])
      await mk(d, 1001);
    // What a root step leaves: a triple's profile dir, its lock, and a registry's cache dir.
    await mk('target/x86_64-unknown-linux-gnu/release', 0);
    await mk('target/x86_64-unknown-linux-gnu/release/.cargo-lock', 0, true);
    await mk('cargo-home/registry/cache', 0);
    await mk('cargo-home/.package-cache', 0, true);
    // Content of parts never listed: thousands of files cost nothing, and are not seen.
    for (let i = 0; i < 2000; i++) await mk(`target/debug/deps/f${i}.rlib`, i === 7 ? 0 : 1001, true);
    await mk('target/debug/.fingerprint/c0-abc', 0);
    await mk('cargo-home/registry/src/idx-1/serde-1.0.0', 0);
    await mk('cargo-home/bin/cargo-nextest', 0, true);
    // A profile of build-dir layout v2 (cargo 1.100): its lock files and build/ are seen, the
    // units below build/<pkg>/<hash>/ never listed.
    await mk('target/release', 1001);
    await mk('target/release/.cargo-lock', 1001, true);
    await mk('target/release/.cargo-artifact-lock', 0, true);
    await mk('target/release/build', 1001);
    for (let i = 0; i < 200; i++) {
      await mk(`target/release/build/dep${i}`, 1001);
      await mk(`target/release/build/dep${i}/0123456789abcdef`, i === 7 ? 0 : 1001);
      await mk(`target/release/build/dep${i}/0123456789abcdef/fingerprint`, i === 7 ? 0 : 1001);
    }
  });
  afterAll(() => fs.rm(base, { recursive: true, force: true }));

  test("finds another uid's entries where cargo writes, and lists a bounded number of entries", async () => {
    const all = await probeOwners({ base });
    expect(all.length).toBeLessThan(30);
    expect((await findForeign({ base }, 1001)).map((f) => f.rel)).toEqual([
      'cargo-home/.package-cache',
      'cargo-home/registry/cache',
      'target/release/.cargo-artifact-lock',
      'target/x86_64-unknown-linux-gnu/release',
      'target/x86_64-unknown-linux-gnu/release/.cargo-lock',
    ]);
    expect(await findForeign({ base }, 0)).toEqual([]);
  });

  test('a slot with nothing of another uid, or no slot at all', async () => {
    const clean = await fs.mkdtemp(join(tmpdir(), 'foreign-clean-'));
    await fs.mkdir(join(clean, 'target', 'debug', 'deps'), { recursive: true });
    await fs.mkdir(join(clean, 'cargo-home', 'registry', 'cache', 'idx-1'), { recursive: true });
    await fs.writeFile(join(clean, 'target', 'debug', '.cargo-lock'), '');
    await fs.chown(clean, 1001, 1001);
    for (const p of [
      'target',
      'target/debug',
      'target/debug/deps',
      'target/debug/.cargo-lock',
      'cargo-home',
      'cargo-home/registry',
      'cargo-home/registry/cache',
      'cargo-home/registry/cache/idx-1',
    ])
      await fs.chown(join(clean, p), 1001, 1001);
    expect((await probeOwners({ base: clean })).length).toBe(6);
    expect(await findForeign({ base: clean }, 1001)).toEqual([]);
    expect((await findForeign({ base: clean }, 1002)).length).toBe(6);
    expect(await findForeign({ base: join(clean, 'absent') }, 1001)).toEqual([]);
    await fs.rm(clean, { recursive: true, force: true });
  });
});

describe('the job summary', () => {
  const ended = (foreign: EndedJob['foreign']): EndedJob => ({ released: true, removed: [], warnings: [], foreign });
  const found = [{ rel: 'target/debug', uid: 0 }];
  test.each([
    [undefined, undefined],
    [{ found, handedBack: 'docker' as const, marked: false, failed: [], message: '' }, '1 entries: handed back with docker'],
    [{ found, marked: true, failed: ['docker: permission denied'], message: '' }, '1 entries: could not hand back; slot marked, passed over by this uid'],
  ])('%#', (foreign, row) => {
    const rows = summaryRows(undefined, ended(foreign), undefined).main;
    expect(rows.find(([k]) => k === "Another uid's files")?.[1]).toBe(row);
  });
});

describe("the post step's one warning", () => {
  const first = [
    { rel: 'target/debug', uid: 0 },
    { rel: 'target/debug/.cargo-lock', uid: 0 },
  ];
  const base = { uid: 1001, first, left: first, failed: ['docker: permission denied'], marked: false };
  const fix = 'Fix it at the source: docker run --user "$(id -u):$(id -g)" (docs/docker-run.md).';
  const what = (where: string) =>
    `A step left files of uid 0 (target/debug, target/debug/.cargo-lock) in ${where}, where cargo of uid 1001 must write: a \`docker run\` step as root?`;
  test.each([
    [
      { ...base, layout: 'slot' as const, name: 's001', handedBack: 'docker' as const, failed: [] },
      `${what('slot s001')} Handed them back to uid 1001 with docker. ${fix}`,
    ],
    [
      { ...base, layout: 'slot' as const, name: 's001', marked: true },
      `${what('slot s001')} Could not hand them back (docker: permission denied); the slot is marked as uid 0's, and jobs of uid 1001 pass it over until a root job or 'cargo-isolate gc' run as root hands it back. ${fix}`,
    ],
    [
      { ...base, layout: 'slot' as const, name: 's001' },
      `${what('slot s001')} Could not hand them back (docker: permission denied); jobs of this uid pass the slot over until a root job or 'cargo-isolate gc' run as root hands it back. ${fix}`,
    ],
    [
      { ...base, layout: 'job' as const, name: '/r/jobs/x' },
      `${what('the job directory /r/jobs/x')} Could not hand them back (docker: permission denied); removing the directory leaves them in trash for 'cargo-isolate gc' run as root. ${fix}`,
    ],
  ])('%#', (o, message) => expect(foreignMessage(o)).toBe(message));
});
