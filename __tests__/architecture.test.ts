import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/*
 * src/README.md: folders are layers, and imports flow down only. The scripts (the simulator, the
 * bench, the test helpers) sit above src/, whose entry points are the top of the product. Every
 * file is named by its path from the repository's root; a folder of src/ by its path under src/
 * ('.' for the entry points), as src/README.md names them; a folder of scripts/ by its path
 * ('scripts' for its entry points).
 */
const SRC_LAYERS = ['.', 'job', 'host', 'pool', 'owners', 'store', 'os', 'model'];
const SCRIPT_LAYERS = ['scripts', 'scripts/bench', 'scripts/sim', 'scripts/lib'];
const LAYERS = [...SCRIPT_LAYERS, ...SRC_LAYERS];

const code = (dir: string, ext: RegExp) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => ext.test(f))
    .map((f) => join(dir, f));
const files = [...code('src', /\.ts$/), ...code('scripts', /\.(ts|mjs|js)$/)];
/** The layer a file belongs to: `job` for src/job/x.ts, `scripts/sim` for scripts/sim/x.ts. */
const folderOf = (f: string) => (f.startsWith('src/') ? dirname(f.slice(4)) : dirname(f));
const layerOf = (f: string) => LAYERS.indexOf(folderOf(f));
const readme = readFileSync('src/README.md', 'utf8');

/** The file a relative specifier names: TypeScript imports `.ts` files by their `.js` names. */
function resolveImport(from: string, spec: string): string {
  const p = normalize(join(dirname(from), spec));
  return !existsSync(p) && p.endsWith('.js') && existsSync(p.replace(/\.js$/, '.ts')) ? p.replace(/\.js$/, '.ts') : p;
}

/** Relative imports of a source file, as paths from the root (static, dynamic and for side effects). */
function importsOf(f: string): string[] {
  const text = readFileSync(f, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+\.(?:js|ts|mjs))'/g)].map((m) => resolveImport(f, m[1]));
}
const GRAPH = new Map(files.map((f) => [f, importsOf(f)]));

/**
 * What each folder may import, read from src/README.md: each folder's paragraph opens with
 * **`folder/`** (**`src/*.ts`** for the entry points, **`scripts/*`** for the scripts' own) and
 * says "May import `a/`, `b/` and `c/`.", "May import every folder." or "May import no other
 * folder."; `src/` stands for every folder of src/. Its own folder is always allowed.
 */
function importRules(text: string): Map<string, string[]> {
  const rules = new Map<string, string[]>();
  for (const para of text.split(/\n\s*\n/)) {
    const head = /^\*\*`(src\/\*\.ts|scripts\/\*|scripts\/[a-z]+\/|[a-z]+\/)`/.exec(para);
    if (!head) continue;
    const folder = head[1] === 'src/*.ts' ? '.' : head[1] === 'scripts/*' ? 'scripts' : head[1].slice(0, -1);
    const sentence = /May import ([^.]*)\./.exec(para.replace(/\s+/g, ' '))?.[1];
    if (sentence === undefined) throw new Error(`src/README.md: the paragraph of ${head[1]} does not say what it may import`);
    const allowed =
      sentence === 'every folder'
        ? SRC_LAYERS.filter((l) => l !== folder)
        : sentence === 'no other folder'
          ? []
          : [...sentence.matchAll(/`([a-z/]+)\/`/g)].flatMap((m) => (m[1] === 'src' ? SRC_LAYERS : [m[1]]));
    rules.set(folder, [folder, ...allowed]);
  }
  return rules;
}
const RULES = importRules(readme);

