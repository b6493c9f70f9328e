import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerFiles, finishJob } from '../src/job/end.js';
import { type GuardTrigger, guardEvent } from '../src/job/guard-run.js';
import type { Outcome } from '../src/pool/guard.js';
import { dryRunFloor, gcText } from '../src/job/gc.js';
import { mainJob } from '../src/job/start.js';
import { completedLine, startedLine } from '../src/job/summary.js';
import type { EndedJob } from '../src/job/types.js';
import { readSettings } from '../src/model/settings.js';
import { allFree } from '../src/os/flock.js';
import type { Log } from '../src/os/log.js';
import { parseEvents } from '../src/pool/events.js';
import { rootPaths } from '../src/model/layout.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * A job's end, one sequence for the action's post step, the runner's job-completed hook and
 * `cargo-isolate run` (finishJob), and the one rule for the guard's line in the events log that a
 * job's start and `gc` share. The decisions as tables; finishJob on a real root after a real start.
 */

const disk = { totalBytes: 100, usedBytes: 50, freeBytes: 50, usedPercent: 50, inodes: 10, inodesFree: 5, inodePercent: 50 };
const removal = (outcome: Outcome) => ({ kind: 'target' as const, path: '/r/slots/s000/target', bytes: 7, ageMs: 60_000, owner: 'r1', outcome });

describe("the guard's event: one rule for a job's start and for gc", () => {
  const freed = { over: false, removals: [removal('removed')], freedBytes: 7 };
  const nothing = { over: false, removals: [], freedBytes: 0 };
  const would = { over: true, removals: [removal('would remove')], freedBytes: 7 };
  type Row = [GuardTrigger, boolean, Parameters<typeof guardEvent>[2], ReturnType<typeof guardEvent>];
  test.each<Row>([
    ['job', false, freed, { event: 'guard', trigger: 'job', result: 'freed', freed: 7, removals: 1 }],
    ['gc', false, freed, { event: 'guard', trigger: 'gc', result: 'freed', freed: 7, removals: 1 }],
    ['job', false, nothing, { event: 'guard', trigger: 'job', result: 'under', freed: 0, removals: 0 }],
    // A job's guard with dry-run: true ran before its lease and freed nothing; a person's gc --dry-run is no guard run.
    ['job', true, would, { event: 'guard', trigger: 'job', result: 'over', freed: 0, removals: 0 }],
    ['gc', true, would, undefined],
    ['job', false, 'failed', { event: 'guard', trigger: 'job', result: 'failed', freed: 0, removals: 0 }],
    ['gc', false, 'failed', { event: 'guard', trigger: 'gc', result: 'failed', freed: 0, removals: 0 }],
  ])('%s, dry run %s: %j', (trigger, dryRun, outcome, event) => {
    expect(guardEvent(trigger, dryRun, outcome)).toEqual(event);
  });
});

describe('gc: what it prints, and a dry run exits as the real run would', () => {
  const report = { removals: [removal('would remove')], freedBytes: 7 * 2 ** 30, after: { ...disk, freeBytes: 2 ** 30 }, dryRun: true };
  test.each([
    [
      { dryRun: true, failBelowBytes: 10 * 2 ** 30 },
      /^a real run would fail: about 8\.00 GiB would be free after pruning, below 'fail-below' \(10\.0 GiB\)\.$/,
    ],
    [{ dryRun: true, failBelowBytes: 5 * 2 ** 30 }, undefined],
    [{ dryRun: true, failBelowBytes: undefined }, undefined],
    [{ dryRun: false, failBelowBytes: 10 * 2 ** 30 }, undefined], // a real run fails in the guard itself
  ])('%j', (s, verdict) => {
    const v = dryRunFloor(s, report);
    if (verdict) expect(v).toMatch(verdict);
    else expect(v).toBeUndefined();
  });
  test("one total, in a dry run as in a real one (the guard's log lists each removal)", () => {
    expect(gcText(report, [])).toBe('would free 7.00 GiB in 1 removal; disk 50.0% used, 1.00 GiB free\n');
    expect(gcText({ ...report, dryRun: false, removals: [removal('removed'), removal('needs root')] }, ['s001'])).toBe(
      "freed 7.00 GiB in 1 removal; 1 left (needs root); disk 50.0% used, 1.00 GiB free; handed s001 back to the root's owner\n",
    );
  });
});

