import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskFullError, type GuardReport, guardOptions, runGuard } from './pool/guard.js';
import { currentIdentity } from './model/identity.js';
import type { EndedJob, StartedJob } from './job/types.js';
import { endJob } from './job/end.js';
import { handBackIdle } from './owners/handback.js';
import { slotsOfAnotherUid } from './owners/reclaim.js';
import { consoleLog } from './os/log.js';
import { mainJob } from './job/start.js';
import { RootError, RootMissingError, prepareRoot } from './pool/root.js';
import { type Settings, type Source, InputError, beyondDisk, fromVariables, firstOf, parseEnvFile, readSettings, subjectOf } from './model/settings.js';
import { type CommandLine, UsageError, commandUsage, forgetTarget, fromFlags, parseCommandLine, usage } from './model/options.js';
import { formatStatus, rootStatus } from './job/status.js';
import { formatBytes, formatDuration, parseDuration, unitHint } from './model/units.js';
import { asSentence, envFileProblems, environmentProblems, notText } from './model/variables.js';
import { guardResult, recordEvent } from './pool/events.js';
import { collectMetrics, writeMetrics } from './job/metrics.js';
import { unitsText } from './job/summary.js';
import { TIER_TEXT } from './pool/choose.js';
import { VERSION, describeVersion, isRelease } from './model/version.js';
import { buildCommit } from './os/build-commit.js';
import { forgetDomain } from './job/forget.js';
import { contentKey } from './model/key.js';
import { myUid } from './os/proc.js';

/** What every output of the CLI goes through: stdout for results, stderr (consoleLog) for the log. */
const out = (text: string) => void process.stdout.write(text);
const err = (text: string) => void process.stderr.write(text);

/**
 * A reader that went away (`cargo-isolate run -- true | head -2`, `status | head`) must not end
 * the command half-way: an EPIPE would throw out of a write in the middle of a job, leaving its
 * slot unreleased until the keeper notices and its record without sizes. Later output to that
 * stream is dropped; the work finishes, and the exit code stays the command's own.
 */
function tolerateClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue; // set up already (runCli called twice in one process)
    stream.on('error', () => {
      stream.write = (() => true) as typeof stream.write;
    });
  }
}

/**
 * The settings of one command line: each from its flag, else from the runner's variables in
 * --env-file, else from the environment's CARGO_ISOLATE_* (what the hooks read), else the default.
 * `over` replaces a source for single inputs (gc's scope is the timer's own, never a runner's).
 */
