import type { Log } from '../os/log.js';
import { runInForeground } from '../os/run.js';
import type { Settings } from '../model/settings.js';
import { mainJob } from './start.js';
import { finishJob } from './end.js';
import type { EndedJob, StartedJob } from './types.js';

/*
 * `cargo-isolate run -- CMD`: one job around a command, for CI systems without GitHub's runner
 * (and the demo), started by mainJob and ended by finishJob as the action's steps and the
 * runner's hooks start and end theirs. The lease ends with this process if it is killed.
 */

export interface LeasedRun {
  settings: Settings;
  env: NodeJS.ProcessEnv;
  cmd: string[];
  log: Log;
  /** Takes the command's stdout (the demo's); otherwise the command writes to this process's own. */
  onStdout?: (text: string) => void;
}

export async function leaseAndRun(o: LeasedRun): Promise<{ code: number; job: StartedJob; ended: EndedJob }> {
  const { settings, env, log } = o;
  const noop = () => undefined;
  const { job } = await mainJob({ settings, env, log, watchPid: process.pid, save: { lease: noop, guard: noop }, via: 'cli' });
  for (const [k, v] of Object.entries(job.exports)) log.info(`${k}=${v}`);
  const run = await runInForeground(o.cmd, { ...env, ...job.exports, PATH: `${job.path}:${env.PATH ?? ''}` }, o.onStdout);
  if (run.error) log.warning(`cannot run ${o.cmd[0]}: ${run.error.message}`);
  const ended = await finishJob({ job, env, log });
  return { code: run.code, job, ended };
}
