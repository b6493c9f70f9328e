import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { hold, release } from '../os/flock.js';
import type { Log } from '../os/log.js';
import { ownDirIn } from '../owners/owner.js';
import { findOnPath, myUid, procStat, waitExited } from '../os/proc.js';
import { rootPaths } from '../model/layout.js';
import { environOf, sameMountNamespace, socketOwner, tcpListeners } from '../os/sockets.js';
import { readTextIfPresent } from '../os/absent.js';

/*
 * One sccache server per host (per uid, mount namespace and sccache configuration) that
 * belongs to no job: issue 17.
 *
 * sccache's client starts a server when none answers on SCCACHE_SERVER_PORT, and the server
 * inherits that job's environment: its RUNNER_TRACKING_ID (the runner kills every process
 * carrying it when the job ends) and its TMPDIR (the job's slot tmp/, which the post step
 * empties while the server still writes other jobs' dep-info there). So when a job compiles
 * through sccache, the main step makes sure a server answers on a port of our choosing first,
 * one it started itself: detached in its own session (sccache daemonizes anyway), with a
 * minimal environment (no RUNNER_TRACKING_ID, no job secrets), a temp dir of its own under the
 * root, and no idle timeout (a server that exits when idle would be restarted by the next
 * client, from inside a job, with that job's environment). The job gets SCCACHE_SERVER_PORT.
 *
 * Why not a server per job: sccache 0.4's disk cache keeps its index in memory, read once at
 * start, and enforces SCCACHE_CACHE_SIZE against that index alone. Several servers on one
 * SCCACHE_DIR each miss what the others wrote since they started and together exceed the size
 * limit (measured: docs/sccache.md).
 *
 * Why the port depends on uid and mount namespace: a server writes compile outputs as its own
 * uid (a root container job's server compiling for a host job would leave root-owned files in
 * its target dir) and resolves paths in its own mount namespace (a container's /__w/... is not
 * the host's). A container with its own network namespace has its own 127.0.0.1 anyway; one
 * with the host's network must still never reach the host's server. What answers on a port is
 * checked, not trusted: a listener of another uid, or one carrying a RUNNER_TRACKING_ID (a
 * job's server, started by a client), is passed over for the next candidate port.
 */

/** How many ports a configuration may fall back to when its first ones are taken. */
const CANDIDATES = 8;
/** Below Linux's ephemeral range (32768+): outgoing connections never occupy these. */
const PORT_BASE = 10000;
const PORT_SPAN = 20000;

/** Which variable makes cargo compile through sccache, and the wrapper named there. */
export interface Wrapper {
  variable: 'RUSTC_WRAPPER' | 'CARGO_BUILD_RUSTC_WRAPPER';
  command: string;
}

/** The wrapper cargo-isolate puts in front of the job's own (rustc-wrapper.ts's script). */
export const OUR_WRAPPER = 'cargo-isolate-rustc';
/** Where our wrapper finds the job's own wrapper. */
export const WRAPPED = 'CARGO_ISOLATE_RUSTC_WRAPPER';

/** Pure: whether cargo, run with `env`, compiles through sccache. */
export function sccacheWrapper(env: Record<string, string | undefined>): Wrapper | undefined {
  // cargo reads RUSTC_WRAPPER first; an empty one disables the wrapper.
  for (const variable of ['RUSTC_WRAPPER', 'CARGO_BUILD_RUSTC_WRAPPER'] as const) {
    let v = env[variable];
    if (v === undefined) continue;
    // Ours runs the job's own wrapper, named in WRAPPED (a second main step in the job, a post step).
    if (basename(v.trim()) === OUR_WRAPPER) v = env[WRAPPED] ?? '';
    const name = basename(v.trim()).replace(/\.exe$/i, '');
    return name === 'sccache' ? { variable, command: v.trim() } : undefined;
  }
  return undefined;
}

