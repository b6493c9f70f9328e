import { promises as fs } from 'node:fs';
import { consoleLog } from './os/log.js';
import { onStray } from './os/proc.js';
import { RootMissingError, prepareRoot } from './pool/root.js';
import { type Settings, type Source, InputError, beyondDisk, fromVariables, firstOf, readSettings, subjectOf } from './model/settings.js';
import { type CommandLine, UsageError, commandUsage, forgetTarget, fromFlags, parseCommandLine, usage } from './model/options.js';
import { formatStatus, rootStatus } from './job/status.js';
import { parseDuration, unitHint } from './model/units.js';
import { asSentence, environmentProblems, readEnvFile } from './model/variables.js';
import { collectMetrics, writeMetrics } from './job/metrics.js';
import { VERSION, describeVersion, isRelease } from './model/version.js';
import { buildCommit } from './os/build-commit.js';
import { forgetDomain } from './job/forget.js';
import { contentKey } from './model/key.js';
import { leaseAndRun } from './job/run.js';
import { runDemo } from './job/demo.js';
import { collectGarbage, gcText } from './job/gc.js';
import { reportReadsTo } from './os/absent.js';
import { EXIT_CODES, type Explained, explain, failed } from './model/failure.js';

/*
 * `cargo-isolate`, the command line (dist/cli, bin/cargo-isolate): it parses the command line,
 * reads the settings as the hooks read them, dispatches to the command's sequence in job/, and
 * prints: results on stdout, the log on stderr, an exit code that says which went wrong: every
 * failure one line (model/failure.ts), 2 for what the user gave, 3 for the host, 4 below
 * fail-below, 1 for a defect; its stack only with --verbose.
 */

/** What every output of the CLI goes through: stdout for results, stderr (consoleLog) for the log. */
const out = (text: string) => void process.stdout.write(text);
const err = (text: string) => void process.stderr.write(text);
const logOf = (cl: CommandLine) => consoleLog(cl.flags.has('verbose'));

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
    const read = readEnvFile(bytes, file);
    if ('notText' in read)
      throw new InputError({ kind: 'flag', name: flag.spelled }, file, "a runner's .env file: lines of NAME=value", `not a text file (${read.notText}).`);
    for (const w of read.problems) err(`warning: ${asSentence(w)}\n`);
    fileVars = fromVariables(read.vars, file);
  }
  for (const w of environmentProblems(process.env, 'in the environment')) err(`warning: ${asSentence(w)}\n`);
  const src = firstOf(fromFlags(cl), ...(fileVars ? [fileVars] : []), fromVariables(process.env));
  const fixed: Source = {
    get: (n) => (n in over ? over[n] : src.get(n)),
    origin: (n) => src.origin(n),
  };
  return readSettings(fixed, process.env);
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

/** The root as it is, or undefined when no job has made it yet. */
async function existingRoot(s: Settings): Promise<string | undefined> {
  try {
    return await prepareRoot(s.root, process.env, false, s.rootOrigin);
  } catch (e) {
    if (e instanceof RootMissingError) return undefined;
    throw e;
  }
}

async function status(cl: CommandLine): Promise<number> {
  const s = await settingsOf(cl);
  const root = await existingRoot(s);
  if (!root) return noRoot(s, cl.flags.has('json'), 'nothing to show');
  const st = await rootStatus(root, Date.now(), s.hostArchives);
  out(cl.flags.has('json') ? JSON.stringify(st, null, 2) + '\n' : formatStatus(st) + '\n');
  return 0;
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
  const root = await existingRoot(s);
  if (!root) return noRoot(s, json, 'nothing to prune');
  const filesystem = await fs.statfs(root);
  const unmeetable = beyondDisk(s, filesystem.blocks * filesystem.bsize, root);
  if (unmeetable) throw unmeetable;
  // Its report on stdout: the disk, each removal (the dry run's as the real run's), then the total.
  const r = await collectGarbage(s, root, { maxAgeMs, log: consoleLog(cl.flags.has('verbose'), json, process.stdout) });
  out(json ? JSON.stringify({ version: VERSION, ...r.guard, handedBack: r.handedBack }, null, 2) + '\n' : gcText(r.guard, r.handedBack));
  if (!r.wouldFail) return 0;
  err(`cargo-isolate: ${r.wouldFail}\n`);
  return EXIT_CODES.floor; // as the real run would exit
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
  const root = (await existingRoot(s)) ?? s.root; // written anyway: cargo_isolate_root_present 0
  const text = await collectMetrics(root, s.diskThreshold, (m) => err(`warning: metrics: ${m}\n`), 'cli', s.hostArchives);
  const file = cl.flags.get('output')?.value;
  if (!file) out(text);
  else
    await writeMetrics(file, text).catch((e) => {
      throw failed(`Writing the metrics to ${file}`, e, {
        fixes: { ENOENT: "Create the directory (node_exporter's --collector.textfile.directory), or choose another --output" },
      });
    });
  return 0;
}

/** What dist/cli runs. A read that fails other than by absence, in any command, is a warning on stderr. */
export function runCli(argv: string[]): Promise<number> {
  tolerateClosedPipes();
  // What escapes every await (an error event nobody listens to) is said like the rest, then ends the command.
  const stray = (e: unknown) => process.exit(report(e, argv));
  onStray(stray);
  return reportReadsTo(consoleLog(), () => command(argv));
}

/** A failure of a command: one line on stderr (the stack too with --verbose); its exit code. */
function report(e: unknown, argv: string[]): number {
  const verbose = argv.includes('--verbose');
  const f: Explained = explain(e, { more: verbose ? 'the trace is below' : 'run it again with --verbose to see where' });
  const help = e instanceof UsageError ? `. See 'cargo-isolate help${e.command ? ` ${e.command}` : ''}'.` : '';
  err(`cargo-isolate: ${f.message}${help}\n`);
  if (verbose && f.stack) err(`${f.stack}\n`);
  return f.exitCode;
}

async function command(argv: string[]): Promise<number> {
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
        return await runDemo({ settingsFor: (ws) => settingsOf(cl, { 'working-directory': ws }), env: process.env, log: logOf(cl), say: err, show: out });
      case 'run': {
        if (cl.rest.length === 0) throw new UsageError('run needs a command after --, e.g. cargo-isolate run -- cargo test', 'run');
        return (await leaseAndRun({ settings: await settingsOf(cl), env: process.env, cmd: cl.rest, log: logOf(cl) })).code;
      }
    }
  } catch (e) {
    return report(e, argv);
  }
}
