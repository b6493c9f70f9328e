import { type Origin, type Source, InputError } from './settings.js';
import { nearest } from './spelling.js';
import { Failure } from './failure.js';

/*
 * The CLI's command line, pure. Flags are named as the action's inputs (`--disk-threshold`), so
 * one name serves the workflow, the runner's variables (CARGO_ISOLATE_DISK_THRESHOLD) and the
 * timer; settings.ts validates all three with the same messages. Tested with tables in
 * __tests__/cli.test.ts ("the command line") and settings.test.ts.
 */

export const COMMANDS = ['status', 'gc', 'run', 'forget', 'metrics', 'demo'] as const;
export type Command = (typeof COMMANDS)[number];

/** What each command is for, in the words of its help: one line for the command list, then its own page. */
export const COMMAND_HELP: Record<Command, { usage: string; summary: string; about: string[]; examples: string[] }> = {
  status: {
    usage: 'cargo-isolate status [options]',
    summary: 'the root: slots, leases (age, holder), sizes, stores, trash; warm starts',
    about: [
      'Prints what the root holds: the disk, every slot with its lease (age and holder) or how long it',
      'has been idle, its trust domain and job, the crate and git stores, the trash, and the share of',
      'recent jobs that started warm per repository and job. A root that does not exist yet is no error.',
    ],
    examples: ['cargo-isolate status --env-file /home/runner/actions-runner/.env', 'cargo-isolate status --root /srv/ci/cargo-isolate --json'],
  },
  gc: {
    usage: 'cargo-isolate gc [options]',
    summary: 'the disk guard for a host timer (host scope unless --prune-scope runner)',
    about: [
      'Removes idle data (never a leased slot or a running build) until the disk is under --disk-target,',
      'and with --max-age every idle slot unused for that long. A timer guards the whole host: host scope',
      "whatever the runners' CARGO_ISOLATE_PRUNE_SCOPE. Run as root, it also removes and hands back what",
      'container jobs left as root. --dry-run lists each removal and exits as the real run would.',
    ],
    examples: ['cargo-isolate gc --env-file /home/runner/actions-runner/.env --max-age 7d', 'cargo-isolate gc --dry-run --disk-threshold 80%'],
  },
  run: {
    usage: 'cargo-isolate run [options] -- CMD [ARG...]',
    summary: 'lease directories, run CMD with them exported, release them',
    about: [
      "A job as the action runs one, for CI systems without GitHub's runner: the disk guard, a slot",
      'leased for this job, CMD run with CARGO_TARGET_DIR, CARGO_HOME, TMPDIR and the rest exported, then',
      "the slot released. The exit code is CMD's.",
    ],
    examples: ['cargo-isolate run -- cargo test --locked', 'cargo-isolate run --key aarch64 -- cargo build --target aarch64-unknown-linux-gnu'],
  },
  forget: {
    usage: 'cargo-isolate forget (--pr N | --branch NAME) [--repository OWNER/NAME]',
    summary: 'a PR closed or a branch was deleted: its builds go first when the disk needs room',
    about: [
      'Records on the host that a pull request closed or a branch was deleted: from then on its builds',
      'are worth nothing, and the guard removes them before anything else when the disk needs room. On',
      "GitHub, the action's run on 'pull_request: closed' does this; forget is for other CI systems.",
    ],
    examples: ['cargo-isolate forget --repository acme/widgets --pr 12', 'cargo-isolate forget --repository acme/widgets --branch feature/login'],
  },
  metrics: {
    usage: 'cargo-isolate metrics [options]',
    summary: "Prometheus text format for node_exporter's textfile collector",
    about: [
      "The root in Prometheus's text format: slots by state, bytes, the disk, leases, guard runs, warm",
      'starts. With --output, written atomically for node_exporter (docs/metrics.md).',
    ],
    examples: ['cargo-isolate metrics --env-file /home/runner/actions-runner/.env --output /var/lib/prometheus/node-exporter/cargo-isolate.prom'],
  },
  demo: {
    usage: 'cargo-isolate demo [options]',
    summary: "two jobs build a small workspace in one slot, the second from the first's build",
    about: [
      'Two jobs of a push to main build a two-crate workspace, the second in the slot the first warmed:',
      'what each job got and what cargo did, then the status of the root. Needs cargo.',
    ],
    examples: ['cargo-isolate demo', 'cargo-isolate demo --root /tmp/cargo-isolate-demo'],
  },
};

