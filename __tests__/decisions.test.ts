import { describe, expect, test } from '@jest/globals';
import { earlierRun, rankSlots, type SlotView, type Tier } from '../src/pool/choose.js';
import { spentQueueEntry, worthless } from '../src/pool/value.js';
import { beyond, diskFromStatfs } from '../src/os/disk.js';
import { type Candidate, planPrune } from '../src/pool/guard.js';
import { identityFrom } from '../src/model/identity.js';
import { canManage, handBackTo } from '../src/owners/owner.js';
import { contentKey, safeComponent } from '../src/model/key.js';
import { devId, parseProcLocks } from '../src/os/liveness.js';
import { decideReset } from '../src/pool/reset.js';
import type { DirRecord } from '../src/model/record.js';
import { refuseRoot, unreliableFlock } from '../src/pool/root.js';
import { DEFAULTS, type Settings, defaultRoot, readSettings } from '../src/model/settings.js';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { formatBytes, parseDuration, parseLevel, parseSize } from '../src/model/units.js';
import { slotRecord } from './helpers/records.js';

describe('units', () => {
  test.each([
    ['20GiB', 20 * 2 ** 30],
    ['512MB', 512e6],
    ['1.5gb', 1.5e9],
    ['1.5g', undefined], // G is GiB to df -h and 10^9 to others: refused with both readings (settings.ts)
    ['20T', undefined],
    ['1048576b', 1048576],
    ['10 kib', 10240],
    ['0', 0],
    ['1048576', undefined], // a bare number: which unit? refused (settings.ts says what it may have meant)
    ['', undefined],
    ['-1G', undefined],
    ['12XB', undefined],
    ['1e9', undefined],
    ['GiB', undefined],
  ])('parseSize(%p) = %p', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  test.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['0', 0],
    ['250ms', 250],
    ['45', undefined],
    ['1w', undefined],
    ['-5s', undefined],
    ['soon', undefined],
  ])('parseDuration(%p) = %p', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each([
    ['85%', { kind: 'percent', percent: 85 }],
    ['99.5%', { kind: 'percent', percent: 99.5 }],
    ['20GiB', { kind: 'free', bytes: 20 * 2 ** 30 }],
    ['100%', undefined],
    ['0%', undefined],
    ['150%', undefined],
    ['0', undefined],
    ['%', undefined],
    ['eighty', undefined],
    ['85', undefined],
  ])('parseLevel(%p)', (text, level) => expect(parseLevel(text)).toEqual(level));

  test('formatBytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(20 * 2 ** 30)).toBe('20.0 GiB');
  });
});

describe('safeComponent and keys', () => {
  const hostile = [
    '../../etc',
    'a'.repeat(300),
    'feature/ünïcødé',
    'with spaces',
    '.hidden',
    '-dash',
    'a/../b',
    '',
    '..',
    'x\0y',
    'foo+bar',
    '🦀',
    'CON',
    'main\n',
  ];
  test.each(hostile)('%j maps to a bounded, plain path component', (raw) => {
    const c = safeComponent(raw);
    expect(c.length).toBeGreaterThan(0);
    expect(c.length).toBeLessThanOrEqual(64);
    expect(c).toMatch(/^[A-Za-z0-9+][A-Za-z0-9._+-]*$/);
    expect(c).not.toContain('..');
    expect(c).not.toContain('/');
  });
  test('plain names pass through unchanged', () => {
    for (const n of ['main', 'release-1.2', 'feature_x', 'v1.0.0']) expect(safeComponent(n)).toBe(n);
  });
  test('the mapping is injective on near-collisions', () => {
    const names = ['feature/a', 'feature-a', 'feature a', 'feature_a', 'Feature/a', 'a'.repeat(300), 'a'.repeat(301), '../x', '..-x'];
    const mapped = names.map((n) => safeComponent(n));
    expect(new Set(mapped).size).toBe(names.length);
    // A branch cannot be named after another branch's mapped form.
    expect(safeComponent(safeComponent('feature/a'))).not.toBe(safeComponent('feature/a'));
  });
  test('content keys', () => {
    expect(contentKey(12, 'ignored')).toBe('pr-12');
    expect(contentKey(undefined, 'main')).toBe('ref-main');
    expect(contentKey(undefined, '../../etc')).toMatch(/^ref-etc\+[0-9a-f]{16}$/);
  });
});

