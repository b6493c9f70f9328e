import { spawn } from 'node:child_process';

// How many bytes a tree takes on disk, as pruning it would free them.

/**
 * Bytes a tree takes on disk (allocated blocks, what pruning would free), via `du`, which is
 * an order of magnitude faster than a walk in JavaScript. Never follows symlinks, stays on one
 * filesystem. 0 for a missing tree.
 */
export function diskUsage(path: string, timeoutMs = 30_000): Promise<number> {
  return new Promise((res) => {
    const child = spawn('du', ['-s', '-x', '-B1', '--', path], { stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => res(0));
    child.on('close', () => res(parseInt(out, 10) || 0));
  });
}
