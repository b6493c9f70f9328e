import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Occupant,
  candidatePorts,
  decide,
  ensureSccacheServer,
  fleetPort as fleetPortOf,
  describeServer,
  occupant,
  sccacheSettings,
  sccacheWrapper,
  serverEnv,
} from '../src/host/sccache.js';
import { environOf, parseListeners } from '../src/os/sockets.js';
import { cli } from './helpers/cli.js';
import { type Docker, containerize, removeContainer, setupDocker } from './helpers/docker.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { removeScratch } from './helpers/scratch.js';
import { scaled, until } from './helpers/pace.js';
import { freePort } from '../scripts/lib/free-port.mjs';

/*
 * Issue 17: no job's end may take down, or pull the temp dir from under, the sccache server
 * other jobs compile through. Real sccache (Debian's 0.4), real cargo, the bundled action, and
 * a job's end done the way the runner does it: the post step, then SIGKILL to every process
 * whose environment carries the job's RUNNER_TRACKING_ID.
 */
const UID = process.geteuid!();

describe('decisions', () => {
  test.each([
    [{ RUSTC_WRAPPER: 'sccache' }, 'RUSTC_WRAPPER'],
    [{ RUSTC_WRAPPER: '/usr/bin/sccache' }, 'RUSTC_WRAPPER'],
    [{ CARGO_BUILD_RUSTC_WRAPPER: '/opt/bin/sccache.exe' }, 'CARGO_BUILD_RUSTC_WRAPPER'],
    [{ RUSTC_WRAPPER: 'ccache' }, undefined],
    [{ RUSTC_WRAPPER: '', CARGO_BUILD_RUSTC_WRAPPER: 'sccache' }, undefined], // cargo takes RUSTC_WRAPPER first
    [{ RUSTC_WRAPPER: 'cachepot', CARGO_BUILD_RUSTC_WRAPPER: 'sccache' }, undefined],
    [{ SCCACHE_DIR: '/opt/ci/sccache' }, undefined],
    [{}, undefined],
  ])('wrapper in %j: %s', (env, variable) => {
    expect(sccacheWrapper(env)?.variable).toBe(variable);
  });

  test('ports: one server per uid, mount namespace and sccache settings; the port setting itself is ours', () => {
    const s = sccacheSettings({ SCCACHE_DIR: '/c', SCCACHE_CACHE_SIZE: '40G', SCCACHE_SERVER_PORT: '4226', PATH: '/bin' });
    expect(s).toEqual({ SCCACHE_CACHE_SIZE: '40G', SCCACHE_DIR: '/c' });
    const base = candidatePorts(1000, 'mnt:[1]', s);
    expect(candidatePorts(1000, 'mnt:[1]', { ...s })).toEqual(base);
    expect(new Set(base).size).toBe(base.length);
    for (const p of base) expect(p >= 10000 && p < 30000).toBe(true);
    for (const other of [candidatePorts(0, 'mnt:[1]', s), candidatePorts(1000, 'mnt:[2]', s), candidatePorts(1000, 'mnt:[1]', { SCCACHE_DIR: '/d' })]) {
      expect(other[0]).not.toBe(base[0]);
    }
  });

  test('listeners from /proc/net/tcp: LISTEN on 127.0.0.1 or any address only', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:10A2 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 1 0000000000000000 100 0 0 10 0',
      '   2: 0100007F:10A2 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1',
      '   3: 0A00000A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect([fleetPortOf({}), fleetPortOf({ SCCACHE_SERVER_PORT: '4300' }), fleetPortOf({ SCCACHE_SERVER_PORT: 'x' })]).toEqual([4226, 4300, 4226]);
    expect(parseListeners(text)).toEqual([
      { port: 4258, uid: 1000, inode: 4242 },
      { port: 22, uid: 0, inode: 17 },
    ]);
  });

  test.each([
    [{ kind: 'free' }, 'start'],
    [{ kind: 'host-server', pid: 5 }, 'reuse'],
    [{ kind: 'job-server', pid: 5, trackingId: 'github_1' }, 'next'],
    [{ kind: 'other-uid', uid: 0 }, 'next'],
    [{ kind: 'unknown' }, 'next'],
  ] as [Occupant, string][])('occupant %j: %s', (o, what) => {
    expect(decide(o)).toBe(what);
  });

  test("the server's environment: sccache settings, its own temp dir, nothing of the job's identity or secrets", () => {
    const env = serverEnv(
      {
        PATH: '/bin',
        HOME: '/h',
        RUNNER_TRACKING_ID: 'github_x',
        GITHUB_TOKEN: 't',
        ACTIONS_RUNTIME_TOKEN: 't',
        TMPDIR: '/root/slots/s000/tmp',
        SCCACHE_DIR: '/c',
        SCCACHE_SERVER_PORT: '4226',
        SCCACHE_IDLE_TIMEOUT: '600',
      },
      12345,
      '/root/sccache/u0-p12345/tmp',
    );
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/h',
      SCCACHE_DIR: '/c',
      SCCACHE_SERVER_PORT: '12345',
      SCCACHE_IDLE_TIMEOUT: '0',
      TMPDIR: '/root/sccache/u0-p12345/tmp',
      TMP: '/root/sccache/u0-p12345/tmp',
      TEMP: '/root/sccache/u0-p12345/tmp',
    });
  });

  test('the summary names the server', () => {
    expect(describeServer({ variable: 'RUSTC_WRAPPER', port: 12345, pid: 77, how: 'started', tmp: '/r/sccache/u0-p12345/tmp', passedOver: [], ms: 30 })).toBe(
      'host server on 127.0.0.1:12345 (pid 77), started by this job, belonging to no job; its temp dir /r/sccache/u0-p12345/tmp',
    );
    expect(
      describeServer({ variable: 'RUSTC_WRAPPER', port: 4226, pid: 9, how: 'reused', tmp: '', passedOver: ['20001 (a listener of uid 1001)'], ms: 3 }),
    ).toBe('host server on 127.0.0.1:4226 (pid 9), already running, belonging to no job; passed over 20001 (a listener of uid 1001)');
  });
});

