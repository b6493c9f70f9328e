import * as core from './os/runner-io.js';
import { finishJob } from './job/end.js';
import { actionLog } from './os/log.js';
import { onStray } from './os/proc.js';
import { notOnLinux } from './model/platform.js';
import { loadGuard, loadHookJoined, loadJob, loadLease } from './job/state.js';
import { explain } from './model/failure.js';
import { timingsLine, withRest, writeSummary } from './job/summary.js';

/*
 * The action's post step: what dist/post runs, and what `@github/local-action` calls. It reads
 * what the main step saved (state.ts), ends the job (finishJob) and writes the job summary. Never
 * fails the job: every problem is a warning, and the rest is left to the next guard.
 */

export async function run(): Promise<void> {
  const startUp = performance.now(); // since the process started: Node's own start and this bundle's loading
  const elsewhere = notOnLinux(process.platform, 'post');
  if (elsewhere) return core.notice(elsewhere);
  onStray(stray);
  try {
    if (loadHookJoined()) {
      core.info("The main step joined the runner's job-started hook: its job-completed hook releases the lease and publishes crates.");
      return;
    }
    const lease = loadLease();
    if (!lease) {
      core.info('The main step took no lease (it failed or was cancelled before): nothing to release.');
      return;
    }
    const job = loadJob();
    const t0 = performance.now();
    const ended = await finishJob({ job: job ?? lease, env: process.env, log: actionLog });
    const t1 = performance.now();
    await writeSummary(job, ended, loadGuard()).catch((e) => report(e, `Writing the job summary to ${process.env.GITHUB_STEP_SUMMARY}`));
    const t2 = performance.now();
    const release = withRest(ended.releaseSteps, ended.releaseMs ?? 0, 'the rest of the release');
    const times: [string, number][] = [
      ['start-up', startUp],
      ['state', t0 - startUp],
      ...release,
      ['sccache and warnings', t1 - t0 - (ended.releaseMs ?? 0)],
      ['summary', t2 - t1],
    ];
    core.debug(timingsLine('post', times, performance.now()));
  } catch (e) {
    report(e, 'cargo-isolate post step');
  }
}

/** One failure of the post step: a warning (model/failure.ts), its stack only in the debug log; the next guard cleans up. */
function report(e: unknown, doing: string): void {
  const f = explain(e, { more: 're-run the job with debug logging for the trace (RUNNER_DEBUG)' });
  if (f.stack && process.env.RUNNER_DEBUG === '1') core.debug(f.stack);
  core.warning(`${f.message.startsWith(doing) ? '' : `${doing}: `}${f.message} A later guard or 'cargo-isolate gc' cleans up what is left.`);
}

function stray(e: unknown): never {
  report(e, 'cargo-isolate post step');
  process.exit(0);
}