describe('identity', () => {
  const base = { GITHUB_REPOSITORY: 'acme/w', GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '2', GITHUB_JOB: 'test', RUNNER_NAME: 'r1', GITHUB_WORKFLOW: 'ci' };
  test('pull request from the payload, fork detected', () => {
    const id = identityFrom(
      { ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_HEAD_REF: 'feat/x', GITHUB_REF: 'refs/pull/5/merge' },
      { pull_request: { number: 5, head: { repo: { full_name: 'eve/w' } }, base: { repo: { full_name: 'acme/w' } } } },
      'abcd',
      'h',
    );
    expect(id).toMatchObject({ pr: 5, key: 'pr-5', branch: 'feat/x', fork: true, jobUid: '77-2-test-abcd', runnerName: 'r1' });
  });
  test('same-repo PR is not a fork; a deleted head repo is', () => {
    const pr = (head: { full_name?: string } | null) =>
      identityFrom(base, { pull_request: { number: 1, head: { repo: head }, base: { repo: { full_name: 'acme/w' } } } }, 'n', 'h').fork;
    expect(pr({ full_name: 'acme/w' })).toBe(false);
    expect(pr(null)).toBe(true);
  });
  test('PR number from refs/pull/N/ when the payload is empty (act)', () => {
    expect(identityFrom({ ...base, GITHUB_REF: 'refs/pull/31/head' }, {}, 'n', 'h').key).toBe('pr-31');
  });
  test('push: branch key', () => {
    expect(identityFrom({ ...base, GITHUB_REF: 'refs/heads/dev', GITHUB_REF_NAME: 'dev' }, {}, 'n', 'h')).toMatchObject({
      key: 'ref-dev',
      fork: false,
      pr: undefined,
    });
  });
  test('missing variables (local run, Forgejo without RUNNER_NAME) fall back', () => {
    const id = identityFrom({}, {}, 'n', 'myhost');
    expect(id.repository).toBe('local/local');
    expect(id.key).toBe('ref-local');
    expect(id.runnerName).toBe('myhost');
    expect(id.runId).toMatch(/^local-/);
    expect(id.jobUid).toMatch(/-1-job-n$/);
  });
  const runnerCases: [string, Record<string, string>, string | undefined, boolean, string, string][] = [
    ["the operator's input wins", { RUNNER_NAME: 'r1', CARGO_ISOLATE_RUNNER: 'env' }, 'input', false, 'input', 'operator'],
    ['then CARGO_ISOLATE_RUNNER (Forgejo runner.envs)', { RUNNER_NAME: 'r1', CARGO_ISOLATE_RUNNER: 'env' }, undefined, true, 'env', 'operator'],
    ['then RUNNER_NAME, on the host', { RUNNER_NAME: 'r1', RUNNER_WORKSPACE: '/srv/a/_work/w' }, undefined, false, 'r1', 'RUNNER_NAME'],
    ['and the same RUNNER_NAME in a container job of that runner', { RUNNER_NAME: 'r1', RUNNER_WORKSPACE: '/__w/w' }, undefined, true, 'r1', 'RUNNER_NAME'],
    ['no RUNNER_NAME on a host: the host', {}, undefined, false, 'h', 'host name'],
    ['no RUNNER_NAME in a container (Forgejo): the root stands for the runner', {}, undefined, true, '(this host)', 'root'],
  ];
  test.each(runnerCases)('runner identity: %s', (_, env, input, container, id, from) => {
    const r = identityFrom({ ...env }, {}, 'n', 'h', { container, runnerName: input });
    expect([r.runnerId, r.runnerFrom]).toEqual([id, from]);
  });
  test('container jobs of one runner with their own host names are one runner', () => {
    const a = identityFrom({}, {}, 'n', 'c0ffee01', { container: true });
    const b = identityFrom({}, {}, 'n', 'c0ffee02', { container: true });
    expect(a.runnerId).toBe(b.runnerId);
  });
  test('a PR knows its base branch (GITHUB_BASE_REF, the payload, or the default branch); a push has none', () => {
    const pr = { ...base, GITHUB_REF: 'refs/pull/3/merge' };
    expect(identityFrom({ ...pr, GITHUB_BASE_REF: 'release/1.x' }, {}, 'n', 'h').baseKey).toBe(
      'ref-release-1.x+' + identityFrom({ GITHUB_REF_NAME: 'release/1.x' }, {}, 'n', 'h').key.split('+')[1],
    );
    expect(identityFrom(pr, { pull_request: { number: 3, base: { ref: 'dev' } } }, 'n', 'h').baseKey).toBe('ref-dev');
    expect(identityFrom(pr, { repository: { default_branch: 'trunk' } }, 'n', 'h').baseKey).toBe('ref-trunk');
    expect(identityFrom({ ...base, GITHUB_REF: 'refs/heads/main', GITHUB_BASE_REF: 'main' }, {}, 'n', 'h').baseKey).toBeUndefined();
  });
  test('matrix legs share run and job but not the job uid', () => {
    const a = identityFrom(base, {}, 'aaaa', 'h');
    const b = identityFrom(base, {}, 'bbbb', 'h');
    expect(a.jobUid).not.toBe(b.jobUid);
  });
});

