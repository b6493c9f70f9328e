import { promises as fs } from 'node:fs';
import { DiskFullError, type GuardReport, guardOptions, runGuard } from '../pool/guard.js';
import { type Via, guardResult, recordEvent } from '../pool/events.js';
import { currentIdentity } from '../model/identity.js';
import { describeBase } from '../model/base.js';
import { TIER_TEXT } from '../pool/choose.js';
import { type StartedJob, planHome, prepareCrates, startJob } from './job.js';
import { releaseLease, slotToKeep } from '../pool/lease.js';
import type { Log } from '../os/log.js';
import { prepareRoot, unreliableFlock } from '../pool/root.js';
import type { Settings } from '../model/settings.js';
import { ensureSccacheServer, sccacheExports, sccacheWrapper } from './sccache.js';
import type { saveGuard, saveLease } from './state.js';
import { ensureWrapperScript, untrustedCache, untrustedEnv, wrapperExports } from './rustc-wrapper.js';
import { myUid } from '../os/proc.js';

/**
 * The main step's phases (guard, slot, crates, sccache server), shared by the action's main step,
 * the runner's job-started hook and the CLI's `run`: each passes its own log, the pid whose end
 * ends the lease, and where the state goes. `seenHere: false` when the job's build may see the
 * root elsewhere than this process does (the hook, on the host, before a job container starts).
 */
export async function mainJob(s: Settings, env: Record<string, string | undefined>, log: Log, watchPid: number, save: { lease: typeof saveLease; guard: typeof saveGuard }, o: { crates?: boolean; via?: Via; seenHere?: boolean; privateHome?: string } = {}): Promise<{ job: StartedJob; guard: GuardReport }> {
  const me = currentIdentity(env, { runnerName: s.runnerName, jobKey: s.jobKey });
  log.debug(`Identity: ${JSON.stringify(me)}`);
  log.info(`Runner ${me.runnerId} (from ${me.runnerFrom}${me.container ? ', in a container' : ''}), uid ${myUid()}.`);
  const root = await prepareRoot(s.root, env, true, s.rootOrigin);
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
  // For `cargo-isolate metrics` (events.ts): a job never fails over its own bookkeeping.
  const noted = (what: string) => (err?: Error) => void (err && log.debug(`Recording ${what} in ${root}'s events log: ${err.message}`));
  // Which CARGO_HOME and which paths this job sees: the guard keeps the build this job is about
  // to take while anything less valuable is idle, and the chooser compares the same views.
  const plan = await planHome(s, root, me, { seenHere: o.seenHere, privateHome: o.privateHome });
  const guard = await phase('guard', 'Disk guard', async () =>
    runGuard(guardOptions(s, root, me.runnerId, log, { keep: s.layout === 'slot' ? await slotToKeep({ root, me, view: plan.view }) : [] })),
  ).catch(async (e: Error) => {
    if (e instanceof DiskFullError) noted('the guard run')(await recordEvent(root, { event: 'guard', trigger: 'job', result: 'failed', freed: 0, removals: 0 }));
    throw e;
  });
  noted('the guard run')(await recordEvent(root, { event: 'guard', trigger: 'job', result: guardResult(guard), freed: s.dryRun ? 0 : guard.freedBytes, removals: s.dryRun ? 0 : guard.removals.length }));
  save.guard(guard);
  const job = await phase('slot', s.layout === 'slot' ? 'Slot' : 'Job directory', async () => {
    const j = await startJob(s, root, me, env, log, watchPid, save.lease, { privateHome: o.privateHome, plan });
    log.info(`Key ${me.repository} ${me.key}; ${s.layout === 'slot' ? `slot ${j.slot} (${j.tier}: ${TIER_TEXT[j.tier]})` : `job directory ${j.slot}`}; ${j.reset.reset ? `starting fresh: ${j.reset.reason}` : j.reset.reason}.`);
    if (me.base && s.layout === 'slot') log.info(`Base: ${describeBase(me.base, j.tier)}.`);
    return j;
  });
  job.phases = phases;
  noted('the lease')(await recordEvent(root, { event: 'lease', via: o.via ?? 'action', waitedMs: job.waitedMs, warm: job.reset.warm ?? false }));
  // A runner's job-started hook runs before checkout: the workspace may hold another PR's lock.
  if (o.crates !== false) {
    try {
      job.crates = await phase('crates', 'Crates', () => prepareCrates(s, root, job.exports.CARGO_HOME, me, { ...env, ...job.exports }, log));
    } catch (e) {
      await releaseLease(job.keeperPid, job.dirs.lock, job.dirs.base);
      throw new Error(`Seeding crates into ${job.dirs.cargoHome}: ${(e as Error).message}`);
    }
  }
  // A job that compiles through sccache gets a server no other job's end can take down, and
  // keys that are the same in every slot (rustc-wrapper.ts); a fork PR a cache of its own.
  const wrapper = sccacheWrapper(env);
  if (wrapper) {
    const uid = myUid();
    const untrusted = me.fork ? await untrustedCache(root, uid).catch(() => undefined) : undefined;
    const senv = untrusted ? untrustedEnv(env, untrusted.dir, untrusted.conf) : env;
    job.sccache = await phase('sccache', 'sccache server', () => ensureSccacheServer(senv, { root }, log)).catch((e: Error) => {
      log.warning(`sccache: could not make sure a host server runs (${e.message}); the job's sccache client starts its own, which dies with this job.`);
      return undefined;
    });
    Object.assign(job.exports, sccacheExports(job.sccache));
    if (untrusted) {
      Object.assign(job.exports, { SCCACHE_DIR: untrusted.dir, SCCACHE_CONF: untrusted.conf });
      log.info(`sccache: a fork PR compiles into ${untrusted.dir}, a cache trusted jobs never read.`);
    }
    const script = await ensureWrapperScript(root, uid).catch(() => undefined);
    if (script) Object.assign(job.exports, wrapperExports(script, wrapper));
    else log.warning(`sccache: could not write the key-normalising wrapper under ${root}/homes; compile-cache keys stay per slot.`);
  }
  return { job, guard };
}
