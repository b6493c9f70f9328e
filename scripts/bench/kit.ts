// What every section of `npm run bench` measures with: timings as medians with their spread (a
// busy machine shows as spread, not as a slower action), ratios, and the runner's file protocol
// for running the bundled steps.
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One row of the bench's table: section, what, measured, baseline, ratio. */
export type Row = [section: string, what: string, measured: string, baseline: string, ratio: string];

export const note = (s: string) => void process.stderr.write(`${s}\n`);
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
/** Median with the spread: a busy machine shows as spread, not as a slower action. */
export const spread = (xs: number[]) => `${ms(median(xs))} (${ms(Math.min(...xs))}-${ms(Math.max(...xs))}, n=${xs.length})`;

/**
 * The environment that makes cargo write build-dir layout v1 or v2. v2 is cargo 1.100's; this
 * cargo (1.95) writes it with its unstable flag. Not the nightly toolchain: the real crates' build
 * scripts probe a nightly rustc and use features it no longer has.
 */
export const CARGO_LAYOUT_ENV: Record<string, Record<string, string>> = { v1: {}, v2: { RUSTC_BOOTSTRAP: '1', CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT: 'true' } };

/** Whether sccache runs on this machine: a section that needs it says so in its row when it does not. */
export function sccacheInstalled(): boolean {
  try {
    execFileSync('sccache', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** How long `fn` takes, in ms. */
export async function time(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** What the runner gives a step of a job on a push to main, with the action's root and workspace. */
export const mainPushEnv = (o: { home: string; root: string; workspace: string }) => ({
  PATH: process.env.PATH,
  HOME: o.home,
  GITHUB_REPOSITORY: 'b/b',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REF_NAME: 'main',
  GITHUB_RUN_ID: '1',
  INPUT_ROOT: o.root,
  'INPUT_DISK-THRESHOLD': '99%',
  'INPUT_WORKING-DIRECTORY': o.workspace,
});

export type RunnerFiles = Record<'GITHUB_ENV' | 'GITHUB_OUTPUT' | 'GITHUB_STATE' | 'GITHUB_PATH' | 'GITHUB_STEP_SUMMARY', string>;

/** The runner's file commands for one step, empty, under `dir`. */
export function runnerFiles(dir: string): RunnerFiles {
  const f = {} as RunnerFiles;
  for (const n of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY'] as const) {
    f[n] = join(dir, n);
    writeFileSync(f[n], '');
  }
  return f;
}

/** A command to its end: its wall time, stdout and stderr (a failure rejects with the stderr's end). */
export function timed(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ ms: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { ...o, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.on('exit', (code) =>
      code === 0 ? res({ ms: performance.now() - t0, stdout: out, stderr: err }) : rej(new Error(`${cmd} ${args.join(' ')}: ${code}\n${err.slice(-2000)}`)),
    );
  });
}

/** Runs a command to its end, output ignored; its wall time in ms (a failure rejects). */
export function spawnTimed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { env, stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? res(performance.now() - t0) : rej(new Error(`${cmd} ${args.join(' ')}: ${code}`))));
  });
}

/** The values a step wrote to a file command (GITHUB_ENV, GITHUB_STATE: `NAME<<DELIMITER` blocks), by name. */
export async function fileValues(file: string): Promise<Record<string, string>> {
  const t = (await fs.readFile(file, 'utf8')).split('\n');
  const s: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(t[i]);
    if (!m) continue;
    const v: string[] = [];
    for (i++; t[i] !== m[2]; i++) v.push(t[i]);
    s[m[1]] = v.join('\n');
  }
  return s;
}

/** A step's GITHUB_STATE file as the runner hands it to the post step: `STATE_<name>` variables. */
export const stateOf = async (file: string): Promise<Record<string, string>> =>
  Object.fromEntries(Object.entries(await fileValues(file)).map(([k, v]) => [`STATE_${k}`, v]));
