import { randomUUID } from 'node:crypto';
import { appendFileSync, promises as fs, writeSync } from 'node:fs';
import { EOL } from 'node:os';
import { delimiter } from 'node:path';

/*
 * What a step of a job reads from the runner and writes to it (the runner's hooks too): its
 * inputs and saved state from the environment (`INPUT_<NAME>`, `STATE_<name>`); outputs,
 * exports, PATH entries and state appended to the runner's files (GITHUB_OUTPUT, GITHUB_ENV,
 * GITHUB_PATH, GITHUB_STATE) as `NAME<<DELIMITER` blocks; log lines and workflow commands on
 * stdout (`::warning::`, `::group::`); the job summary appended to GITHUB_STEP_SUMMARY. As GitHub
 * documents them ("Workflow commands for GitHub Actions"), which the runner and Forgejo's read.
 *
 * Why not @actions/core: importing it loads its OIDC client's HTTP stack (undici, https, zlib),
 * about 1 MB of bundled code that every step loaded at start-up for a token this action never asks
 * for (`npm run bench`, section 1t, shows each step's start-up). @actions/cache still brings its
 * own, and only where `cache: true` imports it.
 */

/**
 * A line for the log, written to file descriptor 1 as it is: the first use of `process.stdout`
 * builds a stream over it (for a pipe, a socket and the net module), a cost at every step's start
 * for what a write does alike. A pipe left non-blocking by whoever started us may say EAGAIN: the
 * rest is written again. A log that cannot be written (its reader gone) cannot be told so: dropped.
 */
function out(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let at = 0; at < buf.length;) {
    try {
      at += writeSync(1, buf, at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}

/** An input as the runner passes it: `INPUT_<NAME>`, spaces as `_`, upper-cased; trimmed, '' when unset. */
export function getInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** What the main step saved (saveState), as the runner hands it to the post step. */
export const getState = (name: string): string => process.env[`STATE_${name}`] ?? '';

/** A workflow command's data: `%`, CR and LF escaped, so one command stays one line. */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** A workflow command's property value: as its data, and `:` and `,`, which end a property. */
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** A workflow command on stdout, e.g. `::warning::text`. */
function command(name: string, message: string): void {
  out(`::${name}::${escapeData(message)}${EOL}`);
}

/**
 * `NAME=value` appended to one of the runner's files as a heredoc block, whose delimiter appears
 * in neither (the runner would otherwise read a forged second name out of a value). Without the
 * file (a runner older than the file commands) the old stdout command.
 */
function fileCommand(variable: 'GITHUB_OUTPUT' | 'GITHUB_ENV' | 'GITHUB_STATE', name: string, value: string, old: string): void {
  const file = process.env[variable];
  if (!file) return command(`${old} name=${escapeProperty(name)}`, value);
  const end = `ghadelimiter_${randomUUID()}`;
  if (name.includes(end) || value.includes(end)) throw new Error(`${name}: its name or value holds the delimiter ${end}`);
  appendFileSync(file, `${name}<<${end}${EOL}${value}${EOL}${end}${EOL}`, 'utf8');
}

export const setOutput = (name: string, value: string) => fileCommand('GITHUB_OUTPUT', name, value, 'set-output');
export const saveState = (name: string, value: string) => fileCommand('GITHUB_STATE', name, value, 'save-state');

/** A variable for every later step of the job (and this process). */
export function exportVariable(name: string, value: string): void {
  process.env[name] = value;
  fileCommand('GITHUB_ENV', name, value, 'set-env');
}

/** A directory in front of PATH for every later step of the job (and this process). */
export function addPath(dir: string): void {
  const file = process.env.GITHUB_PATH;
  if (file) appendFileSync(file, `${dir}${EOL}`, 'utf8');
  else command('add-path', dir);
  process.env.PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
}

export const info = (message: string) => out(`${message}${EOL}`);
export const debug = (message: string) => command('debug', message);
export const notice = (message: string) => command('notice', message);
export const warning = (message: string) => command('warning', message);
export const error = (message: string) => command('error', message);

/** The step fails (exit code 1) with this message as an error annotation. */
export function setFailed(message: string): void {
  process.exitCode = 1;
  error(message);
}

/** A folded group in the log around `fn`, closed however `fn` ends. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  out(`::group::${escapeData(name)}${EOL}`);
  try {
    return await fn();
  } finally {
    out(`::endgroup::${EOL}`);
  }
}

/** Appends to the job summary (Markdown with HTML); nothing without GITHUB_STEP_SUMMARY. */
export async function appendSummary(text: string, env: Record<string, string | undefined> = process.env): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file) await fs.appendFile(file, text, 'utf8');
}
