import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { measure } from '../../src/os/disk.js';
import { allFree } from '../../src/os/flock.js';
import { KEEPER_POLL_SECONDS } from '../../src/pool/lease.js';
import { until } from './pace.js';
import { cli } from './cli.js';
import { SimJob } from './runner.js';

/*
 * The reliability suite: simulated jobs run the bundled action through the runner protocol
 * (main, a real cargo build, post), several at once on one root on a small tmpfs, with a
 * guard at a low threshold running between them, random cancellations with the runner's
 * timings, whole-job SIGKILLs, and builds that plant hostile content. Invariants are checked
 * after every round against an audit log the action writes (CARGO_ISOLATE_AUDIT).
 */

export interface StressOptions {
  root: string;
  workspace: string;
  canary: string;
  rounds: number;
  jobsPerRound: number;
  threshold: number;
  log?: (line: string) => void;
}

export interface Counts {
  jobs: number;
  cancelled: number;
  killed: number;
  builtOk: number;
  buildsExpected: number;
  buildFailures: string[];
  removals: number;
  liveRemovals: string[];
  leases: number;
  guardRemovals: number;
  doubleOwners: string[];
  canaryChanges: number;
  roundsUnderThreshold: number;
  rounds: number;
}

/** Cancels a step like the runner: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that. */
async function cancelStep(child: ChildProcess): Promise<void> {
  const alive = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise((r) => child.once('exit', r));
  const timer = new AbortController();
  try {
    for (const [sig, wait] of [
      ['SIGINT', 7500],
      ['SIGTERM', 2500],
      ['SIGKILL', 0],
    ] as const) {
      if (!alive()) return;
      child.kill(sig);
      if (wait) await Promise.race([exited, sleep(wait, undefined, { signal: timer.signal }).catch(() => undefined)]);
    }
    await exited;
  } finally {
    timer.abort();
  }
}

async function digest(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of (await fs.readdir(dir, { recursive: true })).sort()) {
    const st = await fs.lstat(join(dir, f));
    h.update(`${f}:${st.mode}:${st.size}`);
    if (st.isFile()) h.update(await fs.readFile(join(dir, f)));
  }
  return h.digest('hex');
}

type Plan = 'normal' | 'cancel-main' | 'cancel-build' | 'cancel-post' | 'kill-job';
type Fault = 'none' | 'read-only' | 'symlink-out' | 'other-uid';

interface JobRun {
  job: SimJob;
  plan: Plan;
  fault: Fault;
  built?: number | null;
  buildErr?: string;
  ownedFrom?: number;
  ownedTo?: number;
  dir?: string;
}

