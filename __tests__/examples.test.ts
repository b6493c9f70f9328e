import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { scaled } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * action.yml, the examples and this repository's workflows pass the validator CI runs
 * (scripts/validate-workflows.mjs: GitHub's parser and schemas, actionlint, this action's
 * inputs and outputs), and a broken copy of any of them fails it.
 */
interface Finding {
  line: number;
  column: number;
  message: string;
  by: string;
}
type Results = Record<string, Finding[]>;

function validate(args: string[], cwd = process.cwd()): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'scripts', 'validate-workflows.mjs'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: scaled(60_000),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
const files = ['action.yml', ...walk('examples'), ...walk('.github/workflows')].sort();

describe('every workflow and action.yml is valid', () => {
  let run: { code: number | null; results: Results; stderr: string };
  beforeAll(() => {
    const r = validate(['--json']);
    run = { code: r.code, results: JSON.parse(r.stdout) as Results, stderr: r.stderr };
  });
  test('the validator, run as CI runs it, covers every example and workflow, and passes', () => {
    expect(files.filter((f) => f.startsWith('examples/')).length).toBeGreaterThanOrEqual(5);
    expect(Object.keys(run.results).sort()).toEqual(files);
    expect([run.code, run.stderr]).toEqual([0, '']);
  });
  test.each(files)('%s', (file) => expect(run.results[file]).toEqual([]));
  test('every example names this action and marks what a user adapts', () => {
    for (const f of files.filter((x) => x.startsWith('examples/'))) {
      const text = readFileSync(f, 'utf8');
      expect([f, /# ADAPT/.test(text)]).toEqual([f, true]);
      // Which ref (main, or the newest release's major tag) is docs.test.ts's to check.
      if (!f.endsWith('caller.yml')) expect([f, text.includes('uses: <owner>/cargo-isolate@')]).toEqual([f, true]);
    }
  });
});

/** A broken copy: what changes, in which file, and what the validator must say about it. */
interface Breakage {
  name: string;
  file: string;
  from: string | RegExp;
  to: string;
  says: string;
  by: string;
}
const breakages: Breakage[] = [
  {
    name: 'a typo in a job key',
    file: 'examples/fleet/rust-ci.yml',
    from: 'timeout-minutes: 30',
    to: 'timeout-minute: 30',
    says: "Unexpected value 'timeout-minute'",
    by: 'github',
  },
  {
    name: 'a typo in a workflow key',
    file: 'examples/fleet/caller.yml',
    from: 'cancel-in-progress:',
    to: 'cancel-in-progres:',
    says: "Unexpected value 'cancel-in-progres'",
    by: 'github',
  },
  {
    name: 'runs-on as a mapping with an unknown key',
    file: 'examples/host-only.yml',
    from: "runs-on: [self-hosted, linux] # ADAPT: your runners' labels",
    to: 'runs-on: { group: ci, label: linux }',
    says: "Unexpected value 'label'",
    by: 'github',
  },
  {
    name: 'a misspelt runner label',
    file: 'examples/matrix-key.yml',
    from: 'ubuntu-latest,',
    to: 'ubuntu-lates,',
    says: 'label "ubuntu-lates" is unknown',
    by: 'actionlint',
  },
  {
    name: 'a Forgejo label other than the one allowed',
    file: 'examples/forgejo.yml',
    from: 'runs-on: docker',
    to: 'runs-on: dokcer',
    says: 'label "dokcer" is unknown',
    by: 'actionlint',
  },
  {
    name: 'a job without steps',
    file: 'examples/fleet/rust-ci.yml',
    from: /\n {4}steps:\n(?: {6}.*\n)+$/,
    to: '\n',
    says: '"steps" section is missing in job "security"',
    by: 'actionlint',
  },
  {
    name: 'uses without a ref',
    file: 'examples/host-only.yml',
    from: 'uses: actions/checkout@v5',
    to: 'uses: actions/checkout',
    says: 'ref is missing',
    by: 'actionlint',
  },
  {
    name: 'an output of a step that does not exist',
    file: 'examples/host-only.yml',
    from: 'steps.iso.outputs.cargo-home',
    to: 'steps.isolate.outputs.cargo-home',
    says: 'property "isolate" is not defined',
    by: 'actionlint',
  },
  {
    name: 'an unclosed expression',
    file: 'examples/matrix-key.yml',
    from: '${{ matrix.toolchain }}\n',
    to: '${{ matrix.toolchain\n',
    says: 'The expression is not closed',
    by: 'github',
  },
  {
    name: 'an input this action does not have',
    file: 'examples/host-only.yml',
    from: 'disk-threshold: 85%',
    to: 'disk-treshold: 85%',
    says: "input 'disk-treshold' is not one of this action's",
    by: 'cargo-isolate',
  },
  {
    name: 'an output this action does not have',
    file: 'examples/host-only.yml',
    from: 'steps.iso.outputs.target-dir',
    to: 'steps.iso.outputs.target_dir',
    says: "output 'target_dir' of step 'iso' is not one of this action's",
    by: 'cargo-isolate',
  },
  {
    name: 'action.yml: a typo in runs',
    file: 'action.yml',
    from: '  post-if: always()',
    to: '  post_if: always()',
    says: "Unexpected value 'post_if'",
    by: 'github',
  },
  { name: 'action.yml: an unknown runtime', file: 'action.yml', from: 'using: node24', to: 'using: node42', says: "Unexpected value 'node42'", by: 'github' },
  {
    name: 'action.yml: an expression in a description (the runner refuses to load the action)',
    file: 'action.yml',
    from: 'e.g. the target of a matrix leg',
    to: 'e.g. ${{ matrix.target }}',
    says: "Unrecognized named-value: 'matrix'",
    by: 'github',
  },
];

/**
 * Workflows quoted in the README and docs/: YAML blocks with a top-level `jobs:` that either have
 * an `on:` or say they are a workflow file (a first-line comment naming .github/workflows/ or
 * .forgejo/workflows/). A block of jobs alone is a fragment, left to its page.
 */
const quoted = [
  'README.md',
  ...readdirSync('docs', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
].flatMap((page) =>
  [...readFileSync(page, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((text) => /^jobs:/m.test(text) && (/^on:/m.test(text) || /^#.*\.(github|forgejo)\/workflows\//.test(text)))
    .map((text) => ({ page, text, first: text.split('\n')[0] })),
);

describe('a broken copy fails the validator', () => {
  let scratch: string;
  let results: Results;
  let code: number | null;
  const copyOf = (b: Breakage) => join(scratch, breakages.indexOf(b).toString(), basename(b.file));
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'broken-examples-'));
    for (const b of breakages) {
      const text = readFileSync(b.file, 'utf8');
      const broken = text.replace(b.from, b.to);
      // A breakage that changes nothing would prove nothing.
      expect([b.name, broken === text]).toEqual([b.name, false]);
      mkdirSync(join(scratch, breakages.indexOf(b).toString()));
      writeFileSync(copyOf(b), broken);
    }
    // The workflows quoted in the README and docs/, beside them: they must pass.
    for (const [i, w] of quoted.entries()) writeFileSync(join(scratch, `quoted-${i}.yml`), w.text);
    const r = validate(['--json', ...quoted.map((_, i) => join(scratch, `quoted-${i}.yml`)), ...breakages.map(copyOf)], scratch);
    code = r.code;
    results = JSON.parse(r.stdout) as Results;
  });
  afterAll(() => removeScratch(scratch));

  test('the run fails', () => expect(code).toBe(1));
  test('the README and docs/ quote workflows', () => {
    expect(quoted.filter((w) => w.page === 'README.md').length).toBe(1);
    expect(quoted.length).toBeGreaterThanOrEqual(3);
  });
  test.each(quoted.map((w, i) => [w.page, w.first, i] as const))('the workflow quoted in %s (%s) passes, validated in the same run', (_page, _first, i) => {
    expect(results[`quoted-${i}.yml`]).toEqual([]);
  });
  test.each(breakages.map((b) => [b.name, b] as const))('%s', (_name, b) => {
    const found = results[relative(scratch, copyOf(b))] ?? [];
    expect(found.filter((f) => f.by === b.by && f.message.includes(b.says)).length).toBeGreaterThan(0);
  });
  test('in CI, a broken file prints file:line:col, the message and the validator, and exits 1', () => {
    const b = breakages[0];
    const r = validate([copyOf(b)], scratch);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^0/rust-ci\\.yml:\\d+:\\d+: Unexpected value 'timeout-minute' \\(github\\)$`, 'm'));
    expect(r.stdout).toMatch(/1 with findings$/m);
  });
});
