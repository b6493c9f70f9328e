import * as core from '@actions/core';
import { promises as fs } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { mayPublish } from './store/crates.js';
import { isHolder } from './os/flock.js';
import { DiskFullError } from './pool/guard.js';
import type { EndedJob, StartedJob } from './job/types.js';
import { endJob } from './job/end.js';
import { VERSION } from './model/version.js';
import { sccacheAtEnd } from './host/sccache.js';
import { type Log, actionLog } from './os/log.js';
import { mainJob } from './job/start.js';
import { DEFAULTS, type Settings, InputError, RUNNER_INPUTS, defaultRoot, fromVariables, readSettings, variableOf } from './model/settings.js';
import { RootError } from './pool/root.js';
import { recordEvent } from './pool/events.js';
import { collectMetrics, writeMetrics } from './job/metrics.js';
import { formatBytes, parseLevel } from './model/units.js';
import { rootPaths } from './model/layout.js';
import { STATE_VAR, ownPaths, readState, statePath, writeState } from './job/hook-state.js';
import { procStat, myUid } from './os/proc.js';

/*
 * Runner job hooks (ACTIONS_RUNNER_HOOK_JOB_STARTED / _COMPLETED): the action's main and post
 * work, run by the runner around every job, with no workflow change (docs/runner-hooks.md).
 *
 * The runner runs both hooks on the host as its own user, the started one before "Initialize
 * containers" and any step, the completed one after every post step and "Stop containers".
 * What the started hook writes to GITHUB_ENV / GITHUB_PATH reaches every later step; the
 * completed hook gets fresh, empty files and sees none of it. So the state passes through a
 * file in RUNNER_TEMP that lives exactly as long as the job (job/hook-state.ts).
 *
 * The lease's end where the completed hook never runs (runner shutdown, killed worker, cancel
 * during "Set up job"): the keeper carries the job's RUNNER_TRACKING_ID, which "Complete job"
 * kills; it watches the Runner.Worker process; and max-lease bounds it.
 */

/** The hook script's exit code that means "fail the job" (only fail-below asks for it). */
export const FAIL_EXIT = 3;
/** Where the hooks write the metrics after each job (not an input: the CLI writes them with --output). */
export const METRICS_VAR = 'CARGO_ISOLATE_METRICS_FILE';

/** Inputs an operator may set for every job of a runner (settings.ts owns the list and the names). */
export const HOOK_INPUTS = RUNNER_INPUTS;
/** Pure: the runner `.env` variable for an input. */
export const hookVariable = variableOf;

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

function ancestors(from: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (let pid = from; pid > 1 && out.length < 32;) {
    const stat = procStat(pid);
    if (!stat) break;
    out.push({ pid, comm: stat.comm });
    pid = stat.ppid;
  }
  return out;
}

/**
 * The started hook. Exit code 0 whatever goes wrong inside (a warning, nothing exported: the
 * job runs as it would without the hook), FAIL_EXIT only for the operator's fail-below.
 */
export async function hookStarted(env: Record<string, string | undefined>, log: Log = actionLog): Promise<number> {
  const file = statePath(env);
  try {
    if (!file) throw new Error("RUNNER_TEMP is not set: this runs only as the runner's job-started hook");
    const s = hookSettings(env);
    const watch = workerPid(ancestors(process.ppid));
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
      for (const [k, v] of Object.entries(job.exports)) core.exportVariable(k, v);
      core.exportVariable(STATE_VAR, file);
      core.addPath(job.path);
    } catch (e) {
      await endJob(job).catch(() => undefined);
      throw new Error(`Writing ${file} and the job's environment files: ${(e as Error).message}`);
    }
    log.info(
      `cargo-isolate ${VERSION}: ${job.identity.repository} ${job.identity.key} in ${job.layout === 'slot' ? 'slot' : 'job directory'} ${job.slot} (${job.tier}${job.reset.warm ? ', warm' : ''}); CARGO_TARGET_DIR=${job.dirs.target} CARGO_HOME=${job.exports.CARGO_HOME} TMPDIR=${job.dirs.tmp}.`,
    );
    return 0;
  } catch (e) {
    if (e instanceof DiskFullError) {
      core.error(e.message);
      return FAIL_EXIT;
    }
    log.warning(`cargo-isolate job-started hook: ${(e as Error).message.replace(/\.$/, '')}. This job runs without isolation (nothing exported).`);
    await recordUnisolated(env, e as Error, log);
    return 0;
  }
}