describe('settings', () => {
  const get = (m: Record<string, string>) => (n: string) => m[n] ?? '';
  test('defaults', () => {
    const s = readSettings(get({}), { HOME: '/home/u' });
    expect(s).toMatchObject({
      root: '/home/u/.cache/cargo-isolate',
      layout: 'slot',
      reuse: 'same-key',
      pruneScope: 'runner',
      dryRun: false,
      leaseWaitMs: 60_000,
      publishCrates: 'trusted',
      cache: false,
    });
    expect(s.diskThreshold).toEqual({ kind: 'percent', percent: 85 });
    expect(s.diskTarget).toEqual({ kind: 'percent', percent: 85 }); // the threshold itself: prune just under it
    expect(defaultRoot({ CARGO_ISOLATE_ROOT: '/mnt/x' })).toBe('/mnt/x');
  });
  test('every default has one home (settings.ts DEFAULTS), and action.yml states the same', () => {
    const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> };
    const stated = Object.fromEntries(
      Object.entries(action.inputs)
        .filter(([, i]) => i.default !== undefined && i.default !== '')
        .map(([n, i]) => [n, String(i.default)]),
    );
    expect(stated).toEqual(DEFAULTS);
    // Unset is the default, as the action's runner passes it: the same settings either way.
    expect(readSettings(get({}), { HOME: '/h' })).toEqual(readSettings(get(DEFAULTS), { HOME: '/h' }));
  });
  test('and no other file of src/ writes a default again (a level or a duration, as text)', () => {
    const spelled = Object.values(DEFAULTS)
      .filter((v) => /\d/.test(v))
      .map((v) => `'${v}'`);
    const count = (text: string, s: string) => text.split(s).length - 1;
    const files = readdirSync('src', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts'));
    const copies = files.flatMap((f) => spelled.map((s) => [f, s, count(readFileSync(`src/${f}`, 'utf8'), s)] as const));
    expect(spelled.length).toBeGreaterThan(3);
    expect(copies.filter(([f, , n]) => n > (f === 'model/settings.ts' ? 1 : 0))).toEqual([]);
  });
  test('the target defaults to the threshold itself, in either form; a lower one can be set', () => {
    expect(readSettings(get({ 'disk-threshold': '20GiB' }), {}).diskTarget).toEqual({ kind: 'free', bytes: 20 * 2 ** 30 });
    expect(readSettings(get({ 'disk-threshold': '90%' }), {}).diskTarget).toEqual({ kind: 'percent', percent: 90 });
    expect(readSettings(get({ 'disk-threshold': '90%', 'disk-target': '80%' }), {}).diskTarget).toEqual({ kind: 'percent', percent: 80 });
  });
  test.each([
    ['layout', 'slots', "Input 'layout' is 'slots'. Expected one of 'slot', 'job'."],
    ['reuse', 'sometimes', "Input 'reuse' is 'sometimes'. Expected one of 'same-key', 'never', 'always'."],
    ['disk-threshold', '150%', "Input 'disk-threshold' is '150%'. Expected a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB)."],
    ['disk-threshold', 'lots', "Input 'disk-threshold' is 'lots'."],
    ['disk-target', '90%', "Input 'disk-target' is '90%'. Expected a level at or below 'disk-threshold' (85%)."],
    ['prune-scope', 'world', "Input 'prune-scope' is 'world'."],
    ['dry-run', 'yes', "Input 'dry-run' is 'yes'. Expected 'true' or 'false'."],
    ['fail-below', '5 apples', "Input 'fail-below' is '5 apples'."],
    ['lease-wait', 'forever', "Input 'lease-wait' is 'forever'."],
    ['max-lease', '10s', "Input 'max-lease' is '10s'. Expected a duration such as 30s, 5m or 2h of at least 60s."],
    ['publish-crates', 'sometimes', "Input 'publish-crates' is 'sometimes'."],
    ['cache', 'maybe', "Input 'cache' is 'maybe'."],
    ['cleanup-timeout', '0', "Input 'cleanup-timeout' is '0'."],
  ])('%s: %p is refused with a message naming input, value and form', (name, value, message) => {
    expect(() => readSettings(get({ [name]: value }), {})).toThrow(message);
  });
});

describe('roots', () => {
  test.each(['/', '/etc', '/etc/ci', '/usr/local', '/usr/lib/x', '/proc/1', '/home', '/tmp', '/var', '/boot/x', '/dev/shm/x'])('%s is refused', (p) => {
    expect(refuseRoot(p, {})).toMatch(/system directory/);
  });
  test('RUNNER_TEMP and the workspace are refused, the home directory too', () => {
    expect(refuseRoot('/w/_temp/ci', { RUNNER_TEMP: '/w/_temp' })).toMatch(/RUNNER_TEMP/);
    expect(refuseRoot('/w/repo/repo/.cache', { GITHUB_WORKSPACE: '/w/repo/repo' })).toMatch(/GITHUB_WORKSPACE/);
    expect(refuseRoot('/home/u', { HOME: '/home/u' })).toMatch(/home directory/);
  });
  test('dedicated directories are accepted', () => {
    for (const p of ['/mnt/ci-cache', '/home/u/.cache/cargo-isolate', '/tmp/ci/root', '/var/lib/cargo-isolate'])
      expect(refuseRoot(p, { HOME: '/home/u' })).toBeUndefined();
  });
});

const rec = (o: Partial<DirRecord>): DirRecord => slotRecord(o);
const me = { repository: 'acme/w', key: 'pr-1', runnerId: 'r1', workflow: 'ci', job: 'build', jobKey: '', runId: '20', runAttempt: '1', baseKey: 'ref-main' };
const free = (name: string, o: Partial<DirRecord>): SlotView => ({ name, live: false, record: rec(o) });

