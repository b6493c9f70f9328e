// Loads the project's own decision modules for the simulator: every src/**/*.ts transpiled (no
// type check: `npm run typecheck` does that) into .sim/src/, so the simulator calls rankSlots,
// waitBudget, slotValues, planPrune, decideReset, chooseCopySource and beyond themselves, never
// copies of them. The previous release's chooser and guard (its whole src/ at commit PREVIOUS,
// read from git) are loaded beside them for comparison.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

export const PREVIOUS = 'd6cfea6d312a60adda995414aea65c0640e94d27';

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
  let previous;
  try {
    // The previous release's src/ whole, read from git, so that its chooser and guard import the
    // modules they were written against (folders have moved since).
    const dir = join(repo, '.sim', 'previous');
    const files = execFileSync('git', ['ls-tree', '-r', '--name-only', PREVIOUS, 'src'], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')
      .filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const dest = join(dir, f.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, transpile(execFileSync('git', ['show', `${PREVIOUS}:${f}`], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] }).toString()));
    }
    // One at a time: jest's ESM linker trips over two concurrent imports of one graph.
    previous = { choose: await import(join(dir, 'src', 'pool', 'choose.js')), guard: await import(join(dir, 'src', 'pool', 'guard.js')) };
  } catch {
    previous = undefined; // no git history (a tarball): the tables go without the previous release
  }
  const m = { previous };
  for (const name of ['choose', 'guard', 'prepare', 'disk', 'key', 'units', 'value', 'settings']) m[name] = await import(at.get(name));
  m.warmCopy = await import(at.get('warm-copy'));
  return m;
}
