// Builds the committed bundles. ncc runs once per entry point so that each step loads only its own
// code (and @actions/cache only where it is used); the four builds are independent and run side by
// side. CI type-checks before it bundles, so ncc only transpiles (src/tsconfig.json says why its
// module setting differs).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

/** @param {string} entry */
function build(entry) {
  rmSync(`dist/${entry}`, { recursive: true, force: true });
  const args = ['--no-install', 'ncc', 'build', `src/${entry}.ts`, '-o', `dist/${entry}`, '--target', 'es2023', '--no-source-map-register'];
  const child = spawn('npx', [...args, '--license', 'licenses.txt', '--transpile-only'], { stdio: 'inherit' });
  return new Promise((/** @type {(v?: unknown) => void} */ resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`bundling src/${entry}.ts: ncc ended with ${signal ?? `exit code ${code}`}`)),
    );
  });
}

const failed = (await Promise.allSettled(['main', 'post', 'cli', 'hook', 'fleet-worker'].map(build))).filter((r) => r.status === 'rejected');
for (const f of failed) console.error(f.reason.message);
if (failed.length) process.exitCode = 1;
