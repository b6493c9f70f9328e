import * as core from '@actions/core';
import { endJob } from './job/end.js';
import { actionLog } from './os/log.js';
import { notOnLinux } from './model/platform.js';
import { loadGuard, loadHookJoined, loadJob, loadLease } from './job/state.js';
import { writeSummary } from './job/summary.js';
import { sccacheAtEnd } from './host/sccache.js';

/**
 * The post step: what dist/post runs, and what `@github/local-action` calls. Never fails the
 * job: every problem is a warning, and the rest is left to the next guard.
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
    // Before tmp/ is emptied: a server this job's client started must not lose its temp dir mid-write.
    const sccacheNote = await sccacheAtEnd(job?.sccache, process.env, { root: lease.root }, actionLog).catch(
      (e: Error) => `sccache: checking the server on the job's port: ${e.message}`,
    );
    const ended = await core.group('Release', () => endJob(job ?? lease, actionLog));
    if (sccacheNote) ended.warnings.push(sccacheNote);
    for (const w of ended.warnings) core.warning(w);
    await writeSummary(job, ended, loadGuard()).catch((e) => core.warning(`Writing the job summary: ${(e as Error).message}`));
  } catch (e) {
    core.warning(`cargo-isolate post step: ${(e as Error).message}`);
  }
}
