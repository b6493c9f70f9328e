// The pool's decisions about dependency archives (src/pool/policy.ts, value.ts), as tables: what an
// archive is worth per byte and how the guard weighs it among idle builds and trash, which archive
// a start restores from which trust domains, whether a job's end saves one, and the host tier's cap.
import { describe, expect, test } from '@jest/globals';
import { type ArchiveKeyInput, archiveKey } from '../src/model/archive-key.js';
import {
  type ArchiveView,
  type Candidate,
  type RestoreCandidate,
  type SaveInput,
  SHIPPED,
  scopeOf,
  archiveDomains,
  makePolicy,
  planPrune,
  restoreSource,
  keepFetched,
  restoreTier,
  saveArchive,
  trimArchives,
} from '../src/pool/policy.js';
import { archiveValues, slotValues, statsOf } from '../src/pool/value.js';
import type { Disk } from '../src/os/disk.js';
import type { Level } from '../src/model/units.js';
import type { SlotView } from '../src/pool/choose.js';
import { historyLine, slotRecord } from './helpers/records.js';

const GiB = 2 ** 30;
const H = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const NOW = T0 + 24 * H;

/** One job's line in the history: a cold `test` of pr-1 by default. */
const line = historyLine(at);

const archive = (o: Partial<ArchiveView> = {}): ArchiveView => ({
  path: '/r/archives/a',
  repository: 'acme/w',
  workflow: 'ci',
  job: 'test',
  domain: 'pr-1',
  fallback: 'f1',
  exact: 'e1',
  bytes: GiB,
  savedMs: T0 + 22 * H,
  live: false,
  ...o,
});

