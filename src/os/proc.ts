import { constants, promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * What /proc and the process itself say: this process's uid, a process's stat line and its
 * ancestors (whose Runner.Worker a hook's lease watches), whether a process has exited (and a
 * wait for it), and the PATH search a shell would do.
 */

/** The uid this process acts as (effective: what the kernel checks on every file it touches). */
export const myUid = (): number => process.geteuid?.() ?? 0;

export interface ProcStat {
  /** The command name (field 2, between the first '(' and the last ')': it may hold either). */
  comm: string;
  /** The state letter (field 3): R, S, D, Z (a zombie: exited, not yet reaped), ... */
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot (field 22), which tells a pid from its reuse. */
  start: string;
}

/** /proc/<pid>/stat, parsed; undefined when the process is gone or not visible here. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state: rest[0], ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return undefined;
  }
}

/** Whether the process `pid` that started at `start` has exited: gone, a zombie, or the pid reused. */
export function exited(pid: number, start: string): boolean {
  const now = procStat(pid);
  return !now || now.state === 'Z' || now.start !== start;
}

/** Waits (polling /proc) until the process `pid` that started at `start` has exited; false if it still runs after `ms`. */
export async function waitExited(pid: number, start: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!exited(pid, start)) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** A process and its ancestors, nearest first (at most 32), as far as /proc shows them. */
export function ancestors(from: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (let pid = from; pid > 1 && out.length < 32;) {
    const stat = procStat(pid);
    if (!stat) break;
    out.push({ pid, comm: stat.comm });
    pid = stat.ppid;
  }
  return out;
}

/** The executable `command` names on `path` (absolute PATH entries only), as a shell would run it. */
export async function findOnPath(command: string, path: string | undefined): Promise<string | undefined> {
  if (command.includes('/')) return command;
  for (const dir of (path ?? '').split(':').filter((d) => d.startsWith('/'))) {
    const p = join(dir, command);
    if (
      await fs.access(p, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return undefined;
}

/**
 * Sends what escapes every await (an error event nobody listens to, a rejected promise nobody
 * awaits) to `handler`, which says it like every other failure of the entry point and ends it,
 * instead of Node's stack trace. Once per process: an entry point run twice in one process (the
 * tests) keeps the first handler.
 */
export function onStray(handler: (e: unknown) => void): void {
  if (process.listenerCount('uncaughtException') === 0) process.on('uncaughtException', handler).on('unhandledRejection', handler);
}