// ---- real sccache, real cargo, the bundled action ----

const { job, cleanup } = jobPool();
let scratch: string;
let root: string;
let sccacheEnv: Record<string, string>;
/** The fleet's own port setting: without the fix, a job's client starts its server here. */
let fleetPort: number;
const ports = new Set<number>();

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-i17-'));
  root = join(scratch, 'root');
  fleetPort = await freePort(); // the kernel's choice: no other run on this machine listens there
  // Host-wide, as fleets set it: one SCCACHE_DIR, sccache as the wrapper. Incremental builds
  // are not cacheable, and sccache then runs no rustc of its own: off, as on cached CI.
  sccacheEnv = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(scratch, 'cache'), SCCACHE_SERVER_PORT: String(fleetPort), CARGO_INCREMENTAL: '0' };
});
afterAll(async () => {
  for (const p of ports) {
    const o = await occupant(p, UID);
    if (o.kind === 'host-server' || o.kind === 'job-server') process.kill(o.pid, 'SIGKILL');
  }
  await cleanup();
  await removeScratch(scratch);
});

/** A crate whose compile keeps rustc busy for a while (const evaluation), unique per salt. */
async function slowCrate(name: string, salt: string, iterations = 400_000): Promise<string> {
  const dir = join(scratch, name);
  await fs.mkdir(join(dir, 'src'), { recursive: true });
  await fs.writeFile(join(dir, 'Cargo.toml'), `[package]\nname = "slow"\nversion = "0.1.0"\nedition = "2021"\n`);
  await fs.writeFile(
    join(dir, 'src', 'lib.rs'),
    `#![allow(long_running_const_eval)]\npub const SALT: &str = "${salt}";\npub const V: u64 = { let mut i = 0u64; let mut s = 0u64; while i < ${iterations} { s = s.wrapping_mul(31).wrapping_add(i); i += 1; } s };\n`,
  );
  return dir;
}