describe("the files of a hook's job container", () => {
  const job = { root: '/host/root', slot: 's003', dirs: { base: '/host/root/slots/s003' } as EndedJob['removed'][0] & { base: string } };
  const foreign = (handedBack?: 'sudo' | 'docker') => ({
    found: [],
    handedBack,
    marked: !handedBack,
    failed: ['sudo: not allowed'],
    message: 'A step left files…',
  });
  test('the build saw the root where this process does (the action, run): a `docker run` step, said as reclaim.ts says it', () => {
    expect(containerFiles(job as never, { foreign: foreign(), view: { root: '/host/root', uid: 0, slot: 's003', home: '' } as never }, 1001)).toBeUndefined();
    expect(containerFiles(job as never, { view: { root: '/__t/root', uid: 0 } as never }, 1001)).toBeUndefined();
  });
  test('the container built elsewhere: handed back is routine, kept says what it costs', () => {
    const seen = { root: '/__t/root', uid: 0 } as never;
    expect(containerFiles(job as never, { foreign: foreign('docker'), view: seen }, 1001)).toEqual({
      uid: 0,
      handedBack: "the job's container built as uid 0 in slot s003; its files went back to uid 1001 with docker.",
    });
    const kept = containerFiles(job as never, { foreign: foreign(), view: seen }, 1001);
    expect(kept?.kept).toMatch(/^This job's container built as uid 0 in slot s003 \(seen at \/__t\/root\), and this hook, running as uid 1001, could not give/);
    expect(kept?.kept).toContain('(sudo: not allowed)');
  });
});

describe("the hooks' lines", () => {
  const identity = { repository: 'acme/w', key: 'pr-7' } as never;
  test('started', () => {
    const job = {
      identity,
      layout: 'slot',
      slot: 's001',
      tier: 'own-job',
      reset: { warm: true },
      dirs: { target: '/r/t', tmp: '/r/tmp' },
      exports: { CARGO_HOME: '/r/h' },
    };
    expect(startedLine(job as never)).toMatch(/: acme\/w pr-7 in slot s001 \(own-job, warm\); CARGO_TARGET_DIR=\/r\/t CARGO_HOME=\/r\/h TMPDIR=\/r\/tmp\.$/);
  });
  test.each([
    [{ released: true }, 'lease released.'],
    [{ released: false, units: { built: 0, fresh: 0 } }, 'no cargo build; lease already ended.'],
    [
      {
        released: true,
        sizes: { target: 1024, cargoHome: 0 },
        view: { uid: 0, root: '/__t/r' },
        units: { built: 1, fresh: 2 },
        published: { allowed: true, published: 3 },
      },
      'target 1.00 KiB, cargo-home 0 B; built as uid 0 under /__t/r; units 1 built, 2 fresh; 3 crates published; lease released.',
    ],
    [{ released: true, published: { allowed: false } }, 'crates not published (untrusted); lease released.'],
  ])('completed %#', (ended, tail) => {
    const line = completedLine({ identity, layout: 'slot', slot: 's001', tier: 'own-job' }, ended as never);
    expect(line).toMatch(/^cargo-isolate \S+: acme\/w pr-7, slot s001 \(own-job\); /);
    expect(line.endsWith(`; ${tail}`)).toBe(true);
  });
});

describe('finishJob on a real root, after a real start', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await fs.mkdtemp(join(tmpdir(), 'ci-job-end-'));
  });
  afterAll(async () => {
    await removeScratch(scratch);
  });
  /** A Log that keeps what it is told, and which groups opened. */
  const recording = () => {
    const lines: string[] = [];
    const log: Log = {
      info: (m) => void lines.push(`info: ${m}`),
      warning: (m) => void lines.push(`warning: ${m}`),
      debug: () => undefined,
      group: async (name, fn) => {
        lines.push(`group: ${name}`);
        return fn();
      },
    };
    return { lines, log };
  };
  /** A real start on a root of its own (`name`), as `cargo-isolate run` makes one. */
  const started = async (name: string, log: Log) => {
    const root = join(scratch, `root-${name}`);
    const ws = join(scratch, `ws-${name}`);
    await fs.mkdir(ws);
    const env = { HOME: scratch, PATH: process.env.PATH, GITHUB_REPOSITORY: `acme/${name}`, GITHUB_REF_NAME: 'main', GITHUB_WORKSPACE: ws, RUNNER_NAME: 'r1' };
    const settings = readSettings((n) => ({ root, 'disk-threshold': '99%' })[n] ?? '', env);
    const noop = () => undefined;
    const { job } = await mainJob({ settings, env, log, watchPid: process.pid, save: { lease: noop, guard: noop }, via: 'cli' });
    return { root, env, job };
  };
  test('the release in its own group, the lease freed, the warnings said once and returned', async () => {
    const start = recording();
    const { root, env, job } = await started('end', start.log);
    expect(start.lines.filter((l) => l.startsWith('group: '))).toEqual(['group: Disk guard', 'group: Slot', 'group: Crates', 'group: CARGO_HOME']);
    expect(allFree([job.dirs.lock])).toBe(false);
    // Something the end cannot do, to see a warning go through: a file where the record goes.
    await fs.rm(job.dirs.record);
    await fs.mkdir(job.dirs.record);
    const end = recording();
    const ended = await finishJob({ job, env, log: end.log });
    expect(ended.released).toBe(true);
    expect(allFree([job.dirs.lock])).toBe(true);
    expect(end.lines[0]).toBe('group: Release');
    const warnings = end.lines.filter((l) => l.startsWith('warning: '));
    expect(warnings).toEqual(ended.warnings.map((w) => `warning: ${w}`));
    expect(warnings).toEqual([expect.stringMatching(/^warning: Recording sizes in .*slot\.json: /)]);
    const guards = parseEvents(await fs.readFile(rootPaths(root).events, 'utf8')).filter((e) => e.event === 'guard');
    expect(guards).toEqual([expect.objectContaining({ trigger: 'job', result: 'under', freed: 0, removals: 0 })]);
  });
  test("the target's size is measured while the end does other work, and again once a killed restore's leftovers are gone", async () => {
    const { env, job } = await started('sizes', recording().log);
    // What the job built (64 KiB), and what a restore killed with the main step left (4 MiB).
    await fs.mkdir(join(job.dirs.target, 'debug'), { recursive: true });
    await fs.writeFile(join(job.dirs.target, 'debug', 'app'), Buffer.alloc(64 * 1024, 1));
    const leftover = join(job.dirs.target, '.cargo-isolate-restore-killed');
    await fs.mkdir(leftover);
    await fs.writeFile(join(leftover, 'part'), Buffer.alloc(4 * 1024 * 1024, 1));
    const ended = await finishJob({ job, env, log: recording().log });
    expect(ended.warnings).toEqual([]);
    await expect(fs.access(leftover)).rejects.toThrow();
    expect(ended.sizes!.target).toBeGreaterThanOrEqual(64 * 1024);
    expect(ended.sizes!.target).toBeLessThan(1024 * 1024);
  });
});
