import { spawn } from 'node:child_process';

// How many bytes a tree takes on disk, as pruning it would free them.

/**
 * Bytes a tree takes on disk (allocated blocks, what pruning would free), via `du`, which is
 * an order of magnitude faster than a walk in JavaScript. Never follows symlinks, stays on one
 * filesystem. 0 for a missing tree.
 *
 * `countedFirst`: trees whose files count there and not in `path`. du counts a file with several
 * hard links once, where it meets it first, so a file the crate or git store links into a job's
 * directory counts in the store: removing the directory frees nothing of it, and the guard's
 * totals count it once (pool/guard.ts).
 */
export function diskUsage(path: string, timeoutMs = 30_000, countedFirst: string[] = []): Promise<number> {
  return new Promise((res) => {
    const child = spawn('du', ['-s', '-x', '-B1', '--', ...countedFirst, path], { stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => res(0));
    child.on('close', () => {
      // One line per argument that exists, `BYTES<TAB>PATH`, in the order given.
      const line = out.split('\n').find((l) => l.slice(l.indexOf('\t') + 1) === path);
      res(parseInt(line ?? '', 10) || 0);
    });
  });
}
