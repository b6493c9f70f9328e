import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { forAnyUid } from './anyuid.js';
import { asUid } from './runner.js';

/** Runs the bundled CLI (dist/cli) with the test's node, optionally as another uid. */
export function cli(
  args: string[],
  o: { uid?: number; groups?: number[]; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const any = o.uid !== undefined ? forAnyUid() : undefined;
  // `--` ends node's own options: node would otherwise check a script's `--env-file` argument itself.
  const cmd = any
    ? [...asUid(o.uid!, o.groups), any.node, '--', join(any.dist, 'cli', 'index.js')]
    : [process.execPath, '--', resolve('dist', 'cli', 'index.js')];
  return new Promise((res) => {
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}