describe('choosing a slot', () => {
  test("own job, base branch, then (under pressure) every other build: same job first, then a sibling's, then the oldest; runner only breaks ties", () => {
    const slots: SlotView[] = [
      free('s000', { key: 'pr-2', job: 'lint', runnerId: 'r1', lastUsed: '2026-01-03T00:00:00Z' }),
      free('s001', { key: 'pr-3', job: 'build', runnerId: 'r2' }),
      free('s002', { key: 'pr-1', job: 'lint', runnerId: 'r9' }),
      free('s003', { key: 'pr-4', job: 'lint', runnerId: 'r3', lastUsed: '2026-01-02T00:00:00Z' }),
      { name: 's004', live: true, record: rec({ key: 'pr-1', runnerId: 'r1' }) },
      free('s005', { key: 'pr-1', job: 'build', runnerId: 'r7', lastUsed: '2026-01-05T00:00:00Z' }),
      free('s006', { key: 'ref-main', job: 'build', runnerId: 'r2' }),
      free('s007', { key: 'pr-1', job: 'build', runnerId: 'r1', lastUsed: '2026-01-02T00:00:00Z' }),
    ];
    expect(rankSlots(slots, me)).toEqual({
      candidates: [
        { name: 's007', tier: 'own-job' }, // this runner's breaks the tie with the newer s005
        { name: 's005', tier: 'own-job' },
        { name: 's006', tier: 'base' },
        { name: 's001', tier: 'same-job' }, // no values known: all equal, this job's path first,
        { name: 's002', tier: 'own-key' }, // then a sibling's of its own PR (nothing to wipe),
        { name: 's003', tier: 'lru' }, // then the oldest
        { name: 's000', tier: 'lru' },
      ],
      waitFor: undefined,
    });
  });
  test.each([
    ['another workflow', { workflow: 'nightly' }],
    ['another job', { job: 'bench' }],
    ['another matrix key', { jobKey: 'aarch64' }],
  ])('a slot of the same PR but %s is own-key, not own-job', (_, o) => {
    expect(rankSlots([free('s0', o)], me).candidates[0].tier).toBe('own-key');
  });
  test('matrix legs come back to their own key', () => {
    const legs = [free('s0', { jobKey: 'x86_64' }), free('s1', { jobKey: 'aarch64', lastUsed: '2026-01-09T00:00:00Z' })];
    expect(rankSlots(legs, { ...me, jobKey: 'x86_64' }).candidates[0]).toEqual({ name: 's0', tier: 'own-job' });
    expect(rankSlots(legs, { ...me, jobKey: 'aarch64' }).candidates[0]).toEqual({ name: 's1', tier: 'own-job' });
  });
  test.each([
    ['a push to another branch', { key: 'ref-dev' }, 'same-job'],
    ['another job of the base branch', { key: 'ref-main', job: 'lint' }, 'lru'],
    ['the base branch of another repository', { key: 'ref-main', repository: 'other/w' }, 'lru'],
  ])('no base takeover from %s', (_, o, tier) => {
    expect(rankSlots([free('s0', o)], me).candidates[0].tier).toBe(tier);
  });
  test('a push has no base branch: the base tier is only for PRs', () => {
    const push = { ...me, key: 'ref-feature', baseKey: undefined };
    expect(rankSlots([free('s0', { key: 'ref-main' })], push).candidates[0].tier).toBe('same-job');
  });
  test('the base branch keeps its newest slot of the job once it has two; a single one goes to the PR', () => {
    const two = [free('old', { key: 'ref-main', lastUsed: '2026-01-01T00:00:00Z' }), free('new', { key: 'ref-main', lastUsed: '2026-01-04T00:00:00Z' })];
    expect(rankSlots(two, me).candidates).toEqual([
      { name: 'old', tier: 'base' },
      { name: 'new', tier: 'same-job' },
    ]);
    const busy = [two[0], { ...two[1], live: true }]; // the newest is in use by a push right now
    expect(rankSlots(busy, me).candidates).toEqual([{ name: 'old', tier: 'base' }]);
    expect(rankSlots([two[0]], me).candidates).toEqual([{ name: 'old', tier: 'base' }]);
  });
  test('a slot of the same PR in another repository is not warm', () => {
    const plan = rankSlots([{ name: 's0', live: false, record: rec({ repository: 'other/w', runnerId: 'r2' }) }], me);
    expect(plan.candidates[0].tier).toBe('lru');
    expect(rankSlots([free('s0', { key: 'pr-2' })], me).candidates[0].tier).toBe('same-job');
  });
  test('wait for an earlier run of the same workflow and job holding the warm slot', () => {
    const slots: SlotView[] = [
      { name: 's0', live: true, record: rec({ runId: '19' }) },
      { name: 's1', live: false },
    ];
    expect(rankSlots(slots, me).waitFor).toBe('s0');
  });
  test.each([
    ['a matrix sibling', { runId: '20' }],
    ['a later run', { runId: '21' }],
    ['another workflow', { runId: '19', workflow: 'lint' }],
    ['another job', { runId: '19', job: 'docs' }],
    ['another key', { runId: '19', key: 'pr-2' }],
    ['another matrix key', { runId: '19', jobKey: 'arm' }],
  ])('no wait for %s', (_, o) => {
    expect(rankSlots([{ name: 's0', live: true, record: rec(o) }], me).waitFor).toBeUndefined();
  });
  test('no wait when a free warm slot exists', () => {
    const slots: SlotView[] = [
      { name: 's0', live: true, record: rec({ runId: '19' }) },
      { name: 's1', live: false, record: rec({}) },
    ];
    expect(rankSlots(slots, me)).toMatchObject({ waitFor: undefined, candidates: [{ name: 's1', tier: 'own-job' }] });
  });
  test('earlierRun compares run ids, then attempts, numerically', () => {
    expect(earlierRun({ runId: '9', runAttempt: '1' }, { runId: '10', runAttempt: '1' })).toBe(true);
    expect(earlierRun({ runId: '10', runAttempt: '1' }, { runId: '10', runAttempt: '2' })).toBe(true);
    expect(earlierRun({ runId: '10', runAttempt: '2' }, { runId: '10', runAttempt: '2' })).toBe(false);
    expect(earlierRun({ runId: 'local-1', runAttempt: '1' }, { runId: '10', runAttempt: '1' })).toBe(false);
  });
});

