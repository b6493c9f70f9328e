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
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', cwd });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  // A reader that stops early (a failed decompressor) must not crash the process with EPIPE.
  child.stdin.on('error', () => undefined);
  const done = new Promise<Awaited<Piped['done']>>((res) => {
    child.on('error', (e) => res({ code: null, signal: null, stderr, error: e }));
    child.on('close', (code, signal) => res({ code, signal, stderr }));
  });
  return { stdin: child.stdin, stdout: child.stdout, done, kill: () => child.kill('SIGKILL') };
}