export interface FlagSpec {
  /** The flag without `--`: the action's input name where it is one. */
  name: string;
  /** The input it sets (settings.ts); undefined for the CLI's own flags. */
  input?: string;
  /** Takes no value: present or not. */
  bool?: boolean;
  /** The value's form, for the usage text. */
  form?: string;
  /** Earlier names still accepted (systemd units written for older versions use them). */
  aliases?: string[];
  commands: readonly Command[] | 'all';
  help: string;
}

const JOB: Command[] = ['run', 'demo'];
const GUARD: Command[] = ['gc', 'run', 'demo'];

export const FLAGS: FlagSpec[] = [
  { name: 'root', input: 'root', form: 'DIR', commands: 'all', help: 'the root (default: $CARGO_ISOLATE_ROOT, else ~/.cache/cargo-isolate)' },
  { name: 'env-file', form: 'FILE', commands: 'all', help: "read CARGO_ISOLATE_* from a runner's .env (between the flags and the environment)" },
  { name: 'json', bool: true, commands: ['status', 'gc'], help: 'machine-readable output' },
  { name: 'output', form: 'FILE', commands: ['metrics'], help: "write FILE atomically (node_exporter's textfile directory) instead of stdout" },
  {
    name: 'disk-threshold',
    input: 'disk-threshold',
    form: 'LEVEL',
    aliases: ['threshold'],
    commands: [...GUARD, 'metrics'],
    help: 'prune above this: 85% used or 20GiB free',
  },
  { name: 'disk-target', input: 'disk-target', form: 'LEVEL', aliases: ['target'], commands: GUARD, help: 'where pruning stops' },
  {
    name: 'prune-scope',
    input: 'prune-scope',
    form: 'host|runner',
    aliases: ['scope'],
    commands: GUARD,
    help: "runner: only this runner's idle data and no runner's; host: whoever's (gc: host unless set)",
  },
  {
    name: 'disk-hard-threshold',
    input: 'disk-hard-threshold',
    form: 'LEVEL',
    aliases: ['hard'],
    commands: GUARD,
    help: "over this, runner scope frees any runner's idle data (default: room for the largest build seen)",
  },
  { name: 'runner-name', input: 'runner-name', form: 'NAME', aliases: ['runner'], commands: GUARD, help: 'who "this runner" is for prune-scope runner' },
  { name: 'max-age', form: 'DURATION', commands: ['gc'], help: 'also remove idle slots unused for this long, e.g. 7d' },
  { name: 'dry-run', input: 'dry-run', bool: true, commands: GUARD, help: 'say what the guard would remove, remove nothing' },
  { name: 'fail-below', input: 'fail-below', form: 'SIZE', commands: GUARD, help: 'exit 2 when less than this stays free, e.g. 5GiB' },
  { name: 'cleanup-timeout', input: 'cleanup-timeout', form: 'DURATION', commands: GUARD, help: 'time bound for each deletion' },
  { name: 'layout', input: 'layout', form: 'slot|job', commands: JOB, help: 'stable slots, or a new directory per job' },
  { name: 'reuse', input: 'reuse', form: 'same-key|never|always', commands: JOB, help: "when a slot's content is kept" },
  { name: 'key', input: 'key', form: 'TEXT', commands: ['run'], help: 'what the job name cannot tell apart (matrix legs)' },
  { name: 'lease-wait', input: 'lease-wait', form: 'DURATION', commands: JOB, help: 'wait this long for an earlier run of the same job' },
  { name: 'max-lease', input: 'max-lease', form: 'DURATION', commands: JOB, help: 'longest lease' },
  { name: 'publish-crates', input: 'publish-crates', form: 'trusted|always|never', commands: JOB, help: "add new crates to the host's store" },
  {
    name: 'host-archives',
    input: 'host-archives',
    form: 'SHARE|SIZE|off',
    commands: [...JOB, 'status', 'metrics'],
    help: "disk the host's dependency archives may take: 10% of the root's filesystem, 20GiB, or off",
  },
  {
    name: 'writable-sources',
    input: 'writable-sources',
    form: 'CRATES',
    commands: JOB,
    help: 'crates whose build scripts write next to their sources: left writable',
  },
  {
    name: 'archive-store',
    input: 'archive-store',
    form: 'DIR',
    commands: ['run'],
    help: 'a directory every host mounts, where hosts share dependency archives (none unless set)',
  },
  { name: 'working-directory', input: 'working-directory', form: 'DIR', commands: ['run'], help: "where to look for the workspace's Cargo.lock" },
  { name: 'manifest-path', input: 'manifest-path', form: 'FILE', commands: ['run'], help: "the workspace's Cargo.toml" },
  { name: 'repository', form: 'OWNER/NAME', commands: ['forget'], help: 'the repository of the PR or branch (default: $GITHUB_REPOSITORY)' },
  { name: 'pr', form: 'N', commands: ['forget'], help: 'the pull request that closed' },
  { name: 'branch', form: 'NAME', commands: ['forget'], help: 'the branch that was deleted' },
  { name: 'verbose', bool: true, commands: 'all', help: 'debug messages' },
  { name: 'version', bool: true, commands: 'all', help: 'print the version' },
  { name: 'help', bool: true, aliases: ['h'], commands: 'all', help: "this text, or a command's own ('cargo-isolate help gc')" },
];

