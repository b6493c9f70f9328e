import { describe, expect, test } from '@jest/globals';
import { CANCEL_RELEASE_MS, rankSlots, type SlotView, waitBudget } from '../src/pool/choose.js';
import { DEFAULT_GAP_MS, addClosed, emptyStats, slotValues, statsOf, valueRank } from '../src/pool/value.js';
import { parseClosed, parseLog } from '../src/pool/warmth.js';
import { closedPr } from '../src/job/forget.js';
import type { DirRecord } from '../src/model/record.js';
import { historyLine, slotRecord } from './helpers/records.js';

/*
 * The value rule (src/pool/value.ts), the chooser ordering by it, the wait rule and closed PRs,
 * as tables. Every number here is plain arithmetic on the rule: value = √saving (minutes) / size
 * (GiB) / time to next use (hours).
 */
const GiB = 2 ** 30;
const H = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const NOW = T0 + 24 * H;

const rec = (o: Partial<DirRecord>): DirRecord =>
  slotRecord({ job: 'test', leasedAt: at(23 * H), lastUsed: at(23.5 * H), sizes: { target: 4 * GiB, cargoHome: 0, tmp: 0, measuredAt: at(23.5 * H) }, ...o });
const idle = (name: string, o: Partial<DirRecord> = {}): SlotView => ({ name, live: false, record: rec(o) });
/** One job's line in the history: a cold `test` of pr-1 by default. */
const line = historyLine(at);

describe('the history the value rule reads', () => {
  test('runs are counted once per run id, whatever the number of its jobs; gaps, savings and bases follow', () => {
    const s = statsOf([
      line({ at: 1 * H, run: '1', ms: 20 * 60_000 }),
      line({ at: 1 * H, run: '1', job: 'lint', ms: 5 * 60_000 }),
      line({ at: 3 * H, run: '2', built: 1, fresh: 90, ms: 2 * 60_000 }), // warm
      line({ at: 5 * H, run: '3', key: 'pr-2', base: 'ref-main' }),
    ]);
    expect(s.keys.get('acme/w#pr-1')).toMatchObject({ runs: 2, first: T0 + H, last: T0 + 3 * H });
    expect(s.jobs.get('acme/w|ci|test|')).toEqual({ cold: 20 * 60_000, warm: 2 * 60_000 });
    expect(s.bases.has('acme/w#ref-main')).toBe(true);
    expect(s.firstRuns.get('acme/w')).toEqual({ n: 1, since: T0 + 5 * H });
  });
  test('lines of older versions (no run id, no lease time) still count runs, ten minutes apart', () => {
    const s = statsOf([
      line({ at: H, run: undefined, ms: undefined }),
      line({ at: H + 60_000, run: undefined, ms: undefined, job: 'lint' }),
      line({ at: 2 * H, run: undefined, ms: undefined }),
    ]);
    expect(s.keys.get('acme/w#pr-1')?.runs).toBe(2);
    expect(s.jobs.size).toBe(0);
  });
  test('a closed PR that runs again was reopened', () => {
    const s = statsOf([line({ at: 5 * H })], [{ t: at(2 * H), repository: 'acme/w', key: 'pr-1' }]);
    expect(s.closed.has('acme/w#pr-1')).toBe(false);
    const t = statsOf([line({ at: H })], [{ t: at(2 * H), repository: 'acme/w', key: 'pr-1' }]);
    expect(t.closed.get('acme/w#pr-1')).toBe(T0 + 2 * H);
  });
  test('closed lines are their own kind in the log: the job parser skips them, and the reverse', () => {
    const text = [
      '{"t":"2026-03-01T01:00:00Z","repository":"acme/w","key":"pr-1","closed":true}',
      '{"t":"2026-03-01T02:00:00Z","repository":"acme/w","job":"test","key":"pr-2","runner":"r","slot":"s000","built":1,"fresh":9}',
      'torn{"t":"x","repository":"acme/w","key":"pr-3","closed":true}',
    ].join('\n');
    expect(parseClosed(text).map((c) => c.key)).toEqual(['pr-1', 'pr-3']);
    expect(parseLog(text).map((e) => e.key)).toEqual(['pr-2']);
  });
});

