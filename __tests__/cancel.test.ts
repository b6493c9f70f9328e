import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CANCEL_RELEASE_MS } from '../src/pool/choose.js';
import { trackedPids } from './helpers/hooks.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { makeSlowWorkspace } from './helpers/workspace.js';

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
let ws: string;
const spawned: ChildProcess[] = [];

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-cancel-'));
  // A build script that sleeps for longer than any wait here: cargo holds its locks throughout.
  ws = await makeSlowWorkspace(join(scratch, 'slow'), 600);
});
afterAll(async () => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cleanup();
  await fs.rm(scratch, { recursive: true, force: true });
});

/**
 * A `run: cargo build` step as the runner starts it: the step's script in a file, run by
 * `bash --noprofile --norc -e -o pipefail {0}` (actions/runner ScriptHandler), its own process.
 */
async function buildStep(j: SimJob): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const script = join(j.dir, `step-${Date.now()}.sh`);
  await fs.writeFile(script, `cargo build --manifest-path ${join(ws, 'Cargo.toml')}\n`);
  const child = spawn('bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', script], { env: j.stepEnv(), stdio: 'ignore', detached: true });
  spawned.push(child);
  return { child, exited: new Promise((r) => child.once('exit', () => r())) };
}

/** Until cargo runs the sleeping build script: from then on it holds its locks. */
async function building(j: SimJob): Promise<void> {
  const dir = join(j.exported.CARGO_TARGET_DIR, 'debug', 'build');
  for (;;) {
    const runs = await fs.readdir(dir).catch(() => [] as string[]);
    if (runs.some((r) => existsSync(join(dir, r, 'invoked.timestamp')))) return;
    await sleep(50);
  }
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
  test('a cancelled PR run lets go of its slot within the bound; the next run of the PR waits for it and takes it', async () => {
    const root = join(scratch, 'root-pr');
    const before = await job({ pr: 30, runId: '300', runner: 'r1' });
    const m1 = await before.run('main', { root });
    expect(m1.code).toBe(0);
    const step = await buildStep(before);
    await building(before);
    // The new push's job starts while the earlier run still builds, and is told to wait.
    const after = await job({ pr: 30, runId: '301', runner: 'r2' });
    const next = await after.start('main', { root });
    let out = '';
    next.child.stdout!.on('data', (d) => (out += d));
    while (!/waiting up to \d+ s/.test(out)) await sleep(50);
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
    process.stdout.write(`cancel sequence: step gone after ${signals.ms} ms (${signals.by}); post step ${post} ms; ${leftovers} leftover processes killed; slot taken by the next run ${released} ms after the cancel began (bound ${CANCEL_RELEASE_MS} ms)\n`);
    await after.run('post');
  }, 120_000);

  test('overlapping pushes to a branch: the earlier run is not being cancelled, so the next one starts at once in another slot', async () => {
    const root = join(scratch, 'root-main');
    const first = await job({ branch: 'main', runId: '400', runner: 'r1' });
    const m1 = await first.run('main', { root });
    const step = await buildStep(first);
    await building(first);
    const second = await job({ branch: 'main', runId: '401', runner: 'r2' });
    const t0 = Date.now();
    const m2 = await second.run('main', { root });
    const took = Date.now() - t0;
    expect(m2.code).toBe(0);
    expect(m2.outputs.slot).not.toBe(m1.outputs.slot);
    expect(m2.stdout).toMatch(/leased by an earlier run: an earlier run of ref-main is still building \(push runs are not cancelled by a new one\), so waiting cannot pay/);
    expect(m2.stdout).not.toMatch(/waiting up to/);
    // No wait at all: the main step's own work only (the old rule waited lease-wait, 60 s).
    expect(took).toBeLessThan(CANCEL_RELEASE_MS / 2);
    await second.run('post');
    step.child.kill('SIGKILL');
    completeJob(first);
    await step.exited;
    await first.run('post');
  }, 120_000);
});
