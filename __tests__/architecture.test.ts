import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

// src/README.md: folders are layers, and imports flow down only. Entry points are the top.
const LAYERS = ['.', 'job', 'host', 'pool', 'owners', 'store', 'os', 'model'];

const files = readdirSync('src', { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'));
const layerOf = (f: string) => LAYERS.indexOf(dirname(f));
const readme = readFileSync('src/README.md', 'utf8');

/** Relative imports of a source file, as paths under src/ (static and dynamic). */
function importsOf(f: string): string[] {
  const text = readFileSync(join('src', f), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((m) => normalize(join(dirname(f), `${m[1]}.ts`)));
}

/**
 * What each folder may import, read from src/README.md: each folder's paragraph opens with
 * **`folder/`** (**`src/*.ts`** for the entry points) and says "May import `a/`, `b/` and `c/`.",
 * "May import every folder." or "May import no other folder.". Its own folder is always allowed.
 */
function importRules(text: string): Map<string, string[]> {
  const rules = new Map<string, string[]>();
  for (const para of text.split(/\n\s*\n/)) {
    const head = /^\*\*`(src\/\*\.ts|[a-z]+\/)`/.exec(para);
    if (!head) continue;
    const folder = head[1] === 'src/*.ts' ? '.' : head[1].slice(0, -1);
    const sentence = /May import ([^.]*)\./.exec(para.replace(/\s+/g, ' '))?.[1];
    if (sentence === undefined) throw new Error(`src/README.md: the paragraph of ${head[1]} does not say what it may import`);
    const allowed =
      sentence === 'every folder'
        ? LAYERS.filter((l) => l !== folder)
        : sentence === 'no other folder'
          ? []
          : [...sentence.matchAll(/`([a-z]+)\/`/g)].map((m) => m[1]);
    rules.set(folder, [folder, ...allowed]);
  }
  return rules;
}
const RULES = importRules(readme);

describe('src/ layers', () => {
  test('every source file lives in a known folder, and every folder is described in src/README.md', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
    for (const l of LAYERS.slice(1)) expect(readme).toContain(`**\`${l}/\``);
  });
  test('src/README.md says what every folder may import, and only folders below it', () => {
    expect([...RULES.keys()].sort()).toEqual([...LAYERS].sort());
    const up = [...RULES].flatMap(([folder, allowed]) => allowed.filter((to) => LAYERS.indexOf(to) < LAYERS.indexOf(folder)).map((to) => `${folder} -> ${to}`));
    expect(up).toEqual([]);
  });
  test('every import is one src/README.md allows', () => {
    const bad = files.flatMap((f) =>
      importsOf(f)
        .filter((to) => !RULES.get(dirname(f))!.includes(dirname(to)))
        .map((to) => `${f} -> ${to}`),
    );
    expect(bad).toEqual([]);
  });
  test('imports flow down: no module imports from a folder above its own', () => {
    const up = files.flatMap((f) =>
      importsOf(f)
        .filter((to) => layerOf(to) < layerOf(f))
        .map((to) => `${f} -> ${to}`),
    );
    expect(up).toEqual([]);
  });
  test('model/ imports no other folder', () => {
    const out = files
      .filter((f) => dirname(f) === 'model')
      .flatMap((f) =>
        importsOf(f)
          .filter((to) => dirname(to) !== 'model')
          .map((to) => `${f} -> ${to}`),
      );
    expect(out).toEqual([]);
  });
  test('the checks see imports and rules at all (they would pass vacuously otherwise)', () => {
    expect(importsOf('main-impl.ts')).toContain(normalize('job/start.ts'));
    expect(RULES.get('os')).toEqual(['os', 'model']);
    expect(RULES.get('model')).toEqual(['model']);
    const rule = importRules('**`store/`: x. May import `os/` and\n`model/`.\n\n**`os/`: y. May import `model/` only.');
    expect(Object.fromEntries(rule)).toEqual({ store: ['store', 'os', 'model'], os: ['os', 'model'] });
    expect(() => importRules('**`os/`: says nothing.')).toThrow(/os\/ does not say what it may import/);
  });
  test('src/README.md names every test file, and only test files that exist', () => {
    const tests = readdirSync('__tests__').filter((f) => f.endsWith('.test.ts'));
    const named = [...new Set([...readme.matchAll(/`([a-z0-9.-]+\.test\.ts)`/g)].map((m) => m[1]))];
    expect(tests.filter((t) => !named.includes(t))).toEqual([]);
    expect(named.filter((t) => !tests.includes(t))).toEqual([]);
  });
});