describe('what an idle build is worth', () => {
  // A history where pr-1 ran every 2 hours and the job `test` saves 16 minutes warm (20 cold, 4 warm).
  const history = (): ReturnType<typeof statsOf> =>
    statsOf([
      line({ at: 16 * H, run: 'a' }),
      line({ at: 18 * H, run: 'b', built: 1, fresh: 90, ms: 4 * 60_000 }),
      line({ at: 20 * H, run: 'c' }),
      line({ at: 22 * H, run: 'd' }),
    ]);
  const value = (slots: SlotView[], s = history(), now = NOW) => slotValues(slots, s, now);
  // √(20 - 4 minutes saved) / 4 GiB / 2 h between runs = 4 / 4 / 2.
  const BASE = 0.5;
  const cases: [string, Partial<DirRecord>, number][] = [
    ['the rule: √saving / size / gap between runs', {}, BASE],
    ['twice the size: half the worth', { sizes: { target: 8 * GiB, cargoHome: 0, tmp: 0, measuredAt: 'x' } }, BASE / 2],
    ['idle for longer than its gap: worth falls with idle time (6 h idle, 2 h gap)', { lastUsed: at(18 * H) }, BASE / 3],
    ["a job the host has not seen cold counts as the repository's typical job", { job: 'docs' }, BASE],
    ["a key seen once counts as the repository's typical key", { key: 'pr-9' }, BASE],
    ['a record without a size counts as 1 GiB', { sizes: undefined }, BASE * 4],
    ['a target the guard pruned is worth nothing', { prunedAt: at(23 * H), sizes: { target: 0, cargoHome: 0, tmp: 0, measuredAt: 'x' } }, 0],
  ];
  test.each(cases)('%s', (_, o, v) => {
    expect(value([idle('s0', o)]).get('s0')).toBeCloseTo(v, 6);
  });
  test('nothing known yet: ten minutes saved and two hours between runs', () => {
    expect(value([idle('s0')], emptyStats()).get('s0')).toBeCloseTo(Math.sqrt(10) / 4 / (DEFAULT_GAP_MS / H), 6);
  });
  test('a PR said to be closed is worth nothing; its builds made after a reopening are worth again', () => {
    const s = history();
    addClosed(s, 'acme/w', 'pr-1', T0 + 23.6 * H);
    expect(value([idle('s0')], s).get('s0')).toBe(0);
    expect(value([idle('s0', { lastUsed: at(23.7 * H) })], s).get('s0')).toBeGreaterThan(0);
  });
  test('an older build of the same key and job, when a newer one is idle too, is worth nothing', () => {
    const v = value([idle('old', { lastUsed: at(22 * H) }), idle('new'), idle('other-job', { job: 'lint', lastUsed: at(21 * H) })]);
    expect(v.get('old')).toBe(0);
    expect(v.get('new')).toBeCloseTo(BASE, 6);
    expect(v.get('other-job')).toBeGreaterThan(0);
    // The newer one live (a run building in it): the older one is the job's only idle build.
    expect(value([idle('old', { lastUsed: at(22 * H) }), { ...idle('new'), live: true }]).get('old')).toBeGreaterThan(0);
  });
  test("the base branch: first runs start from it, so its rate adds the repository's first runs; its older builds keep their worth", () => {
    const s = statsOf([
      line({ at: 12 * H, run: 'm1', key: 'ref-main' }),
      line({ at: 22 * H, run: 'm2', key: 'ref-main' }), // main: every 10 hours
      ...[1, 2, 3, 4].map((i) => line({ at: (18 + i) * H, run: `p${i}`, key: `pr-${i + 10}`, base: 'ref-main' })), // 4 new PRs in 4 hours
    ]);
    const main = value([idle('old', { key: 'ref-main', lastUsed: at(12 * H) }), idle('new', { key: 'ref-main', lastUsed: at(22 * H) })], s);
    // rate: 1/10 h (its pushes) + 4 first runs / 6 h since the first one = 0.767/h: one use every 1.3 h.
    const rate = 1 / 10 + 4 / 6;
    expect(main.get('new')).toBeCloseTo(Math.sqrt(20) / 4 / Math.max(1 / rate, 2), 6); // idle 2 h is longer
    expect(main.get('old')).toBeCloseTo(Math.sqrt(20) / 4 / 12, 6); // idle 12 h
  });
  test('live slots and slots holding nothing get no value or 0', () => {
    const v = value([
      { name: 'live', live: true, record: rec({}) },
      { name: 'bare', live: false },
    ]);
    expect(v.has('live')).toBe(false);
    expect(v.get('bare')).toBe(0);
  });
  test('values within 25% share a rank; 0 ranks first, unknown last', () => {
    expect(valueRank(2)).toBe(valueRank(2.2));
    expect(valueRank(2)).toBeLessThan(valueRank(2.6));
    expect(valueRank(0)).toBe(-Infinity);
    expect(valueRank(undefined)).toBe(Infinity);
  });
});