describe('what an archive is worth', () => {
  // pr-1 runs every 2 hours, and `test` saves 16 minutes warm (20 cold, 4 warm): as in value.test.ts.
  const history = () =>
    statsOf([
      line({ at: 16 * H, run: 'a' }),
      line({ at: 18 * H, run: 'b', built: 1, fresh: 90, ms: 4 * 60_000 }),
      line({ at: 20 * H, run: 'c' }),
      line({ at: 22 * H, run: 'd' }),
    ]);
  const value = (as: ArchiveView[], s = history()) => archiveValues(as, s, NOW);
  // √16 / 1 GiB / 2 h: a build of the same job and key at the same size is worth the same.
  const BASE = 2;
  const cases: [string, Partial<ArchiveView>, number][] = [
    ["the rule: √saving / size / time to its next restore (its domain's gap)", {}, BASE],
    ['a fifth of the bytes: five times the worth', { bytes: GiB / 5 }, BASE * 5],
    ["a job the host has not seen cold counts as the repository's typical job", { job: 'docs' }, BASE],
    ["a domain seen once counts as the repository's typical one", { domain: 'pr-9' }, BASE],
  ];
  test.each(cases)('%s', (_, o, v) => {
    expect(value([archive(o)]).get('/r/archives/a')).toBeCloseTo(v, 6);
  });

  test('per byte like a build: the same job, key and size are worth what its idle build is worth', () => {
    const slot: SlotView = {
      name: 's0',
      live: false,
      record: slotRecord({ job: 'test', lastUsed: at(23.5 * H), sizes: { target: GiB, cargoHome: 0, tmp: 0, measuredAt: at(23.5 * H) } }),
    };
    expect(slotValues([slot], history(), NOW).get('s0')).toBeCloseTo(value([archive()]).get('/r/archives/a')!, 6);
  });

  test("a base branch's archive serves every PR based on it and every first run: their rates add up", () => {
    const s = statsOf([
      line({ at: 12 * H, run: 'm1', key: 'ref-main' }),
      line({ at: 22 * H, run: 'm2', key: 'ref-main' }), // main: every 10 hours
      // two PRs based on main, each pushing every 2 hours, the last push 1 h ago
      ...[1, 2].flatMap((i) => [19, 21, 23].map((h) => line({ at: h * H, run: `p${i}-${h}`, key: `pr-${i + 10}`, base: 'ref-main' }))),
    ]);
    const v = archiveValues([archive({ domain: 'ref-main' })], s, NOW).get('/r/archives/a')!;
    // main 1/10 h + two PRs at 1/2 h each + 2 first runs in the 5 h since the first one.
    const rate = 1 / 10 + 2 / 2 + 2 / 5;
    // Every line cold: the saving is the whole 20 minutes.
    expect(v).toBeCloseTo(Math.sqrt(20) / 1 / (1 / rate), 6);
    // The same archive of one of the PRs: that PR's own rate only.
    expect(archiveValues([archive({ domain: 'pr-11' })], s, NOW).get('/r/archives/a')).toBeCloseTo(Math.sqrt(20) / 2, 6);
  });

  test("an idle domain's archive ages out with it: 6 h idle with a 2 h gap", () => {
    const s = statsOf([line({ at: 14 * H, run: 'a' }), line({ at: 16 * H, run: 'b', built: 1, fresh: 90, ms: 4 * 60_000 }), line({ at: 18 * H, run: 'c' })]);
    expect(archiveValues([archive()], s, NOW).get('/r/archives/a')).toBeCloseTo(BASE / 3, 6);
  });

  test("worth nothing: a closed PR's, and an older one of the same domain and job (a newer lock, or a job that moved on)", () => {
    const s = history();
    s.closed.set('acme/w#pr-1', T0 + 23 * H);
    expect(value([archive()], s).get('/r/archives/a')).toBe(0);
    const v = value([
      archive({ path: 'old', savedMs: T0 + 10 * H }),
      archive({ path: 'new', exact: 'e2' }),
      archive({ path: 'other-toolchain', fallback: 'f0', exact: 'e0', savedMs: T0 + 5 * H }),
      archive({ path: 'lint', job: 'lint', savedMs: T0 + 5 * H }),
    ]);
    expect([v.get('old'), v.get('other-toolchain'), v.get('lint')! > 0]).toEqual([0, 0, true]);
    expect(v.get('new')).toBeCloseTo(BASE, 6);
  });

  test("worth nothing: a PR's archive of an exact key its base branch has too (every start that reads it reads the base's)", () => {
    const s = statsOf([line({ at: 20 * H, run: 'm', key: 'ref-main' }), line({ at: 22 * H, run: 'p', key: 'pr-1', base: 'ref-main' })]);
    const both = archiveValues([archive({ path: 'pr' }), archive({ path: 'main', domain: 'ref-main' })], s, NOW);
    expect(both.get('pr')).toBe(0);
    expect(both.get('main')! > 0).toBe(true);
    // Its own lock: worth its PR's rate.
    expect(archiveValues([archive({ path: 'pr', exact: 'e9' }), archive({ path: 'main', domain: 'ref-main' })], s, NOW).get('pr')! > 0).toBe(true);
  });

  test('an archive a restore reads gets no value: it is never weighed', () => {
    expect(value([archive({ live: true })]).has('/r/archives/a')).toBe(false);
  });

  test('without values (the policy measured by age alone) archives get none either', () => {
    expect(makePolicy({ values: false }).archiveValues([archive()], history(), NOW)).toBeUndefined();
    expect(SHIPPED.archiveValues([archive()], history(), NOW)?.get('/r/archives/a')).toBeCloseTo(BASE, 6);
  });
});

