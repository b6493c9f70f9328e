import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { Failure } from '../model/failure.js';

/*
 * Locks are kernel flock(2) locks taken by util-linux `flock`, because Node has no flock.
 *
 * Invariant: a lock is held exactly while some process holding its file descriptor lives.
 * The kernel drops it when the last holder dies, by any means (exit, SIGKILL, reboot), so no
 * state on disk can claim a lock that nobody holds. Locks work across containers that share
 * the files on one kernel (bind mounts); they are not reliable on NFS.
 *
 * `flock -n -E 75 A flock -n -E 75 B sh -c BODY` takes A, then B, then runs BODY while both
 * are held; BODY prints `locked` once it runs, which is how the caller learns it won.
 * Exit code 75 means some lock was busy (or, with a wait, timed out).
 *
 * The lock rule (as cargo writes its own in util/cache_lock.rs). Every lock cargo-isolate takes:
 *
 *   lock file                           taken by                                mode       waits
 *   <root>/locks/slot-<name>.lock       the lease keeper of the job on the slot  exclusive  never: a busy slot
 *                                       (pool/lease.ts startKeeper), for the               is retried by polling
 *                                       whole job, by a detached process                   (a few quick retries,
 *                                                                                          then 500 ms scans)
 *   <jobs dir>/.lease                   the same, for the `job` layout           exclusive  never
 *   the two above, with cargo's own     the guard removing an idle slot or job   exclusive  never (-n): a busy one
 *   locks in that slot's target and     dir (os/remove.ts), the warm copy from             is live, and is
 *   CARGO_HOME (os/liveness.ts          an idle slot (pool/warm-copy.ts), the              skipped
 *   cargoLockFiles: .cargo-lock,        hand-back of an idle slot
 *   .cargo-build-lock,                  (owners/handback.ts), the lease taking
 *   .cargo-artifact-lock,               a free slot (probe: is cargo still
 *   .package-cache[-mutate])            running there?), status (probes)
 *   <home>/.package-cache-mutate and    the guard removing a shared CARGO_HOME's  exclusive  never
 *   .package-cache                      registry sources (cargo's MutateExclusive)
 *   <CARGO_HOME>/.package-cache         the job's start while it seeds crates    exclusive  up to 120 s
 *                                       and git deps (job/dependencies.ts), and  (30 s at a
 *                                       while it repairs, extracts or records    job's end)
 *                                       the shared home's sources
 *                                       (store/home-sources.ts)
 *   <root>/locks/guard.lock             the disk guard (pool/guard.ts), one per  exclusive  up to 300 s
 *                                       host
 *   <root>/sccache/u<uid>-p<port>/      the job starting the host sccache        exclusive  up to 60 s
 *     start.lock                        server (host/sccache.ts)
 *   <root>/locks/metrics.lock           `cargo-isolate metrics` saving counters  exclusive  up to 30 s
 *   <archive>/archive.tar.zst           a restore of that dependency archive     shared     never: held
 *     (store/archive.ts)                while it reads (store/archive.ts), and             exclusively, it is
 *                                       a copy sending it to a fleet store                 being removed: a miss
 *                                       (store/archive-copy.ts)
 *   the same, in a save's temp          the save writing it, and a fleet fetch   exclusive  never (a new file)
 *     directory (`.<exact>.<rand>.tmp`) copying into the host tier
 *                                       (store/archive-copy.ts), until the rename
 *   <archive>/archive.tar.zst           whatever removes an archive: the guard,  exclusive  never (-n): a busy
 *                                       the host tier's cap, a closed PR                   one is being read
 *                                       (store/archive-host.ts), and the probe              (or written) and is
 *                                       telling a save in progress from what a             skipped
 *                                       killed save left
 *
 * An archive's lock is its own data file, not a file under locks/: it lives and goes with the
 * archive, so none accumulate. Its remover holds it while it renames the archive into the trash;
 * a restore that opened the file before that rename and locks it after finds the path gone, and
 * restores nothing (store/archive.ts checks the path again under its lock). Neither side waits.
 *
 * The crate store and the git store take no lock: entries appear whole by rename and are never
 * changed; the guard unlinks an idle .crate (a seeder's hard link keeps the bytes) and renames a
 * git entry into trash (store/crates.ts, store/gitstore.ts, pool/guard.ts). Shared mode
 * (`shared: true`) is only used to probe or wait, never to hold (status; releaseLease waiting,
 * up to 2 s and holding nothing, for the kernel to drop a keeper's lock).
 *
 * Why nothing can deadlock: a lock is waited for (the "up to" rows) only by a process that holds
 * no other lock of ours except, for .package-cache and start.lock, its own slot's lease, which no
 * one ever waits for. And every holder of a lock that is waited for takes any further lock
 * non-blocking: the guard holding guard.lock, the seeder holding .package-cache, the sccache
 * starter holding start.lock never block on a second lock. Several locks held at once (a slot and
 * its cargo locks, taken in one `flock -n ... flock -n ...` chain) are all taken with -n, so a
 * busy one gives up the others at once. So no process ever waits while holding a lock another
 * process waits for: no cycle of waits can form, whatever the order. Every wait is also bounded.
 * A new lock keeps this only if it is taken non-blocking, or waited for while holding nothing
 * that anyone waits for.
 */
const BUSY = 75;

export interface Held {
  /** pid of the outermost flock process; its process group holds the locks. */
  pid: number;
  child: ChildProcess;
}

