import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { parse } from 'yaml';
import { FLAGS, parseCommandLine } from '../src/model/options.js';
import { KNOWN_VARIABLES } from '../src/model/variables.js';
import { slotDirs } from '../src/model/layout.js';
import { TIER_TEXT } from '../src/pool/choose.js';
import { type Candidate, planPrune } from '../src/pool/guard.js';
import { RUNNER_INPUTS, variableOf } from '../src/model/settings.js';
import { VERSION, describeVersion, isRelease } from '../src/model/version.js';
import { execFileSync } from 'node:child_process';
import { emptyCounters, renderMetrics } from '../src/job/metrics.js';

// The README's tables are checked against action.yml, so they never drift apart.
const actionYml = readFileSync('action.yml', 'utf8');
const readme = readFileSync('README.md', 'utf8');
/** Every file under a directory, at any depth (src/ is to be split into folders). */
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
const docs = walk('docs').filter((f) => f.endsWith('.md'));

/** Names under a top-level section of action.yml (two-space indented keys). */
function keys(section: 'inputs' | 'outputs'): string[] {
  const body = new RegExp(`^${section}:\\n((?:  .*\\n|\\s*\\n)*)`, 'm').exec(actionYml)?.[1] ?? '';
  return [...body.matchAll(/^ {2}([a-z][a-z-]*):\s*$/gm)].map((m) => m[1]);
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
    const src = readFileSync('src/model/settings.ts', 'utf8');
    const read = [...src.matchAll(/\b(?:oneOf|bool|duration|level|label|read)\('([a-z-]+)'/g)].map((m) => m[1]);
    expect([...new Set(read)].sort()).toEqual(keys('inputs').sort());
  });
  test('the README opens with the demo and the test command, says what the suite needs, and CI runs that test command', () => {
    const first = readme.split('\n').slice(0, 6).join('\n');
    expect(first).toContain('bin/cargo-isolate demo');
    expect(first).toContain('npm ci && npm test');
    const intro = readme.split('\n## ')[0].replace(/\s+/g, ' ');
    for (const what of ['as root', 'nightly', '`docker.io`', '`debootstrap`', 'Docker daemon', 'Node 24', 'npm test -- __tests__/'])
      expect([what, intro.includes(what)]).toEqual([what, true]);
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^\{ npm ci && npm test; \} 2>&1 \| tee/m);
  });
  test('runs on node24 with a post step that always runs', () => {
    expect(actionYml).toMatch(/using: node24\n {2}main: dist\/main\/index.js\n {2}post: dist\/post\/index.js\n {2}post-if: always\(\)/);
  });
});

describe('troubleshooting quotes what the code says', () => {
  const src = walk('src')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  // Entries live in docs/troubleshooting.md (one `## ` heading each); a branch may still add
  // some under a `## Troubleshooting` section of the README (one `### ` heading each).
  const page = readFileSync('docs/troubleshooting.md', 'utf8');
  const inReadme = readme.split('## Troubleshooting\n')[1]?.split('\n## ')[0] ?? '';
  const entries = [...page.split('\n## ').slice(1), ...inReadme.split('\n### ').slice(1)];
  test('there are entries, each quoting at least one message', () => {
    expect(entries.length).toBeGreaterThanOrEqual(7);
    for (const e of entries) expect([e.split('\n')[0], /^> `.+`$/m.test(e)]).toEqual([e.split('\n')[0], true]);
  });
  // '…' stands for what varies; every fixed part of some length must stand in src/ as written.
  const quotes = entries.flatMap((e) => [...e.matchAll(/^> `(.+)`$/gm)].map((m) => m[1]));
  test.each(quotes)('%s', (quote) => {
    const parts = quote
      .split('…')
      .map((p) => p.replace(/\.$/, ''))
      .filter((p) => p.trim().length >= 12);
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect([part, src.includes(part)]).toEqual([part, true]);
  });
});

/*
 * Guides other branches are writing (issues 14, 15, 17-20). Linked from the indexes already;
 * each link is checked like any other as soon as its file exists.
 */
