import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { forAnyUid } from './anyuid.js';
import { removeScratch } from './scratch.js';

/*
 * Runs the *bundled* dist/ entry points the way the GitHub runner does: inputs as INPUT_<NAME>,
 * file commands in GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE / GITHUB_PATH / GITHUB_STEP_SUMMARY,
 * and the main step's state handed to the post step as STATE_<name>. The node binary is the one
 * running the tests (Node 24 in CI).
 */
export const DIST = resolve('dist');

export interface StepResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  env: Record<string, string>;
  outputs: Record<string, string>;
  state: Record<string, string>;
  path: string[];
  summary: string;
  /** Annotations the runner would show, decoded (%25, %0A, %0D). */
  warnings: string[];
  errors: string[];
}

const decode = (v: string) => v.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
export const annotations = (stdout: string, kind: 'warning' | 'error') =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith(`::${kind}`))
    .map((l) => decode(l.slice(l.indexOf('::', 2) + 2)));

/** Parses a file-command file: `NAME=value` lines and `NAME<<DELIM ... DELIM` blocks; last wins. */
/** What a step (or a runner hook) left in the runner's files, and the annotations it printed. */
export async function readFileCommandFiles(files: Record<string, string>, stdout: string) {
  const read = async (n: string) => (files[n] ? fs.readFile(files[n], 'utf8').catch(() => '') : '');
  return {
    env: parseFileCommands(await read('GITHUB_ENV')),
    outputs: parseFileCommands(await read('GITHUB_OUTPUT')),
    state: parseFileCommands(await read('GITHUB_STATE')),
    path: (await read('GITHUB_PATH')).split('\n').filter(Boolean),
    summary: await read('GITHUB_STEP_SUMMARY'),
    warnings: annotations(stdout, 'warning'),
    errors: annotations(stdout, 'error'),
  };
}

export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]);
      out[name] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

/** setpriv argv that runs as `uid` with only `groups` (e.g. the Docker socket's group), or none. */
export const asUid = (uid: number, groups: number[] = []): string[] => [
  'setpriv',
  `--reuid=${uid}`,
  `--regid=${uid}`,
  groups.length ? `--groups=${groups.join(',')}` : '--clear-groups',
];

/** Where a job's steps run, when not as a process of this host: a container (docker.ts). */
export interface Place {
  /** argv that runs a bundled entry point (main or post) with `env`. */
  step(entry: 'main' | 'post', env: NodeJS.ProcessEnv): string[];
  /** argv that runs a `run:` step's command in `cwd` with `env`. */
  run(cmd: string[], cwd: string, env: NodeJS.ProcessEnv): string[];
}

/** A run that is neither a push to a branch nor a pull request: its event, ref and payload. */
export interface SimEvent {
  name: string;
  ref: string;
  payload: object;
}

/** One simulated job: its own runner files, identity and event payload. */
export class SimJob {
  /** Set for container jobs; undefined runs steps on this host. */
  place?: Place;
  readonly dir: string;
  env: Record<string, string>;
  state: Record<string, string> = {};
  exported: Record<string, string> = {};
  path: string[] = [];
  outputs: Record<string, string> = {};
  /** Action steps see what earlier steps (or a runner hook) wrote to GITHUB_ENV, as on the runner. */
  carryExports = false;

  private constructor(dir: string, env: Record<string, string>) {
    this.dir = dir;
    this.env = env;
  }