export class UsageError extends Failure {
  /** The command whose help the message points to, when it is known. */
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message, 'input');
    this.name = 'UsageError';
  }
}

export interface CommandLine {
  command?: Command;
  /** By canonical flag name: the value ('' for a boolean) and the spelling used. */
  flags: Map<string, { value: string; spelled: string }>;
  /** `run`: the command after `--`. */
  rest: string[];
}

const specOf = (name: string) => FLAGS.find((f) => f.name === name || f.aliases?.includes(name));
const FLAG_NAMES = FLAGS.map((f) => f.name);
const accepts = (f: FlagSpec, c: Command | undefined) => f.commands === 'all' || (c !== undefined && f.commands.includes(c));
const didYouMean = (word: string, known: readonly string[], prefix = '') => {
  const n = nearest(word, known);
  return n ? `: did you mean '${prefix}${n}'?` : '';
};

/**
 * Pure: argv (without node and the script) into a command, its flags and, for `run`, the command
 * after `--`. Refuses with a plain sentence what it cannot mean: an unknown command or flag (with
 * the nearest known one), a flag another command takes, a missing or empty value, a flag given
 * twice, an argument nobody reads. `help CMD` is `CMD --help`.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  const sep = argv.indexOf('--');
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  const rest = sep >= 0 ? argv.slice(sep + 1) : [];
  const flags: CommandLine['flags'] = new Map();
  const positionals: string[] = [];
  const seen: [FlagSpec, string][] = [];
  // Which command's help a refusal points to, before the command line is read whole.
  const guess = own.find((a) => (COMMANDS as readonly string[]).includes(a)) as Command | undefined;
  for (let i = 0; i < own.length; i++) {
    const arg = own[i];
    const m = /^(--?)([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!m || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const spelled = `${m[1]}${m[2]}`;
    const spec = specOf(m[2]);
    // A single dash is only for -h; everything else is spelled --name.
    if (!spec || (m[1] === '-' && m[2] !== 'h') || (m[1] === '--' && m[2] === 'h'))
      throw new UsageError(`unknown option '${spelled}'${didYouMean(m[2], FLAG_NAMES, '--')}`, guess);
    if (flags.has(spec.name)) throw new UsageError(`option '${spelled}' is given twice`, guess);
    let value = '';
    if (spec.bool) {
      if (m[3] !== undefined) throw new UsageError(`option '${spelled}' takes no value (got '${m[3]}')`, guess);
    } else if (m[3] !== undefined) value = m[3];
    else if (i + 1 < own.length && !own[i + 1].startsWith('--')) value = own[++i];
    else throw new UsageError(`option '${spelled}' needs a value${spec.form ? ` (${spec.form})` : ''}`, guess);
    // An empty value is most often a variable of a script that was not set (--root "$ROOT"):
    // taking it as "not given" would quietly use the default, another root or level.
    if (!spec.bool && value.trim() === '')
      throw new UsageError(
        `option '${spelled}' is empty (a variable that is not set?): give ${spec.form ?? 'a value'}, or leave the option out for its default`,
        guess,
      );
    flags.set(spec.name, { value, spelled });
    seen.push([spec, spelled]);
  }
  let [first, ...extra] = positionals;
  if (first === 'help') {
    // `help` and `help CMD`: the same as `--help` and `CMD --help`.
    flags.set('help', { value: '', spelled: '--help' });
    [first, ...extra] = extra;
  }
  const help = flags.has('help') || flags.has('version');
  if (first !== undefined && !(COMMANDS as readonly string[]).includes(first)) throw new UsageError(`unknown command '${first}'${didYouMean(first, COMMANDS)}`);
  const command = first as Command | undefined;
  if (!command && !help) throw new UsageError('no command given');
  if (extra.length) {
    throw new UsageError(
      `unexpected argument '${extra[0]}'` +
        (command === 'run' ? `: the command to run goes after --, e.g. cargo-isolate run -- ${extra.join(' ')}` : `: ${command ?? 'help'} takes no arguments`),
      command,
    );
  }
  for (const [spec, spelled] of seen) {
    if (!accepts(spec, command))
      throw new UsageError(
        `option '${spelled}' does not apply to ${command ?? 'this command'} (it is for ${(spec.commands as Command[]).join(', ')})`,
        command,
      );
  }
  if (rest.length && command !== 'run') throw new UsageError(`unexpected argument '${rest[0]}' after --: only run takes a command`, command);
  return { command, flags, rest };
}

/** The flags as a source of settings: each value with the flag the user typed. */
export function fromFlags(cl: CommandLine): Source {
  const byInput = (n: string) => FLAGS.find((f) => f.input === n);
  return {
    get: (n) => {
      const f = byInput(n);
      const v = f && cl.flags.get(f.name);
      return v ? (f.bool ? 'true' : v.value) : '';
    },
    origin: (n): Origin => ({ kind: 'flag', name: cl.flags.get(byInput(n)?.name ?? '')?.spelled ?? `--${n}` }),
  };
}

