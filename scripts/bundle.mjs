// Builds the three committed bundles. ncc runs once per entry point so that main and post
// each load only their own code (and @actions/cache only where it is used).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

for (const entry of ['main', 'post', 'cli', 'hook']) {
  rmSync(`dist/${entry}`, { recursive: true, force: true });
  execFileSync('npx', ['--no-install', 'ncc', 'build', `src/${entry}.ts`, '-o', `dist/${entry}`, '--target', 'es2023', '--no-source-map-register', '--license', 'licenses.txt'], { stdio: 'inherit' });
}
