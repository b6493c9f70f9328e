import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { jobViewpoint, rankSlots, type SlotView, warmFor } from '../src/pool/choose.js';
import { builtSince, outputOf, rootSeen } from '../src/pool/view.js';
import { exportsFor, viewAt } from '../src/job/exports.js';
import { slotDirs } from '../src/model/layout.js';
import type { DirRecord, PathView } from '../src/model/record.js';
import { compiled, makeWorkspace } from './helpers/workspace.js';
import { removeScratch } from './helpers/scratch.js';
import { slotRecord } from './helpers/records.js';

/*
 * Path views: a PR's container job sees its slot at the runner's translation of the root
 * (`/__w/_tool/cargo-isolate/...` or `/__t/...`), its host job at the host's path; cargo's
 * fingerprints hash the registry sources' absolute paths, so a build is warm only under the
 * view it was made under.
 */
const HOST = '/home/runner/_work/_tool/cargo-isolate';
const CONTAINER = '/__w/_tool/cargo-isolate';
const host = (name: string, uid = 1001) => viewAt({ root: HOST, uid }, name, false);
const inContainer = (name: string, uid = 0) => viewAt({ root: CONTAINER, uid }, name, false);

const rec = (o: Partial<DirRecord>): DirRecord => slotRecord({ job: 'test', ...o });
const me = {
  repository: 'acme/w',
  key: 'pr-1',
  runnerId: 'r1',
  workflow: 'ci',
  job: 'security',
  jobKey: '',
  runId: '20',
  runAttempt: '1',
  baseKey: 'ref-main',
};

describe('a view is what exportsFor gives at a viewpoint', () => {
  test('the strings are the exports of the slot under that root, nothing else', () => {
    const e = exportsFor(slotDirs(CONTAINER, 's003'), slotDirs(CONTAINER, 's003').cargoHome);
    expect(inContainer('s003')).toEqual({ root: CONTAINER, uid: 0, cargoHome: e.CARGO_HOME, target: e.CARGO_TARGET_DIR });
    expect(inContainer('s003').target).toBe('/__w/_tool/cargo-isolate/slots/s003/target');
  });
  test("with the uid's shared CARGO_HOME, every slot of a viewpoint has one home string, another uid or root another", () => {
    const shared = (root: string, uid: number, name: string) => viewAt({ root, uid }, name, true).cargoHome;
    expect(shared(HOST, 1001, 's001')).toBe(shared(HOST, 1001, 's007'));
    expect(shared(HOST, 1001, 's001')).toBe(exportsFor(slotDirs(HOST, 's001'), `${HOST}/homes/u1001`).CARGO_HOME);
    expect(shared(HOST, 0, 's001')).not.toBe(shared(HOST, 1001, 's001'));
    expect(shared(CONTAINER, 0, 's001')).not.toBe(shared(HOST, 0, 's001'));
  });
});

describe('warmFor: a build is warm only under the view it was made under', () => {
  test.each<[string, PathView | undefined, PathView | undefined, boolean]>([
    ['the same view', host('s0'), host('s0'), true],
    ['the same view, another uid (the paths are what cargo hashes)', host('s0', 0), host('s0', 1001), true],
    ['built in a container, seen from the host', inContainer('s0'), host('s0'), false],
    ['built on the host, seen from a container', host('s0'), inContainer('s0'), false],
    ["a root mounted at the same path: the host's strings in both", host('s0', 0), host('s0', 1001), true],
    ['another CARGO_HOME alone', { ...host('s0'), cargoHome: '/home/runner/.cargo' }, host('s0'), false],
    ['another target alone', { ...host('s0'), target: '/tmp/t' }, host('s0'), false],
    ['no view recorded (an older record, or unknown): as before', undefined, host('s0'), true],
    ["no view recorded, this job's unknown too", undefined, undefined, true],
    ["this job's view unknown (the hook, first run): a known other build is not taken", host('s0'), undefined, false],
  ])('%s', (_, built, seen, warm) => expect(warmFor(built, seen)).toBe(warm));
});