const flagLine = (f: FlagSpec) => `  --${f.name}${f.form ? ` ${f.form}` : ''}`.padEnd(30) + f.help;
const EVERY = () => FLAGS.filter((f) => f.commands === 'all');

/** Pure: the global usage text: the commands, the flags every command takes, where each command's own help is. */
export function usage(): string {
  return [
    'usage: cargo-isolate <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.padEnd(10)}${COMMAND_HELP[c].summary}`),
    '',
    'Each setting comes from its flag, else the runner variable CARGO_ISOLATE_<INPUT> (from --env-file,',
    "then the environment), else its default. Flags are named as the action's inputs.",
    '',
    'every command:',
    ...EVERY().map(flagLine),
    '',
    "A command's own options and examples: 'cargo-isolate help <command>' or 'cargo-isolate <command> --help'.",
    '',
  ].join('\n');
}

/** Pure: one command's help, from the tables (so it cannot drift from what the command accepts). */
export function commandUsage(c: Command): string {
  const h = COMMAND_HELP[c];
  const own = FLAGS.filter((f) => f.commands !== 'all' && f.commands.includes(c));
  const older = own.flatMap((f) => (f.aliases ?? []).map((a) => `--${a}`));
  return [
    `usage: ${h.usage}`,
    '',
    ...h.about,
    '',
    ...(own.length ? ['options:', ...own.map(flagLine), ''] : []),
    'every command:',
    ...EVERY().map(flagLine),
    '',
    'examples:',
    ...h.examples.map((e) => `  ${e}`),
    '',
    ...(older.length ? [`older names still accepted: ${older.join(', ')}`, ''] : []),
  ].join('\n');
}