describe('the pool as a cache whose budget is the disk', () => {
  const queueKey = contentKey(undefined, 'gh-readonly-queue/main/pr-12-0123abcd');
  const pruned = { prunedAt: '2026-01-02T00:00:00Z', sizes: { target: 0, cargoHome: 5, tmp: 0, measuredAt: '2026-01-02T00:00:00Z' } };
  const warm = { sizes: { target: 3e9, cargoHome: 5e8, tmp: 0, measuredAt: '2026-01-02T00:00:00Z' } };
  // Each kind of free slot, alone, with and without room: its tier, or null when not taken.
  const kinds: [string, SlotView, Tier | null, Tier | null][] = [
    ['own job, warm', free('s0', warm), 'own-job', 'own-job'],
    ['own job, pruned', free('s0', pruned), 'own-job', 'own-job'],
    ["own key, another job, warm: a sibling's build, kept while there is room", free('s0', { ...warm, job: 'lint' }), null, 'own-key'],
    ['own key, another job, pruned', free('s0', { ...pruned, job: 'lint' }), 'own-key', 'own-key'],
    ["the base branch's only slot of this job", free('s0', { ...warm, key: 'ref-main' }), 'base', 'base'],
    ['the same job of another PR, warm', free('s0', { ...warm, key: 'pr-2' }), null, 'same-job'],
    ['the same job of another PR, record without sizes (warm)', free('s0', { key: 'pr-2' }), null, 'same-job'],
    ['the same job of another PR, pruned by the guard', free('s0', { ...pruned, key: 'pr-2' }), 'same-job', 'same-job'],
    [
      'the same job of another PR, left empty',
      free('s0', { key: 'pr-2', sizes: { target: 0, cargoHome: 0, tmp: 0, measuredAt: 'x' } }),
      'same-job',
      'same-job',
    ],
    ['another job of another PR, warm', free('s0', { ...warm, key: 'pr-2', job: 'lint' }), null, 'lru'],
    ['another job of another PR, pruned', free('s0', { ...pruned, key: 'pr-2', job: 'lint' }), 'lru', 'lru'],
    ['another repository, warm', free('s0', { ...warm, repository: 'other/w' }), null, 'lru'],
    ['a slot without a record', { name: 's0', live: false }, 'lru', 'lru'],
    ['a merge-queue entry whose run ended, same job', free('s0', { ...warm, key: queueKey }), 'same-job', 'same-job'],
    ['a merge-queue entry whose run ended, another job', free('s0', { ...warm, key: queueKey, job: 'lint' }), 'lru', 'lru'],
    ['a live slot of its own', { name: 's0', live: true, record: rec(warm) }, null, null],
    ['a live pruned slot', { name: 's0', live: true, record: rec({ ...pruned, key: 'pr-2' }) }, null, null],
  ];
  test.each(kinds.map(([what, slot, withRoom, underPressure]) => [what, withRoom, underPressure, slot] as const))(
    '%s: with room %p, under pressure %p',
    (_, withRoom, underPressure, slot) => {
      expect(rankSlots([slot], me, { room: true }).candidates[0]?.tier ?? null).toBe(withRoom);
      expect(rankSlots([slot], me, { room: false }).candidates[0]?.tier ?? null).toBe(underPressure);
      expect(rankSlots([slot], me).candidates).toEqual(rankSlots([slot], me, { room: false }).candidates); // no disk view: pressure
    },
  );

  test("the issue's case: a new PR never wipes another PR's warm build while there is room", () => {
    const slots = [
      free('s000', { ...warm, key: 'pr-2', runnerId: 'r1', lastUsed: '2026-01-01T00:00:00Z' }),
      free('s001', { ...warm, key: 'pr-3', runnerId: 'r2', lastUsed: '2026-01-05T00:00:00Z' }),
    ];
    expect(rankSlots(slots, { ...me, key: 'pr-9', baseKey: undefined }, { room: true }).candidates).toEqual([]); // make a new slot
  });

  test("under pressure, with no values known: worthless slots first, then warm builds, this job's path first, then the oldest; never the newest first", () => {
    const slots = [
      free('newest-mine', { ...warm, key: 'pr-2', runnerId: 'r1', lastUsed: '2026-01-09T00:00:00Z' }),
      free('old-other-job', { ...warm, key: 'pr-3', job: 'lint', runnerId: 'r5', lastUsed: '2026-01-02T00:00:00Z' }),
      free('older-same-job', { ...warm, key: 'pr-4', runnerId: 'r6', lastUsed: '2026-01-03T00:00:00Z' }),
      free('queue', { ...warm, key: queueKey, job: 'lint', runnerId: 'r7', lastUsed: '2026-01-08T00:00:00Z' }),
      free('pruned-lint', { ...pruned, key: 'pr-5', job: 'lint', lastUsed: '2026-01-01T00:00:00Z' }),
      free('pruned-build', { ...pruned, key: 'pr-6', lastUsed: '2026-01-07T00:00:00Z' }),
    ];
    const mine = { ...me, key: 'pr-9', baseKey: undefined };
    expect(rankSlots(slots, mine, { room: false }).candidates.map((c) => `${c.name}:${c.tier}`)).toEqual([
      'queue:lru', // a spent merge-queue entry holds nothing anyone uses again
      'pruned-build:same-job', // empty slots: this job's path first (sccache)
      'pruned-lint:lru',
      'older-same-job:same-job', // then warm builds, all of equal (unknown) worth: this job's path first (sccache),
      'newest-mine:same-job', // oldest first,
      'old-other-job:lru', // then the other jobs' (value.test.ts orders them by value)
    ]);
    expect(rankSlots(slots, mine, { room: true }).candidates.map((c) => c.name)).toEqual(['queue', 'pruned-build', 'pruned-lint']);
  });

  test("empty slots: this job's path first, then this runner's, then the oldest", () => {
    const slots = [
      free('lint-old', { ...pruned, key: 'pr-5', job: 'lint', lastUsed: '2026-01-01T00:00:00Z', runnerId: 'r3' }),
      free('build-r3', { ...pruned, key: 'pr-6', lastUsed: '2026-01-02T00:00:00Z', runnerId: 'r3' }),
      free('build-r1', { ...pruned, key: 'pr-7', lastUsed: '2026-01-04T00:00:00Z', runnerId: 'r1' }),
      free('build-r4', { ...pruned, key: 'pr-8', lastUsed: '2026-01-03T00:00:00Z', runnerId: 'r4' }),
    ];
    expect(rankSlots(slots, { ...me, key: 'pr-9' }, { room: true }).candidates.map((c) => c.name)).toEqual(['build-r1', 'build-r3', 'build-r4', 'lint-old']);
  });

  test('the rotation (main, PR 1, 2, 3, twice more), one job, with room: every later push finds its own warm build', () => {
    // The pool as the action keeps it: take the first candidate or make a slot; the record
    // then names the job's key (the content is reset or kept as decideReset says).
    const pool: SlotView[] = [];
    let t = 0;
    const runJob = (key: string, baseKey?: string) => {
      const who = { ...me, key, baseKey, runId: String(100 + t) };
      const c = rankSlots(pool, who, { room: true }).candidates[0];
      const slot = c ? pool.find((s) => s.name === c.name)! : { name: `s${String(pool.length).padStart(3, '0')}`, live: false };
      if (!c) pool.push(slot);
      const lastUsed = new Date(Date.UTC(2026, 0, 1, 0, ++t)).toISOString();
      slot.record = rec({ ...warm, key, runId: who.runId, lastUsed });
      return c?.tier ?? 'new';
    };
    const tiers = [runJob('ref-main')];
    for (let round = 0; round < 3; round++) for (const pr of [1, 2, 3]) tiers.push(runJob(`pr-${pr}`, 'ref-main'));
    expect(tiers).toEqual(['new', 'base', 'new', 'new', 'own-job', 'own-job', 'own-job', 'own-job', 'own-job', 'own-job']);
    // main's next push: its only slot went to PR 1, another trust domain now: a new slot, no wipe.
    expect(runJob('ref-main')).toBe('new');
    expect(pool.length).toBe(4);
  });

  test('spent merge-queue entries and worthless content', () => {
    expect(spentQueueEntry({ key: contentKey(undefined, 'gh-readonly-queue/main/pr-1-abc') })).toBe(true);
    expect(spentQueueEntry({ key: 'ref-main' })).toBe(false);
    expect(spentQueueEntry({ key: 'pr-12' })).toBe(false);
    expect(spentQueueEntry({ key: contentKey(undefined, 'gh-readonly-queue-lookalike') })).toBe(false); // a plain branch name
    expect(worthless(undefined)).toBe(true);
    expect(worthless(rec({ prunedAt: 'x' }))).toBe(true);
    expect(worthless(rec({}))).toBe(false); // unknown size: assume warm
    expect(worthless(rec(warm))).toBe(false);
  });
});

