// Loads the project's own decision modules for the simulator: every src/**/*.ts transpiled (no
// type check: `npm run typecheck` does that) into .sim/src/, so the simulator calls rankSlots,
// planPrune, decideReset and beyond themselves, never copies. Today's policy, for comparison,
// is src/choose.ts as it was before issue 14 (commit LEGACY), read from git.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const LEGACY = 'b5a547360d0dc5d0041234135fb9a2c694147a90';

const transpile = (text) => ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;

export async function loadDecisions(repo = resolve('.')) {
  const out = join(repo, '.sim', 'src');
  mkdirSync(out, { recursive: true });
  const at = new Map(); // module name -> its transpiled file: src/ is grouped in folders
  for (const f of readdirSync(join(repo, 'src'), { recursive: true }).filter((n) => n.endsWith('.ts'))) {
    const dest = join(out, f.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, transpile(readFileSync(join(repo, 'src', f), 'utf8')));
    at.set(f.split('/').pop().replace(/\.ts$/, ''), dest);
  }
  let legacy;
  try {
    // Before issue 16 src/ was flat: the old chooser's imports are re-pointed at today's modules.
    const text = execFileSync('git', ['show', `${LEGACY}:src/choose.ts`], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const file = join(out, 'choose-legacy.js');
    const code = transpile(text).replace(/from '\.\/([a-z-]+)\.js'/g, (_, m) => `from './${relative(out, at.get(m))}'`);
    writeFileSync(file, code);
    legacy = await import(file);
  } catch {
    legacy = undefined; // no git history (a tarball): the table goes without today's policy
  }
  const [choose, guard, prepare, disk, key, units] = await Promise.all(['choose', 'guard', 'prepare', 'disk', 'key', 'units'].map((m) => import(at.get(m))));
  return { choose, guard, prepare, disk, key, units, legacy };
}