/** The server's settings: every SCCACHE_* variable but the ones this module sets itself. */
const OURS = new Set([
  'SCCACHE_SERVER_PORT',
  'SCCACHE_IDLE_TIMEOUT',
  'SCCACHE_START_SERVER',
  'SCCACHE_STARTUP_NOTIFY',
  'SCCACHE_NO_DAEMON',
  'SCCACHE_ERROR_LOG',
]);
export function sccacheSettings(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) if (k.startsWith('SCCACHE_') && !OURS.has(k) && env[k] !== undefined) out[k] = env[k]!;
  return out;
}

/**
 * Pure: the ports a server for this uid, mount namespace and configuration may use, in order.
 * Jobs with the same three share a server; anything else gets another one.
 */
export function candidatePorts(uid: number, mountNs: string, settings: Record<string, string>): number[] {
  const h = createHash('sha256').update(JSON.stringify({ uid, mountNs, settings })).digest().readUInt32BE(0);
  return Array.from({ length: CANDIDATES }, (_, i) => PORT_BASE + ((h + i * 2503) % PORT_SPAN));
}

/** What answers on a port, as far as the decision needs to know. */
export type Occupant =
  | { kind: 'free' }
  | { kind: 'other-uid'; uid: number }
  | { kind: 'job-server'; pid: number; trackingId: string }
  | { kind: 'host-server'; pid: number }
  | { kind: 'unknown' };

/** Pure: use this port (start a server or reuse the one there), or try the next. */
export function decide(o: Occupant): 'start' | 'reuse' | 'next' {
  if (o.kind === 'free') return 'start';
  if (o.kind === 'host-server') return 'reuse';
  return 'next';
}

/** Pure: the environment the host server starts with. Nothing of the job's but what sccache needs. */
export function serverEnv(env: Record<string, string | undefined>, port: number, tmp: string): Record<string, string> {
  const keep = ['PATH', 'HOME', 'RUSTUP_HOME', 'LANG', 'LC_ALL', 'USER', 'LOGNAME'];
  const out: Record<string, string> = {};
  for (const k of keep) if (env[k] !== undefined) out[k] = env[k]!;
  return {
    ...out,
    ...sccacheSettings(env),
    SCCACHE_SERVER_PORT: String(port),
    // 0 = never exit when idle: a server that exits would be restarted by a job's client.
    SCCACHE_IDLE_TIMEOUT: '0',
    TMPDIR: tmp,
    TMP: tmp,
    TEMP: tmp,
  };
}

/** What the job used, for the exports and the summary. */
export interface SccacheReport {
  variable: Wrapper['variable'];
  port: number;
  pid?: number;
  /** started: this job started it; reused: it was already running. */
  how: 'started' | 'reused';
  /** Its temp dir under the root; empty for a server the host runs itself. */
  tmp: string;
  /** Ports passed over, and why. */
  passedOver: string[];
  ms: number;
}

/** Pure: the summary's line for it. */
export function describeServer(r: SccacheReport): string {
  const who = r.how === 'started' ? 'started by this job' : 'already running';
  const tmp = r.tmp ? `; its temp dir ${r.tmp}` : '';
  const passedOver = r.passedOver.length ? `; passed over ${r.passedOver.join(', ')}` : '';
  return `host server on 127.0.0.1:${r.port}${r.pid ? ` (pid ${r.pid})` : ''}, ${who}, belonging to no job${tmp}${passedOver}`;
}

// ---- effects ----

/** What answers on `port` (in this network namespace), read from /proc. */
export async function occupant(port: number, uid: number, hint?: number): Promise<Occupant> {
  const l = (await tcpListeners()).find((x) => x.port === port);
  if (!l) return { kind: 'free' };
  if (l.uid !== uid) return { kind: 'other-uid', uid: l.uid };
  const pid = await socketOwner(l.inode, 'sccache', hint);
  if (!pid) return { kind: 'unknown' };
  const env = await environOf(pid);
  if (!env) return { kind: 'unknown' };
  if (env.RUNNER_TRACKING_ID) return { kind: 'job-server', pid, trackingId: env.RUNNER_TRACKING_ID };
  // Another mount namespace resolves the job's paths to other files (or none).
  if (!(await sameMountNamespace(pid))) return { kind: 'unknown' };
  return { kind: 'host-server', pid };
}