/**
 * Counts a job the started hook let run without isolation, for the operator's alert: only in a
 * root cargo-isolate made (its marker is there), never in a path that was refused as a root.
 */
async function recordUnisolated(env: Record<string, string | undefined>, e: Error, log: Log): Promise<void> {
  let root: string;
  try {
    root = hookSettings(env).root;
  } catch {
    root = defaultRoot(env); // the variable that was refused may be another one
  }
  if (
    !isAbsolute(root) ||
    !(await fs.lstat(rootPaths(root).marker).then(
      (st) => st.isFile(),
      () => false,
    ))
  )
    return;
  const reason = e instanceof InputError ? 'settings' : e instanceof RootError ? 'root' : 'other';
  const err = await recordEvent(root, { event: 'unisolated', reason });
  if (err) log.debug(`Recording the unisolated job in ${root}: ${err.message}`);
  await hookMetrics(env, root, log);
}

/**
 * CARGO_ISOLATE_METRICS_FILE (the runner's .env): the hooks rewrite the metrics file for
 * node_exporter after each job, so a fleet without a timer still has fresh metrics. Never fails a job.
 */
async function hookMetrics(env: Record<string, string | undefined>, root: string, log: Log): Promise<void> {
  const file = env[METRICS_VAR];
  if (!file) return;
  try {
    let threshold: Settings['diskThreshold'];
    try {
      threshold = hookSettings(env).diskThreshold;
    } catch {
      threshold = parseLevel(DEFAULTS['disk-threshold'])!; // the variable's own warning was given already
    }
    await writeMetrics(file, await collectMetrics(root, threshold, (m) => log.debug(m)));
  } catch (e) {
    log.warning(`cargo-isolate: writing the metrics to ${file} (${METRICS_VAR}): ${(e as Error).message}. The job is not affected.`);
  }
}

/** Pure: the completed hook's one line for the job log and the job summary (the action writes a table). */
export function completedLine(
  job: Pick<StartedJob, 'identity' | 'layout' | 'slot' | 'tier'>,
  ended: Pick<EndedJob, 'sizes' | 'published' | 'units' | 'released' | 'view'>,
): string {
  const pub = ended.published;
  const built = ended.view ? `built as uid ${ended.view.uid} under ${ended.view.root}; ` : '';
  const units =
    ended.units && ended.units.built + ended.units.fresh > 0
      ? `units ${ended.units.built} built, ${ended.units.fresh} fresh; `
      : ended.units
        ? 'no cargo build; '
        : '';
  return `cargo-isolate ${VERSION}: ${job.identity.repository} ${job.identity.key}, ${job.layout} ${job.slot} (${job.tier}); ${ended.sizes ? `target ${formatBytes(ended.sizes.target)}, cargo-home ${formatBytes(ended.sizes.cargoHome)}; ` : ''}${built}${units}${pub ? (pub.allowed ? `${pub.published} crates published; ` : 'crates not published (untrusted); ') : ''}lease ${ended.released ? 'released' : 'already ended'}.`;
}