const PENDING_GUIDES = [
  'docs/sccache.md',
  'docs/git-dependencies.md',
  'docs/docker-run.md',
  'docs/runner-hooks.md',
  'docs/simulation.md',
  'docs/warmth.md',
  'docs/first-runs.md',
];
/** Pages another session is rewriting now (the shared home, the simulator): the wording checks below skip them. */
const OTHERS_PAGES = ['docs/security.md', 'docs/warm-starts.md', 'docs/simulation.md'];
/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

describe('the README is a landing page; depth is in docs/', () => {
  const pages = ['README.md', 'examples/README.md', ...docs];
  test('the README stays short enough to read in five minutes', () => {
    expect(readme.length).toBeLessThan(12_000);
  });
  const links = pages.flatMap((page) =>
    [...readFileSync(page, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1])
      .filter((l) => !/^[a-z]+:/.test(l))
      .map((l) => [page, l] as const),
  );
  test('there are links to check', () => expect(links.length).toBeGreaterThan(30));
  test.each(links)('%s links to %s', (page, link) => {
    const [file, anchor] = link.split('#');
    const target = file ? normalize(join(dirname(page), file)) : page;
    if (PENDING_GUIDES.includes(target) && !existsSync(target)) return;
    expect([target, existsSync(target)]).toEqual([target, true]);
    if (anchor) {
      const headings = [...readFileSync(target, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]));
      expect([link, headings.includes(anchor)]).toEqual([link, true]);
    }
  });
  test('the index links every page of docs/, and both indexes list the guides', () => {
    const index = readFileSync('docs/README.md', 'utf8');
    for (const f of docs.filter((d) => d !== 'docs/README.md')) expect([f, index.includes(`](${f.slice('docs/'.length)})`)]).toEqual([f, true]);
    for (const g of PENDING_GUIDES) {
      expect([g, index.includes(`](${g.slice('docs/'.length)})`)]).toEqual([g, true]);
      expect([g, readme.includes(`](${g})`)]).toEqual([g, true]);
    }
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
  test('the entry points stay three lines that call run() (under the line that says what they are), and the operations page gives the exact command', () => {
    for (const f of ['main', 'post']) {
      expect(readFileSync(`src/${f}.ts`, 'utf8').replace(/^\/\/ .*\n/, '')).toBe(`import { run } from './${f}-impl.js';\n\nawait run();\n`);
    }
    expect(readFileSync('docs/operations.md', 'utf8')).toContain(
      'npx --yes @github/local-action@7.0.1 run . src/main-impl.ts .env.example --post src/post-impl.ts',
    );
    expect(readFileSync('.env.example', 'utf8')).toMatch(/^INPUT_ROOT=\/tmp\//m);
  });
});

/*
 * What an operator reads speaks the operator's words: no issue numbers, no "seeds" for the
 * incident reports, no "before issue N". The verb stays ("main seeds the new CARGO_HOME").
 */
describe('user-facing text has no internal shorthand', () => {
  const textFiles = (dir: string) => walk(dir).filter((f) => /\.(md|ya?ml|json|sh|svg)$/.test(f));
  const files = ['README.md', 'CHANGELOG.md', 'action.yml', ...textFiles('docs'), ...textFiles('examples'), ...textFiles('hooks'), 'bin/cargo-isolate'];
  const SHORTHAND: [RegExp, string][] = [
    [/\bseeds?\s+0\d\d\b/i, 'an incident report by number ("seed 002")'],
    [/\bseeds['’]/i, '"the seeds\'" for the incident reports'],
    [/\bthe seeds\b/i, '"the seeds" for the incident reports'],
    [/\bseeds:/i, 'a "seeds:" label'],
    [/`seeds`|--trace seeds\b|\| seeds \|/, 'the simulation trace named after the incident reports'],
    [/\bissues?\s+#?\d+/i, 'an issue number'],
    [/\b(before|since|after|until) issue\b/i, 'a time named by an issue'],
    [/today's policy/i, '"today\'s policy" (the previous one, by now)'],
  ];
  test('the files are there to read', () => expect(files.length).toBeGreaterThan(25));
  test.each(files)('%s', (f) => {
    const lines = readFileSync(f, 'utf8').split('\n');
    const found = lines.flatMap((line, i) =>
      SHORTHAND.filter(([re]) => re.test(line)).map(([, what]) => `${f}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`),
    );
    expect(found).toEqual([]);
  });
  test('the check finds what it looks for', () => {
    for (const bad of ["Seed 002's fleet", "the seeds' fleet", 'before issue 14', '(issue 19)', 'seeds: per-run dirs', 'npm run simulate -- --trace seeds']) {
      expect([bad, SHORTHAND.some(([re]) => re.test(bad))]).toEqual([bad, true]);
    }
    for (const ok of ['main seeds the new CARGO_HOME', 'seeded by the base branch', 'a fork PR seeds by copy', 'over 5 seeds, 1019 to 1023']) {
      expect([ok, SHORTHAND.some(([re]) => re.test(ok))]).toEqual([ok, false]);
    }
  });
});

/*
 * Node reads `--env-file FILE` as its own option wherever it stands, even after the script (Node 20
 * and 24 alike: `node dist/cli/index.js status --env-file x` ends in `node: x: not found`, exit 9).
 * So the CLI is taught as `cargo-isolate` (the installed symlink), `bin/cargo-isolate` in a checkout,
 * or `node -- dist/cli/index.js`, whose `--` ends Node's own options.
 */
describe('the CLI is taught in a form Node cannot swallow', () => {
  const walkText = (dir: string) => walk(dir).filter((f) => /\.(md|ya?ml|sh)$/.test(f));
  const files = [
    'README.md',
    ...walkText('docs'),
    ...walkText('examples'),
    ...walkText('.github'),
    ...walkText('.ci'),
    ...walkText('scripts'),
    'bin/cargo-isolate',
  ];
  const SWALLOWED = /\bnode\s+(?!--\s)(?:[^\s]*|"[^"]*")dist\/cli\/index\.js["']?\s+(?![#|&;)]|$)/;
  test.each(files)('%s', (f) => {
    const bad = readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, i) => (SWALLOWED.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : []));
    expect(bad).toEqual([]);
  });
  test('the check finds what it looks for', () => {
    for (const bad of ['node dist/cli/index.js status --env-file x', 'node "$repo/dist/cli/index.js" --version', '  - run: node dist/cli/index.js demo'])
      expect([bad, SWALLOWED.test(bad)]).toEqual([bad, true]);
    for (const ok of [
      'node -- dist/cli/index.js status --env-file x',
      'bin/cargo-isolate demo',
      'dist/cli/index.js',
      'exec "$node" -- "$here/../dist/cli/index.js" "$@"',
    ])
      expect([ok, SWALLOWED.test(ok)]).toEqual([ok, false]);
  });
});

describe('the operator pages say what the code does', () => {
  test("the version is package.json's; the changelog says whether it is released; --version says which build", () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(VERSION).toBe(JSON.parse(readFileSync('package-lock.json', 'utf8')).version);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+(-dev)?$/);
    const changelog = readFileSync('CHANGELOG.md', 'utf8');
    const headings = [...changelog.matchAll(/^## \[([^\]]+)\](.*)$/gm)].map((m) => [m[1], m[2]]);
    const released = headings.filter(([v]) => v !== 'Unreleased');
    for (const [v, rest] of released) expect([v, rest]).toEqual([v, expect.stringMatching(/^ - \d{4}-\d\d-\d\d$/)]);
    if (isRelease(VERSION)) {
      // A release: its own heading first; nothing left under Unreleased.
      expect(released[0][0]).toBe(VERSION);
      const unreleased = /^## \[Unreleased\]\n([\s\S]*?)^## \[/m.exec(changelog)?.[1] ?? '';
      expect(unreleased.trim()).toBe('');
    } else {
      // Between releases: the entries wait under Unreleased, and no heading claims the coming number yet.
      expect(headings[0][0]).toBe('Unreleased');
      expect(released.map(([v]) => v)).not.toContain(VERSION.replace(/-dev$/, ''));
      expect(changelog).toMatch(new RegExp(`^\\[Unreleased\\]: \\S+/compare/v${released[0][0].replace(/\./g, '\\.')}\\.\\.\\.HEAD$`, 'm'));
    }
    for (const [v] of released) expect([v, changelog.includes(`\n[${v}]: `)]).toEqual([v, true]);
    // What the bundled CLI says: the version, and for a build between releases the commit (the checkout's HEAD).
    const said = execFileSync(process.execPath, ['--', 'dist/cli/index.js', '--version'], { encoding: 'utf8' });
    const head = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(said).toBe(`cargo-isolate ${describeVersion(VERSION, head)}\n`);
  });

  test('README, the docs and the examples use the action by a ref that exists: the newest release major tag, main before the first', () => {
    const changelog = readFileSync('CHANGELOG.md', 'utf8');
    const newest = /^## \[(\d+)\.\d+\.\d+\] - /m.exec(changelog)?.[1];
    // The release workflow makes v<major> at a major's first release; before 1.0.0 no major tag exists.
    const ref = newest !== undefined && Number(newest) >= 1 ? `v${newest}` : 'main';
    const texts = ['README.md', ...docs, ...walk('examples').filter((f) => /\.(md|ya?ml)$/.test(f))];
    const refs = texts.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/cargo-isolate@([^\s`)'"]+)/g)].map((m) => `${f}: @${m[1]}`));
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((r) => !r.endsWith(`: @${ref}`))).toEqual([]);
  });
  test('one Node version everywhere: 24 for the action, the CLI and the hooks, and the timer example', () => {
    expect(JSON.parse(readFileSync('package.json', 'utf8')).engines).toEqual({ node: '>=24' });
    expect(actionYml).toMatch(/^ {2}using: node24$/m);
    expect(readFileSync('docs/install.md', 'utf8')).toMatch(/^- \*\*Node 24\*\* for the CLI and the hooks, as for the action/m);
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^NODE24_VERSION=24\.\d+\.\d+$/m);
    const bin = readFileSync('bin/cargo-isolate', 'utf8');
    expect(bin).toContain('Node 24');
    const texts = ['README.md', ...docs, ...walk('examples'), 'bin/cargo-isolate', ...walk('hooks')];
    const stale = texts.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/externals\/node20|Node 20 or later|Node >= 20|node20\/bin|node:2[02]-/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(stale).toEqual([]);
  });

  test('`key` means one thing, the input: the PR or branch a slot belongs to is its trust domain, in the pages and the CLI', () => {
    // Prose only: code spans and blocks (identifiers such as `reuse: same-key`) are the code's words.
    const prose = (text: string) => text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    const SAME_WORD_OTHER_THING = /\b(?:same|its|their|another|new|previous|whose|each|this|that|a|the|one|own) keys?\b(?!\s+(?:input|wrapper))|\bkeys are\b/i;
    const pages = ['README.md', ...docs.filter((d) => !OTHERS_PAGES.includes(d)), ...walk('examples')];
    const found = pages.flatMap((f) =>
      prose(readFileSync(f, 'utf8'))
        .split('\n')
        .flatMap((line, i) => (SAME_WORD_OTHER_THING.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
    for (const bad of ['last used by the same key (pr-1)', 'Keys are trust domains', 'until its key is expected back'])
      expect([bad, SAME_WORD_OTHER_THING.test(bad)]).toEqual([bad, true]);
    expect(SAME_WORD_OTHER_THING.test('the same workflow, job and key')).toBe(false);
    // status: the trust domain under its own column; the key input with the job it tells apart.
    const header = readFileSync('src/job/status.ts', 'utf8').match(/const header = \[([^\]]*)\]/)?.[1];
    expect(header).toContain("'trust domain'");
    expect(header).toContain("'run, job (key)'");
    expect(header).not.toMatch(/'key'/);
  });

  test('the hooks page lists every runner variable, and the operations page every CLI flag', () => {
    const hooks = readFileSync('docs/runner-hooks.md', 'utf8');
    for (const input of RUNNER_INPUTS) expect([input, hooks.includes(`| \`${variableOf(input)}\` | \`${input}\``)]).toEqual([input, true]);
    const ops = readFileSync('docs/operations.md', 'utf8');
    for (const f of FLAGS) expect([f.name, ops.includes(`--${f.name}`)]).toEqual([f.name, true]);
  });
  test('the hooks page keeps untrusted pull requests off hooked runners, and the fleet pages exist', () => {
    const hooks = readFileSync('docs/runner-hooks.md', 'utf8');
    expect(hooks).toMatch(/^## Untrusted pull requests\n[\s\S]*\*\*Keep untrusted pull requests off hooked runners\*\*[\s\S]*\(security\.md\)/m);
    expect(hooks).toMatch(/^## Try the hooks by hand$/m);
    const layout = readFileSync('docs/fleet-layout.md', 'utf8');
    for (const h of ['One root per host', 'One root per runner', 'Several roots on one disk', "Container jobs: the root under the runner's tool cache"])
      expect(layout).toMatch(new RegExp(`^## ${h}`, 'm'));
    expect(readFileSync('docs/operations.md', 'utf8')).not.toMatch(/npx cargo-isolate|--branch v1\b/);
  });
  test('the metrics page lists every metric the CLI writes, and no other', () => {
    const text = renderMetrics(
      {
        root: '/r',
        written: { at: 0, by: 'cli' },
        status: {
          version: VERSION,
          root: '/r',
          disk: { totalBytes: 1, usedBytes: 0, freeBytes: 1, usedPercent: 0, inodes: 1, inodesFree: 1, inodePercent: 0 },
          slots: [],
          jobDirs: 0,
          trashEntries: 0,
          bytes: { crates: 0, git: 0, trash: 0, target: 0, cargoHome: 0 },
          warmth: [],
          archives: { count: 0, bytes: 0, capBytes: 0, cap: 'off', events: {} },
        },
      },
      emptyCounters(),
    );
    const written = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]).sort();
    const page = readFileSync('docs/metrics.md', 'utf8');
    const documented = [...page.matchAll(/^\| `(cargo_isolate_[a-z_]+)`/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(written);
  });
});

/*
 * The rules the operator pages state and the code decides: each page checked against the code,
 * so a change to either without the other fails here.
 */
describe('the pages state the rules the code decides', () => {
  const glossary = readFileSync('docs/glossary.md', 'utf8');
  const glossaryHeadings = [...glossary.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  const flat = (text: string) => text.replace(/\s+/g, ' ');

  test('the glossary has every term the pages use, the README links it, and every slot rule the log prints is in it', () => {
    for (const term of [
      'The incident reports',
      'Base',
      'Cold start, warm start',
      'Dependency archive, host tier',
      'First run',
      'Floor',
      'Guard',
      'Hand back',
      'Idle, live',
      'Keeper',
      'Key',
      'Knee',
      'Lease',
      'Prune scope',
      'Reference',
      'Root',
      'Slot',
      'Trust domain',
      'View',
      'Warm copy',
      'Worth',
    ])
      expect([term, glossaryHeadings.includes(term)]).toEqual([term, true]);
    const rules = glossaryHeadings.find((h) => h.startsWith('Slot rules: '))!;
    expect(rules.replace('Slot rules: ', '').split(', ').sort()).toEqual(Object.keys(TIER_TEXT).sort());
    for (const tier of Object.keys(TIER_TEXT)) expect([tier, glossary.includes(`- **${tier}**: `)]).toEqual([tier, true]);
    expect(readme).toContain('](docs/glossary.md)');
  });

  test('"the incident reports" is defined once, in the glossary, and linked wherever a page first uses it', () => {
    const uses = /incident (?:reports|fleet)/i;
    const pages = ['README.md', ...docs.filter((d) => d !== 'docs/glossary.md' && !OTHERS_PAGES.includes(d))];
    const unlinked = pages.flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      const first = text.search(uses);
      if (first < 0) return [];
      const link = text.indexOf('glossary.md#the-incident-reports)');
      return link >= 0 && link - first < 200 ? [] : [f];
    });
    expect(unlinked).toEqual([]);
    expect(glossary).toMatch(/^## The incident reports\n\n[\s\S]*No such file or directory \(os error 2\)[\s\S]*Permission denied \(os error 13\)/m);
  });

  test("a slot's layout: the directories the pages list are the ones the code makes", () => {
    const d = slotDirs('/r', 's000');
    const shared = [d.target, d.install, d.tmp].map((p) => `\`${p.slice('/r/slots/s000/'.length)}/\``);
    expect(d.record).toBe('/r/slots/s000/slot.json');
    expect(d.cargoHome).toBe('/r/slots/s000/cargo-home');
    // Each sentence that says what a slot holds names exactly these, and the private home only as a fork PR's.
    const sentences = ['README.md', 'docs/how-it-works.md', 'docs/glossary.md'].flatMap((f) =>
      flat(readFileSync(f, 'utf8'))
        .split(/(?<=\.) /)
        .filter((s) => /`<root>\/slots\/sNNN\/`[^.]* hold/.test(s))
        .map((s) => [f, s] as const),
    );
    expect(sentences.length).toBeGreaterThanOrEqual(3);
    for (const [f, s] of sentences) {
      const named = [...s.matchAll(/`([a-z-]+\/)`/g)].map((m) => `\`${m[1]}\``);
      expect([f, named.filter((n) => n !== '`cargo-home/`').sort()]).toEqual([f, [...shared].sort()]);
      if (named.includes('`cargo-home/`')) expect([f, /fork PR's[^;.]*`cargo-home\/`/.test(s)]).toEqual([f, true]);
    }
    // No page puts a cargo-home/ in a slot for every job any more.
    const stale = [...docs.filter((x) => !OTHERS_PAGES.includes(x)), 'README.md'].filter((f) =>
      /slots\/sNNN\/` holding[^.]*`cargo-home\/`, `tmp\/`/.test(flat(readFileSync(f, 'utf8'))),
    );
    expect(stale).toEqual([]);
  });

  test('the removal order how-it-works states is the order the guard plans, in runner and in host scope', () => {
    const text = flat(readFileSync('docs/how-it-works.md', 'utf8'));
    const stated =
      /removes idle data in this order until under `disk-target`, re-measuring after each removal: (.*?)\. The build the job is about to take/.exec(text)?.[1];
    expect(stated).toBeDefined();
    const KINDS: [RegExp, string][] = [
      [/^trash$/, 'trash'],
      [/^idle job directories$/, 'job-dir'],
      [/^idle slots' `target\/`/, 'target'],
      [/^idle slots' `registry\/src`/, 'registry-src'],
      [/^crate-store files/, 'crate'],
      [/^git-store entries/, 'git'],
    ];
    const order = stated!.split('; ').map((part) => KINDS.find(([re]) => re.test(part))?.[1] ?? `unknown: ${part}`);
    // One candidate of each kind, and three idle builds: a spent merge-queue entry worth a lot,
    // a cheap build of another runner and an equally cheap one of this runner.
    const t = 1_000_000;
    const c = (kind: string, extra: object = {}) => ({ kind, path: `/r/${kind}`, bytes: 1, lastUsedMs: t, live: false, owner: 'other', ...extra }) as Candidate;
    const cands = [
      c('git'),
      c('crate'),
      c('registry-src', { slot: 's009' }),
      c('target', { path: '/r/slots/s001/target', slot: 's001', value: 1, owner: 'other', lastUsedMs: t - 10 }),
      c('target', { path: '/r/slots/s002/target', slot: 's002', value: 1, owner: 'me' }),
      c('target', { path: '/r/slots/s003/target', slot: 's003', value: 100, key: 'ref-gh-readonly-queue-main+abc' }),
      c('job-dir'),
      c('trash'),
    ];
    const runner = planPrune(cands, 'runner', 'me').ordered;
    const kinds = [...new Set(runner.map((x) => x.kind))];
    expect(kinds).toEqual(order);
    // "spent merge-queue entries first, then the build worth least first"; this runner's first among equals.
    expect(stated).toMatch(/`target\/`, spent merge-queue entries first, then the build worth least first/);
    expect(runner.filter((x) => x.kind === 'target').map((x) => x.slot)).toEqual(['s003', 's002', 's001']);
    expect(text).toContain("In `prune-scope: runner` (default) this runner's idle data goes first among data of equal worth");
    // Host scope: the same, whoever used it (the older of the two equal builds first).
    expect(
      planPrune(cands, 'host', 'me')
        .ordered.filter((x) => x.kind === 'target')
        .map((x) => x.slot),
    ).toEqual(['s003', 's001', 's002']);
    expect(text).toContain('`host` ignores the runner');
  });

  test('every CLI command line the pages show is one the CLI accepts', () => {
    // Command lines in code blocks (prose names a flag without its value); `slot|job` is a choice.
    const blocks = (f: string) => [...readFileSync(f, 'utf8').matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]);
    const lines = ['README.md', ...docs, ...walk('examples')].flatMap((f) =>
      (f.endsWith('.md') ? blocks(f) : [readFileSync(f, 'utf8')])
        .join('\n')
        .split('\n')
        .flatMap((line) => {
          const m = /(?:^|[\s=`(-])(?:\/usr\/local\/bin\/|bin\/)?cargo-isolate ((?:status|gc|run|forget|metrics|demo|help|--)[^`#;)&]*)/.exec(
            line.replace(/\b([\w-]+)(?:\|[\w-]+)+/g, '$1'),
          );
          return m ? [[f, m[1].trim().replace(/\s+\\$/, '')] as const] : [];
        }),
    );
    expect(lines.length).toBeGreaterThanOrEqual(10);
    const refused = lines.flatMap(([f, args]) => {
      // Placeholders as the pages write them: [--x ...] options, ADAPT values, FILE and NAME.
      const argv = args
        .replace(/\[([^\]]*)\]/g, '$1')
        .split(/\s+/)
        .filter(Boolean);
      try {
        parseCommandLine(argv);
        return [];
      } catch (e) {
        return [`${f}: cargo-isolate ${args}: ${(e as Error).message}`];
      }
    });
    expect(refused).toEqual([]);
  });

  test("every input a page's workflow gives this action is one action.yml declares, and every CARGO_ISOLATE_* name a page names is read", () => {
    const inputs = keys('inputs');
    const pages = ['README.md', ...docs];
    const unknownInputs = pages.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)].flatMap((b) => {
        const steps = b[1].split(/\n\s*- (?=uses:|name:|run:|id:)/);
        return steps
          .filter((s) => /uses: \S*cargo-isolate@/.test(s))
          .flatMap((s) => [...(/\n\s+with:\n((?:\s{8,}.*\n?)*)/.exec(s)?.[1] ?? '').matchAll(/^\s+([a-z-]+):/gm)].map((m) => m[1]))
          .filter((k) => !inputs.includes(k))
          .map((k) => `${f}: ${k}`);
      }),
    );
    expect(unknownInputs).toEqual([]);
    const unknownNames = pages.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/\bCARGO_ISOLATE_[A-Z0-9_]*[A-Z0-9]\b/g)]
        .map((m) => m[0])
        .filter((n) => KNOWN_VARIABLES[n] === undefined && !/DISK_THRESOLD|LAYOT|_KEY$|_CACHE$/.test(n))
        .map((n) => `${f}: ${n}`),
    );
    expect(unknownNames).toEqual([]);
  });
});
