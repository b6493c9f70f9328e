import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { forAnyUid } from './anyuid.js';
import { type SimJob, asUid, readFileCommandFiles } from './runner.js';
import { until } from './pace.js';

/*
 * The runner's job-hook protocol (actions/runner JobHookProvider, ScriptHandler,
 * FileCommandManager, JobExtension), for a SimJob:
 * - a long-lived worker process named Runner.Worker, in a runner layout (<runner>/bin/,
 *   <runner>/externals/node24/bin/node), runs each hook as `bash -e <script>` as its child,
 *   cwd GITHUB_WORKSPACE, with the worker's environment (the job's env, RUNNER_TRACKING_ID,
 *   the operator's .env variables) and fresh file-command files for each hook;
 * - a hook ends when bash exits *and* its stdout reaches EOF (the runner reads both);
 * - RUNNER_TEMP is emptied before the started hook; what the started hook writes to
 *   GITHUB_ENV / GITHUB_PATH applies to every later step, the completed hook gets empty files;
 * - "Complete job" kills every process carrying the job's RUNNER_TRACKING_ID, then empties
 *   RUNNER_TEMP. Order (the test's to keep): started hook, containers, steps, post steps,
 *   containers stopped, completed hook, completeJob().
 */
export const HOOKS = resolve('hooks');

/**
 * A runner install: bin/Runner.Worker (a copy of bash, so /proc and comm name it) and, optionally,
 * its node (this process's, or the path given: a copy another uid can run, helpers/anyuid.ts).
 */
export async function fakeRunner(dir: string, o: { node?: boolean | string } = {}): Promise<string> {
  await fs.mkdir(join(dir, 'bin'), { recursive: true });
  await fs.copyFile('/usr/bin/bash', join(dir, 'bin', 'Runner.Worker'));
  await fs.chmod(join(dir, 'bin', 'Runner.Worker'), 0o755);
  if (o.node !== false) {
    await fs.mkdir(join(dir, 'externals', 'node24', 'bin'), { recursive: true });
    await fs.symlink(typeof o.node === 'string' ? o.node : process.execPath, join(dir, 'externals', 'node24', 'bin', 'node'));
  }
  return dir;
}

export interface HookResult {
  code: number;
  output: string;
  env: Record<string, string>;
  path: string[];
  summary: string;
  warnings: string[];
  errors: string[];
}

const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** The state letter of /proc/<pid>/stat ('Z' a zombie), or 'gone'. */
function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return 'gone';
  }
}

/** Processes whose environment carries `RUNNER_TRACKING_ID=<id>` (what the runner kills). */
export function trackedPids(id: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`RUNNER_TRACKING_ID=${id}`)) out.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export class HookWorker {
  readonly worker: ChildProcess;
  private waiting = new Map<string, (code: number) => void>();
  private seq = 0;
  /** The worker's own environment: hooks run on the host even when the job's steps run in a container. */
  private readonly hostEnv: Record<string, string>;

  /**
   * `as`: the runner's user, when it is not this process's (uid and supplementary groups, e.g. the
   * Docker socket's): the worker and its hooks run as that user, which owns the job's runner files.
   */
  constructor(
    readonly job: SimJob,
    readonly runnerDir: string,
    readonly as?: { uid: number; groups: number[] },
  ) {
    job.carryExports = true;
    this.hostEnv = { ...job.env };
    // Each line names a call script; the pipe through cat makes "done" wait for stdout's EOF.
    const loop = 'while IFS= read -r f; do bash "$f" 2>&1 | cat > "$f.out"; echo "done $f ${PIPESTATUS[0]}"; done';
    const worker = join(runnerDir, 'bin', 'Runner.Worker');
    if (as) execFileSync('chown', ['-R', `${as.uid}:${as.uid}`, job.dir]);
    const argv = as ? [...asUid(as.uid, as.groups), worker] : [worker];
    this.worker = spawn(argv[0], [...argv.slice(1), '-c', loop], { stdio: ['pipe', 'pipe', 'inherit'], env: job.env });
    let buf = '';
    this.worker.stdout!.on('data', (d) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const m = /^done (\S+) (\d+)$/.exec(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (m) this.waiting.get(m[1])?.(Number(m[2]));
      }
    });
  }

  get pid(): number {
    return this.worker.pid!;
  }

  /**
   * Runs hooks/job-<which>.sh the way the worker does. A worker of another uid runs the copy of
   * hooks/ that uid can read: the checkout may sit under a directory only root can enter.
   */
  async hook(which: 'started' | 'completed', script = join(this.as ? forAnyUid().hooks : HOOKS, `job-${which}.sh`)): Promise<HookResult> {
    const j = this.job;
    if (which === 'started') await emptyDir(this.hostEnv.RUNNER_TEMP);
    const files: Record<string, string> = {};
    for (const n of ['GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
      files[n] = join(j.dir, `hook-${which}-${n.toLowerCase()}-${randomBytes(3).toString('hex')}`);
      await fs.writeFile(files[n], '');
      if (this.as) await fs.chown(files[n], this.as.uid, this.as.uid);
    }
    const env = { ...this.hostEnv, ...files };
    const call = join(j.dir, `hook-call-${this.seq++}.sh`);
    const assigns = Object.entries(env)
      .map(([k, v]) => quote(`${k}=${v}`)) // one argument each: the runner passes names with spaces too
      .join(' ');
    await fs.writeFile(call, `cd ${quote(env.GITHUB_WORKSPACE ?? j.dir)} || exit 1\nexec env -i ${assigns} bash -e ${quote(script)}\n`);
    const code = await new Promise<number>((res) => {
      this.waiting.set(call, res);
      this.worker.stdin!.write(`${call}\n`);
    });
    const output = await fs.readFile(`${call}.out`, 'utf8');
    const f = await readFileCommandFiles(files, output);
    const r: HookResult = { code, output, env: f.env, path: f.path, summary: f.summary, warnings: f.warnings, errors: f.errors };
    j.carry(r);
    return r;
  }

  /** "Complete job": the orphan kill by tracking id, RUNNER_TEMP emptied, the worker ends. */
  async completeJob(): Promise<number[]> {
    const killed = trackedPids(this.hostEnv.RUNNER_TRACKING_ID).filter((p) => p !== this.pid);
    for (const p of killed) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // kill(2) only sends the signal: on a busy machine a keeper may not have exited (and closed its
    // flock) yet when kill returns. Gone or a zombie, its files are closed.
    await until('the killed processes to exit', () => killed.every((p) => ['gone', 'Z'].includes(procState(p))));
    await emptyDir(this.hostEnv.RUNNER_TEMP);
    await this.stop();
    return killed;
  }

  /** The worker ends (normally, or `SIGKILL`: a crashed worker runs no completed hook). */
  stop(signal?: NodeJS.Signals): Promise<void> {
    if (this.worker.exitCode !== null || this.worker.signalCode !== null) return Promise.resolve();
    return new Promise((res) => {
      this.worker.once('exit', () => res());
      if (signal) this.worker.kill(signal);
      else this.worker.stdin!.end();
    });
  }
}

async function emptyDir(dir: string): Promise<void> {
  for (const e of await fs.readdir(dir).catch(() => [] as string[])) await fs.rm(join(dir, e), { recursive: true, force: true });
}