describe("jobViewpoint: the hook learns a job's view from its own last build", () => {
  const test_ = (o: Partial<DirRecord>) => ({ record: rec({ job: 'test', ...o }) });
  test.each<[string, { record?: DirRecord }[], object | undefined]>([
    ['nothing built by this job yet', [test_({ view: inContainer('s0') })], undefined],
    ['its own slot', [test_({ view: inContainer('s0') }), { record: rec({ job: 'security', view: host('s1') }) }], { root: HOST, uid: 1001 }],
    [
      'the newest of its own trust domain',
      [
        { record: rec({ job: 'security', view: inContainer('s0'), lastUsed: '2026-01-02T00:00:00Z' }) },
        { record: rec({ job: 'security', view: host('s1'), lastUsed: '2026-01-03T00:00:00Z' }) },
      ],
      { root: HOST, uid: 1001 },
    ],
    [
      'its own domain before a newer base build',
      [
        { record: rec({ job: 'security', view: host('s1'), lastUsed: '2026-01-02T00:00:00Z' }) },
        { record: rec({ job: 'security', key: 'ref-main', view: inContainer('s2'), lastUsed: '2026-01-09T00:00:00Z' }) },
      ],
      { root: HOST, uid: 1001 },
    ],
    [
      "a first run: the base branch's build of the job",
      [{ record: rec({ job: 'security', key: 'ref-main', view: inContainer('s2') }) }],
      { root: CONTAINER, uid: 0 },
    ],
    ['records without a view say nothing', [{ record: rec({ job: 'security' }) }, { record: undefined }], undefined],
    ["another repository's job of the same name says nothing", [{ record: rec({ job: 'security', repository: 'acme/x', view: host('s1') }) }], undefined],
    ['another workflow says nothing', [{ record: rec({ job: 'security', workflow: 'nightly', view: host('s1') }) }], undefined],
  ])('%s', (_, slots, vp) => expect(jobViewpoint(slots, me)).toEqual(vp));
});

describe("rankSlots with views: a PR's container job and host job each keep their own build", () => {
  const free = (name: string, o: Partial<DirRecord>, seen?: PathView): SlotView => ({ name, live: false, record: rec(o), view: seen });
  const sized = { sizes: { target: 1 << 30, cargoHome: 1 << 20, tmp: 0, measuredAt: '2026-01-01T00:00:00Z' } };
  test.each<[string, Partial<DirRecord>, (n: string) => PathView | undefined, boolean, string | null]>([
    // [what, the slot's record, this job's view of the slot, room, tier]
    ["the container job's build, this host job's view, room: a new slot", { job: 'test', view: inContainer('s0') }, host, true, null],
    [
      "the container job's build, this host job's view, pressure: evicted by value like any sibling's",
      { job: 'test', view: inContainer('s0') },
      host,
      false,
      'own-key',
    ],
    ["the host job's own build under its own view", { job: 'security', view: host('s0') }, host, true, 'own-job'],
    ['its own job, built under the other view (the workflow moved it): not warm', { job: 'security', view: inContainer('s0') }, host, true, null],
    ['a sibling under the same view (a root mounted at the same path), room: its build is left alone', { job: 'test', view: host('s0', 0) }, host, true, null],
    ['a sibling under the same view, pressure: taken as the least valuable', { job: 'test', view: host('s0', 0) }, host, false, 'own-key'],
    [
      "this job's view unknown (the hook, its first build here): a sibling's known build is not taken",
      { job: 'test', view: inContainer('s0') },
      () => undefined,
      true,
      null,
    ],
    ["this job's view unknown, the sibling's too (older records), pressure: as any sibling", { job: 'test' }, () => undefined, false, 'own-key'],
    ["the base branch's build of this job under another view: not a base", { key: 'ref-main', job: 'security', view: inContainer('s0') }, host, true, null],
    ["the base branch's build of this job under its view", { key: 'ref-main', job: 'security', view: host('s0') }, host, true, 'base'],
  ])('%s', (_, r, seen, room, tier) => {
    const plan = rankSlots([free('s0', { ...sized, ...r }, seen('s0'))], me, { room });
    expect(plan.candidates[0]?.tier ?? null).toBe(tier);
  });
  test('a slot the container job left empty (pruned) is worth nothing to anyone, whatever its view', () => {
    expect(
      rankSlots([free('s0', { job: 'test', view: inContainer('s0'), prunedAt: '2026-01-02T00:00:00Z' }, host('s0'))], me, { room: true }).candidates,
    ).toEqual([{ name: 's0', tier: 'own-key' }]);
  });
  test("the issue's pool: each job finds its own build, never the other's", () => {
    const pool = (seenTest: (n: string) => PathView, seenSec: (n: string) => PathView) =>
      [
        (seen: (n: string) => PathView) => free('s0', { ...sized, job: 'test', view: inContainer('s0'), lastUsed: '2026-01-02T00:00:00Z' }, seen('s0')),
        (seen: (n: string) => PathView) => free('s1', { ...sized, job: 'security', view: host('s1'), lastUsed: '2026-01-03T00:00:00Z' }, seen('s1')),
      ].map((f) => ({ t: f(seenTest), s: f(seenSec) }));
    const p = pool(inContainer, host);
    expect(
      rankSlots(
        p.map((x) => x.t),
        { ...me, job: 'test' },
        { room: true },
      ).candidates,
    ).toEqual([{ name: 's0', tier: 'own-job' }]);
    expect(
      rankSlots(
        p.map((x) => x.s),
        me,
        { room: true },
      ).candidates,
    ).toEqual([{ name: 's1', tier: 'own-job' }]);
  });
  test('a live predecessor is waited for only when its build can be warm for this job', () => {
    const live = (view: PathView): SlotView => ({ name: 's0', live: true, record: rec({ job: 'security', runId: '10', view }), view: host('s0') });
    expect(rankSlots([live(host('s0'))], me, { room: true }).waitFor).toBe('s0');
    expect(rankSlots([live(inContainer('s0'))], me, { room: true }).waitFor).toBeUndefined();
  });
});