/** A few quick crates in one workspace (path dependencies), unique per salt. */
async function quickWorkspace(name: string, salt: string, n = 3): Promise<string> {
  const dir = join(scratch, name);
  const members = Array.from({ length: n }, (_, i) => `q${i}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, 'Cargo.toml'), `[workspace]\nmembers = [${members.map((m) => `"${m}"`).join(', ')}]\nresolver = "2"\n`);
  for (const [i, m] of members.entries()) {
    await fs.mkdir(join(dir, m, 'src'), { recursive: true });
    await fs.writeFile(
      join(dir, m, 'Cargo.toml'),
      `[package]\nname = "${m}"\nversion = "0.1.0"\nedition = "2021"\n${i ? `\n[dependencies]\nq${i - 1} = { path = "../q${i - 1}" }\n` : ''}`,
    );
    await fs.writeFile(join(dir, m, 'src', 'lib.rs'), `pub fn v() -> &'static str { "${salt}-${i}" }\n`);
  }
  return dir;
}

/** The port a job's cargo talks to: what the action exported, else the fleet's setting. */
const portOf = (j: SimJob) => Number(j.exported.SCCACHE_SERVER_PORT ?? fleetPort);

async function serverPid(port: number): Promise<number> {
  const o = await occupant(port, UID);
  if (o.kind !== 'host-server' && o.kind !== 'job-server') throw new Error(`no sccache server on ${port}: ${JSON.stringify(o)}`);
  return o.pid;
}

/** The process state letter from /proc/<pid>/stat ('Z' zombie), or 'gone'. */
async function procState(pid: number): Promise<string> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] : 'gone';
}