/** `OWNER/NAME` as GitHub and Forgejo allow them: letters, digits, `.`, `_`, `-`; never `.` or `..`. */
const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9._-]*\/(?!\.\.?$)[A-Za-z0-9._-]+$/;
/** What git refuses in a branch name (git check-ref-format), and what no branch name holds. */
// eslint-disable-next-line no-control-regex
const NOT_A_BRANCH = /[\s~^:?*[\\\u0000-\u001f\u007f]|\.\.|@\{|^[-/.]|[/.]$|\/\/|\.lock$|^@$/;
/** Branches that are usually the base every first run of a repository starts from. */
const USUAL_BASES = ['main', 'master', 'develop', 'trunk'];

/**
 * Pure: what `forget` forgets, from its flags and the environment: the repository, the trust
 * domain (a PR's or a branch's) and a note when the branch is usually a base. Refuses with the
 * flag's name what cannot be meant: neither or both of --pr and --branch, a PR number that is not
 * one, a repository or branch name GitHub would not allow.
 */
export function forgetTarget(cl: CommandLine, env: Record<string, string | undefined>): { repository: string; pr?: number; branch?: string; note?: string } {
  const flag = (n: string) => cl.flags.get(n);
  const pr = flag('pr');
  const branch = flag('branch');
  if (!pr && !branch) throw new UsageError('forget needs --pr N (a pull request that closed) or --branch NAME (a branch that was deleted)', 'forget');
  if (pr && branch)
    throw new UsageError(`forget takes --pr or --branch, not both (got ${pr.spelled} ${pr.value} and ${branch.spelled} ${branch.value})`, 'forget');
  const repo = flag('repository');
  const repository = repo?.value.trim() || env.GITHUB_REPOSITORY?.trim() || '';
  const repoOrigin: Origin = repo ? { kind: 'flag', name: repo.spelled } : { kind: 'variable', name: 'GITHUB_REPOSITORY' };
  if (!repository) throw new UsageError('forget needs --repository OWNER/NAME (or GITHUB_REPOSITORY): the repository of the PR or branch', 'forget');
  if (!REPOSITORY.test(repository)) {
    const hint = /github\.com[/:]([^/\s]+\/[^/\s]+?)(?:\.git)?\/?$/.exec(repository)?.[1];
    throw new InputError(repoOrigin, repository, 'a repository as OWNER/NAME (e.g. acme/widgets)', hint ? `did you mean ${hint}?` : undefined);
  }
  if (pr) {
    const v = pr.value.trim();
    if (!/^[1-9]\d{0,9}$/.test(v)) {
      const hint = /^#?0*([1-9]\d{0,9})$/.exec(v)?.[1];
      throw new InputError({ kind: 'flag', name: pr.spelled }, pr.value, 'a PR number such as 12', hint ? `did you mean ${hint}?` : undefined);
    }
    return { repository, pr: Number(v) };
  }
  const name = branch!.value.trim();
  if (NOT_A_BRANCH.test(name) || /^refs\//.test(name)) {
    const hint = /^refs\/heads\/(.+)$/.exec(name)?.[1];
    throw new InputError(
      { kind: 'flag', name: branch!.spelled },
      branch!.value,
      'a branch name as git allows it (e.g. feature/login)',
      hint ? `did you mean ${hint}?` : undefined,
    );
  }
  const note = USUAL_BASES.includes(name)
    ? `${name} is usually the base branch every first run of ${repository} starts from; if it was not deleted, its next run makes its builds count again`
    : undefined;
  return { repository, branch: name, note };
}