describe('the guard weighs archives among idle builds and trash', () => {
  // The guard's kinds as guard.ts orders them: trash 0, dead jobs' dirs 1, targets and archives 2, registry sources 3.
  const c = (o: Partial<Candidate> & { path: string }): Candidate => ({ kind: 'target', order: 2, shared: false, lastUsedMs: T0, live: false, ...o });
  const a = (path: string, value: number, o: Partial<Candidate> = {}) => c({ kind: 'archive', path, value, shared: true, ...o });
  const cases: [string, Candidate[], string[]][] = [
    [
      'trash and dead jobs first, then builds and archives by worth per byte, then registry sources',
      [
        c({ path: 'src', kind: 'registry-src', order: 3 }),
        a('archive-worth-5', 5),
        c({ path: 'target-worth-1', value: 1 }),
        c({ path: 'trash', kind: 'trash', order: 0, shared: true }),
        c({ path: 'target-worth-9', value: 9 }),
        c({ path: 'job', kind: 'job-dir', order: 1 }),
      ],
      ['trash', 'job', 'target-worth-1', 'archive-worth-5', 'target-worth-9', 'src'],
    ],
    [
      'a spent merge-queue entry goes first, its archive like its build',
      [a('queue-archive', 9, { key: 'ref-gh-readonly-queue-main-pr-1+abc' }), c({ path: 'target', value: 1 })],
      ['queue-archive', 'target'],
    ],
    ["an archive worth nothing (a closed PR's, an older one) before any warm build", [c({ path: 'target', value: 0.1 }), a('closed', 0)], ['closed', 'target']],
  ];
  test.each(cases)('%s (host scope; in runner scope the archives worth something are left to the gc timer)', (_, cands, order) => {
    expect(planPrune(cands, 'host', 'me').ordered.map((x) => x.path)).toEqual(order);
    const runner = planPrune(cands, 'runner', 'me');
    const held = (x: Candidate) => x.kind === 'archive' && x.value !== 0;
    expect(runner.ordered.map((x) => x.path)).toEqual(order.filter((p) => !held(cands.find((x) => x.path === p)!)));
    expect(runner.others.map((x) => x.path)).toEqual(order.filter((p) => held(cands.find((x) => x.path === p)!)));
  });
  test("equals by age, archives as builds in host scope; in runner scope an archive worth something is left to the gc timer, as another runner's build", () => {
    const cands = [
      c({ path: 'theirs', value: 2, owner: 'other', lastUsedMs: T0 + 2 }),
      a('archive', 2.1, { lastUsedMs: T0 + 1 }),
      c({ path: 'mine', value: 3, owner: 'me' }),
    ];
    expect(planPrune(cands, 'host', 'me').ordered.map((x) => x.path)).toEqual(['archive', 'theirs', 'mine']);
    const runner = planPrune(cands, 'runner', 'me');
    expect([runner.ordered.map((x) => x.path), runner.others.map((x) => x.path), runner.othersBytes]).toEqual([['mine'], ['archive', 'theirs'], 0]);
  });
  test("in runner scope an archive worth nothing (a closed PR's, a dead save's) is freed like trash, whoever saved it", () => {
    const runner = planPrune([a('closed', 0, { bytes: 4 }), a('open', 1, { bytes: 6 }), c({ path: 'mine', value: 3, owner: 'me' })], 'runner', 'me');
    expect([runner.ordered.map((x) => x.path), runner.others.map((x) => x.path), runner.othersBytes]).toEqual([['closed', 'mine'], ['open'], 6]);
  });
  test('over the hard level runner scope gives way: every idle archive is a candidate again', () => {
    const full: Disk = { totalBytes: 100, usedBytes: 99, freeBytes: 1, usedPercent: 99, inodes: 0, inodesFree: 0, inodePercent: 0 };
    const scope = scopeOf('runner', full, { kind: 'free', bytes: 10 });
    expect(planPrune([a('open', 1), c({ path: 'mine', value: 3, owner: 'me' })], scope, 'me').ordered.map((x) => x.path)).toEqual(['open', 'mine']);
  });
  test('a live archive (a restore reads it) is never planned, nor counted as left to the gc timer', () => {
    const plan = planPrune([a('live', 1, { live: true, bytes: 5 }), a('idle', 0, { bytes: 7, owner: 'other' })], 'runner', 'me');
    expect(plan.ordered.map((x) => x.path)).toEqual(['idle']);
    expect([plan.liveBytes, plan.othersBytes]).toEqual([5, 0]);
  });
});

