import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** Runs the bundled CLI (dist/cli) with the test's node, optionally as another uid. */
export function cli(args: string[], o: { uid?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = resolve('dist', 'cli', 'index.js');
  const cmd = o.uid !== undefined ? ['setpriv', `--reuid=${o.uid}`, `--regid=${o.uid}`, '--clear-groups', process.execPath, script] : [process.execPath, script];
  return new Promise((res) => {
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}
