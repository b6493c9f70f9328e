import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/*
 * Running other programs: runCommand, the one way rm, chmod, chown, cp, sudo and docker are run
 * (bounded in time, output captured), runBounded, a helper process given a request on its stdin
 * that may hang where no signal reaches it (the fleet store's worker, store/fleet-worker.ts), and
 * runInForeground, the command a person gave `cargo-isolate run`.
 */

export interface RunResult {
  /** Exit code; null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 20 kB of stdout, the last 2 kB of stderr: enough for a listing or a message. */
  stdout: string;
  stderr: string;
  /** Set when the command could not be started (ENOENT: not installed). */
  error?: NodeJS.ErrnoException;
}

/**
 * Runs a command to its end, capturing the tails of its output; never rejects. After `timeoutMs`
 * it gets SIGKILL: a stuck rm, chown or cp must not hold a job or a guard forever. The one place
 * `rm`, `chmod`, `chown`, `cp`, `sudo`, `docker` and the questions put to `cargo` are run from.
 */
export function runCommand(cmd: string, args: string[], timeoutMs: number, o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', cwd: o.cwd, env: o.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (e) => res({ code: null, signal: null, stdout, stderr, error: e }));
    child.on('exit', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

export interface BoundedResult extends RunResult {
  /** The time bound passed first: the command's process group got SIGKILL and was left behind. */
  timedOut: boolean;
}

/**
 * Runs a command in a process group of its own, `input` on its stdin, and resolves with its
 * output when it exits or when `timeoutMs` passes, whichever comes first; never rejects. At the
 * bound the whole group gets SIGKILL (the command and what it started: tar, zstd) and is left
 * behind with its pipes closed and unreferenced: a process blocked in the kernel (a read from an
 * NFS server that is down, on a hard mount) ignores even SIGKILL until the server answers, and
 * waiting for its exit, or keeping its pipes open, would hold this process (a post step) with it.
 */
export function runBounded(
  cmd: string,
  args: string[],
  o: { timeoutMs: number; input?: string; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<BoundedResult> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: o.cwd, env: o.env, detached: true });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (r: Omit<BoundedResult, 'stdout' | 'stderr'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      res({ ...r, stdout, stderr });
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      for (const s of [child.stdin, child.stdout, child.stderr]) s.destroy();
      child.unref();
      done({ code: null, signal: 'SIGKILL', timedOut: true });
    }, o.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-200_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
    child.on('error', (e) => done({ code: null, signal: null, error: e, timedOut: false }));
    child.on('close', (code, signal) => done({ code, signal, timedOut: false }));
  });
}

/** Pure: the exit code a shell reports for a process a signal ended (bash: 128 + the signal's number). */
export function signalExit(sig: NodeJS.Signals | null): number {
  const n = sig ? constants.signals[sig] : undefined;
  return n === undefined ? 1 : 128 + n;
}

/**
 * A command a person asked for (`cargo-isolate run -- CMD`), in the foreground: it gets this
 * process's stdin and stderr, and its stdout too unless `onStdout` takes it (the demo prints it
 * through a stdout that tolerates a closed pipe); SIGINT and SIGTERM are passed on while it runs.
 * Never rejects: its exit code, as a shell gives it (128 + the signal's number when a signal ended
 * it: 137 for SIGKILL, an out-of-memory kill; 139 for SIGSEGV; 130 for SIGINT), or 127 and why it
 * could not start.
 */
export function runInForeground(cmd: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string) => void): Promise<{ code: number; error?: Error }> {
  return new Promise((res) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['inherit', onStdout ? 'pipe' : 'inherit', 'inherit'], env });
    child.stdout?.on('data', (d: Buffer) => onStdout?.(d.toString()));
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    const done = (r: { code: number; error?: Error }) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      res(r);
    };
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', (error) => done({ code: 127, error }));
    child.on('close', (code, sig) => done({ code: code ?? signalExit(sig) }));
  });
}
