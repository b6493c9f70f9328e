import * as core from './os/runner-io.js';
import { finishJob } from './job/end.js';
import { type Log, actionLog } from './os/log.js';
import { onStray } from './os/proc.js';
import { STATE_VAR } from './job/hook-state.js';
import { hookJobToEnd, hookMetrics, recordUnisolated, startHookJob } from './job/hooks.js';
import { completedLine, startedLine } from './job/summary.js';
import { hookLeftUnisolated } from './model/messages.js';
import { reportReadsTo } from './os/absent.js';
import { type Explained, explain } from './model/failure.js';

/*
 * What dist/hook runs for the runner's job hooks (hooks/job-*.sh): the started hook hands the job
 * its environment, the completed hook ends it; each reports through the job log, the job summary
 * and its exit code. The sequences, and where their state comes from, are job/hooks.ts's.
 */

/** The hook script's exit code that means "fail the job" (only fail-below asks for it). */
export const FAIL_EXIT = 3;

/** A failure of a hook, said once (model/failure.ts); its stack only in the debug log (RUNNER_DEBUG). */
function explained(e: unknown, log: Log): Explained {
  const f = explain(e, { more: 're-run the job with debug logging for the trace (RUNNER_DEBUG)' });
  if (f.stack && process.env.RUNNER_DEBUG === '1') log.debug(f.stack);
  return f;
}

/**
 * The started hook. Exit code 0 whatever goes wrong inside (a warning, nothing exported: the
 * job runs as it would without the hook), FAIL_EXIT only for the operator's fail-below.
 */
export async function hookStarted(env: Record<string, string | undefined>, log: Log = actionLog): Promise<number> {
  try {
    const job = await startHookJob(env, log, (job, stateFile) => {
      for (const [k, v] of Object.entries(job.exports)) core.exportVariable(k, v);
      core.exportVariable(STATE_VAR, stateFile);
      core.addPath(job.path);
    });
    log.info(startedLine(job));
    return 0;
  } catch (e) {
    const f = explained(e, log);
    if (f.kind === 'floor') {
      core.error(f.message);
      return FAIL_EXIT;
    }
    // A bad variable too: the operator's settings apply to every job of the runner, which should not all fail.
    log.warning(hookLeftUnisolated(f.message));
    await recordUnisolated(env, e as Error, log).catch((x) => log.warning(`counting this job as left without isolation: ${explained(x, log).message}`));
    return 0;
  }
}

/** The completed hook: the post step's work on the started hook's lease. Never fails a job. */
export async function hookCompleted(env: Record<string, string | undefined>, log: Log = actionLog): Promise<number> {
  try {
    const job = await hookJobToEnd(env, log);
    if (!job) return 0;
    const ended = await finishJob({ job, env, log });
    const line = completedLine(job, ended);
    log.info(line);
    const kept = ended.container?.kept;
    await core.appendSummary(`${line}\n${kept ? `\n> [!WARNING]\n> ${kept}\n` : ''}`, env).catch(() => undefined);
    await hookMetrics(env, job.root, log);
    return 0;
  } catch (e) {
    const f = explained(e, log);
    log.warning(`cargo-isolate job-completed hook: ${f.message.replace(/\.$/, '')}. A later guard or 'cargo-isolate gc' cleans up what is left.`);
    return 0;
  }
}

/** What dist/hook runs: `started` or `completed`, from hooks/job-*.sh. */
export async function runHook(which: string | undefined): Promise<number> {
  // What escapes every await is a warning like the rest: the hook script must not print a trace, nor fail the job.
  const stray = (e: unknown) => {
    actionLog.warning(`cargo-isolate job-${which} hook: ${explained(e, actionLog).message}`);
    process.exit(0);
  };
  onStray(stray);
  // A read that fails other than by absence, anywhere in either hook, is a warning in the job log.
  if (which === 'started') return reportReadsTo(actionLog, () => hookStarted(process.env));
  if (which === 'completed') return reportReadsTo(actionLog, () => hookCompleted(process.env));
  process.stderr.write(`cargo-isolate hook: expected 'started' or 'completed', got '${which ?? ''}'\n`);
  return 2;
}