/** The completed hook: the post step's work on the started hook's lease. Never fails a job. */
export async function hookCompleted(env: Record<string, string | undefined>, log: Log = actionLog): Promise<number> {
  try {
    const file = statePath(env);
    const st = file && (await readState(file));
    if (!st) {
      log.info('cargo-isolate: the job-started hook took no lease for this job; nothing to release.');
      return 0;
    }
    const job = st.job;
    if (!ownPaths(job)) {
      // The file lives in RUNNER_TEMP, which the job's own steps can write: paths that are not
      // the ones the layout gives the slot it names are never emptied or recorded.
      log.warning(
        `cargo-isolate job-completed hook: ${file} names directories that are not ${job.layout} ${job.slot}'s own under ${job.root} (the file was changed during the job); releasing nothing. The lease ends at "Complete job" with the job's processes.`,
      );
      return 0;
    }
    if (!isHolder(job.keeperPid, job.dirs.lock)) {
      // max-lease passed or the keeper was killed: another job may hold the slot by now.
      log.warning(
        `cargo-isolate job-completed hook: the lease on ${job.dirs.base} ended before the job did (max-lease, or its keeper pid ${job.keeperPid} was killed); leaving the directory to whoever holds it now.`,
      );
      return 0;
    }
    const ws = env.GITHUB_WORKSPACE || process.cwd();
    const lockFile = st.action?.lockFile !== undefined ? join(ws, st.action.lockFile) : undefined;
    const policy = st.publishCrates ?? 'trusted';
    job.crates = {
      ...(st.action?.crates ?? {}),
      search: { workingDirectory: ws },
      lockFile,
      cargoVersion: st.action?.crates?.cargoVersion,
      publish: mayPublish(policy, job.identity),
      policy,
      cache: false,
    };
    // Before tmp/ is emptied, as in the post step: a server this job's client started must not
    // lose its temp dir mid-write.
    const sccacheNote = await sccacheAtEnd(job.sccache, env, { root: job.root }, log).catch(
      (e: Error) => `sccache: checking the server on the job's port: ${e.message}`,
    );
    const ended = await endJob(job, log);
    if (sccacheNote) ended.warnings.push(sccacheNote);
    // Another uid's files from the job's own container (the build saw the root elsewhere), not
    // from a `docker run` step: handing them back is routine; when it fails, say what that costs
    // the next container job and what the operator can change.
    const f = ended.foreign;
    const fromContainer = f && ended.view && ended.view.root !== job.root ? ended.view : undefined;
    const kept = fromContainer && !f!.handedBack ? containerFilesKept({ slot: job.slot, seen: fromContainer, hookUid: myUid(), failed: f!.failed }) : undefined;
    const warnings = fromContainer ? ended.warnings.flatMap((w) => (w !== f!.message ? [w] : kept ? [kept] : [])) : ended.warnings;
    if (fromContainer && f!.handedBack)
      log.info(
        `cargo-isolate: the job's container built as uid ${fromContainer.uid} in slot ${job.slot}; its files went back to uid ${myUid()} with ${f!.handedBack}.`,
      );
    for (const w of warnings) log.warning(w);
    const line = completedLine(job, ended);
    log.info(line);
    if (env.GITHUB_STEP_SUMMARY) await fs.appendFile(env.GITHUB_STEP_SUMMARY, `${line}\n${kept ? `\n> [!WARNING]\n> ${kept}\n` : ''}`).catch(() => undefined);
    await hookMetrics(env, job.root, log);
    return 0;
  } catch (e) {
    log.warning(`cargo-isolate job-completed hook: ${(e as Error).message}. A later guard or 'cargo-isolate gc' cleans up what is left.`);
    return 0;
  }
}

/**
 * Pure: the completed hook's warning when the job's container built as another uid (root, as the
 * images of most fleets run) and this hook could not give those files back. The slot is then
 * passed over by the runner's user, so the PR's next container job starts cold elsewhere: the
 * started hook cannot know that the next job will run as root too (nothing it sees says so), and
 * a host job given root's files would fail in cargo with "Permission denied".
 */
export function containerFilesKept(o: { slot: string; seen: { root: string; uid: number }; hookUid: number; failed: string[] }): string {
  return `This job's container built as uid ${o.seen.uid} in slot ${o.slot} (seen at ${o.seen.root}), and this hook, running as uid ${o.hookUid}, could not give those files back (${o.failed.join('; ')}). Jobs of uid ${o.hookUid} pass the slot over until a root job or 'cargo-isolate gc' run as root hands it back, so this PR's next container job starts cold in another slot. To keep container jobs warm, let the runner's user hand the files back: add it to the docker group, or allow it 'sudo -n chown', or run 'cargo-isolate gc' as root from a timer (docs/runner-hooks.md).`;
}

/** What dist/hook runs: `started` or `completed`, from hooks/job-*.sh. */
export async function runHook(which: string | undefined): Promise<number> {
  if (which === 'started') return hookStarted(process.env);
  if (which === 'completed') return hookCompleted(process.env);
  process.stderr.write(`cargo-isolate hook: expected 'started' or 'completed', got '${which ?? ''}'\n`);
  return 2;
}