describe('which archive a start restores', () => {
  const me = { repository: 'acme/w', key: 'pr-5', baseKey: 'ref-main' };
  const want = { exact: 'E', fallback: 'F', parts: {} };
  const x = (o: Partial<RestoreCandidate> & { exact: string }): RestoreCandidate & { name: string } => ({
    name: `${o.domain ?? 'pr-5'}:${o.exact}`,
    fallback: 'F',
    savedAt: at(10 * H),
    domain: 'pr-5',
    repository: 'acme/w',
    ...o,
  });
  const cases: [string, (RestoreCandidate & { name: string })[], 'same-key' | 'never' | 'always', string | undefined, string | undefined][] = [
    ['its own exact key', [x({ exact: 'E' }), x({ exact: 'N', savedAt: at(20 * H) })], 'same-key', 'pr-5:E', 'exact'],
    ["its base branch's exact key (a first run, or a PR whose lock is main's)", [x({ exact: 'E', domain: 'ref-main' })], 'same-key', 'ref-main:E', 'exact'],
    [
      'no exact key: the newest of its fallback key, its own or its base',
      [x({ exact: 'A', domain: 'ref-main', savedAt: at(12 * H) }), x({ exact: 'B', savedAt: at(11 * H) })],
      'same-key',
      'ref-main:A',
      'fallback',
    ],
    ['another fallback key (toolchain, settings, home, path view) is never restored', [x({ exact: 'A', fallback: 'G' })], 'same-key', undefined, undefined],
    ["another PR's archive is never restored, not even its exact key", [x({ exact: 'E', domain: 'pr-6' })], 'same-key', undefined, undefined],
    ['another repository never', [x({ exact: 'E', repository: 'acme/x' })], 'same-key', undefined, undefined],
    ['reuse: never restores nothing', [x({ exact: 'E' })], 'never', undefined, undefined],
    ["reuse: always reads any domain's", [x({ exact: 'E', domain: 'pr-6' })], 'always', 'pr-6:E', 'exact'],
  ];
  test.each(cases)('%s', (_, archives, reuse, name, how) => {
    const r = restoreSource(archives, want, me, reuse);
    expect([r?.pick.name, r?.how]).toEqual([name, how]);
  });
  test("a push to main reads main's archives only: a PR's archive never reaches its base", () => {
    expect(archiveDomains({ key: 'ref-main' }, 'same-key')).toEqual(['ref-main']);
    expect(archiveDomains({ key: 'pr-5', baseKey: 'ref-main' }, 'same-key')).toEqual(['pr-5', 'ref-main']);
    expect(restoreSource([x({ exact: 'E', domain: 'pr-5' })], want, { repository: 'acme/w', key: 'ref-main' }, 'same-key')).toBeUndefined();
  });
  test("the key that decides it is the engine's own: another CARGO_HOME string has another fallback key", () => {
    const input: ArchiveKeyInput = {
      repository: 'acme/w',
      workflow: 'ci',
      job: 'test',
      jobKey: '',
      rustc: 'rustc 1.95.0',
      lockedDependencies: ['serde 1 x a'],
      env: {},
      host: { arch: 'x64', os: 'debian 12', libc: 'glibc 2.36' },
      cargoHome: '/r/homes/u1001',
      view: 'host',
    };
    const saved = archiveKey(input);
    const cand = x({ exact: saved.exact!, fallback: saved.fallback });
    expect(restoreSource([cand], archiveKey(input), me, 'same-key')?.how).toBe('exact');
    expect(restoreSource([cand], archiveKey({ ...input, lockedDependencies: ['serde 2 x b'] }), me, 'same-key')?.how).toBe('fallback');
    expect(restoreSource([cand], archiveKey({ ...input, cargoHome: '/r/homes/u0' }), me, 'same-key')).toBeUndefined();
  });
  test('the tier off (the policy without archives) restores nothing', () => {
    expect(makePolicy({ archives: false }).restoreSource([x({ exact: 'E' })], want, me, 'same-key')).toBeUndefined();
  });
});

describe('which tier a start restores from', () => {
  type R = { pick: string; how: 'exact' | 'fallback' } | undefined;
  const cases: [string, R, R, string | undefined][] = [
    ["the host's exact key: the fleet is not asked", { pick: 'h', how: 'exact' }, { pick: 'f', how: 'exact' }, 'host:h:exact'],
    [
      "no exact key on the host: the fleet's exact key before the host's near one",
      { pick: 'h', how: 'fallback' },
      { pick: 'f', how: 'exact' },
      'fleet:f:exact',
    ],
    ["near archives on both: the host's (no transfer)", { pick: 'h', how: 'fallback' }, { pick: 'f', how: 'fallback' }, 'host:h:fallback'],
    ["nothing on the host: the fleet's near archive", undefined, { pick: 'f', how: 'fallback' }, 'fleet:f:fallback'],
    ['nothing anywhere', undefined, undefined, undefined],
  ];
  test.each(cases)('%s', (_, host, fleet, want) => {
    let asked = 0;
    const r = restoreTier(host, () => (asked++, fleet));
    expect(r && `${r.tier}:${r.pick}:${r.how}`).toBe(want);
    expect(asked).toBe(host?.how === 'exact' ? 0 : 1);
  });
  test('no fleet tier configured: the host alone', () => {
    expect(restoreTier({ pick: 'h', how: 'fallback' }, undefined)).toEqual({ pick: 'h', how: 'fallback', tier: 'host' });
  });
});