describe('reset decisions', () => {
  const id = identityFrom({ GITHUB_REPOSITORY: 'acme/w', GITHUB_REF: 'refs/pull/1/merge', GITHUB_BASE_REF: 'main' }, {}, 'n', 'h');
  const cases: [Settings['reuse'], DirRecord | undefined, boolean, boolean][] = [
    ['same-key', rec({}), true, false],
    ['same-key', rec({ key: 'pr-2' }), true, true],
    ['same-key', rec({ repository: 'x/w' }), true, true],
    ['same-key', undefined, true, true],
    ['same-key', undefined, false, false],
    ['never', rec({}), true, true],
    ['always', rec({ key: 'pr-2' }), true, false],
    ['same-key', rec({ key: 'ref-main' }), true, false], // a push to the PR's base branch seeds it
    ['same-key', rec({ key: 'ref-main', repository: 'x/w' }), true, true],
    ['same-key', rec({ key: 'ref-dev' }), true, true],
    ['never', rec({ key: 'ref-main' }), true, true],
  ];
  test.each(cases)('reuse %s, previous %#: reset %p', (reuse, prev, content, reset) => {
    expect(decideReset(reuse, prev, content, id).reset).toBe(reset);
  });
  // "warm" only when the build is there: the guard pruned the target, or it is empty, and the
  // slot (with its CARGO_HOME) is kept, but cargo compiles everything again.
  const now = Date.parse('2026-01-01T01:00:00Z');
  const both = { target: true, cargoHome: true };
  test.each([
    ['same key, build there', rec({}), both, { reset: false, warm: true, reason: 'warm: last used by the same trust domain (pr-1)' }],
    [
      'same key, pruned by the guard',
      rec({ prunedAt: '2026-01-01T00:48:00Z' }),
      { target: false, cargoHome: true },
      {
        reset: false,
        warm: false,
        reason:
          "kept (last used by the same trust domain (pr-1)), but the disk guard removed its target dir 12 min ago: cargo builds everything again; CARGO_HOME's crates are kept",
      },
    ],
    [
      'same key, target empty',
      rec({}),
      { target: false, cargoHome: true },
      {
        reset: false,
        warm: false,
        reason: "kept (last used by the same trust domain (pr-1)), but its target dir is empty: cargo builds everything again; CARGO_HOME's crates are kept",
      },
    ],
    [
      'base branch, build there',
      rec({ key: 'ref-main' }),
      both,
      { reset: false, warm: true, reason: 'seeded by the base branch: last used by a push to main' },
    ],
    [
      'base branch, pruned',
      rec({ key: 'ref-main', prunedAt: '2026-01-01T00:59:00Z' }),
      { target: false, cargoHome: true },
      {
        reset: false,
        warm: false,
        reason:
          "kept (seeded by the base branch: last used by a push to main), but the disk guard removed its target dir 1 min ago: cargo builds everything again; CARGO_HOME's crates are kept",
      },
    ],
    ['another PR', rec({ key: 'pr-2' }), both, { reset: true, reason: 'last used by acme/w#pr-2' }],
    ['nothing there', rec({}), { target: false, cargoHome: false }, { reset: false, reason: 'empty' }],
  ])('%s: %j', (_, prev, content, decision) => {
    expect(decideReset('same-key', prev, content, id, now)).toEqual(decision);
  });
});

