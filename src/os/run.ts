import { spawn } from 'node:child_process';

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
 * `rm`, `chmod`, `chown`, `cp`, `sudo` and `docker` are run from.
 */
export function runCommand(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (e) => res({ code: null, signal: null, stdout, stderr, error: e }));
    child.on('exit', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}