  static async create(
    o: {
      pr?: number;
      branch?: string;
      base?: string;
      runId?: string;
      attempt?: string;
      job?: string;
      runner?: string;
      workflow?: string;
      repo?: string;
      fork?: boolean;
      extraEnv?: Record<string, string>;
      event?: SimEvent;
    } = {},
  ): Promise<SimJob> {
    const dir = await fs.mkdtemp(join(tmpdir(), 'sim-job-'));
    const repo = o.repo ?? 'acme/widgets';
    const event = o.event
      ? o.event.payload
      : o.pr !== undefined
        ? {
            number: o.pr,
            pull_request: {
              number: o.pr,
              head: { ref: o.branch ?? `feature-${o.pr}`, repo: { full_name: o.fork ? 'mallory/widgets' : repo } },
              base: { repo: { full_name: repo } },
            },
          }
        : {};
    await fs.writeFile(join(dir, 'event.json'), JSON.stringify(event));
    await fs.mkdir(join(dir, 'runner-temp'));
    await fs.mkdir(join(dir, 'home'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: join(dir, 'home'),
      // The sim job has its own HOME; rustup's proxies still need the machine's toolchains.
      RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(homedir(), '.rustup'),
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: repo,
      GITHUB_EVENT_NAME: o.pr !== undefined ? 'pull_request' : 'push',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
      GITHUB_REF: o.pr !== undefined ? `refs/pull/${o.pr}/merge` : `refs/heads/${o.branch ?? 'main'}`,
      GITHUB_REF_NAME: o.pr !== undefined ? `${o.pr}/merge` : (o.branch ?? 'main'),
      GITHUB_HEAD_REF: o.pr !== undefined ? (o.branch ?? `feature-${o.pr}`) : '',
      GITHUB_BASE_REF: o.pr !== undefined ? (o.base ?? 'main') : '',
      GITHUB_RUN_ID: o.runId ?? String(1000 + Math.floor(Math.random() * 1e6)),
      GITHUB_RUN_ATTEMPT: o.attempt ?? '1',
      GITHUB_JOB: o.job ?? 'build',
      GITHUB_WORKFLOW: o.workflow ?? 'ci',
      RUNNER_TEMP: join(dir, 'runner-temp'),
      RUNNER_TRACKING_ID: `github_${randomBytes(8).toString('hex')}`,
      ...(o.event ? { GITHUB_EVENT_NAME: o.event.name, GITHUB_REF: o.event.ref, GITHUB_REF_NAME: o.event.ref.replace(/^refs\/(heads|tags)\//, '') } : {}),
      ...(o.runner !== undefined ? { RUNNER_NAME: o.runner } : {}),
      ...(o.extraEnv ?? {}),
    };
    return new SimJob(dir, env);
  }

  /** What GITHUB_ENV and GITHUB_PATH carry from a step or hook to every later step. */
  carry(r: { env: Record<string, string>; path: string[] }): void {
    Object.assign(this.exported, r.env);
    this.path.unshift(...r.path);
  }

  /** Environment a later `run:` step of this job sees. */
  stepEnv(): NodeJS.ProcessEnv {
    return { ...this.env, ...this.exported, PATH: [...this.path, this.env.PATH].join(':') };
  }

  private async files(): Promise<Record<string, string>> {
    const f: Record<string, string> = {};
    for (const n of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY']) {
      f[n] = join(this.dir, `${n.toLowerCase()}-${randomBytes(4).toString('hex')}`);
      await fs.writeFile(f[n], '');
    }
    return f;
  }

  /** Where a step runs: here (as root or another uid), or in the job's container (ContainerJob). */
  protected command(entry: 'main' | 'post', env: NodeJS.ProcessEnv, uid?: number, groups?: number[]): string[] {
    if (uid === undefined) return [process.execPath, join(DIST, entry, 'index.js')];
    const any = forAnyUid();
    return [...asUid(uid, groups), any.node, join(any.dist, entry, 'index.js')];
  }

  /** Spawns a step; `worker: true` puts it under a long-lived parent like Runner.Worker. */
  async start(
    entry: 'main' | 'post',
    inputs: Record<string, string> = {},
    o: { worker?: boolean; uid?: number; groups?: number[] } = {},
  ): Promise<{ child: ChildProcess; done: Promise<StepResult> }> {
    const files = await this.files();
    if (o.uid !== undefined) {
      await fs.chmod(this.dir, 0o755);
      for (const f of Object.values(files)) await fs.chmod(f, 0o666);
    }
    const env: NodeJS.ProcessEnv = { ...this.env, ...(this.carryExports ? this.exported : {}), ...files };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    for (const [k, v] of Object.entries(this.state)) env[`STATE_${k}`] = v;
    const node = this.place ? this.place.step(entry, env) : this.command(entry, env, o.uid, o.groups);
    const child = o.worker
      ? spawn('sh', ['-c', '"$@"; echo "::step-exit::$?"; exec sleep 3600', 'sh', ...node], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: this.dir,
          detached: true,
        })
      : spawn(node[0], node.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<StepResult>((res) => {
      const finish = async (code: number | null, signal: NodeJS.Signals | null) => {
        const r: StepResult = { code, signal, stdout, stderr, ...(await readFileCommandFiles(files, stdout)) };
        // What the runner carries from this step to the next ones.
        this.carry(r);
        Object.assign(this.outputs, r.outputs);
        if (entry === 'main') Object.assign(this.state, r.state);
        res(r);
      };
      if (o.worker) {
        // The step ends when node exits; its parent, like Runner.Worker, lives on.
        let ended = false;
        child.stdout!.on('data', () => {
          const m = /::step-exit::(\d+)/.exec(stdout);
          if (m && !ended) {
            ended = true;
            finish(Number(m[1]), null);
          }
        });
        child.on('exit', (code, sig) => {
          if (!ended) {
            ended = true;
            finish(code, sig);
          }
        });
      } else {
        child.on('exit', (code, sig) => finish(code, sig));
      }
    });
    return { child, done };
  }

  async run(entry: 'main' | 'post', inputs: Record<string, string> = {}, o: { uid?: number; groups?: number[] } = {}): Promise<StepResult> {
    return (await this.start(entry, inputs, o)).done;
  }

  /** A `run:` step of the job, e.g. cargo build, with everything main exported. */
  exec(cmd: string[], cwd?: string, o: { uid?: number; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env = { ...this.stepEnv(), ...o.env };
    const argv = this.place
      ? this.place.run(cmd, cwd ?? this.dir, env)
      : o.uid !== undefined
        ? ['setpriv', `--reuid=${o.uid}`, `--regid=${o.uid}`, '--clear-groups', ...cmd]
        : cmd;
    return new Promise((res) => {
      const child = spawn(argv[0], argv.slice(1), { env, cwd: this.place ? '/' : (cwd ?? this.dir), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => res({ code, stdout, stderr }));
    });
  }

  /** Removes the job's runner files; a keeper or step still running there (a timed-out test) is killed first. */
  async cleanup(): Promise<void> {
    await removeScratch(this.dir);
  }
}

/** Sim jobs of one test file, cleaned up together in afterAll. */
export function jobPool(): { job: (o?: Parameters<typeof SimJob.create>[0]) => Promise<SimJob>; cleanup: () => Promise<void> } {
  const made: SimJob[] = [];
  return {
    job: async (o) => {
      const j = await SimJob.create(o);
      made.push(j);
      return j;
    },
    cleanup: () => removeScratch(...made.splice(0).map((j) => j.dir)),
  };
}
