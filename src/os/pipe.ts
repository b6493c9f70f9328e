import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/*
 * A command run with its stdin and stdout as streams of bytes (tar and zstd for dependency
 * archives): the one place such a pipeline is spawned, killed on a timeout and reported.
 */

/** A command whose stdin and stdout are streams of bytes (tar, zstd), running. */
export interface Piped {
  stdin: Writable;
  stdout: Readable;
  /** Its end: the exit code (null when killed or never started), the tail of its stderr. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; error?: NodeJS.ErrnoException }>;
  kill(): void;
}

/**
 * Starts a command for streaming bytes through it; never rejects. After `timeoutMs` it gets
 * SIGKILL, as runCommand's commands do. The one place a command's stdin or stdout is a stream
 * (run.ts captures output; this moves it).
 */
export function spawnPiped(cmd: string, args: string[], timeoutMs: number, cwd?: string): Piped {
  const { child, piped } = start(cmd, args, 'pipe', timeoutMs, cwd);
  // A reader that stops early (a failed decompressor) must not crash the process with EPIPE.
  child.stdin!.on('error', () => undefined);
  return { stdin: child.stdin!, ...piped };
}

/**
 * As spawnPiped, with its stdin fed by `from`: an open file's descriptor, or another command's
 * stdout. The bytes then pass between the two in the kernel, never through this process (a
 * restore's 800 MiB of tar cost a second of CPU when Node carried them). This process's end of
 * `from` is closed, so that the writer meets a closed pipe when this command dies.
 */
export function spawnFed(cmd: string, args: string[], from: number | Readable, timeoutMs: number, cwd?: string): Omit<Piped, 'stdin'> {
  const { piped } = start(cmd, args, from, timeoutMs, cwd);
  if (typeof from !== 'number') from.destroy();
  return piped;
}

function start(cmd: string, args: string[], stdin: 'pipe' | number | Readable, timeoutMs: number, cwd?: string) {
  const child = spawn(cmd, args, { stdio: [stdin, 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', cwd });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const done = new Promise<Awaited<Piped['done']>>((res) => {
    child.on('error', (e) => res({ code: null, signal: null, stderr, error: e }));
    child.on('close', (code, signal) => res({ code, signal, stderr }));
  });
  const piped: Omit<Piped, 'stdin'> = { stdout: child.stdout!, done, kill: () => void child.kill('SIGKILL') };
  return { child, piped };
}
