import { RUNNER_INPUTS, envLines, parseEnvFile, variableOf } from './settings.js';
import { notNameValue, notOurVariable, oneNameToTheRunner } from './messages.js';
import { nearest } from './spelling.js';

/*
 * The CARGO_ISOLATE_* names, checked where an operator sets them: a runner's environment (the
 * hooks), a runner's .env file (the hooks find their runner's; the CLI reads one with --env-file).
 * A name nobody reads is a setting that silently does not apply, the default instead; a line the
 * runner reads otherwise than it looks (`export NAME=...`, `NAME = value`, a quoted value) is the
 * same. Pure; table-tested in __tests__/settings.test.ts, which also greps src/, hooks/, bin/ and
 * scripts/ for every name read and checks that KNOWN_VARIABLES has each, and no other.
 */

/** Every CARGO_ISOLATE_* name cargo-isolate reads, documented or internal, with what it is. */
export const KNOWN_VARIABLES: Record<string, string> = {
  ...Object.fromEntries(RUNNER_INPUTS.map((i) => [variableOf(i), `the input '${i}' for every job of a runner`])),
  CARGO_ISOLATE_NODE: 'the node that runs the hooks and the CLI',
  CARGO_ISOLATE_METRICS_FILE: "the hooks' metrics file for node_exporter",
  CARGO_ISOLATE_AUDIT: 'the audit log of leases and removals',
  CARGO_ISOLATE_HOOK_STATE: "set by the job-started hook for the job's steps",
  CARGO_ISOLATE_RUSTC_WRAPPER: "set by a job for sccache's key-normalising wrapper",
  CARGO_ISOLATE_TEST_PACE: "the test suite's measure of how busy the machine is",
  CARGO_ISOLATE_TEST_RUN_DIR: "the test suite's directory for one run",
  CARGO_ISOLATE_DOCKER_DATA: "the test suite's Docker data root",
  CARGO_ISOLATE_DOCKER_SOCK: "the test suite's Docker socket",
};

/** Inputs that are per job, or need the job's token: no runner variable sets them. */
const PER_JOB: Record<string, string> = {
  key: "set per job: the action's input, or 'cargo-isolate run --key'",
  'working-directory': "set per job: the action's input, or 'cargo-isolate run --working-directory'",
  'manifest-path': "set per job: the action's input, or 'cargo-isolate run --manifest-path'",
  cache: "the action's input: it needs the job's token, which the hooks do not get",
};

const OURS = /CARGO_ISOLATE_/i;

/**
 * Pure: what is wrong with one variable as the runner set it (name and value verbatim), naming
 * where it was set (`line 3 of /home/runner/actions-runner/.env`, `in the environment`); undefined
 * when nothing is, or the name is not cargo-isolate's.
 */
export function variableProblem(name: string, value: string, where: string): string | undefined {
  if (KNOWN_VARIABLES[name] !== undefined) {
    const q = /^(["'])(.*)\1$/s.exec(value.trim());
    return q ? `${name} (${where}) is ${value.trim()}, quotes included (the runner keeps them): write ${name}=${q[2]}` : undefined;
  }
  if (!OURS.test(name)) return undefined;
  const bare = name.trim().replace(/^export\s+/, '');
  if (bare !== name && KNOWN_VARIABLES[bare] !== undefined) {
    const what = /^\s*export\s/.test(name) ? "'export '" : 'the spaces';
    return oneNameToTheRunner(name, where, what, bare);
  }
  const input = Object.keys(PER_JOB).find((i) => variableOf(i) === bare.toUpperCase());
  if (input) return `${bare} (${where}) is not read: '${input}' is ${PER_JOB[input]}`;
  // Compared without the common prefix, which would make any two names look alike.
  const tail = (n: string) => n.replace(/^.*?CARGO_ISOLATE_/i, '');
  const near = nearest(tail(bare), Object.keys(KNOWN_VARIABLES).map(tail));
  return near ? notOurVariable(name, where, near) : notOurVariable(name, where, undefined);
}

/** Pure: the problems of the CARGO_ISOLATE_* names of an environment (the runner's, as the hooks see it). */
export function environmentProblems(env: Record<string, string | undefined>, where: string, skip: ReadonlySet<string> = new Set()): string[] {
  return Object.entries(env).flatMap(([k, v]) => (skip.has(k) ? [] : (variableProblem(k, v ?? '', where) ?? [])));
}

/**
 * Pure: why bytes are not a text file (a NUL, bytes that are not UTF-8, a control character other
 * than tab, CR, LF and form feed); undefined for text. A runner's .env is text: anything else is a
 * wrong path (a binary, an archive) or a damaged file, whose "variables" nobody meant.
 */
export function notText(bytes: Uint8Array): string | undefined {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return `a NUL byte at offset ${nul}`;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'bytes that are not UTF-8';
  }
  // eslint-disable-next-line no-control-regex
  const c = /[\u0001-\u0008\u000b\u000e-\u001f\u007f]/.exec(text);
  if (c) return `a control character (0x${c[0].charCodeAt(0).toString(16).padStart(2, '0')}) on line ${text.slice(0, c.index).split(/\r\n|\n|\r/).length}`;
  return undefined;
}

/**
 * Pure: the problems of a runner's .env file, line by line: lines about cargo-isolate or the job
 * hooks that the runner skips (no NAME= before the value), and every variable problem above. A
 * comment (`#`) is the operator's, and left alone.
 */
export function envFileProblems(text: string, file: string): string[] {
  return envLines(text).flatMap((line, i) => {
    const where = `line ${i + 1} of ${file}`;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return [];
    const at = line.indexOf('=');
    if (at <= 0) {
      return OURS.test(line) || /ACTIONS_RUNNER_HOOK_/.test(line) ? [notNameValue(line.length > 80 ? `${line.slice(0, 80)}...` : line, where)] : [];
    }
    return variableProblem(line.slice(0, at), line.slice(at + 1), where) ?? [];
  });
}

/**
 * Pure: a runner's .env file as read from `file`: refused when it is not text (why), else its
 * variables as the runner reads them and the problems of its lines (envFileProblems), for the
 * CLI's --env-file and the job-started hook's check of the runner's own file alike.
 */
export function readEnvFile(bytes: Uint8Array, file: string): { notText: string } | { vars: Record<string, string>; problems: string[] } {
  const why = notText(bytes);
  if (why) return { notText: why };
  const text = new TextDecoder().decode(bytes);
  return { vars: parseEnvFile(text), problems: envFileProblems(text, file) };
}

/** Pure: a problem above as a sentence of a log: a full stop, unless it ends in a question. */
export const asSentence = (problem: string): string => (/[?.]$/.test(problem) ? problem : `${problem}.`);