/** Waits (polling /proc) for a rustc whose parent is `pid`: the server compiling for a client; fails if `build` ends first. */
async function rustcUnder(pid: number, build: Promise<unknown>): Promise<number> {
  let found = 0;
  await until(
    `a rustc under the sccache server ${pid}`,
    async () => {
      for (const p of await fs.readdir('/proc')) {
        if (!/^\d+$/.test(p)) continue;
        const stat = await fs.readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (comm === 'rustc' && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found = Number(p);
      }
      return found > 0;
    },
    { ms: 60_000, unless: build, every: 10 },
  );
  return found;
}

/** The runner's orphan cleanup after a job's post steps: SIGKILL whatever carries its id. */
async function runnerCleanup(trackingId: string): Promise<number[]> {
  const killed: number[] = [];
  for (const p of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    const env = await fs.readFile(`/proc/${p}/environ`, 'utf8').catch(() => '');
    if (env.split('\0').includes(`RUNNER_TRACKING_ID=${trackingId}`)) {
      try {
        process.kill(Number(p), 'SIGKILL');
        killed.push(Number(p));
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

/** A job's end, as the runner does it: post step, then the tracking-id cleanup. */
async function endJob(j: SimJob): Promise<void> {
  const post = await j.run('post');
  expect({ code: post.code, warnings: post.warnings }).toEqual({ code: 0, warnings: [] });
  await runnerCleanup(j.env.RUNNER_TRACKING_ID);
}

type ClientStart = { pid: number } | { error: string };
let clientStarts = 0;

/**
 * Starts a server the way sccache 0.4's client does when none answers (`--start-server`, or a
 * compile; commands.rs, run_server_process): the same binary again with SCCACHE_START_SERVER=1 in
 * the caller's environment (so with a job's RUNNER_TRACKING_ID and TMPDIR), which daemonizes and
 * serves. `run` runs it where that client would run (a job's step, the host's shell).
 *
 * Not through the client itself: 0.4's client spawns the server and only then binds the socket
 * the server reports its start to. On a busy machine the server gets there first, its connect
 * fails (ENOENT), it exits, and the client waits out its whole startup timeout for nothing
 * ("Timed out waiting for server startup"; mozilla/sccache#2076, fixed in 0.7.7; 3 starts in 90
 * at load 13-20 here). So this waits for the outcome where it shows: on the port (a listener whose
 * environment names this start's error log) or in that log (what the server said as it exited).
 */
async function startAsClient(run: (env: Record<string, string>) => Promise<unknown>, port: number): Promise<ClientStart> {
  const errorLog = join(scratch, `client-start-${++clientStarts}.log`);
  await run({ SCCACHE_START_SERVER: '1', SCCACHE_ERROR_LOG: errorLog, RUST_BACKTRACE: '1' });
  let answer: ClientStart | undefined;
  await until(
    `the sccache server started on port ${port} (${errorLog}) to listen or fail`,
    async () => {
      const error = /error: .*/.exec((await fs.readFile(errorLog, 'utf8').catch(() => '')) || '')?.[0];
      const o = await occupant(port, UID);
      if ((o.kind === 'host-server' || o.kind === 'job-server') && (await environOf(o.pid))?.SCCACHE_ERROR_LOG === errorLog) answer = { pid: o.pid };
      else if (error) answer = { error };
      return answer !== undefined;
    },
    { ms: 60_000 },
  );
  return answer!;
}

/** Runs `sccache` with `env` (it daemonizes at once when it starts a server) and resolves when it exits. */
function sccacheWith(env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn('sccache', [], { env, stdio: 'ignore' });
    c.on('error', rej);
    c.on('exit', () => res());
  });
}

async function stopServer(port: number): Promise<void> {
  const o = await occupant(port, UID);
  if (o.kind === 'host-server' || o.kind === 'job-server') {
    process.kill(o.pid, 'SIGKILL');
    while ((await occupant(port, UID)).kind !== 'free') await new Promise((r) => setTimeout(r, 20));
  }
}

/** Job A: the action's main step, then a step that starts sccache as fleets' jobs do. */
async function startA(pr: number): Promise<SimJob> {
  const a = await job({ pr, extraEnv: sccacheEnv });
  const m = await a.run('main', { root });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  // The host server holds A's port: the server A's client starts cannot take it.
  const answer = await startAsClient((env) => a.exec(['sccache'], undefined, { env }), portOf(a));
  expect(answer).toEqual({ error: expect.stringMatching(/Address already in use/) });
  ports.add(portOf(a));
  return a;
}

async function startB(pr: number): Promise<SimJob> {
  const b = await job({ pr, extraEnv: sccacheEnv });
  const m = await b.run('main', { root });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  ports.add(portOf(b));
  return b;
}

test(
  "A's end while the server runs a rustc for B, 10 times: the server lives on (no zombie), B's build passes",
  async () => {
    const outcomes: { alive: string; build: number | null; samePort: boolean }[] = [];
    for (let i = 0; i < 10; i++) {
      for (const p of ports) await stopServer(p); // no server yet: every A starts it, as in the issue
      const a = await startA(100 + i);
      const b = await startB(200 + i);
      const port = portOf(b);
      const pid = await serverPid(port);
      const build = b.exec(['cargo', 'build'], await slowCrate(`slow-${i}`, `rep-${i}-${Math.random()}`));
      await rustcUnder(pid, build);
      await endJob(a);
      const r = await build;
      outcomes.push({ alive: await procState(pid), build: r.code, samePort: portOf(a) === port });
      if (r.code !== 0) process.stderr.write(r.stderr);
      await endJob(b);
    }
    expect(outcomes.map((o) => ({ alive: ['R', 'S', 'D'].includes(o.alive), build: o.build, samePort: o.samePort }))).toEqual(
      outcomes.map(() => ({ alive: true, build: 0, samePort: true })),
    );
  },
  scaled(600_000),
);

test(
  "A's end between two of B's builds: B's second build goes through the same server",
  async () => {
    const a = await startA(300);
    const b = await startB(301);
    const port = portOf(b);
    const pid = await serverPid(port);
    expect((await b.exec(['cargo', 'build'], await quickWorkspace('between-1', `b1-${Math.random()}`))).code).toBe(0);
    await endJob(a);
    const before = await executed(b, port);
    const second = await b.exec(['cargo', 'build'], await quickWorkspace('between-2', `b2-${Math.random()}`));
    expect(second.code).toBe(0);
    expect(await executed(b, port)).toBeGreaterThanOrEqual(before + 3); // its three crates, compiled by that server
    expect({ pid: await serverPid(port), state: ['R', 'S'].includes(await procState(pid)) }).toEqual({ pid, state: true });
    await endJob(b);
  },
  scaled(300_000),
);

/** "Compile requests executed" of the server on `port`. */
async function executed(j: SimJob, port: number): Promise<number> {
  const r = await j.exec(['sccache', '--show-stats'], undefined, { env: { SCCACHE_SERVER_PORT: String(port) } });
  return Number(/Compile requests executed\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
}

test(
  'two jobs starting at once with no server: one server, both builds pass',
  async () => {
    const probe = await startB(400);
    await endJob(probe);
    await stopServer(portOf(probe));
    const [a, b] = await Promise.all([job({ pr: 401, extraEnv: sccacheEnv }), job({ pr: 402, extraEnv: sccacheEnv })]);
    const mains = await Promise.all([a.run('main', { root }), b.run('main', { root })]);
    for (const m of mains) expect({ code: m.code, errors: m.errors, warnings: m.warnings }).toEqual({ code: 0, errors: [], warnings: [] });
    expect(portOf(a)).toBe(portOf(b));
    const started = mains.filter((m) => /sccache: started a host server/.test(m.stdout)).length;
    expect(started).toBe(1);
    const pid = await serverPid(portOf(a));
    const builds = await Promise.all([
      a.exec(['cargo', 'build'], await quickWorkspace('once-a', `a-${Math.random()}`)),
      b.exec(['cargo', 'build'], await quickWorkspace('once-b', `b-${Math.random()}`)),
    ]);
    expect(builds.map((x) => x.code)).toEqual([0, 0]);
    expect(await serverPid(portOf(a))).toBe(pid);
    await endJob(a);
    await endJob(b);
    expect(['R', 'S'].includes(await procState(pid))).toBe(true);
  },
  scaled(300_000),
);

test('a job that does not use sccache is untouched: no port exported, no server, nothing under the root', async () => {
  const plainRoot = join(scratch, 'plain-root');
  const j = await job({ pr: 500, extraEnv: { SCCACHE_DIR: sccacheEnv.SCCACHE_DIR, SCCACHE_SERVER_PORT: String(fleetPort) } });
  const m = await j.run('main', { root: plainRoot });
  expect(m.code).toBe(0);
  expect(j.exported.SCCACHE_SERVER_PORT).toBeUndefined();
  expect(m.stdout).not.toMatch(/sccache/i);
  expect(existsSync(join(plainRoot, 'sccache'))).toBe(false);
  const post = await j.run('post');
  expect(post.summary).not.toMatch(/sccache/i);
});

test('the summary says which server the job used', async () => {
  const j = await startB(600);
  const post = await j.run('post');
  expect(post.summary).toMatch(
    new RegExp(`host server on 127\\.0\\.0\\.1:${portOf(j)} \\(pid \\d+\\), (started by this job|already running), belonging to no job`),
  );
  await runnerCleanup(j.env.RUNNER_TRACKING_ID);
});

test('the server keeps nothing of the job: no RUNNER_TRACKING_ID, its own session and temp dir under the root', async () => {
  const j = await startB(700);
  const pid = await serverPid(portOf(j));
  const env = Object.fromEntries(
    (await fs.readFile(`/proc/${pid}/environ`, 'utf8'))
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  expect(env.RUNNER_TRACKING_ID).toBeUndefined();
  expect(env.TMPDIR).toBe(join(root, 'sccache', `u${UID}-p${portOf(j)}`, 'tmp'));
  const stat = (p: number | string) => fs.readFile(`/proc/${p}/stat`, 'utf8').then((s) => s.slice(s.lastIndexOf(')') + 2).split(' '));
  expect((await stat(pid))[3]).not.toBe((await stat(process.pid))[3]); // session id
  await endJob(j);
});

test("a server the job's own client started (the host server had died) is stopped before its tmp is emptied, and a host server takes its port", async () => {
  const j = await startB(800);
  const port = portOf(j);
  await stopServer(port);
  // The job's client finds nothing on its port and starts a server with the job's environment.
  expect(await startAsClient((env) => j.exec(['sccache'], undefined, { env }), port)).toHaveProperty('pid');
  const own = await occupant(port, UID);
  expect(own).toMatchObject({ kind: 'job-server', trackingId: j.env.RUNNER_TRACKING_ID });
  const post = await j.run('post');
  expect(post.code).toBe(0);
  expect(post.warnings.join('\n')).toMatch(
    new RegExp(`this job's own client had started a server on port ${port} .*stopped it before emptying TMPDIR, and started the host server on port ${port}`),
  );
  expect(['gone', 'Z']).toContain(await procState((own as { pid: number }).pid));
  expect((await occupant(port, UID)).kind).toBe('host-server');
  await runnerCleanup(j.env.RUNNER_TRACKING_ID);
  expect((await occupant(port, UID)).kind).toBe('host-server');
});

test("`cargo-isolate run` in a job ends as post does: a server the command's own client started is stopped, a host server takes its port", async () => {
  // A CI step that runs the CLI inside a runner's job: RUNNER_TRACKING_ID set, cargo through sccache.
  // While its command runs, the host server on its port dies and the command's client starts one
  // with the command's environment; then the command ends.
  const trackingId = `cli-run-${Math.random().toString(16).slice(2)}`;
  const [portFile, envFile, release] = ['run-port', 'run-env', 'run-release'].map((f) => join(scratch, f));
  const script = `echo "$SCCACHE_SERVER_PORT" > ${portFile}; env -0 > ${envFile}.tmp && mv ${envFile}.tmp ${envFile}
    for _ in $(seq 18000); do [ -e ${release} ] && exit 0; sleep 0.05; done; exit 1`;
  const env = { ...process.env, ...sccacheEnv, RUNNER_TRACKING_ID: trackingId, GITHUB_REPOSITORY: 'o/cli-run', GITHUB_REF_NAME: 'main' };
  const run = cli(['run', '--root', root, '--', 'bash', '-c', script], { env });
  await until('the command to write its environment', () => existsSync(envFile), { unless: run, ms: 120_000 });
  const port = Number(await fs.readFile(portFile, 'utf8'));
  ports.add(port);
  expect(port).toBeGreaterThan(0);
  const commandEnv = Object.fromEntries(
    (await fs.readFile(envFile, 'utf8'))
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  await stopServer(port);
  const own = await startAsClient((extra) => sccacheWith({ ...commandEnv, ...extra }), port);
  expect(own).toHaveProperty('pid');
  expect(await occupant(port, UID)).toMatchObject({ kind: 'job-server', trackingId });
  await fs.writeFile(release, '');
  const r = await run;
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(
    new RegExp(`this job's own client had started a server on port ${port} .*stopped it before emptying TMPDIR, and started the host server on port ${port}`),
  );
  // Left running, the job's server would write into the emptied TMPDIR until the runner killed it with the job.
  expect(['gone', 'Z']).toContain(await procState((own as { pid: number }).pid));
  expect((await occupant(port, UID)).kind).toBe('host-server');
});

test("a server the host runs itself on the configured port (no job's tracking id) is used, not doubled", async () => {
  const env = {
    PATH: process.env.PATH!,
    HOME: scratch,
    SCCACHE_DIR: sccacheEnv.SCCACHE_DIR,
    SCCACHE_SERVER_PORT: String(fleetPort),
    SCCACHE_IDLE_TIMEOUT: '0',
  };
  ports.add(fleetPort);
  const started = await startAsClient((extra) => sccacheWith({ ...env, ...extra }), fleetPort);
  expect(started).toHaveProperty('pid');
  const own = await serverPid(fleetPort);
  expect(own).toBe((started as { pid: number }).pid);
  try {
    const j = await startB(1000);
    expect(portOf(j)).toBe(fleetPort);
    expect((await j.exec(['cargo', 'build'], await quickWorkspace('fleet-own', `f-${Math.random()}`))).code).toBe(0);
    expect(await executed(j, fleetPort)).toBeGreaterThanOrEqual(3);
    await endJob(j);
    expect(['R', 'S']).toContain(await procState(own));
  } finally {
    await stopServer(fleetPort);
  }
});

describe('a container job with the host network (real Docker)', () => {
  let d: Docker;
  beforeAll(() => {
    d = setupDocker();
  }, scaled(900_000));

  test(
    "gets a server of its own (another mount namespace: another port), and the host job's server is never used nor harmed",
    async () => {
      const host = await startB(900);
      const hostPort = portOf(host);
      const hostPid = await serverPid(hostPort);
      const c = await job({ pr: 901, extraEnv: sccacheEnv });
      const ws = await quickWorkspace('in-container', `c-${Math.random()}`);
      const name = containerize(d, c, {
        network: 'host',
        mounts: [
          { host: root, at: root },
          { host: sccacheEnv.SCCACHE_DIR, at: sccacheEnv.SCCACHE_DIR },
          { host: ws, at: ws },
          { host: '/usr/bin/sccache', at: '/usr/local/bin/sccache', ro: true },
        ],
      });
      try {
        await fs.mkdir(sccacheEnv.SCCACHE_DIR, { recursive: true });
        const m = await c.run('main', { root });
        expect({ code: m.code, errors: m.errors, warnings: m.warnings }).toEqual({ code: 0, errors: [], warnings: [] });
        const cPort = portOf(c);
        expect(cPort).not.toBe(hostPort);
        expect(m.stdout).toMatch(new RegExp(`sccache: started a host server on 127\\.0\\.0\\.1:${cPort}`));
        ports.add(cPort);
        // The container's build goes through its own server; the host job's through the host's.
        const [inC, onHost] = await Promise.all([
          c.exec(['cargo', 'build'], ws),
          host.exec(['cargo', 'build'], await quickWorkspace('beside-container', `h-${Math.random()}`)),
        ]);
        expect([inC.code, onHost.code]).toEqual([0, 0]);
        expect(await executed(host, cPort)).toBeGreaterThanOrEqual(3); // the container's 3 crates: its server
      } finally {
        removeContainer(d, name); // the runner's "Stop containers"
      }
      expect(await serverPid(hostPort)).toBe(hostPid);
      expect(['R', 'S']).toContain(await procState(hostPid));
      expect((await host.exec(['cargo', 'build'], await quickWorkspace('after-container', `a-${Math.random()}`))).code).toBe(0);
      await endJob(host);
    },
    scaled(300_000),
  );
});

describe("another uid's entries under <root>/sccache", () => {
  test('a server dir another uid made (with a link in it) is passed over: the job writes nothing through it', async () => {
    const r = join(scratch, 'planted-root');
    const env = { PATH: process.env.PATH, RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(scratch, 'planted-cache') };
    const mountNs = await fs.readlink('/proc/self/ns/mnt');
    const candidates = candidatePorts(UID, mountNs, sccacheSettings(env));
    for (const p of candidates) ports.add(p);
    // <root>/sccache is world-writable (sticky): any uid on the host may make any name in it.
    // Another uid's dir named for this uid's ports, its start.log a link to this uid's file.
    const victim = join(scratch, 'planted-victim');
    await fs.writeFile(victim, 'precious\n');
    await fs.mkdir(join(r, 'sccache'), { recursive: true, mode: 0o1777 });
    const other = UID === 0 ? 1234 : UID + 1;
    for (const p of candidates) {
      const dir = join(r, 'sccache', `u${UID}-p${p}`);
      await fs.mkdir(dir);
      await fs.symlink(victim, join(dir, 'start.log'));
      await fs.symlink(victim, join(dir, 'server.pid'));
      if (UID === 0) await fs.lchown(dir, other, other);
    }
    const log = { info: () => undefined, warning: () => undefined, debug: () => undefined, group: <T>(_n: string, fn: () => Promise<T>) => fn() };
    const got = await ensureSccacheServer(env, { root: r }, log).catch((e: Error) => e);
    expect(await fs.readFile(victim, 'utf8')).toBe('precious\n');
    expect(got).toBeInstanceOf(Error);
    expect((got as Error).message).toMatch(/not a directory of uid/);
  });
});