async function settingsOf(cl: CommandLine, over: Record<string, string> = {}): Promise<Settings> {
  const flag = cl.flags.get('env-file');
  let fileVars: Source | undefined;
  if (flag) {
    const file = flag.value;
    const bytes = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --env-file ${file} (${e.code ?? e.message})`, cl.command);
    });
    const why = notText(bytes);
    if (why) throw new InputError({ kind: 'flag', name: flag.spelled }, file, "a runner's .env file: lines of NAME=value", `not a text file (${why}).`);
    const text = new TextDecoder().decode(bytes);
    for (const w of envFileProblems(text, file)) err(`warning: ${asSentence(w)}\n`);
    fileVars = fromVariables(parseEnvFile(text), file);
  }
  for (const w of environmentProblems(process.env, 'in the environment')) err(`warning: ${asSentence(w)}\n`);
  const src = firstOf(fromFlags(cl), ...(fileVars ? [fileVars] : []), fromVariables(process.env));
  const fixed: Source = {
    get: (n) => (n in over ? over[n] : src.get(n)),
    origin: (n) => src.origin(n),
  };
  return readSettings(fixed, process.env);
}

function runChild(cmd: string[], env: NodeJS.ProcessEnv, pipeStdout = false): Promise<number> {
  return new Promise((res) => {
    // The demo's program prints through our stdout, so a closed pipe is ours to tolerate;
    // `run` hands the terminal to the user's command as it is.
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['inherit', pipeStdout ? 'pipe' : 'inherit', 'inherit'], env });
    child.stdout?.on('data', (d: Buffer) => out(d.toString()));
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', (e) => {
      err(`cargo-isolate: cannot run ${cmd[0]}: ${e.message}\n`);
      res(127);
    });
    child.on('close', (code, sig) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      res(code ?? (sig ? 128 + 15 : 1));
    });
  });
}

async function leaseAndRun(
  cl: CommandLine,
  s: Settings,
  cmd: string[],
  o: { pipeStdout?: boolean } = {},
): Promise<{ code: number; job: StartedJob; ended: EndedJob }> {
  const log = consoleLog(cl.flags.has('verbose'));
  const noop = () => undefined;
  const { job } = await mainJob({ settings: s, env: process.env, log, watchPid: process.pid, save: { lease: noop, guard: noop }, via: 'cli' });
  const env: NodeJS.ProcessEnv = { ...process.env, ...job.exports, PATH: `${job.path}:${process.env.PATH ?? ''}` };
  for (const [k, val] of Object.entries(job.exports)) log.info(`${k}=${val}`);
  let code = 1;
  let ended: EndedJob | undefined;
  try {
    code = await runChild(cmd, env, o.pipeStdout);
  } finally {
    ended = await endJob(job, log);
    for (const w of ended.warnings) log.warning(w);
  }
  return { code, job, ended };
}

/** Pure: one demo job as it happened: the slot, what its content was, what cargo did. */
export function demoLine(n: number, job: Pick<StartedJob, 'slot' | 'tier' | 'reset'>, ended: Pick<EndedJob, 'units'>): string {
  const start = job.reset.reset ? `emptied first (${job.reset.reason})` : job.reset.reason === 'empty' ? 'nothing in it yet' : job.reset.reason;
  return `-- job ${n}: slot ${job.slot} (${job.tier}: ${TIER_TEXT[job.tier]}); ${start}; cargo: ${ended.units ? unitsText(ended.units, job.reset.warm) : 'no units counted'}\n`;
}

async function demo(cl: CommandLine): Promise<number> {
  const ws = await fs.mkdtemp(join(tmpdir(), 'cargo-isolate-demo-'));
  try {
    await fs.writeFile(join(ws, 'Cargo.toml'), '[workspace]\nmembers = ["app", "util"]\nresolver = "2"\n');
    await fs.mkdir(join(ws, 'util', 'src'), { recursive: true });
    await fs.mkdir(join(ws, 'app', 'src'), { recursive: true });
    await fs.writeFile(join(ws, 'util', 'Cargo.toml'), '[package]\nname = "util"\nversion = "0.1.0"\nedition = "2021"\n');
    await fs.writeFile(join(ws, 'util', 'src', 'lib.rs'), 'pub fn greet() -> &\'static str { "hello from an isolated slot" }\n');
    await fs.writeFile(
      join(ws, 'app', 'Cargo.toml'),
      '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nutil = { path = "../util" }\n',
    );
    await fs.writeFile(join(ws, 'app', 'src', 'main.rs'), 'fn main() { println!("{}", util::greet()); }\n');
    err(`demo workspace: ${ws}\n-- job 1 of 2: a push to main builds the workspace\n`);
    const cmd = ['cargo', 'run', '--quiet', '--manifest-path', join(ws, 'Cargo.toml'), '-p', 'app'];
    Object.assign(process.env, { GITHUB_REPOSITORY: 'demo/workspace', GITHUB_REF_NAME: 'main', GITHUB_RUN_ID: 'demo-1' });
    // The crate phase looks for the demo's own Cargo.lock, never the one of the directory the
    // demo was started from (a Rust repository's crates have no business in the demo's slot).
    const s = await settingsOf(cl, { 'working-directory': ws });
    const first = await leaseAndRun(cl, s, cmd, { pipeStdout: true });
    err(demoLine(1, first.job, first.ended));
    if (first.code !== 0) return first.code;
    err('-- job 2 of 2: the next push to main, same job, same workspace\n');
    process.env.GITHUB_RUN_ID = 'demo-2';
    const second = await leaseAndRun(cl, s, cmd, { pipeStdout: true });
    err(demoLine(2, second.job, second.ended));
    out(formatStatus(await rootStatus(first.job.root)) + '\n');
    return second.code;
  } finally {
    await fs.rm(ws, { recursive: true, force: true });
  }
}

/** `status` and `gc` on a root no job has made yet: say so, which is no error. */
function noRoot(s: Settings, json: boolean, what: string): number {
  const from =
    s.rootOrigin?.kind === 'default'
      ? 'the default; set --root or CARGO_ISOLATE_ROOT for another'
      : `from ${subjectOf(s.rootOrigin!).replace(/^\w/, (c) => c.toLowerCase())}`;
  if (json) out(JSON.stringify({ version: VERSION, root: s.root, present: false }, null, 2) + '\n');
  else out(`cargo-isolate ${VERSION}: no root at ${s.root} yet (${from}): ${what}. The first job, or 'cargo-isolate run', makes it.\n`);
  return 0;
}

async function status(cl: CommandLine): Promise<number> {
  const s = await settingsOf(cl);
  let root: string;
  try {
    root = await prepareRoot(s.root, process.env, false, s.rootOrigin);
  } catch (e) {
    if (e instanceof RootMissingError) return noRoot(s, cl.flags.has('json'), 'nothing to show');
    throw e;
  }
  const st = await rootStatus(root);
  out(cl.flags.has('json') ? JSON.stringify(st, null, 2) + '\n' : formatStatus(st) + '\n');
  return 0;
}

/** Pure: the lines `gc` prints on stdout: each removal a dry run would make, then one total. */
export function gcText(r: Pick<GuardReport, 'removals' | 'freedBytes' | 'after' | 'dryRun'>, handedBack: string[]): string {
  const lines: string[] = [];
  if (r.dryRun)
    for (const x of r.removals)
      lines.push(`would remove ${x.kind} ${x.path} (${formatBytes(x.bytes)}, idle ${formatDuration(x.ageMs)}, last owner ${x.owner ?? 'unknown'})`);
  const removed = r.removals.filter((x) => (r.dryRun ? x.outcome === 'would remove' : x.outcome === 'removed')).length;
  const left = r.dryRun ? [] : r.removals.filter((x) => x.outcome !== 'removed');
  const leftText = left.length ? `; ${left.length} left (${[...new Set(left.map((x) => x.outcome))].join(', ')})` : '';
  lines.push(
    `${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.freedBytes)} in ${removed} removal${removed === 1 ? '' : 's'}${leftText}; disk ${r.after.usedPercent.toFixed(1)}% used, ${formatBytes(r.after.freeBytes)} free${handedBack.length ? `; handed ${handedBack.join(', ')} back to the root's owner` : ''}`,
  );
  return lines.join('\n') + '\n';
}

async function gc(cl: CommandLine): Promise<number> {
  // A timer guards the whole host: the runners' CARGO_ISOLATE_PRUNE_SCOPE is theirs, not its.
  const scope = cl.flags.get('prune-scope');
  const s = await settingsOf(cl, { 'prune-scope': scope?.value ?? 'host' });
  if (s.pruneScope === 'runner' && !s.runnerName)
    throw new InputError({ kind: 'flag', name: scope!.spelled }, 'runner', "'host', or 'runner' together with --runner-name NAME (or CARGO_ISOLATE_RUNNER)");
  const maxAge = cl.flags.get('max-age');
  const maxAgeMs = maxAge ? parseDuration(maxAge.value) : undefined;
  if (maxAge && maxAgeMs === undefined)
    throw new InputError({ kind: 'flag', name: maxAge.spelled }, maxAge.value, 'a duration such as 7d or 12h', unitHint(maxAge.value, 'duration'));
  const json = cl.flags.has('json');
  let root: string;
  try {
    root = await prepareRoot(s.root, process.env, false, s.rootOrigin);
  } catch (e) {
    if (e instanceof RootMissingError) return noRoot(s, json, 'nothing to prune');
    throw e;
  }
  const filesystem = await fs.statfs(root);
  const unmeetable = beyondDisk(s, filesystem.blocks * filesystem.bsize, root);
  if (unmeetable) throw unmeetable;
  const log = consoleLog(cl.flags.has('verbose'), json);
  let r: GuardReport;
  try {
    r = await runGuard(guardOptions(s, root, s.runnerName ?? currentIdentity().runnerId, log, { maxAgeMs }));
  } catch (e) {
    if (e instanceof DiskFullError) await recordEvent(root, { event: 'guard', trigger: 'gc', result: 'failed', freed: 0, removals: 0 });
    throw e;
  }
  if (!s.dryRun) await recordEvent(root, { event: 'guard', trigger: 'gc', result: guardResult(r), freed: r.freedBytes, removals: r.removals.length });
  // Run as root on a root owned by the runner's user: return what root jobs never handed back.
  const handedBack = s.dryRun ? [] : await handBackIdle(root, s.cleanupTimeoutMs);
  const others = await slotsOfAnotherUid(root, myUid());
  if (others.length)
    err(
      `warning: ${others.map((o) => `${o.name} (uid ${o.uid}${o.paths.length ? `: ${o.paths.slice(0, 2).join(', ')}` : ''})`).join(', ')}: slots holding files of another uid, which this uid cannot reuse or remove: needs root. Run 'cargo-isolate gc' as root (docs/docker-run.md).\n`,
    );
  out(json ? JSON.stringify({ version: VERSION, ...r, handedBack }, null, 2) + '\n' : gcText(r, handedBack));
  // A dry run exits as the real run would: the floor against what would be free afterwards.
  const projected = r.after.freeBytes + (s.dryRun ? r.freedBytes : 0);
  if (s.dryRun && s.failBelowBytes !== undefined && projected < s.failBelowBytes) {
    err(
      `cargo-isolate: a real run would fail: about ${formatBytes(projected)} would be free after pruning, below 'fail-below' (${formatBytes(s.failBelowBytes)}).\n`,
    );
    return 2;
  }
  return 0;
}

/** `forget`: a closing workflow tells the host that a PR closed or a branch was deleted. */
async function forget(cl: CommandLine): Promise<number> {
  const t = forgetTarget(cl, process.env);
  const key = t.pr !== undefined ? contentKey(t.pr, '') : contentKey(undefined, t.branch!);
  const s = await settingsOf(cl);
  const root = await prepareRoot(s.root, process.env, true, s.rootOrigin);
  if (t.note) err(`warning: ${t.note}.\n`);
  out((await forgetDomain(root, t.repository, key, t.branch)).message + '\n');
  return 0;
}

async function metrics(cl: CommandLine): Promise<number> {
  const s = await settingsOf(cl);
  let root = s.root;
  try {
    root = await prepareRoot(s.root, process.env, false, s.rootOrigin);
  } catch (e) {
    if (!(e instanceof RootMissingError)) throw e; // written anyway: cargo_isolate_root_present 0
  }
  const text = await collectMetrics(root, s.diskThreshold, (m) => err(`warning: metrics: ${m}\n`));
  const file = cl.flags.get('output')?.value;
  if (file) await writeMetrics(file, text);
  else out(text);
  return 0;
}

export async function runCli(argv: string[]): Promise<number> {
  tolerateClosedPipes();
  try {
    const cl = parseCommandLine(argv);
    if (cl.flags.has('version')) {
      out(`cargo-isolate ${describeVersion(VERSION, isRelease(VERSION) ? undefined : buildCommit())}\n`);
      return 0;
    }
    if (cl.flags.has('help') || !cl.command) {
      out(cl.command ? commandUsage(cl.command) : usage());
      return 0;
    }
    switch (cl.command) {
      case 'status':
        return await status(cl);
      case 'gc':
        return await gc(cl);
      case 'forget':
        return await forget(cl);
      case 'metrics':
        return await metrics(cl);
      case 'demo':
        return await demo(cl);
      case 'run': {
        if (cl.rest.length === 0) throw new UsageError('run needs a command after --, e.g. cargo-isolate run -- cargo test', 'run');
        const s = await settingsOf(cl);
        return (await leaseAndRun(cl, s, cl.rest)).code;
      }
    }
  } catch (e) {
    const x = e as Error;
    if (x instanceof UsageError) {
      err(`cargo-isolate: ${x.message}. See 'cargo-isolate help${x.command ? ` ${x.command}` : ''}'.\n`);
      return 2;
    }
    const known = x instanceof InputError || x instanceof RootError || x instanceof DiskFullError;
    err(`cargo-isolate: ${known ? x.message : x.stack}\n`);
    return known ? 2 : 1;
  }
}