/** Pure: the port the job's own settings name (or sccache's default), if the fleet runs a server there itself. */
export function fleetPort(env: Record<string, string | undefined>): number {
  const p = Number(env.SCCACHE_SERVER_PORT);
  return Number.isInteger(p) && p > 0 && p < 65536 ? p : 4226;
}

const STARTUP_GRACE_MS = 30_000;

/** What answers on `port` once anything does (or `graceMs` ran out). */
async function settled(port: number, uid: number, graceMs: number): Promise<Occupant> {
  const end = Date.now() + graceMs;
  for (;;) {
    const o = await occupant(port, uid);
    if (o.kind !== 'free' || Date.now() >= end) return o;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `<root>/sccache/u<uid>-p<port>`: a directory of this uid's own (owner.ts, ownDirIn). */
function serverDir(root: string, uid: number, port: number): Promise<{ dir: string; theirs?: string }> {
  return ownDirIn(rootPaths(root).sccache, `u${uid}-p${port}`, uid, 0o700);
}

/**
 * Starts the server the way sccache's own client does (SCCACHE_START_SERVER=1: the process
 * daemonizes and serves), but without `--start-server`'s wait on a Unix socket under TMPDIR:
 * that wait gives up after 10 s (a config-file setting only in 0.4), and a socket path under a
 * long root exceeds the 108 bytes a socket path may have. The caller watches the port instead.
 * Resolves when the spawned process exits (at once, when it daemonizes).
 */
async function spawnServer(binary: string, env: Record<string, string>, dir: string): Promise<{ code: number | null; output: string }> {
  const logPath = join(dir, 'start.log');
  const out = await fs.open(logPath, 'w');
  try {
    const code = await new Promise<number | null>((res, rej) => {
      // Own session, and a log file instead of pipes: the daemon must hold nothing of ours.
      const child = spawn(binary, [], {
        env: { ...env, SCCACHE_START_SERVER: '1', SCCACHE_ERROR_LOG: join(dir, 'error.log') },
        cwd: dir,
        detached: true,
        stdio: ['ignore', out.fd, out.fd],
      });
      child.on('error', rej);
      child.on('exit', (c) => res(c));
    });
    return { code, output: ((await readTextIfPresent(logPath)) ?? '').trim() };
  } finally {
    await out.close();
  }
}

const tail = async (path: string) => ((await readTextIfPresent(path)) ?? '').trim().split('\n').slice(-3).join(' / ');

export interface SccachePaths {
  /** The action's root: the server's temp dir and start lock live under it. */
  root: string;
}

/** What one candidate port gave: a server to use (reused or started), or the next port, and why. */
type PortOutcome = { kind: 'server'; pid?: number; how: SccacheReport['how']; tmp: string } | { kind: 'next'; why?: string };

/** Pure: why an occupant of a port makes this job try the next one. */
function whyNext(o: Occupant): string {
  if (o.kind === 'other-uid') return `a listener of uid ${o.uid}`;
  if (o.kind === 'job-server') return `a job's server, pid ${o.pid}`;
  return 'a listener of another mount namespace, or one this uid cannot see';
}

/**
 * One candidate port: a host server already there is used without a lock (every job but the
 * first finds one); else, under the port's start lock, one is started (startOnPort).
 */
async function tryPort(binary: string, env: Record<string, string | undefined>, port: number, uid: number, root: string, log: Log): Promise<PortOutcome> {
  const { dir, theirs } = await serverDir(root, uid, port);
  if (theirs) return { kind: 'next', why: theirs };
  const tmp = join(dir, 'tmp');
  const hint = Number(await readTextIfPresent(join(dir, 'server.pid'))) || undefined;
  const seen = await occupant(port, uid, hint);
  if (seen.kind === 'host-server') {
    log.info(`sccache: using the host server on 127.0.0.1:${port} (pid ${seen.pid}), which belongs to no job.`);
    return { kind: 'server', pid: seen.pid, how: 'reused', tmp };
  }
  // One starter at a time per port: two jobs starting together find one server, not a race.
  const lock = await hold([join(dir, 'start.lock')], { waitSeconds: 60 });
  if (!lock) throw new Error(`Waited 60 s for ${join(dir, 'start.lock')}: another job is starting the sccache server on port ${port}.`);
  try {
    return await startOnPort(binary, env, port, uid, dir, log);
  } finally {
    await release(lock);
  }
}

/** Under the port's start lock: reuse a server another job started meanwhile, start one on a free port, or move on. */
async function startOnPort(binary: string, env: Record<string, string | undefined>, port: number, uid: number, dir: string, log: Log): Promise<PortOutcome> {
  const tmp = join(dir, 'tmp');
  const errorLog = join(dir, 'error.log');
  for (let attempt = 0; attempt < 3; attempt++) {
    const o = await occupant(port, uid);
    const what = decide(o);
    if (what === 'reuse' && o.kind === 'host-server') {
      log.info(`sccache: using the host server on 127.0.0.1:${port} (pid ${o.pid}), which belongs to no job.`);
      return { kind: 'server', pid: o.pid, how: 'reused', tmp };
    }
    if (what === 'next') return { kind: 'next', why: whyNext(o) };
    // Free: nothing uses the old temp dir any more (its server is gone), so start clean.
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true, mode: 0o700 });
    const r = await spawnServer(binary, serverEnv(env, port, tmp), dir);
    if (r.code !== 0)
      throw new Error(`'${binary}' (SCCACHE_START_SERVER=1) on port ${port} exited with ${r.code}: ${r.output || (await tail(errorLog)) || 'no output'}.`);
    const now = await settled(port, uid, STARTUP_GRACE_MS);
    if (now.kind === 'host-server') {
      await fs.writeFile(join(dir, 'server.pid'), `${now.pid}\n`).catch(() => undefined);
      log.info(`sccache: started a host server on 127.0.0.1:${port} (pid ${now.pid}): own session, no RUNNER_TRACKING_ID, temp dir ${tmp}, no idle timeout.`);
      return { kind: 'server', pid: now.pid, how: 'started', tmp };
    }
    if (now.kind === 'free')
      throw new Error(
        `the sccache server started on port ${port} did not listen within ${STARTUP_GRACE_MS / 1000} s (${errorLog}: ${(await tail(errorLog)) || 'empty'}).`,
      );
    // Another process bound the port first (a job's client): look again.
  }
  return { kind: 'next' };
}

