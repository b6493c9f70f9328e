import { promises as fs } from 'node:fs';
import { type GuardReport, runGuard } from '../pool/guard.js';
import { currentIdentity } from '../model/identity.js';
import { describeBase } from '../model/base.js';
import { TIER_TEXT } from '../pool/choose.js';
import { type StartedJob, prepareCrates, startJob } from './job.js';
import { releaseLease, slotToKeep } from '../pool/lease.js';
import type { Log } from '../os/log.js';
import { prepareRoot, unreliableFlock } from '../pool/root.js';
import type { Settings } from '../model/settings.js';
import { ensureSccacheServer, sccacheExports, sccacheWrapper } from './sccache.js';
import type { saveGuard, saveLease } from './state.js';

/**
 * The main step's phases (guard, slot, crates, sccache server), shared by the action's main step,
 * the runner's job-started hook and the CLI's `run`: each passes its own log, the pid whose end
 * ends the lease, and where the state goes.
 */
export async function mainJob(s: Settings, env: Record<string, string | undefined>, log: Log, watchPid: number, save: { lease: typeof saveLease; guard: typeof saveGuard }, o: { crates?: boolean } = {}): Promise<{ job: StartedJob; guard: GuardReport }> {
  const me = currentIdentity(env, { runnerName: s.runnerName, jobKey: s.jobKey });
  log.debug(`Identity: ${JSON.stringify(me)}`);
  log.info(`Runner ${me.runnerId} (from ${me.runnerFrom}${me.container ? ', in a container' : ''}), uid ${process.geteuid?.()}.`);
  const root = await prepareRoot(s.root, env);
  const unsafe = unreliableFlock((await fs.statfs(root)).type);
  if (unsafe) log.warning(`The root ${root}: ${unsafe}.`);
  // Time per phase, for the summary: a slow step must be explainable from the summary alone.
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, title: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await log.group(title, fn);
    } finally {
      phases[name] = Math.round(performance.now() - t0);
    }
  };
  // The guard keeps the build this job is about to take while anything less valuable is idle.
  const guard = await phase('guard', 'Disk guard', async () =>
    runGuard({ root, threshold: s.diskThreshold, target: s.diskTarget, scope: s.pruneScope, runnerId: me.runnerId, dryRun: s.dryRun, failBelowBytes: s.failBelowBytes, timeoutMs: s.cleanupTimeoutMs, log, keep: s.layout === 'slot' ? await slotToKeep(root, me) : [] }),
  );
  save.guard(guard);
  const job = await phase('slot', s.layout === 'slot' ? 'Slot' : 'Job directory', async () => {
    const j = await startJob(s, root, me, env, log, watchPid, save.lease);
    log.info(`Key ${me.repository} ${me.key}; ${s.layout === 'slot' ? `slot ${j.slot} (${j.tier}: ${TIER_TEXT[j.tier]})` : `job directory ${j.slot}`}; ${j.reset.reset ? `starting fresh: ${j.reset.reason}` : j.reset.reason}.`);
    if (me.base && s.layout === 'slot') log.info(`Base: ${describeBase(me.base, j.tier)}.`);
    return j;
  });
  job.phases = phases;
  // A runner's job-started hook runs before checkout: the workspace may hold another PR's lock.
  if (o.crates !== false) {
    try {
      job.crates = await phase('crates', 'Crates', () => prepareCrates(s, root, job.dirs.cargoHome, me, { ...env, ...job.exports }, log));
    } catch (e) {
      await releaseLease(job.keeperPid, job.dirs.lock, job.dirs.base);
      throw new Error(`Seeding crates into ${job.dirs.cargoHome}: ${(e as Error).message}`);
    }
  }
  // A job that compiles through sccache gets a server no other job's end can take down.
  if (sccacheWrapper(env)) {
    job.sccache = await phase('sccache', 'sccache server', () => ensureSccacheServer(env, { root }, log)).catch((e: Error) => {
      log.warning(`sccache: could not make sure a host server runs (${e.message}); the job's sccache client starts its own, which dies with this job.`);
      return undefined;
    });
    Object.assign(job.exports, sccacheExports(job.sccache));
  }
  return { job, guard };
}