export interface HoldOptions {
  /** Seconds to wait for the locks; 0 = fail at once when busy. */
  waitSeconds?: number;
  /** Shell body run while the locks are held; must print `locked` first. */
  body?: string;
  args?: string[];
  /** Detach (own process group, survives our exit): used by the lease keeper. */
  detached?: boolean;
  /** Shared locks instead of exclusive ones. */
  shared?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Holds the body until its stdin closes: our own process dying releases the locks too. */
const UNTIL_STDIN_CLOSES = 'echo locked; exec cat >/dev/null';

function flockArgs(paths: string[], o: HoldOptions, tail: string[]): string[] {
  const mode = o.waitSeconds ? ['-w', String(o.waitSeconds)] : ['-n'];
  const kind = o.shared ? ['-s'] : ['-x'];
  const args: string[] = [];
  paths.forEach((p, i) => {
    if (i > 0) args.push('flock');
    args.push(...kind, ...mode, '-E', String(BUSY), p);
  });
  return [...args, ...tail];
}

/**
 * Takes every lock in `paths` (creating missing lock files) and keeps them until released.
 * Resolves to undefined when one of them is busy.
 */
export function hold(paths: string[], o: HoldOptions = {}): Promise<Held | undefined> {
  if (paths.length === 0) throw new Error('hold: no lock paths');
  const body = o.body ?? UNTIL_STDIN_CLOSES;
  const args = flockArgs(paths, o, ['sh', '-c', body, 'sh', ...(o.args ?? [])]);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('flock', args, {
      detached: o.detached ?? false,
      stdio: [o.body ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: o.env ?? process.env,
    });
    let out = '';
    let err = '';
    let settled = false;
    const settle = (v: Held | undefined, e?: Error) => {
      if (settled) return;
      settled = true;
      if (e) reject(e);
      else resolvePromise(v);
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('locked')) settle({ pid: child.pid!, child });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      settle(undefined, new Failure(`Cannot run 'flock' (util-linux) to take ${paths[0]}: ${e.message}. Install util-linux.`, 'environment')),
    );
    child.on('exit', (code, signal) => {
      if (code === BUSY) return settle(undefined);
      settle(
        undefined,
        whyNotOpened(paths) ?? new Error(`flock on ${paths.join(', ')} ended before locking (code ${code}, signal ${signal}): ${err.trim() || out.trim()}`),
      );
    });
  });
}

/**
 * Why flock could not open one of its lock files (a read-only filesystem, a directory of another
 * uid): the same open(2) flock makes (read-only, created when missing), so that the error names
 * the file, the call and the code as every other failed system call does (model/failure.ts).
 * Only on flock's failure: a lock taken costs no extra call.
 */
function whyNotOpened(paths: string[]): NodeJS.ErrnoException | undefined {
  for (const p of paths) {
    try {
      closeSync(openSync(p, constants.O_RDONLY | constants.O_CREAT | constants.O_NOCTTY, 0o666));
    } catch (e) {
      return e as NodeJS.ErrnoException;
    }
  }
  return undefined;
}

/** Ends an in-process hold taken without `detached`: closing stdin ends the body. */
export function release(h: Held): Promise<void> {
  return new Promise((res) => {
    if (h.child.exitCode !== null || h.child.signalCode !== null) return res();
    h.child.once('exit', () => res());
    h.child.stdin?.end();
  });
}

/** Lets a detached holder outlive this process: drop every handle that would keep us waiting. */
export function detach(h: Held): void {
  h.child.stdout?.destroy();
  h.child.stderr?.destroy();
  h.child.removeAllListeners();
  h.child.unref();
}

/** True when none of `paths` is locked right now (it takes and drops them: a probe, not a hold). */
export function allFree(paths: string[], shared = false): boolean {
  paths = paths.filter((p) => existsSync(p)); // a lock file that does not exist is held by nobody
  if (paths.length === 0) return true;
  const r = spawnSync('flock', flockArgs(paths, { shared }, ['true']), { stdio: 'ignore' });
  if (r.error) throw new Failure(`Cannot run 'flock' (util-linux): ${r.error.message}. Install util-linux.`, 'environment');
  return r.status === 0;
}

/** allFree without blocking this process: its flock runs while the caller does other work. */
export function probeFree(paths: string[], shared = false): Promise<boolean> {
  return flockTrue(paths, { shared });
}

/**
 * Waits up to `seconds` until nobody holds `path` exclusively, in one `flock -s -w` the kernel
 * wakes as the lock drops (no polling); true when it is free. A missing lock file is free.
 */
export function waitFree(path: string, seconds: number): Promise<boolean> {
  return flockTrue([path], { shared: true, waitSeconds: seconds });
}

/** `flock ... true` on the lock files that exist: true when it got them all (none exist: true). */
function flockTrue(paths: string[], o: HoldOptions): Promise<boolean> {
  paths = paths.filter((p) => existsSync(p)); // a lock file that does not exist is held by nobody
  if (paths.length === 0) return Promise.resolve(true);
  return new Promise((res, reject) => {
    const child = spawn('flock', flockArgs(paths, o, ['true']), { stdio: 'ignore' });
    child.on('error', (e) => reject(new Failure(`Cannot run 'flock' (util-linux) on ${paths[0]}: ${e.message}. Install util-linux.`, 'environment')));
    child.on('exit', (code) => res(code === 0));
  });
}

/** `pid` runs and is a `flock` holding `lockPath` (its command line says so): not gone, not a reused pid. */
export function isHolder(pid: number, lockPath: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.startsWith('flock\0') && cmdline.includes(`\0${lockPath}\0`);
  } catch {
    return false; // already gone
  }
}

/** Kills a detached holder's process group, after checking the pid still is that holder. */
export function killHolder(pid: number, lockPath: string): boolean {
  if (!isHolder(pid, lockPath)) return false; // gone, or the pid was reused
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return false;
    }
  }
  return true;
}