/**
 * Makes sure a host server that belongs to no job answers for a job that compiles through
 * sccache, and says which (undefined for a job that does not use sccache: nothing touched).
 * The one entry for the main step and for the runner's job-started hook.
 */
export async function ensureSccacheServer(env: Record<string, string | undefined>, paths: SccachePaths, log: Log): Promise<SccacheReport | undefined> {
  const wrapper = sccacheWrapper(env);
  if (!wrapper) return undefined;
  const t0 = performance.now();
  const binary = await findOnPath(wrapper.command, env.PATH);
  if (!binary)
    throw new Error(
      `${wrapper.variable} is '${wrapper.command}', but no executable '${wrapper.command}' is on PATH. Install sccache or unset ${wrapper.variable}.`,
    );
  const uid = myUid();
  const mountNs = await fs.readlink('/proc/self/ns/mnt').catch(() => 'unknown');
  const passedOver: string[] = [];
  const report = (port: number, s: Extract<PortOutcome, { kind: 'server' }>): SccacheReport => ({
    variable: wrapper.variable,
    port,
    pid: s.pid,
    how: s.how,
    tmp: s.tmp,
    passedOver,
    ms: Math.round(performance.now() - t0),
  });
  // A server the host runs itself (systemd, a login shell) on the configured port belongs to
  // no job either: use it rather than start a second server on the same SCCACHE_DIR. Never
  // start one there: that port is where jobs' own clients start theirs.
  const configured = fleetPort(env);
  const there = await occupant(configured, uid);
  if (there.kind === 'host-server') {
    log.info(`sccache: using the host's own server on 127.0.0.1:${configured} (pid ${there.pid}), which belongs to no job.`);
    return report(configured, { kind: 'server', pid: there.pid, how: 'reused', tmp: '' });
  }
  for (const port of candidatePorts(uid, mountNs, sccacheSettings(env))) {
    const got = await tryPort(binary, env, port, uid, paths.root, log);
    if (got.kind === 'server') return report(port, got);
    if (got.why) passedOver.push(`${port} (${got.why})`);
  }
  throw new Error(`No port for an sccache server of uid ${uid}: every candidate was taken (${passedOver.join('; ')}).`);
}