describe('disk', () => {
  const statfs = { bsize: 4096, blocks: 1000, bfree: 200, bavail: 150, files: 100, ffree: 50 };
  test('used percent the way df computes it', () => {
    const d = diskFromStatfs(statfs);
    expect(d.usedPercent).toBeCloseTo((800 * 100) / 950, 6);
    expect(d.freeBytes).toBe(150 * 4096);
    expect(d.inodePercent).toBe(50);
  });
  test('beyond: bytes or inodes', () => {
    const d = diskFromStatfs(statfs);
    expect(beyond(d, { kind: 'percent', percent: 85 })).toBe(false);
    expect(beyond(d, { kind: 'percent', percent: 80 })).toBe(true);
    expect(beyond(d, { kind: 'free', bytes: 150 * 4096 + 1 })).toBe(true);
    const full = diskFromStatfs({ ...statfs, ffree: 5 });
    expect(beyond(full, { kind: 'percent', percent: 90 })).toBe(true);
    expect(beyond(full, { kind: 'free', bytes: 1 })).toBe(true);
  });
});

describe('guard plan', () => {
  const c = (o: Partial<Candidate>): Candidate => ({ kind: 'target', path: '/r/x', lastUsedMs: 0, live: false, owner: 'me', bytes: 10, ...o });
  test('order: trash, job dirs, targets, registry src; oldest first within each when values are unknown', () => {
    const plan = planPrune(
      [
        c({ kind: 'registry-src', path: 'src-old', lastUsedMs: 1 }),
        c({ kind: 'target', path: 'new', lastUsedMs: 50 }),
        c({ kind: 'target', path: 'old', lastUsedMs: 5 }),
        c({ kind: 'trash', path: 'trash', lastUsedMs: 99, owner: undefined }),
        c({ kind: 'job-dir', path: 'job', lastUsedMs: 70 }),
        c({ kind: 'crate', path: 'crate', lastUsedMs: 0, owner: undefined }),
      ],
      'runner',
      'me',
    );
    expect(plan.ordered.map((x) => x.path)).toEqual(['trash', 'job', 'old', 'new', 'src-old', 'crate']);
  });
  test("live data is never planned, in either scope; other runners' idle bytes are counted", () => {
    const cands = [
      c({ path: 'live', live: true, bytes: 100 }),
      c({ path: 'other', owner: 'them', bytes: 7 }),
      c({ path: 'mine' }),
      c({ kind: 'trash', path: 't', owner: undefined }),
    ];
    const runner = planPrune(cands, 'runner', 'me');
    expect(runner.ordered.map((x) => x.path)).toEqual(['t', 'mine', 'other']);
    expect(runner.liveBytes).toBe(100);
    expect(runner.othersBytes).toBe(7);
    expect(runner.live.map((x) => x.path)).toEqual(['live']);
    const host = planPrune(cands, 'host', 'me');
    expect(host.ordered.map((x) => x.path)).toEqual(['t', 'mine', 'other']); // as old and as worth: by path
  });
});

