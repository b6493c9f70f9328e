import { readlinkSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { isHolder } from '../os/flock.js';
import type { Log } from '../os/log.js';
import { ancestors, myUid } from '../os/proc.js';
import { DEFAULTS, type Settings, InputError, defaultRoot, fromVariables, readSettings } from '../model/settings.js';
import { parseLevel } from '../model/units.js';
import { asSentence, environmentProblems, readEnvFile } from '../model/variables.js';
import { RootError, isMadeRoot } from '../pool/root.js';
import { readBytesIfPresent } from '../os/absent.js';
import { recordEvent } from '../pool/events.js';
import { collectMetrics, writeMetrics } from './metrics.js';
import { mainJob } from './start.js';
import { endJob } from './end.js';
import { cratesAtEnd, ownPaths, readState, statePath, writeState } from './hook-state.js';
import type { StartedJob } from './types.js';
import { failed } from '../model/failure.js';

/*
 * The runner's job hooks (ACTIONS_RUNNER_HOOK_JOB_STARTED / _COMPLETED): the action's main and
 * post work, run by the runner around every job, with no workflow change (docs/runner-hooks.md).
 * hook-impl.ts wires them and reports; this module says where their state comes from.
 *
 * The runner runs both hooks on the host as its own user, the started one before "Initialize
 * containers" and any step, the completed one after every post step and "Stop containers".
 * What the started hook writes to GITHUB_ENV / GITHUB_PATH reaches every later step; the
 * completed hook gets fresh, empty files and sees none of it. So the state passes through a
 * file in RUNNER_TEMP that lives exactly as long as the job (hook-state.ts).
 *
 * The lease's end where the completed hook never runs (runner shutdown, killed worker, cancel
 * during "Set up job"): the keeper carries the job's RUNNER_TRACKING_ID, which "Complete job"
 * kills; it watches the Runner.Worker process; and max-lease bounds it.
 */

/** Where the hooks write the metrics after each job (not an input: the CLI writes them with --output). */
export const METRICS_VAR = 'CARGO_ISOLATE_METRICS_FILE';

/** The action's validation over the runner's variables; a message names the variable the operator set. */
export function hookSettings(env: Record<string, string | undefined>): Settings {
  return readSettings(fromVariables(env), env);
}

/**
 * Pure: the pid the keeper watches, from the hook's ancestors (nearest first). The worker runs
 * the hook script, which runs node; an operator's own hook may wrap ours, so the nearest
 * Runner.Worker wins. Without one (another runner), the script's parent: never the script
 * itself, which exits as soon as the hook is done.
 */
export function workerPid(ancestors: { pid: number; comm: string }[]): number {
  return (ancestors.find((a) => a.comm === 'Runner.Worker') ?? ancestors[1] ?? ancestors[0])?.pid ?? 0;
}

/**
 * The runner's .env, which it read at start (Runner.Listener's LoadAndSetEnv: the parent of the
 * directory its binaries run from), found from the Runner.Worker that runs this hook.
 */
function runnerEnvFile(parents: { pid: number; comm: string }[]): string | undefined {
  const worker = parents.find((a) => a.comm === 'Runner.Worker');
  if (!worker) return undefined;
  try {
    return join(dirname(dirname(readlinkSync(`/proc/${worker.pid}/exe`))), '.env');
  } catch {
    return undefined; // the worker is gone, or runs as another uid: nothing to check
  }
}

/**
 * The operator's CARGO_ISOLATE_* settings as the runner set them: a name nobody reads, a line the
 * runner reads otherwise than it looks, each a warning (the job goes on, isolated); a .env that is
 * not text refused like a bad variable. Names the .env file sets are reported with its line.
 */
async function checkVariables(env: Record<string, string | undefined>, envFile: string | undefined, log: Log): Promise<void> {
  const fromFile = new Set<string>();
  const bytes = envFile ? await readBytesIfPresent(envFile) : undefined; // none: nothing to check (unreadable: said once)
  if (envFile && bytes) {
    const read = readEnvFile(bytes, envFile);
    if ('notText' in read)
      throw new InputError({
        message:
          `The runner's .env file ${envFile} is not a text file (${read.notText}): ` +
          'the runner took its variables from whatever lines it found. Fix the file, then restart the runner',
      });
    for (const w of read.problems) log.warning(`cargo-isolate job-started hook: ${asSentence(w)}`);
    for (const k of Object.keys(read.vars)) fromFile.add(k);
  }
  for (const w of environmentProblems(env, "in the runner's environment", fromFile)) log.warning(`cargo-isolate job-started hook: ${asSentence(w)}`);
}

/**
 * The started hook's job: the main step's phases for the job about to run, then its state for the
 * completed hook, then `handOver` (the job's environment files). A failure after the lease ends
 * the job again before it throws.
 */
export async function startHookJob(
  env: Record<string, string | undefined>,
  log: Log,
  handOver: (job: StartedJob, stateFile: string) => void,
): Promise<StartedJob> {
  const file = statePath(env);
  if (!file) throw new Error("RUNNER_TEMP is not set: this runs only as the runner's job-started hook");
  const parents = ancestors(process.ppid);
  await checkVariables(env, runnerEnvFile(parents), log);
  const s = hookSettings(env);
  const watch = workerPid(parents);
  log.debug(`Watching pid ${watch} (the runner's worker) for the lease.`);
  // No crate seeding here: nothing is checked out yet, and the workspace still holds the
  // previous job's checkout, perhaps another PR's lock file. startJob releases its own lease
  // when it fails after taking it.
  // Nothing here says whether the job's steps run in a container (the runner exports no
  // `job.container`): the job's own last build on this host tells its view (choose.ts). For the
  // same reason a hook that is not root gives each job a private CARGO_HOME in its slot: a home
  // shared by the runner user's jobs would get a container's root-owned files (cargo-home.ts).
  const privateHome =
    myUid() === 0
      ? undefined
      : "runner hooks of a user that is not root: the hook cannot tell whether the job's steps run as this uid or as a container's root";
  const { job, guard } = await mainJob({
    settings: s,
    env,
    log,
    watchPid: watch,
    save: { lease: () => undefined, guard: () => undefined },
    crates: false,
    via: 'hook',
    seenHere: false,
    privateHome,
  });
  try {
    await writeState(file, { format: 1, job, guard, publishCrates: s.publishCrates });
    handOver(job, file);
  } catch (e) {
    await endJob(job).catch(() => undefined);
    throw failed(`Writing ${file} and the job's environment files`, e);
  }
  return job;
}

/**
 * The completed hook's job, from the started hook's state; undefined, with the reason said, when
 * there is none or when the state cannot be trusted with a release.
 */
export async function hookJobToEnd(env: Record<string, string | undefined>, log: Log): Promise<StartedJob | undefined> {
  const file = statePath(env);
  const st = file && (await readState(file));
  if (!st) {
    log.info('cargo-isolate: the job-started hook took no lease for this job; nothing to release.');
    return undefined;
  }
  const job = st.job;
  if (!ownPaths(job)) {
    // The file lives in RUNNER_TEMP, which the job's own steps can write: paths that are not
    // the ones the layout gives the slot it names are never emptied or recorded.
    log.warning(
      `cargo-isolate job-completed hook: ${file} names directories that are not ${job.layout} ${job.slot}'s own under ${job.root} ` +
        '(the file was changed during the job); releasing nothing. The lease ends at "Complete job" with the job\'s processes.',
    );
    return undefined;
  }
  if (!isHolder(job.keeperPid, job.dirs.lock)) {
    // max-lease passed or the keeper was killed: another job may hold the slot by now.
    log.warning(
      `cargo-isolate job-completed hook: the lease on ${job.dirs.base} ended before the job did ` +
        `(max-lease, or its keeper pid ${job.keeperPid} was killed); leaving the directory to whoever holds it now.`,
    );
    return undefined;
  }
  return { ...job, crates: cratesAtEnd(st, env) };
}

/**
 * Counts a job the started hook let run without isolation, for the operator's alert: only in a
 * root cargo-isolate made (its marker is there), never in a path that was refused as a root.
 */
export async function recordUnisolated(env: Record<string, string | undefined>, e: Error, log: Log): Promise<void> {
  let root: string;
  try {
    root = hookSettings(env).root;
  } catch {
    root = defaultRoot(env); // the variable that was refused may be another one
  }
  if (!isAbsolute(root) || !(await isMadeRoot(root))) return;
  const reason = e instanceof InputError ? 'settings' : e instanceof RootError ? 'root' : 'other';
  const err = await recordEvent(root, { event: 'unisolated', reason });
  if (err) log.debug(`Recording the unisolated job in ${root}: ${err.message}`);
  await hookMetrics(env, root, log);
}

/**
 * CARGO_ISOLATE_METRICS_FILE (the runner's .env): the hooks rewrite the metrics file for
 * node_exporter after each job, so a fleet without a timer still has fresh metrics. Never fails a job.
 */
export async function hookMetrics(env: Record<string, string | undefined>, root: string, log: Log): Promise<void> {
  const file = env[METRICS_VAR];
  if (!file) return;
  try {
    let threshold: Settings['diskThreshold'];
    let cap: Settings['hostArchives'] | undefined;
    try {
      ({ diskThreshold: threshold, hostArchives: cap } = hookSettings(env));
    } catch {
      threshold = parseLevel(DEFAULTS['disk-threshold'])!; // the variable's own warning was given already
    }
    await writeMetrics(file, await collectMetrics(root, threshold, (m) => log.debug(m), 'hook', cap));
  } catch (e) {
    log.warning(`cargo-isolate: writing the metrics to ${file} (${METRICS_VAR}): ${(e as Error).message}. The job is not affected.`);
  }
}
