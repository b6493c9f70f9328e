import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';

// The README's tables are checked against action.yml, so they never drift apart.
const actionYml = readFileSync('action.yml', 'utf8');
const readme = readFileSync('README.md', 'utf8');

/** Names under a top-level section of action.yml (two-space indented keys). */
function keys(section: 'inputs' | 'outputs'): string[] {
  const body = new RegExp(`^${section}:\\n((?:  .*\\n|\\s*\\n)*)`, 'm').exec(actionYml)?.[1] ?? '';
  return [...body.matchAll(/^  ([a-z][a-z-]*):\s*$/gm)].map((m) => m[1]);
}
/** First-column names of the README table under a heading. */
function documented(heading: string): string[] {
  const body = readme.split(`## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  return [...body.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
}

describe('README and action.yml agree', () => {
  test('action.yml is valid YAML and declares what the text tables are read from', () => {
    // A plain scalar with ': ' in a description is a parse error for the runner too.
    const yml = parse(actionYml, { strict: true, uniqueKeys: true }) as { inputs: object; outputs: object };
    expect(Object.keys(yml.inputs).sort()).toEqual(keys('inputs').sort());
    expect(Object.keys(yml.outputs).sort()).toEqual(keys('outputs').sort());
  });
  test.each(['inputs', 'outputs'] as const)('%s', (section) => {
    const inYml = keys(section);
    expect(inYml.length).toBeGreaterThan(4);
    expect(documented(section === 'inputs' ? 'Inputs' : 'Outputs').sort()).toEqual([...inYml].sort());
  });
  test('every input action.yml declares is read by settings.ts, and no other', () => {
    const src = readFileSync('src/settings.ts', 'utf8');
    const read = [...src.matchAll(/\b(?:oneOf|bool|duration|level|label)\(get, '([a-z-]+)'|get\('([a-z-]+)'\)/g)].map((m) => m[1] ?? m[2]);
    expect([...new Set(read)].sort()).toEqual(keys('inputs').sort());
  });
  test('the README opens with the demo and the test command, and CI runs that test command', () => {
    const first = readme.split('\n').slice(0, 6).join('\n');
    expect(first).toContain('node dist/cli/index.js demo');
    expect(first).toContain('npm ci && npm test');
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^\{ npm ci && npm test; \} 2>&1 \| tee/m);
  });
  test('runs on node24 with a post step that always runs', () => {
    expect(actionYml).toMatch(/using: node24\n  main: dist\/main\/index.js\n  post: dist\/post\/index.js\n  post-if: always\(\)/);
  });
});

describe('troubleshooting quotes what the code says', () => {
  const src = readdirSync('src').filter((f) => f.endsWith('.ts')).map((f) => readFileSync(`src/${f}`, 'utf8')).join('\n');
  const section = readme.split('## Troubleshooting\n')[1]?.split('\n## ')[0] ?? '';
  const entries = section.split('\n### ').slice(1);
  test('there are entries, each quoting at least one message', () => {
    expect(entries.length).toBeGreaterThanOrEqual(6);
    for (const e of entries) expect([e.split('\n')[0], /^> `.+`$/m.test(e)]).toEqual([e.split('\n')[0], true]);
  });
  // '…' stands for what varies; every fixed part of some length must stand in src/ as written.
  const quotes = entries.flatMap((e) => [...e.matchAll(/^> `(.+)`$/gm)].map((m) => m[1]));
  test.each(quotes)('%s', (quote) => {
    const parts = quote.split('…').map((p) => p.replace(/\.$/, '')).filter((p) => p.trim().length >= 12);
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect([part, src.includes(part)]).toEqual([part, true]);
  });
});

describe('entry points for @github/local-action', () => {
  test('main-impl and post-impl export run() and do nothing on import', async () => {
    const before = JSON.stringify(process.env);
    // One after the other: jest's ESM linker trips over two concurrent imports of one graph.
    const main = await import('../src/main-impl.js');
    const post = await import('../src/post-impl.js');
    expect([typeof main.run, typeof post.run]).toEqual(['function', 'function']);
    expect(JSON.stringify(process.env)).toBe(before);
  });
  test('the entry points stay three lines that call run(), and the README gives the exact command', () => {
    for (const f of ['main', 'post']) {
      expect(readFileSync(`src/${f}.ts`, 'utf8')).toBe(`import { run } from './${f}-impl.js';\n\nawait run();\n`);
    }
    expect(readme).toContain('npx --yes @github/local-action@7.0.1 run . src/main-impl.ts .env.example --post src/post-impl.ts');
    expect(readFileSync('.env.example', 'utf8')).toMatch(/^INPUT_ROOT=\/tmp\//m);
  });
});