describe('guard plan: by value', () => {
  const c = (o: Partial<Candidate>): Candidate => ({ kind: 'target', path: '/r/x', lastUsedMs: 0, live: false, owner: 'me', bytes: 10, ...o });
  // Values are minutes saved per GiB per hour (value.ts); within 25% they count as equal.
  const cases: [string, Candidate[], 'runner' | 'host', string[]][] = [
    [
      'the least valuable target first, whatever its age',
      [c({ path: 'worth-8', value: 8, lastUsedMs: 1 }), c({ path: 'worth-1', value: 1, lastUsedMs: 90 }), c({ path: 'worth-3', value: 3, lastUsedMs: 50 })],
      'host',
      ['worth-1', 'worth-3', 'worth-8'],
    ],
    [
      'a build worth nothing (a closed PR, an older copy) before any other',
      [c({ path: 'old-useful', value: 0.5, lastUsedMs: 1 }), c({ path: 'closed', value: 0, lastUsedMs: 99 })],
      'host',
      ['closed', 'old-useful'],
    ],
    [
      'values within 25% are equal: the least recently used first',
      [c({ path: 'newer', value: 2.2, lastUsedMs: 50 }), c({ path: 'older', value: 2.0, lastUsedMs: 10 })],
      'host',
      ['older', 'newer'],
    ],
    [
      "runner scope: this runner's first among equals",
      [c({ path: 'theirs-old', owner: 'them', value: 2, lastUsedMs: 1 }), c({ path: 'mine-new', value: 2, lastUsedMs: 50 })],
      'runner',
      ['mine-new', 'theirs-old'],
    ],
    [
      'runner scope: never a valuable build of its own before a less valuable one of another runner',
      [c({ path: 'mine-valuable', value: 9 }), c({ path: 'theirs-closed', owner: 'eph-7', value: 0 }), c({ path: 'theirs-cheap', owner: 'eph-2', value: 1 })],
      'runner',
      ['theirs-closed', 'theirs-cheap', 'mine-valuable'],
    ],
    [
      'host scope: the runner does not matter',
      [c({ path: 'theirs-old', owner: 'them', value: 2, lastUsedMs: 1 }), c({ path: 'mine-new', value: 2, lastUsedMs: 50 })],
      'host',
      ['theirs-old', 'mine-new'],
    ],
    [
      'a spent merge-queue entry before anything, even an unknown value',
      [c({ path: 'cheap', value: 0.1 }), c({ path: 'queue', key: contentKey(undefined, 'gh-readonly-queue/main/pr-3-beef'), value: 5 })],
      'host',
      ['queue', 'cheap'],
    ],
    [
      'a target of unknown value (no record) after those valued',
      [c({ path: 'unknown', lastUsedMs: 0 }), c({ path: 'valued', value: 40, lastUsedMs: 99 })],
      'host',
      ['valued', 'unknown'],
    ],
  ];
  test.each(cases)('%s', (_, cands, scope, order) => {
    expect(planPrune(cands, scope, 'me').ordered.map((x) => x.path)).toEqual(order);
  });
  test('the build the job is about to take goes last, after every other idle build, and is never live data', () => {
    const cands = [
      c({ path: 'own', slot: 's1', value: 0.1, lastUsedMs: 1 }),
      c({ path: 'other', slot: 's2', value: 50 }),
      c({ path: 'theirs', slot: 's3', owner: 'them', value: 90 }),
      c({ kind: 'registry-src', path: 'src', slot: 's1' }),
    ];
    const plan = planPrune(cands, 'runner', 'me', { keep: ['s1'] });
    expect(plan.ordered.map((x) => x.path)).toEqual(['other', 'theirs']);
    expect(plan.kept.map((x) => x.path)).toEqual(['own', 'src']);
    expect(planPrune([c({ path: 'own', slot: 's1', live: true })], 'runner', 'me', { keep: ['s1'] }).kept).toEqual([]);
  });
});

describe('/proc/locks', () => {
  test('parses holders, skips waiters, matches stat(2) device numbers', () => {
    const text = '1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF\n2: -> FLOCK  ADVISORY  WRITE 99 00:2f:1 0 EOF\n3: POSIX  ADVISORY  READ 5 fd:01:42 0 EOF\n';
    expect([...parseProcLocks(text)]).toEqual(['0:47:5678', '253:1:42']);
    // glibc encodes major 253, minor 1 as 0xfd01
    expect(devId(0xfd01, 42)).toBe('253:1:42');
    expect(devId(47, 5678)).toBe('0:47:5678');
  });
});

describe('several uids, one root', () => {
  test('only root hands back, and only on a root it does not own', () => {
    expect(handBackTo(0, { uid: 1001, gid: 1001 })).toEqual({ uid: 1001, gid: 1001 });
    expect(handBackTo(0, { uid: 0, gid: 0 })).toBeUndefined();
    expect(handBackTo(1001, { uid: 1001, gid: 1001 })).toBeUndefined();
  });
  test.each([
    ['root manages anything', 0, { uid: 1001 }, [1001, 0], true],
    ['its own slot', 1001, { uid: 1001 }, [1001, 1001], true],
    ['a slot handed back to it', 1001, { uid: 1001 }, [1001], true],
    ["a root job's slot not handed back (record)", 1001, { uid: 0 }, [1001, 1001], false],
    ['root-owned top entries, whatever the record says', 1001, { uid: 1001 }, [1001, 0], false],
    ['an older record without uid, owned by it', 1001, {}, [1001], true],
    ['an older record without uid, root-owned', 1001, {}, [0], false],
    ['no record, a new slot of its own', 1001, undefined, [1001], true],
  ] as [string, number, { uid?: number } | undefined, number[], boolean][])('canManage: %s', (_, uid, rec, owners, ok) => {
    expect(canManage(uid, rec, owners)).toBe(ok);
  });
});

test('roots on filesystems whose flock does not exclude across hosts are named', () => {
  expect(unreliableFlock('/r', 0x6969)).toMatch(/^The root \/r: it is on NFS \(statfs type 0x6969\).*Keep the root on a local filesystem\.$/);
  expect(unreliableFlock('/r', 0x65735546)).toMatch(/FUSE/);
  expect(unreliableFlock('/r', -28095166)).toMatch(/SMB2/); // statfs reports f_type signed on some platforms
  expect(unreliableFlock('/r', 0xef53)).toBeUndefined(); // ext4
  expect(unreliableFlock('/r', 0x01021994)).toBeUndefined(); // tmpfs
});
