import { spawnSync } from 'node:child_process';
import { promises as fs, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { scaled } from './pace.js';

/*
 * A test file's scratch directory goes in afterAll, and that must not fail the file, even after
 * a test timed out while it still ran: a lease keeper holding a lock file under the directory,
 * a cargo build writing into it, a loop still making slots would each make a plain recursive
 * removal fail (ENOTEMPTY, EBUSY) and bury the real failure under a cleanup one. So: what is
 * mounted below it is unmounted, every process with its cwd, root or an open file below it is
 * killed by pid and waited for, then the tree goes; a leftover is reported, never thrown.
 * The directory is the test's own (mkdtemp), so nothing of another checkout's run is touched.
 */

const below = (p: string, dirs: string[]) => dirs.some((dir) => p === dir || p.startsWith(`${dir}/`));

/** Pids (not ours) whose cwd, root or some open file lies under one of `dirs`. */
export function processesUnder(dirs: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const links: string[] = [];
    for (const l of ['cwd', 'root']) {
      try {
        links.push(readlinkSync(`/proc/${name}/${l}`));
      } catch {
        // gone, or a kernel thread
      }
    }
    try {
      for (const fd of readdirSync(`/proc/${name}/fd`)) {
        try {
          links.push(readlinkSync(`/proc/${name}/fd/${fd}`));
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone
    }
    if (links.some((l) => below(l.replace(/ \(deleted\)$/, ''), dirs))) out.push(Number(name));
  }
  return out;
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Kills every process holding something under `dirs` (SIGKILL, by pid) and waits until they are gone. */
export async function killProcessesUnder(dirs: string[]): Promise<number[]> {
  const killed: number[] = [];
  const end = Date.now() + scaled(20_000);
  for (let pids = processesUnder(dirs); pids.length > 0 && Date.now() < end; pids = processesUnder(dirs)) {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        if (!killed.includes(pid)) killed.push(pid);
      } catch {
        // already gone
      }
    }
    while (pids.some(alive) && Date.now() < end) await sleep(20);
  }
  return killed;
}

/** Mount points at or below `dirs` in this mount namespace, deepest first. */
function mountsUnder(dirs: string[]): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean);
  return lines
    .map((l) => unescape(l.split(' ')[4]))
    .filter((m) => below(m, dirs))
    .sort((a, b) => b.length - a.length);
}

/** Removes a test's scratch directories whatever a timed-out test left running in them; never throws. */
export async function removeScratch(...given: (string | undefined)[]): Promise<void> {
  let dirs = given.filter((d): d is string => Boolean(d));
  for (let attempt = 0; attempt < 3 && dirs.length > 0; attempt++) {
    try {
      for (const m of mountsUnder(dirs)) spawnSync('umount', ['-l', m]);
      await killProcessesUnder(dirs);
    } catch {
      // /proc unreadable: try the removal anyway
    }
    const left: string[] = [];
    for (const dir of dirs) {
      try {
        await fs.rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
      } catch (e) {
        left.push(dir);
        if (attempt === 2) process.stderr.write(`cleanup: left ${dir} in place: ${(e as Error).message}\n`);
      }
    }
    dirs = left;
  }
}
