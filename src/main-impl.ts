import * as core from './os/runner-io.js';
import type { StartedJob } from './job/types.js';
import { mainJob } from './job/start.js';
import { actionLog } from './os/log.js';
import { onStray } from './os/proc.js';
import { notOnLinux } from './model/platform.js';
import { readSettings } from './model/settings.js';
import { saveGuard, saveHookJoined, saveJob, saveLease } from './job/state.js';
import { joinHookLease } from './job/hook-state.js';
import { forgetClosedRun } from './job/forget.js';
import { explain } from './model/failure.js';
import { actionLeftUnisolated } from './model/messages.js';
import { timingsLine, withRest } from './job/summary.js';

/*
 * The action's main step: what dist/main runs, and what `@github/local-action` calls. It reads
 * the inputs, then either tells the host a PR has closed, joins the runner hook's lease, or starts
 * the job (mainJob); then it sets the outputs and exports, and saves what the post step needs.
 * A bad input and `fail-below` fail the step; a host that is not as it must be (a root it cannot
 * write, a full disk) is a warning, and the job runs as it would without the action.
 */

/** One failure of the main step, said once (model/failure.ts), its stack only in the debug log. */
function report(e: unknown): void {
  const f = explain(e, { more: 're-run the job with debug logging for the trace (RUNNER_DEBUG)' });
  if (f.stack && process.env.RUNNER_DEBUG === '1') core.debug(f.stack);
  if (f.kind === 'input' || f.kind === 'floor') core.setFailed(f.message);
  else core.warning(actionLeftUnisolated(f.message));
}

function setDirOutputs(job: StartedJob): void {
  core.setOutput('target-dir', job.dirs.target);
  core.setOutput('cargo-home', job.exports.CARGO_HOME ?? job.dirs.cargoHome);
  core.setOutput('tmpdir', job.dirs.tmp);
  core.setOutput('slot', job.slot);
  core.setOutput('trust-domain', job.identity.key);
  core.setOutput('key', job.identity.key); // the older name of trust-domain
}

export async function run(): Promise<void> {
  const startUp = performance.now(); // since the process started: Node's own start and this bundle's loading
  const elsewhere = notOnLinux(process.platform, 'main');
  if (elsewhere) return core.notice(elsewhere);
  onStray(stray);
  try {
    let t = performance.now();
    const times: [string, number][] = [['start-up', startUp]];
    const lap = (name: string) => {
      times.push([name, performance.now() - t]);
      t = performance.now();
    };
    const s = readSettings((n) => core.getInput(n));
    lap('settings');
    // A run for a closed PR builds nothing: it tells the host the PR's builds are worth nothing.
    const forgotten = await forgetClosedRun(s, process.env);
    if (forgotten) {
      core.notice(`${forgotten} No slot is leased for a run on a closed PR.`);
      return;
    }
    // The runner's job-started hook already leased this job's directories: one lease, one guard.
    const joined = await joinHookLease(s, process.env, actionLog);
    if (joined) {
      setDirOutputs(joined.job);
      saveHookJoined();
      return;
    }
    const { job, guard } = await mainJob({
      settings: s,
      env: process.env,
      log: actionLog,
      watchPid: process.ppid,
      save: { lease: saveLease, guard: saveGuard },
    });
    times.push(...withRest(job.phases, performance.now() - t, 'root and plan'));
    t = performance.now();
    await actionLog.group('Exports', async () => {
      core.setOutput('disk-used-before', guard.before.usedPercent.toFixed(1));
      core.setOutput('disk-used-after', guard.after.usedPercent.toFixed(1));
      core.setOutput('freed-bytes', String(guard.freedBytes));
      for (const [k, v] of Object.entries(job.exports)) {
        core.exportVariable(k, v);
        core.info(`${k}=${v}`);
      }
      core.addPath(job.path);
      setDirOutputs(job);
    });
    saveJob(job);
    lap('exports and state');
    core.debug(timingsLine('main', times, performance.now()));
  } catch (e) {
    report(e);
  }
}

function stray(e: unknown): never {
  report(e);
  process.exit();
}
