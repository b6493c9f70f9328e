import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

// src/README.md: folders are layers, and imports flow down only. Entry points are the top.
const LAYERS = ['.', 'job', 'pool', 'owners', 'store', 'os', 'model'];

const files = readdirSync('src', { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'));
const layerOf = (f: string) => LAYERS.indexOf(dirname(f));

/** Relative imports of a source file, as paths under src/ (static and dynamic). */
function importsOf(f: string): string[] {
  const text = readFileSync(join('src', f), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((m) => normalize(join(dirname(f), `${m[1]}.ts`)));
}

describe('src/ layers', () => {
  test('every source file lives in a known folder, and every folder is described in src/README.md', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
    const readme = readFileSync('src/README.md', 'utf8');
    for (const l of LAYERS.slice(1)) expect(readme).toContain(`**\`${l}/\``);
  });
  test('imports flow down: no module imports from a folder above its own', () => {
    const up = files.flatMap((f) => importsOf(f).filter((to) => layerOf(to) < layerOf(f)).map((to) => `${f} -> ${to}`));
    expect(up).toEqual([]);
  });
  test('model/ imports no other folder', () => {
    const out = files.filter((f) => dirname(f) === 'model').flatMap((f) => importsOf(f).filter((to) => dirname(to) !== 'model').map((to) => `${f} -> ${to}`));
    expect(out).toEqual([]);
  });
  test('the check sees imports at all (it would pass vacuously otherwise)', () => {
    expect(importsOf('main-impl.ts')).toContain(normalize('job/job.ts'));
  });
});