/** What the job must export to compile through that server. */
export function sccacheExports(r: SccacheReport | undefined): Record<string, string> {
  return r ? { SCCACHE_SERVER_PORT: String(r.port) } : {};
}

/**
 * How long a server told to stop may take to exit: sccache 0.4 answers `--stop-server` before it
 * closes its port, then waits up to 10 s for the compiles in flight (server.rs, SHUTDOWN_TIMEOUT);
 * a busy machine adds to both.
 */
const STOP_GRACE_MS = 30_000;

/**
 * The post step, before it empties the job's tmp/: a server on the job's port that carries
 * this job's RUNNER_TRACKING_ID was started by the job's own client (the host server had died)
 * and writes into the job's TMPDIR; the runner kills it in a moment anyway. Stop it now, and wait
 * until it has exited: `--stop-server` returns while the server may still hold the port and run
 * compiles in that TMPDIR. One that has not exited after STOP_GRACE_MS gets SIGKILL, as the
 * runner would give it. Then start a host server in its place for the jobs still on that port.
 * Returns what it did, for a warning; undefined when there was nothing to do.
 */
export async function sccacheAtEnd(
  r: SccacheReport | undefined,
  env: Record<string, string | undefined>,
  paths: SccachePaths,
  log: Log,
): Promise<string | undefined> {
  if (!r) return undefined;
  const uid = myUid();
  const o = await occupant(r.port, uid, r.pid);
  if (o.kind !== 'job-server' || o.trackingId !== env.RUNNER_TRACKING_ID) return undefined;
  const wrapper = sccacheWrapper(env);
  const binary = wrapper && (await findOnPath(wrapper.command, env.PATH));
  const start = procStat(o.pid)?.start;
  if (!binary || !start) return undefined;
  await new Promise<void>((res) => {
    const c = spawn(binary, ['--stop-server'], {
      env: { ...env, SCCACHE_SERVER_PORT: String(r.port) },
      stdio: 'ignore',
      timeout: STOP_GRACE_MS,
      killSignal: 'SIGKILL',
    });
    c.on('error', () => res());
    c.on('exit', () => res());
  });
  let how = 'stopped it before emptying TMPDIR';
  if (!(await waitExited(o.pid, start, STOP_GRACE_MS))) {
    try {
      process.kill(o.pid, 'SIGKILL');
    } catch {
      // exited just now
    }
    // SIGKILL cannot be caught: a moment is enough for the kernel to end it.
    how = (await waitExited(o.pid, start, 5_000))
      ? `killed it before emptying TMPDIR (it had not exited ${STOP_GRACE_MS / 1000} s after --stop-server)`
      : `could not end it before emptying TMPDIR (it still ran after SIGKILL)`;
  }
  const again = await ensureSccacheServer(env, paths, log).catch((e: Error) => e);
  const then =
    again instanceof Error
      ? `; starting a host server again failed: ${again.message}`
      : again
        ? `, and ${again.how} the host server on port ${again.port}`
        : '';
  const started = `sccache: this job's own client had started a server on port ${r.port} (pid ${o.pid}, the host server was gone)`;
  return `${started}; ${how}${then}.`;
}