function spawnCollect(cmd: string[], env: NodeJS.ProcessEnv, cwd: string): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(cmd[0], cmd.slice(1), { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return { child, done: new Promise((r) => child.on('exit', (code) => r({ code, stderr }))) };
}

async function runJob(r: JobRun, o: StressOptions): Promise<void> {
  // Six jobs at once, each with a build, 6 MiB of artefacts and perhaps a warm copy, on a 128 MiB
  // disk: near the floor of a real host (every runner's build at once, above the threshold), so
  // keep 10 points in reserve for them, as such a host would.
  const inputs = {
    root: o.root,
    'disk-threshold': `${o.threshold}%`,
    'disk-target': `${o.threshold - 10}%`,
    'prune-scope': 'host',
    'lease-wait': '5s',
    layout: r.job.env.GITHUB_JOB === 'layout-job' ? 'job' : 'slot',
  };
  const main = await r.job.start('main', inputs, { worker: true });
  const worker = main.child;
  if (r.plan === 'cancel-main') {
    await sleep(Math.random() * 250);
    const node = (() => {
      try {
        return Number(
          execFileSync('pgrep', ['-P', String(worker.pid)])
            .toString()
            .trim()
            .split('\n')[0],
        );
      } catch {
        return 0;
      }
    })();
    if (node) {
      try {
        process.kill(node, 'SIGINT');
      } catch {
        /* finished already */
      }
    }
  }
  const m = await main.done;
  const lease = r.job.state.lease ? (JSON.parse(r.job.state.lease) as { keeperPid: number; dirs: { base: string } }) : undefined;
  if (m.code === 0 && lease) {
    r.ownedFrom = Date.now();
    r.dir = lease.dirs.base;
    const build = spawnCollect(['cargo', 'build', '--manifest-path', join(o.workspace, 'Cargo.toml')], r.job.stepEnv(), r.job.dir);
    if (r.plan === 'cancel-build') {
      await sleep(200 + Math.random() * 1500);
      await cancelStep(build.child);
    }
    if (r.plan === 'kill-job') {
      await sleep(200 + Math.random() * 1500);
      build.child.kill('SIGKILL');
    }
    const b = await build.done;
    r.built = b.code;
    r.buildErr = b.stderr;
    const target = r.job.exported.CARGO_TARGET_DIR;
    // Artefacts a real job leaves (test binaries, coverage): disk pressure for the guards.
    await fs.writeFile(join(target, 'artefacts.bin'), Buffer.alloc(6 * 2 ** 20, 3)).catch(() => undefined);
    if (r.fault === 'read-only')
      await fs.mkdir(join(target, 'ro', 'sub'), { recursive: true }).then(() => execFileSync('chmod', ['-R', 'a-w', join(target, 'ro')]));
    if (r.fault === 'symlink-out') await fs.symlink(o.canary, join(target, 'escape')).catch(() => undefined);
    if (r.fault === 'other-uid') {
      await fs.mkdir(join(target, 'container'), { recursive: true });
      await fs.writeFile(join(target, 'container', 'out.o'), 'x');
      execFileSync('chown', ['-R', '65534:65534', join(target, 'container')]);
    }
  }
  if (r.plan === 'kill-job') {
    r.ownedTo = Date.now();
    try {
      process.kill(-worker.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    if (lease) {
      try {
        process.kill(-lease.keeperPid, 'SIGKILL'); // the keeper too: nothing of the job survives
      } catch {
        /* gone */
      }
    }
    return;
  }
  r.ownedTo = Date.now();
  const post = await r.job.start('post');
  if (r.plan === 'cancel-post') {
    await sleep(Math.random() * 100);
    await cancelStep(post.child);
  }
  await post.done;
  try {
    process.kill(-worker.pid!, 'SIGKILL'); // the runner ends the job
  } catch {
    /* gone */
  }
}

const PLANS: Plan[] = ['normal', 'normal', 'cancel-main', 'cancel-build', 'cancel-post', 'kill-job'];
const FAULTS: Fault[] = ['none', 'none', 'read-only', 'symlink-out', 'other-uid'];
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];

/** Jobs of one round: a PR pushed twice, matrix legs, two runners of one name, one with none. */
async function roundJobs(round: number, n: number): Promise<SimJob[]> {
  const pr = 100 + (round % 3);
  const specs: Parameters<typeof SimJob.create>[0][] = [
    { pr, runId: String(1000 + round * 10), runner: 'runner-a' },
    { pr, runId: String(1001 + round * 10), runner: 'runner-b' }, // the same PR pushed again
    { pr: pr + 10, runId: String(1002 + round * 10), runner: 'runner-dup', extraEnv: { RUNNER_WORKSPACE: '/srv/a/_work/w' } },
    { pr: pr + 10, runId: String(1002 + round * 10), runner: 'runner-dup', extraEnv: { RUNNER_WORKSPACE: '/srv/b/_work/w' } }, // matrix leg, same runner name
    { branch: 'main', runId: String(1003 + round * 10) }, // no RUNNER_NAME
    { pr: pr + 20, runId: String(1004 + round * 10), runner: 'runner-c', job: 'layout-job' },
  ];
  return Promise.all(specs.slice(0, n).map((s) => SimJob.create(s)));
}

/** Writes a file outside the root that takes the disk holding it to `percent` full. */
async function fillTo(file: string, percent: number): Promise<void> {
  const disk = await measure(dirname(file));
  const want = Math.max(0, Math.ceil(((percent / 100) * (disk.usedBytes + disk.freeBytes) - disk.usedBytes) / 2 ** 20));
  // Written, not truncated: a sparse file takes no room on tmpfs.
  await fs.writeFile(file, Buffer.alloc(want * 2 ** 20, 7));
}

/** Every lease lock under the root: slots' in locks/, job directories' .lease files. */
async function leaseLocks(root: string): Promise<string[]> {
  const slots = (await fs.readdir(join(root, 'locks')).catch(() => [] as string[])).filter((n) => n.startsWith('slot-')).map((n) => join(root, 'locks', n));
  const jobs = (await fs.readdir(join(root, 'jobs'), { recursive: true }).catch(() => [] as string[]))
    .filter((p) => p.endsWith('.lease'))
    .map((p) => join(root, 'jobs', p));
  return [...slots, ...jobs];
}

export async function stress(o: StressOptions): Promise<Counts> {
  const log = o.log ?? (() => undefined);
  const audit = join(o.root, '..', 'audit.jsonl');
  const c: Counts = {
    jobs: 0,
    cancelled: 0,
    killed: 0,
    builtOk: 0,
    buildsExpected: 0,
    buildFailures: [],
    removals: 0,
    liveRemovals: [],
    leases: 0,
    guardRemovals: 0,
    doubleOwners: [],
    canaryChanges: 0,
    roundsUnderThreshold: 0,
    rounds: 0,
  };
  const canaryBefore = await digest(o.canary);
  const otherTenant = join(o.root, '..', 'other-tenant.bin');
  for (let round = 0; round < o.rounds; round++) {
    await fs.writeFile(audit, '');
    // How full a round leaves the disk depends on how the last one's builds interleaved (a fast
    // machine left it at 26%, under a 40% threshold, and no guard had anything to do). Another
    // tenant's spike outside the root takes the disk just over the threshold while every round
    // after the first starts, so the guards must free idle slots for it; it is gone before the
    // round's closing gc, which answers for the root's own data alone.
    if (round > 0) await fillTo(otherTenant, o.threshold + 3);
    const sims = await roundJobs(round, o.jobsPerRound);
    // The first job of a round runs to the end: the next round's guards then always find an
    // idle build to free (a round of cancelled starts leaves nothing to guard).
    const runs: JobRun[] = sims.map((job, i) => ({ job, plan: i === 0 ? 'normal' : pick(PLANS), fault: pick(FAULTS) }));
    for (const r of runs) r.job.env.CARGO_ISOLATE_AUDIT = audit;
    // A host reaper at the same low threshold runs while the jobs do.
    const reaper = (async () => {
      await sleep(500 + Math.random() * 1500);
      await cli(['gc', '--root', o.root, '--disk-threshold', `${o.threshold}%`, '--disk-target', `${o.threshold - 10}%`], {
        env: { ...process.env, CARGO_ISOLATE_AUDIT: audit },
      });
    })();
    await Promise.all(runs.map((r) => runJob(r, o)));
    await reaper;
    await fs.rm(otherTenant, { force: true });
    // Let keepers of killed jobs notice (each within its poll, however long a busy machine
    // makes that), then bring the disk back under the threshold.
    await until('every keeper of an ended job to end', async () => allFree(await leaseLocks(o.root), true), {
      ms: (KEEPER_POLL_SECONDS + 3) * 1000,
      every: 100,
    }).catch(() => undefined);
    await cli(['gc', '--root', o.root, '--disk-threshold', `${o.threshold}%`, '--disk-target', `${o.threshold - 10}%`], {
      env: { ...process.env, CARGO_ISOLATE_AUDIT: audit },
    });
    const disk = await measure(o.root);
    if (disk.usedPercent <= o.threshold) c.roundsUnderThreshold++;
    // Invariants from the audit log and the jobs' own observations.
    const events = (await fs.readFile(audit, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(
        (l) => JSON.parse(l) as { t: number; event: string; path?: string; dir?: string; outcome?: string; why?: string; lock?: string; keeperPid?: number },
      );
    for (const r of runs) {
      c.jobs++;
      if (r.plan === 'kill-job') c.killed++;
      else if (r.plan.startsWith('cancel')) c.cancelled++;
      if (r.plan === 'normal' || r.plan === 'cancel-post') {
        if (r.built !== undefined) {
          c.buildsExpected++;
          if (r.built === 0) c.builtOk++;
          else
            c.buildFailures.push(
              `${r.job.env.GITHUB_RUN_ID} ${r.plan}: ${r.buildErr
                ?.split('\n')
                .filter((l) => l.includes('error'))
                .slice(0, 2)
                .join(' / ')}`,
            );
        }
      }
    }
    for (const e of events.filter((x) => x.event === 'remove' && x.outcome !== 'live')) {
      c.removals++;
      if (e.why?.startsWith('disk guard:')) c.guardRemovals++;
      for (const r of runs) {
        if (r.dir && r.ownedFrom && r.ownedTo && e.t > r.ownedFrom && e.t < r.ownedTo && (e.path === r.dir || e.path!.startsWith(r.dir + '/'))) {
          c.liveRemovals.push(`${e.path} removed at ${e.t} while job ${r.job.env.GITHUB_RUN_ID} used it`);
        }
      }
    }
    c.leases += events.filter((x) => x.event === 'lease').length;
    // Ownership as the jobs saw it: from the end of main to the start of post, the build ran
    // in that directory. Two jobs' periods on one directory must never overlap.
    for (const a of runs) {
      for (const b of runs) {
        if (a !== b && a.dir && a.dir === b.dir && a.ownedFrom! < b.ownedFrom! && b.ownedFrom! < a.ownedTo!) {
          c.doubleOwners.push(`${a.dir}: job ${a.job.env.GITHUB_RUN_ID} until ${a.ownedTo}, job ${b.job.env.GITHUB_RUN_ID} from ${b.ownedFrom}`);
        }
      }
    }
    if ((await digest(o.canary)) !== canaryBefore) c.canaryChanges++;
    c.rounds++;
    log(
      `round ${round + 1}/${o.rounds}: ${runs.map((r) => `${r.plan}${r.fault !== 'none' ? `+${r.fault}` : ''}`).join(', ')}; disk ${disk.usedPercent.toFixed(1)}%`,
    );
    for (const s of sims) await s.cleanup();
  }
  return c;
}

export function report(c: Counts): string[] {
  return [
    `stress: ${c.rounds} rounds, ${c.jobs} jobs (${c.cancelled} cancelled, ${c.killed} killed)`,
    `invariant builds-succeeded: ${c.builtOk}/${c.buildsExpected} jobs not cancelled built with exit 0`,
    `invariant no-live-removal: ${c.liveRemovals.length} violations in ${c.removals} removals (${c.guardRemovals} by disk guards)`,
    `invariant outside-root-unchanged: ${c.canaryChanges} changes to the canary tree`,
    `invariant disk-under-threshold: ${c.roundsUnderThreshold}/${c.rounds} rounds`,
    `invariant single-owner: ${c.doubleOwners.length} overlapping owners in ${c.leases} leases`,
  ];
}