describe('the chooser, by value', () => {
  const me = { repository: 'acme/w', key: 'pr-5', runnerId: 'r1', workflow: 'ci', job: 'test', jobKey: '', runId: '20', runAttempt: '1', baseKey: 'ref-main' };
  const v = (name: string, value: number, o: Partial<DirRecord> = {}): SlotView => ({ ...idle(name, { key: 'pr-2', ...o }), value });
  const cases: [string, SlotView[], boolean, string[]][] = [
    [
      'under pressure: the least valuable build is wiped, not the least recently used',
      [v('old-valuable', 9, { lastUsed: at(1 * H) }), v('new-cheap', 1, { lastUsed: at(23 * H) })],
      false,
      ['new-cheap', 'old-valuable'],
    ],
    [
      "a sibling's warm build of its own PR goes by value like any other",
      [v('sibling', 9, { key: 'pr-5', job: 'lint' }), v('stranger', 2, { job: 'lint' })],
      false,
      ['stranger', 'sibling'],
    ],
    [
      "among equals: this job's path, then a sibling's, then the oldest",
      [v('other', 2, { job: 'lint', lastUsed: at(1 * H) }), v('sibling', 2.1, { key: 'pr-5', job: 'lint' }), v('same-job', 2.2)],
      false,
      ['same-job', 'sibling', 'other'],
    ],
    ["with room no warm build is wiped, a sibling's included: a new slot", [v('sibling', 9, { key: 'pr-5', job: 'lint' }), v('stranger', 2)], true, []],
    [
      "a build worth nothing (a closed PR's) is taken even with room, as an empty slot is",
      [v('closed', 0, { key: 'pr-3' }), v('stranger', 2)],
      true,
      ['closed'],
    ],
    ['an older copy of its own job stays its own warm build', [v('older', 0, { key: 'pr-5', lastUsed: at(1 * H) }), v('stranger', 2)], true, ['older']],
  ];
  test.each(cases)('%s', (_, slots, room, names) => {
    expect(rankSlots(slots, me, { room }).candidates.map((c) => c.name)).toEqual(names);
  });
  test("the own-key cascade is gone: a job whose build was evicted takes the cheapest build, not its sibling's", () => {
    const slots = [v('lint-of-pr-5', 6, { key: 'pr-5', job: 'lint' }), v('pr-2', 1), v('pr-3', 3)];
    expect(rankSlots(slots, me, { room: false }).candidates[0]).toEqual({ name: 'pr-2', tier: 'same-job' });
  });
});

describe('how long to wait for an earlier run', () => {
  const me = (o: Partial<{ key: string; eventName: string; runId: string; runAttempt: string }>) => ({
    key: 'pr-5',
    eventName: 'pull_request',
    runId: '20',
    runAttempt: '1',
    ...o,
  });
  const pred = (o: Partial<DirRecord> = {}) => rec({ key: 'pr-5', runId: '19', ...o });
  const cases: [string, ReturnType<typeof me>, DirRecord, number, number][] = [
    ["a PR's earlier run, cancelled by the new push: as long as a cancel takes", me({}), pred(), 60_000, CANCEL_RELEASE_MS],
    ['pull_request_target too', me({ eventName: 'pull_request_target' }), pred(), 60_000, CANCEL_RELEASE_MS],
    ['never longer than lease-wait', me({}), pred(), 5_000, 5_000],
    ['lease-wait 0: never', me({}), pred(), 0, 0],
    [
      'an earlier attempt of the same run (a re-run starts once it ended): its post steps',
      me({ key: 'ref-main', eventName: 'push', runAttempt: '2' }),
      pred({ key: 'ref-main', runId: '20', runAttempt: '1' }),
      60_000,
      CANCEL_RELEASE_MS,
    ],
    [
      'overlapping pushes to a branch: that run is not cancelled, waiting cannot pay',
      me({ key: 'ref-main', eventName: 'push' }),
      pred({ key: 'ref-main' }),
      60_000,
      0,
    ],
    ['a tag', me({ key: 'tag-v1', eventName: 'push' }), pred({ key: 'tag-v1' }), 60_000, 0],
    ['a schedule', me({ key: 'ref-main', eventName: 'schedule' }), pred({ key: 'ref-main' }), 60_000, 0],
    [
      'a merge-queue entry (every entry is a branch of its own)',
      me({ key: 'ref-gh-readonly-queue-main-pr-1+abc', eventName: 'merge_group' }),
      pred({ key: 'ref-gh-readonly-queue-main-pr-1+abc' }),
      60_000,
      0,
    ],
  ];
  test.each(cases)('%s', (_, m, p, leaseWait, ms) => {
    expect(waitBudget(m, p, leaseWait).ms).toBe(ms);
  });
});

describe('a run on a closed PR', () => {
  const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REPOSITORY: 'acme/w' };
  const cases: [string, Record<string, string>, object, string | undefined][] = [
    ['pull_request closed (merged or not)', env, { action: 'closed', number: 12, pull_request: { number: 12, merged: true } }, 'pr-12'],
    ['pull_request_target closed', { ...env, GITHUB_EVENT_NAME: 'pull_request_target' }, { action: 'closed', pull_request: { number: 7 } }, 'pr-7'],
    ['a push to the PR (synchronize) is no close', env, { action: 'synchronize', number: 12 }, undefined],
    ['a push event', { ...env, GITHUB_EVENT_NAME: 'push' }, { action: 'closed', number: 12 }, undefined],
    ['no PR number in the payload', env, { action: 'closed' }, undefined],
    ['no repository', { GITHUB_EVENT_NAME: 'pull_request' }, { action: 'closed', number: 12 }, undefined],
  ];
  test.each(cases)('%s', (_, e, payload, key) => {
    expect(closedPr(e, payload)?.key).toBe(key);
  });
});