/** Every cycle of the import graph, each once, as the files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const out: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const to of graph.get(f) ?? []) {
      if (!graph.has(to)) continue;
      if (state.get(to) === 'open') out.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return out;
}

describe('src/ and scripts/ layers', () => {
  test('every source file lives in a known folder, and every folder is described in src/README.md', () => {
    expect(files.filter((f) => f.startsWith('src/')).length).toBeGreaterThan(30);
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
    for (const l of SRC_LAYERS.slice(1)) expect(readme).toContain(`**\`${l}/\``);
    for (const l of SCRIPT_LAYERS.slice(1)) expect(readme).toContain(`**\`${l}/\``);
  });
  test('src/README.md says what every folder may import, and only folders below it', () => {
    expect([...RULES.keys()].sort()).toEqual([...LAYERS].sort());
    const up = [...RULES].flatMap(([folder, allowed]) => allowed.filter((to) => LAYERS.indexOf(to) < LAYERS.indexOf(folder)).map((to) => `${folder} -> ${to}`));
    expect(up).toEqual([]);
  });
  test('every import is one src/README.md allows', () => {
    const bad = files.flatMap((f) =>
      GRAPH.get(f)!
        .filter((to) => !RULES.get(folderOf(f))!.includes(folderOf(to)))
        .map((to) => `${f} -> ${to}`),
    );
    expect(bad).toEqual([]);
  });
  test('imports flow down: no module imports from a folder above its own', () => {
    const up = files.flatMap((f) =>
      GRAPH.get(f)!
        .filter((to) => layerOf(to) < layerOf(f))
        .map((to) => `${f} -> ${to}`),
    );
    expect(up).toEqual([]);
  });
  test('no cycles: no module imports, through others, a module that imports it', () => {
    expect(cycles(GRAPH).map((c) => c.join(' -> '))).toEqual([]);
  });
  test('model/ imports no other folder', () => {
    const out = files
      .filter((f) => folderOf(f) === 'model')
      .flatMap((f) =>
        GRAPH.get(f)!
          .filter((to) => folderOf(to) !== 'model')
          .map((to) => `${f} -> ${to}`),
      );
    expect(out).toEqual([]);
  });
  test('the simulator calls the pool through its policy module, and builds no plan of its own', () => {
    expect(GRAPH.get('scripts/sim/pool.ts')).toContain('src/pool/policy.ts');
    // The rules themselves are the policy's: the simulator does not rank, value or prune itself.
    const direct = [...GRAPH]
      .filter(([f]) => f.startsWith('scripts/sim/'))
      .flatMap(([f, to]) => to.filter((t) => /src\/pool\/(choose|value|reset)\.ts$/.test(t)).map((t) => `${f} -> ${t}`));
    expect(direct).toEqual([]);
  });
  test('the checks see imports, rules and cycles at all (they would pass vacuously otherwise)', () => {
    expect(GRAPH.get('src/main-impl.ts')).toContain(normalize('src/job/start.ts'));
    expect(GRAPH.get('scripts/simulate.ts')).toContain('scripts/sim/run.ts');
    expect(RULES.get('os')).toEqual(['os', 'model']);
    expect(RULES.get('model')).toEqual(['model']);
    expect(RULES.get('scripts/lib')).toEqual(['scripts/lib']);
    const rule = importRules('**`store/`: x. May import `os/` and\n`model/`.\n\n**`scripts/sim/`: y. May import `scripts/lib/` and `src/`.');
    expect(Object.fromEntries(rule)).toEqual({ store: ['store', 'os', 'model'], 'scripts/sim': ['scripts/sim', 'scripts/lib', ...SRC_LAYERS] });
    expect(() => importRules('**`os/`: says nothing.')).toThrow(/os\/ does not say what it may import/);
    const loop = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(cycles(loop)).toEqual([['a', 'b', 'c', 'a']]);
  });
  test('src/README.md names every test file, and only test files that exist', () => {
    const tests = readdirSync('__tests__').filter((f) => f.endsWith('.test.ts'));
    const named = [...new Set([...readme.matchAll(/`([a-z0-9.-]+\.test\.ts)`/g)].map((m) => m[1]))];
    expect(tests.filter((t) => !named.includes(t))).toEqual([]);
    expect(named.filter((t) => !tests.includes(t))).toEqual([]);
  });
});

describe('scripts/ as the code of src/', () => {
  test('no line of scripts/ code over 160 characters (shell scripts too; ESLint checks the rest as well)', () => {
    const long = [...files.filter((f) => f.startsWith('scripts/')), ...code('scripts', /\.sh$/)].flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((l, i) => (l.length > 160 ? [`${f}:${i + 1} (${l.length})`] : [])),
    );
    expect(long).toEqual([]);
  });
});
