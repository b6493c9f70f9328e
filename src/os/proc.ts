import { constants, promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * What /proc and the process itself say: this process's uid, a process's stat line and its
 * ancestors (whose Runner.Worker a hook's lease watches), and the PATH search a shell would do.
 */

/** The uid this process acts as (effective: what the kernel checks on every file it touches). */
export const myUid = (): number => process.geteuid?.() ?? 0;

export interface ProcStat {
  /** The command name (field 2, between the first '(' and the last ')': it may hold either). */
  comm: string;
  ppid: number;
  /** Start time in clock ticks since boot (field 22), which tells a pid from its reuse. */
  start: string;
}

/** /proc/<pid>/stat, parsed; undefined when the process is gone or not visible here. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return undefined;
  }
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