describe("whether a job's end saves an archive (the one rule: job/tiers.ts and the simulator call it)", () => {
  const base: SaveInput = { enabled: true, layout: 'slot', fork: false, builtElsewhere: false, builtDependencies: 12, exact: 'E', packages: 40 };
  const cases: [string, Partial<SaveInput>, 'save' | 'replace' | RegExp][] = [
    ['a build that compiled dependencies, none saved yet', {}, 'save'],
    ['the tier off', { enabled: false }, /host-archives is off/],
    ['layout: job has a CARGO_HOME of its own', { layout: 'job' }, /layout: job/],
    ['a fork PR never writes what another job reads', { fork: true }, /a fork PR never writes/],
    ["a container job's build, seen from the hook on the host", { builtElsewhere: true }, /the build ran in the job's container/],
    ['no dependency compiled (a warm start, a restored one)', { builtDependencies: 0 }, /compiled no dependency/],
    ['no Cargo.lock: no exact key', { exact: undefined }, /no Cargo.lock/],
    ['nothing of dependencies in the build dir', { packages: 0 }, /no dependency artifacts/],
    ['its own archive of the key, as full (it restored it, or another job saved it)', { own: { packages: 40 } }, /is there already/],
    ["its own archive of the key holds fewer packages (a cancelled build's): replaced", { own: { packages: 25 } }, 'replace'],
    ["its base's archive of the key, as full", { base: { packages: 40 } }, /its base branch's archive/],
    ["its base's holds fewer: the PR saves its own, never replaces its base's", { base: { packages: 10 } }, 'save'],
  ];
  test.each(cases)('%s', (_, o, want) => {
    const d = saveArchive({ ...base, ...o });
    if (want instanceof RegExp) {
      expect(d.save).toBe(false);
      expect(d.why).toMatch(want);
    } else {
      expect(d.save && (d.replace ? 'replace' : 'save')).toBe(want);
      expect(d.why).toMatch(/40 dependency packages, 12 compiled by this job/);
    }
  });
  test('the policy without archives never saves', () => {
    expect(makePolicy({ archives: false }).saveArchive(base).save).toBe(false);
    expect(SHIPPED.saveArchive(base).save).toBe(true);
  });
});

describe("the host tier's cap", () => {
  const v = (path: string, gib: number, value: number, o: Partial<ArchiveView> = {}) => ({ ...archive({ path, bytes: gib * GiB, ...o }), value });
  const cases: [string, ReturnType<typeof v>[], number, string | undefined, string[]][] = [
    ['under the cap: nothing goes', [v('a', 1, 1), v('b', 1, 2)], 3, undefined, []],
    ['over it: the least worth first, until under', [v('a', 2, 5), v('b', 2, 1), v('c', 2, 3)], 3, undefined, ['b', 'c']],
    [
      'worth nothing goes first, a spent merge-queue entry before it',
      [v('q', 1, 4, { domain: 'ref-gh-readonly-queue-main-pr-1+abc' }), v('z', 1, 0), v('w', 1, 9)],
      1,
      undefined,
      ['q', 'z'],
    ],
    ['equals (within 25%) by age, the oldest first', [v('new', 1, 2, { savedMs: T0 + 2 }), v('old', 1, 2.2, { savedMs: T0 + 1 })], 1, undefined, ['old']],
    [
      'the archive just saved stays, and one a restore reads',
      [v('just-saved', 2, 0.1), v('reading', 2, 0.1, { live: true }), v('c', 2, 5)],
      3,
      'just-saved',
      ['c'],
    ],
  ];
  test.each(cases)('%s', (_, archives, capGiB, keep, out) => {
    expect(trimArchives(archives, capGiB * GiB, keep).map((a) => a.path)).toEqual(out);
  });
});

describe('what a start fetched from the fleet store keeps in the host tier', () => {
  const disk = (freeBytes: number): Disk => ({
    totalBytes: 100,
    usedBytes: 100 - freeBytes,
    freeBytes,
    usedPercent: 100 - freeBytes,
    inodes: 0,
    inodesFree: 0,
    inodePercent: 0,
  });
  test.each<[string, number, Level, boolean]>([
    ['room for the largest build left: kept', 30, { kind: 'free', bytes: 20 }, true],
    ["less free than the largest build: dropped, the room is the build's", 10, { kind: 'free', bytes: 20 }, false],
    ['under a hard level in percent: kept', 30, { kind: 'percent', percent: 90 }, true],
    ['over it: dropped', 5, { kind: 'percent', percent: 90 }, false],
  ])('%s', (_, free, hard, keep) => {
    expect(keepFetched(disk(free), hard)).toBe(keep);
    expect(SHIPPED.keepFetched(disk(free), hard)).toBe(keep);
  });
});
