import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Log } from '../os/log.js';
import type { Settings } from '../model/settings.js';
import { TIER_TEXT } from '../pool/choose.js';
import { leaseAndRun } from './run.js';
import { formatStatus, rootStatus } from './status.js';
import { unitsText } from './summary.js';
import type { EndedJob, StartedJob } from './types.js';

/*
 * `cargo-isolate demo`, the README's first command: a small workspace of two crates in a temp
 * directory, built by two jobs of pushes to main (`cargo-isolate run`), the second one warm in
 * the slot the first one left; then the root's status. The workspace is removed at the end.
 */

/** Writes the demo's workspace into `dir`: an app and the library it depends on. */
export async function writeDemoWorkspace(dir: string): Promise<void> {
  const pkg = (name: string) => `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n`;
  await fs.writeFile(join(dir, 'Cargo.toml'), '[workspace]\nmembers = ["app", "util"]\nresolver = "2"\n');
  await fs.mkdir(join(dir, 'util', 'src'), { recursive: true });
  await fs.mkdir(join(dir, 'app', 'src'), { recursive: true });
  await fs.writeFile(join(dir, 'util', 'Cargo.toml'), pkg('util'));
  await fs.writeFile(join(dir, 'util', 'src', 'lib.rs'), 'pub fn greet() -> &\'static str { "hello from an isolated slot" }\n');
  await fs.writeFile(join(dir, 'app', 'Cargo.toml'), `${pkg('app')}\n[dependencies]\nutil = { path = "../util" }\n`);
  await fs.writeFile(join(dir, 'app', 'src', 'main.rs'), 'fn main() { println!("{}", util::greet()); }\n');
}

/** Pure: one demo job as it happened: the slot, what its content was, what cargo did. */
export function demoLine(n: number, job: Pick<StartedJob, 'slot' | 'tier' | 'reset'>, ended: Pick<EndedJob, 'units'>): string {
  const start = job.reset.reset ? `emptied first (${job.reset.reason})` : job.reset.reason === 'empty' ? 'nothing in it yet' : job.reset.reason;
  const cargo = ended.units ? unitsText(ended.units, job.reset.warm) : 'no units counted';
  return `-- job ${n}: slot ${job.slot} (${job.tier}: ${TIER_TEXT[job.tier]}); ${start}; cargo: ${cargo}\n`;
}

export interface Demo {
  /** The settings for the demo's workspace (the CLI's flags and variables, the workspace as working-directory). */
  settingsFor: (workspace: string) => Promise<Settings>;
  env: NodeJS.ProcessEnv;
  log: Log;
  /** What the demo says about itself (stderr), and what it shows: the program's output and the status (stdout). */
  say: (text: string) => void;
  show: (text: string) => void;
}

/** Runs the demo; its exit code is the first failing job's, else the second job's. */
export async function runDemo(o: Demo): Promise<number> {
  const ws = await fs.mkdtemp(join(tmpdir(), 'cargo-isolate-demo-'));
  try {
    await writeDemoWorkspace(ws);
    o.say(`demo workspace: ${ws}\n-- job 1 of 2: a push to main builds the workspace\n`);
    const cmd = ['cargo', 'run', '--quiet', '--manifest-path', join(ws, 'Cargo.toml'), '-p', 'app'];
    const env = { ...o.env, GITHUB_REPOSITORY: 'demo/workspace', GITHUB_REF_NAME: 'main', GITHUB_RUN_ID: 'demo-1' };
    // The crate phase looks for the demo's own Cargo.lock, never the one of the directory the
    // demo was started from (a Rust repository's crates have no business in the demo's slot).
    const settings = await o.settingsFor(ws);
    const first = await leaseAndRun({ settings, env, cmd, log: o.log, onStdout: o.show });
    o.say(demoLine(1, first.job, first.ended));
    if (first.code !== 0) return first.code;
    o.say('-- job 2 of 2: the next push to main, same job, same workspace\n');
    const second = await leaseAndRun({ settings, env: { ...env, GITHUB_RUN_ID: 'demo-2' }, cmd, log: o.log, onStdout: o.show });
    o.say(demoLine(2, second.job, second.ended));
    o.show(formatStatus(await rootStatus(first.job.root)) + '\n');
    return second.code;
  } finally {
    await fs.rm(ws, { recursive: true, force: true });
  }
}
