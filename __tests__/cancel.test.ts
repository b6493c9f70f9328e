import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CANCEL_RELEASE_MS } from '../src/pool/choose.js';
import { rootPaths } from '../src/model/layout.js';
import { parseEvents } from '../src/pool/events.js';
import { readLog } from '../src/pool/jsonlog.js';
import { trackedPids } from './helpers/hooks.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { scaled, until } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';
import { type HeldBuild, makeHeldWorkspace } from './helpers/workspace.js';

/*
 * How long a cancelled run really takes to let go of its slot, and the wait rule built on it
 * (waitBudget in src/pool/choose.ts), on real processes: a `run:` step is bash running cargo,
 * cancelled the way the runner does it (actions/runner ProcessInvoker: SIGINT to the step's
 * process only, SIGTERM 7.5 s later, SIGKILL 2.5 s after that), then the post step, then the
 * runner's cleanup, which kills every process carrying the job's RUNNER_TRACKING_ID (the cargo
 * the shell left running). The times the runner waits are its protocol, not guesses about a build.
 */
const { job, cleanup } = jobPool();
let scratch: string;
let held: HeldBuild;
const spawned: ChildProcess[] = [];

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-cancel-'));
  // A build script that waits until released, which no test here does: cargo holds its locks
  // throughout, until the cancel kills it.
  held = await makeHeldWorkspace(join(scratch, 'slow'));
});
afterAll(async () => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cleanup();
  await held.release();
  await removeScratch(scratch);
});

/**
 * A `run: cargo build` step as the runner starts it: the step's script in a file, run by
 * `bash --noprofile --norc -e -o pipefail {0}` (actions/runner ScriptHandler), its own process.
 */
async function buildStep(j: SimJob): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const script = join(j.dir, `step-${Date.now()}.sh`);
  await fs.writeFile(script, `cargo build --manifest-path ${join(held.dir, 'Cargo.toml')}\n`);
  const child = spawn('bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', script], { env: j.stepEnv(), stdio: 'ignore', detached: true });
  spawned.push(child);
  return { child, exited: new Promise((r) => child.once('exit', () => r())) };
}

/** Until cargo runs the held build script in this job's target dir: from then on it holds its locks. */
async function building(j: SimJob, step: { exited: Promise<void> }): Promise<void> {
  const started = join(held.dir, 'started');
  await fs.rm(started, { force: true });
  await until(
    'cargo to run the held build script',
    async () =>
      (await fs.access(started).then(
        () => true,
        () => false,
      )) && (await fs.readdir(join(j.exported.CARGO_TARGET_DIR, 'debug', 'build')).catch(() => [])).length > 0,
    { ms: 300_000, unless: step.exited },
  );
}

/** The ms the last lease on `root` waited, as the main step measured and recorded it. */
async function lastLeaseWait(root: string): Promise<number> {
  const leases = parseEvents(await readLog(rootPaths(root).events)).filter((e) => e.event === 'lease');
  return (leases.at(-1) as { waitedMs: number }).waitedMs;
}

/** The runner's cancel of one step; the ms until the step's process was gone, and by which signal. */
async function cancelStep(step: { child: ChildProcess; exited: Promise<void> }): Promise<{ ms: number; by: string }> {
  const t0 = Date.now();
  const within = (ms: number) => Promise.race([step.exited.then(() => true), sleep(ms).then(() => false)]);
  step.child.kill('SIGINT');
  if (await within(7500)) return { ms: Date.now() - t0, by: 'SIGINT' };
  step.child.kill('SIGTERM');
  if (await within(2500)) return { ms: Date.now() - t0, by: 'SIGTERM' };
  step.child.kill('SIGKILL');
  await step.exited;
  return { ms: Date.now() - t0, by: 'SIGKILL' };
}

/** The runner's "Complete job": every process with the job's tracking id. */
function completeJob(j: SimJob): number {
  const pids = trackedPids(j.env.RUNNER_TRACKING_ID);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return pids.length;
}

describe('waiting for an earlier run', () => {
  test(
    'a cancelled PR run lets go of its slot within the bound; the next run of the PR waits for it and takes it',
    async () => {
      const root = join(scratch, 'root-pr');
      const before = await job({ pr: 30, runId: '300', runner: 'r1' });
      const m1 = await before.run('main', { root });
      expect(m1.code).toBe(0);
      const step = await buildStep(before);
      await building(before, step);
      // The new push's job starts while the earlier run still builds, and is told to wait.
      const after = await job({ pr: 30, runId: '301', runner: 'r2' });
      const next = await after.start('main', { root });
      let out = '';
      next.child.stdout!.on('data', (d) => (out += d));
      await until('the next run to say it waits', () => /waiting up to \d+ s/.test(out), { unless: next.done });
      expect(out).toMatch(/an earlier run of this PR, cancelled by the new push\); waiting up to 20 s/);
      // The runner cancels the earlier run: its step, then its post step, then its leftovers.
      const t0 = Date.now();
      const signals = await cancelStep(step);
      const p0 = Date.now();
      expect((await before.run('post')).code).toBe(0);
      const post = Date.now() - p0;
      const leftovers = completeJob(before);
      const m2 = await next.done;
      const released = Date.now() - t0;
      expect(m2.code).toBe(0);
      expect(m2.outputs.slot).toBe(m1.outputs.slot);
      expect(m2.stdout).toMatch(/\(own-job: /);
      // The bound the rule waits (CANCEL_RELEASE_MS) covers what this took, with room for a loaded host.
      expect(released).toBeLessThan(CANCEL_RELEASE_MS);
      process.stdout.write(
        `cancel sequence: step gone after ${signals.ms} ms (${signals.by}); post step ${post} ms; ${leftovers} leftover processes killed; slot taken by the next run ${released} ms after the cancel began (bound ${CANCEL_RELEASE_MS} ms)\n`,
      );
      await after.run('post');
    },
    scaled(120_000),
  );

  test(
    'overlapping pushes to a branch: the earlier run is not being cancelled, so the next one starts at once in another slot',
    async () => {
      const root = join(scratch, 'root-main');
      const first = await job({ branch: 'main', runId: '400', runner: 'r1' });
      const m1 = await first.run('main', { root });
      const step = await buildStep(first);
      await building(first, step);
      const second = await job({ branch: 'main', runId: '401', runner: 'r2' });
      const m2 = await second.run('main', { root });
      expect(m2.code).toBe(0);
      expect(m2.outputs.slot).not.toBe(m1.outputs.slot);
      expect(m2.stdout).toMatch(
        /leased by an earlier run: an earlier run of ref-main is still building \(push runs are not cancelled by a new one\), so waiting cannot pay/,
      );
      expect(m2.stdout).not.toMatch(/waiting up to/);
      // No wait at all: the lease took only its own scan and lock (the old rule waited lease-wait, 60 s).
      expect(await lastLeaseWait(root)).toBeLessThan(CANCEL_RELEASE_MS / 2);
      await second.run('post');
      step.child.kill('SIGKILL');
      completeJob(first);
      await step.exited;
      await first.run('post');
    },
    scaled(120_000),
  );
});
