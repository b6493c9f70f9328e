import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { scaled } from './pace.js';
import type { Place, SimJob } from './runner.js';

/*
 * Real containers, run the way GitHub's runner runs a `container:` job (actions/runner
 * ContainerStepHost): a long-lived job container, every action step started in it with
 * `docker exec` as the image's user (root), node mounted at /__e/node24, file commands in a
 * mounted /__w/_temp, the workspace at /__w/<repo>/<repo>, HOME /github/home. The action's
 * root is bind-mounted at the same path, as the seeds' fleet mounts its cache directories.
 */
export interface Docker {
  bin: string;
  host: string;
  image: string;
}

/** Installs and starts the engine and builds the base image when needed (scripts/docker-env.sh). */
export function setupDocker(): Docker {
  const out = execFileSync('bash', [resolve('scripts/docker-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: scaled(900_000) });
  const v = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  if (!v.DOCKER_HOST || !v.IMAGE || !v.DOCKER) throw new Error(`scripts/docker-env.sh printed no engine: ${out}`);
  return { bin: v.DOCKER, host: v.DOCKER_HOST, image: v.IMAGE };
}

/** A docker command; `timeoutMs` (on an idle machine, scaled) only guards against a hung daemon. */
export function docker(d: Docker, args: string[], timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(d.bin, ['-H', d.host, ...args], { encoding: 'utf8', timeout: scaled(timeoutMs) });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const WORKSPACE = '/__w/widgets/widgets';
const TEMP = '/__w/_temp';
export const RUST = '/opt/rust';

export interface ContainerOptions {
  /** host path -> container path (read-write unless `ro`). */
  mounts: { host: string; at: string; ro?: boolean }[];
  /** A Forgejo job's container has a host name of its own. */
  hostname?: string;
  /** Path of node inside the container: /__e/node24/bin/node (GitHub) or the image's own. */
  nodeAt?: string;
  /** Docker network: 'none' (the default) or 'host' (the container shares the host's 127.0.0.1). */
  network?: 'none' | 'host';
  /**
   * The runner's tool cache (RUNNER_TOOL_CACHE): mounted at /__t, and environment values under
   * it translated there, as the runner does for what a hook or step wrote to GITHUB_ENV/PATH.
   */
  toolCache?: string;
  /**
   * The runner's work folder (`<runner>/_work`): mounted at /__w, and values under it translated
   * there before the tool cache is (the runner's first path mapping), so a tool cache inside it
   * (the default `_work/_tool`) is seen at /__w/_tool.
   */
  work?: string;
}

/**
 * Starts the job container for `job` and makes the job's steps run in it. The job's runner
 * files (GITHUB_ENV, event.json, ...) are in job.dir on the host, mounted at /__w/_temp.
 */
export function containerize(d: Docker, job: SimJob, o: ContainerOptions): string {
  const name = `ci-test-${randomBytes(5).toString('hex')}`;
  const nodeAt = o.nodeAt ?? '/__e/node24/bin/node';
  const args = ['run', '-d', '--init', '--network', o.network ?? 'none', '--name', name, ...(o.hostname ? ['--hostname', o.hostname] : [])];
  const mounts = [
    ...(o.work ? [{ host: o.work, at: '/__w' }] : []),
    ...o.mounts,
    { host: job.dir, at: TEMP },
    ...(o.toolCache ? [{ host: o.toolCache, at: '/__t' }] : []),
    { host: process.execPath, at: nodeAt, ro: true },
    { host: resolve('dist'), at: '/__a/cargo-isolate/dist', ro: true },
    { host: execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), at: RUST, ro: true },
  ];
  for (const m of mounts) args.push('-v', `${m.host}:${m.at}${m.ro ? ':ro' : ''}`);
  args.push(d.image, 'sh', '-c', 'mkdir -p /github/home && exec sleep infinity');
  const r = docker(d, args);
  if (r.code !== 0) throw new Error(`docker run failed: ${r.stderr}`);
  const toContainer = (v: string) => {
    const t = v.split(job.dir).join(TEMP);
    // ContainerInfo's mappings, first match wins: work folder, then tool cache.
    if (o.work && (t === o.work || t.startsWith(`${o.work}/`))) return `/__w${t.slice(o.work.length)}`;
    return o.toolCache ? t.split(o.toolCache).join('/__t') : t;
  };
  const envArgs = (env: NodeJS.ProcessEnv) => {
    const out: string[] = [];
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined || ['PATH', 'HOME', 'RUSTUP_HOME'].includes(k)) continue;
      out.push('-e', `${k}=${toContainer(v)}`);
    }
    const path = (env.PATH ?? '').split(':').filter((p) => p.startsWith('/') && !p.startsWith(job.dir));
    const cargoBins = path.filter((p) => p.includes('cargo-home') || p.endsWith('/install/bin')).map(toContainer);
    out.push('-e', `PATH=${[...cargoBins, `${RUST}/bin`, '/usr/local/bin', '/usr/bin', '/bin'].join(':')}`, '-e', 'HOME=/github/home');
    return out;
  };
  const place: Place = {
    step: (entry, env) => [
      d.bin,
      '-H',
      d.host,
      'exec',
      ...envArgs({ ...env, RUNNER_TEMP: TEMP, GITHUB_WORKSPACE: WORKSPACE }),
      name,
      nodeAt,
      `/__a/cargo-isolate/dist/${entry}/index.js`,
    ],
    run: (cmd, cwd, env) => [d.bin, '-H', d.host, 'exec', '-w', cwd, ...envArgs(env), name, ...cmd],
  };
  job.place = place;
  job.env.RUNNER_TEMP = TEMP;
  job.env.GITHUB_WORKSPACE = WORKSPACE;
  return name;
}

/** What the runner's "Stop containers" step does, or a cancelled job's cleanup: no post step. */
export function removeContainer(d: Docker, name: string): void {
  docker(d, ['rm', '-f', name]);
}