describe('what the build saw, from its dep-info files', () => {
  test.each<[string, string, string | undefined]>([
    ['an output', '/__w/_tool/ci/slots/s0/target/debug/deps/a-1.d: src/lib.rs\n', '/__w/_tool/ci/slots/s0/target/debug/deps/a-1.d'],
    ['escaped spaces', '/srv/my\\ ci/slots/s0/target/debug/deps/a-1.d: src/lib.rs\n', '/srv/my ci/slots/s0/target/debug/deps/a-1.d'],
    ['a relative output (dep-info-basedir)', 'debug/deps/a-1.d: src/lib.rs\n', undefined],
    ['nothing', '', undefined],
  ])('outputOf: %s', (_, text, out) => expect(outputOf(text)).toBe(out));

  test.each<[string, string, string | undefined]>([
    ["the container's translation", '/__w/_tool/cargo-isolate/slots/s000/target/debug/deps/a-1.d', '/__w/_tool/cargo-isolate'],
    ["the host's path", `${HOST}/slots/s000/target/debug/deps/a-1.d`, HOST],
    ['a root that itself looks like a slot', '/x/slots/s000/target/y/slots/s000/target/debug/deps/a-1.d', '/x/slots/s000/target/y'],
    ["another slot's paths", '/__w/_tool/cargo-isolate/slots/s001/target/debug/deps/a-1.d', undefined],
    ['a `docker run` step mounting the target elsewhere', '/workspace/target/debug/deps/a-1.d', undefined],
  ])('rootSeen: %s', (_, output, root) => expect(rootSeen(output, HOST, slotDirs(HOST, 's000').target)).toBe(root));

  let scratch: string;
  beforeAll(async () => {
    scratch = await fs.mkdtemp('/var/tmp/ci-views-');
  });
  afterAll(async () => {
    await removeScratch(scratch);
  });

  test.each<[string, Record<string, string>, string]>([
    ["cargo's layout up to 1.99", {}, 'debug/deps/'],
    // The build-dir layout v2 (stable in cargo 1.100): dep-info in each unit's out/.
    ['the build-dir layout v2', { RUSTC_BOOTSTRAP: '1', CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT: 'true' }, 'debug/build/'],
  ])(
    'real cargo, %s: a build through another path to the same slot is seen at that path; a fresh build leaves nothing new',
    async (layout, layoutEnv, under) => {
      const root = join(scratch, layout.replace(/\W+/g, '-'));
      const dirs = slotDirs(root, 's000');
      await fs.mkdir(dirs.target, { recursive: true });
      await fs.mkdir(dirs.cargoHome, { recursive: true });
      // Another path to the same directory, as a job container sees the root through a mount.
      const seenAt = join(`${root}-seen`, '__t', 'cargo-isolate');
      await fs.mkdir(join(`${root}-seen`, '__t'), { recursive: true });
      await fs.symlink(root, seenAt);
      const ws = await makeWorkspace(`${root}-ws`, 2);
      const build = () => {
        const r = spawnSync('cargo', ['build'], {
          cwd: ws,
          env: { ...process.env, ...layoutEnv, ...exportsFor(slotDirs(seenAt, 's000'), slotDirs(seenAt, 's000').cargoHome) },
          encoding: 'utf8',
        });
        expect(r.status).toBe(0);
        return r.stderr;
      };
      const t0 = new Date().toISOString();
      expect(compiled(build())).toEqual(['c0', 'c1', 'app']);
      const seen = builtSince(dirs.target, t0);
      expect(seen?.output.startsWith(`${seenAt}/slots/s000/target/${under}`)).toBe(true);
      expect(seen?.uid).toBe(process.geteuid!());
      expect(rootSeen(seen!.output, root, dirs.target)).toBe(seenAt);
      const t1 = new Date().toISOString();
      expect(compiled(build())).toEqual([]);
      expect(builtSince(dirs.target, t1)).toBeUndefined();
    },
  );
});
