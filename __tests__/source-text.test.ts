import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/*
 * src/ as a newcomer reads it: every file opens with what lives in it; no line runs past 160
 * characters but in the catalog of messages the troubleshooting page quotes (model/messages.ts),
 * where a message reads best whole; and that catalog and the page agree both ways.
 */
const CATALOG = 'model/messages.ts';
const files = readdirSync('src', { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const text = (f: string) => readFileSync(join('src', f), 'utf8');

/**
 * Whether a file opens with a sentence of its own: after the shebang and the imports, the first
 * thing is a block comment that is not a declaration's `/** ...` or a line comment. An entry file
 * may put its line above the imports.
 */
function opensWithWhatLivesThere(source: string): boolean {
  const rest = source
    .replace(/^#!.*\n/, '')
    .replace(/^import\b[^;]*;\s*$/gm, '')
    .trimStart();
  return (rest.startsWith('/*') && !rest.startsWith('/**')) || rest.startsWith('//');
}

describe('every file of src/ opens with what lives in it', () => {
  test('the rule sees what it looks for', () => {
    expect(opensWithWhatLivesThere("import { a } from './a.js';\n\n/*\n * What lives here.\n */\nexport const b = 1;\n")).toBe(true);
    expect(opensWithWhatLivesThere("#!/usr/bin/env node\n// The command line.\nimport { a } from './a.js';\n")).toBe(true);
    expect(opensWithWhatLivesThere("import {\n  a,\n  b,\n} from './a.js';\n\n// What lives here.\n")).toBe(true);
    expect(opensWithWhatLivesThere("import { a } from './a.js';\n\n/** A declaration's own comment. */\nexport const b = 1;\n")).toBe(false);
    expect(opensWithWhatLivesThere("import { a } from './a.js';\n\nexport const b = 1; // a trailing comment\n")).toBe(false);
  });
  test.each(files)('%s', (f) => {
    expect(opensWithWhatLivesThere(text(f))).toBe(true);
  });
});

describe('no line of src/ over 160 characters, but in the message catalog', () => {
  const long = (f: string) =>
    text(f)
      .split('\n')
      .flatMap((l, i) => (l.length > 160 ? [`${f}:${i + 1} (${l.length})`] : []));
  test('the catalog has them, so the check has something to tell apart', () => expect(long(CATALOG).length).toBeGreaterThan(0));
  test.each(files.filter((f) => f !== CATALOG))('%s', (f) => expect(long(f)).toEqual([]));
});

describe('docs/troubleshooting.md quotes the catalog, and the catalog holds what it quotes', () => {
  const page = readFileSync('docs/troubleshooting.md', 'utf8');
  const quotes = [...page.matchAll(/^> `(.+)`$/gm)].map((m) => m[1]);
  /** The fixed parts of a quote ('…' stands for what varies), as docs.test.ts reads them. */
  const parts = (quote: string) =>
    quote
      .split('…')
      .map((p) => p.replace(/\.$/, ''))
      .filter((p) => p.trim().length >= 12);
  const says = (source: string, quote: string) => parts(quote).every((p) => source.includes(p));
  /** Each exported message of the catalog, with its source text. */
  const entries = text(CATALOG)
    .split(/^export const /m)
    .slice(1)
    .map((e) => ({ name: /^\w+/.exec(e)![0], source: e }));
  test('there are quotes and messages to compare', () => {
    expect(quotes.length).toBeGreaterThan(10);
    expect(entries.length).toBeGreaterThan(5);
  });
  test.each(entries.map((e) => [e.name, e.source]))('%s is quoted on the page', (_, source) => {
    expect(quotes.filter((q) => says(source, q)).length).toBeGreaterThan(0);
  });
  test.each(quotes)('%s stands in the catalog', (quote) => {
    expect(entries.some((e) => says(e.source, quote))).toBe(true);
  });
});
