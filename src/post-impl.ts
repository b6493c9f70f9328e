import * as core from '@actions/core';
import { finishJob } from './job/end.js';
import { actionLog } from './os/log.js';
import { notOnLinux } from './model/platform.js';
import { loadGuard, loadHookJoined, loadJob, loadLease } from './job/state.js';
import { writeSummary } from './job/summary.js';

/*
 * The action's post step: what dist/post runs, and what `@github/local-action` calls. It reads
 * what the main step saved (state.ts), ends the job (finishJob) and writes the job summary. Never
 * fails the job: every problem is a warning, and the rest is left to the next guard.
 */

export async function run(): Promise<void> {
  const elsewhere = notOnLinux(process.platform, 'post');
  if (elsewhere) return core.notice(elsewhere);
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
    const ended = await finishJob({ job: job ?? lease, env: process.env, log: actionLog });
    await writeSummary(job, ended, loadGuard()).catch((e) => core.warning(`Writing the job summary: ${(e as Error).message}`));
  } catch (e) {
    core.warning(`cargo-isolate post step: ${(e as Error).message}`);
  }
}
