import { type Origin, type Source } from './settings.js';

/*
 * The CLI's command line, pure. Flags are named as the action's inputs (`--disk-threshold`), so
 * one name serves the workflow, the runner's variables (CARGO_ISOLATE_DISK_THRESHOLD) and the
 * timer; settings.ts validates all three with the same messages. Tested with tables in
 * __tests__/cli.test.ts ("the command line") and settings.test.ts.
 */

export const COMMANDS = ['status', 'gc', 'run', 'forget', 'metrics', 'demo'] as const;
export type Command = (typeof COMMANDS)[number];

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
    help: "runner (this runner's idle data first) or host; gc: host unless set here",
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
    name: 'writable-sources',
    input: 'writable-sources',
    form: 'CRATES',
    commands: JOB,
    help: 'crates whose build scripts write next to their sources: left writable',
  },
  { name: 'working-directory', input: 'working-directory', form: 'DIR', commands: ['run'], help: "where to look for the workspace's Cargo.lock" },
  { name: 'manifest-path', input: 'manifest-path', form: 'FILE', commands: ['run'], help: "the workspace's Cargo.toml" },
  { name: 'repository', form: 'OWNER/NAME', commands: ['forget'], help: 'the repository of the PR or branch (default: $GITHUB_REPOSITORY)' },
  { name: 'pr', form: 'N', commands: ['forget'], help: 'the pull request that closed' },
  { name: 'branch', form: 'NAME', commands: ['forget'], help: 'the branch that was deleted' },
  { name: 'verbose', bool: true, commands: 'all', help: 'debug messages' },
  { name: 'version', bool: true, commands: 'all', help: 'print the version' },
  { name: 'help', bool: true, aliases: ['h'], commands: 'all', help: 'this text' },
];

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
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
const accepts = (f: FlagSpec, c: Command | undefined) => f.commands === 'all' || (c !== undefined && f.commands.includes(c));

/**
 * Pure: argv (without node and the script) into a command, its flags and, for `run`, the command
 * after `--`. Refuses with a plain sentence what it cannot mean: an unknown command or flag, a
 * flag another command takes, a missing value, a flag given twice, an argument nobody reads.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  const sep = argv.indexOf('--');
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  const rest = sep >= 0 ? argv.slice(sep + 1) : [];
  const flags: CommandLine['flags'] = new Map();
  const positionals: string[] = [];
  const seen: [FlagSpec, string][] = [];
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
    if (!spec || (m[1] === '-' && m[2] !== 'h') || (m[1] === '--' && m[2] === 'h')) throw new UsageError(`unknown option '${spelled}'`);
    if (flags.has(spec.name)) throw new UsageError(`option '${spelled}' is given twice`);
    let value = '';
    if (spec.bool) {
      if (m[3] !== undefined) throw new UsageError(`option '${spelled}' takes no value (got '${m[3]}')`);
    } else if (m[3] !== undefined) value = m[3];
    else if (i + 1 < own.length && !own[i + 1].startsWith('--')) value = own[++i];
    else throw new UsageError(`option '${spelled}' needs a value${spec.form ? ` (${spec.form})` : ''}`);
    flags.set(spec.name, { value, spelled });
    seen.push([spec, spelled]);
  }
  const [first, ...extra] = positionals;
  const help = flags.has('help') || flags.has('version');
  if (first !== undefined && !(COMMANDS as readonly string[]).includes(first)) throw new UsageError(`unknown command '${first}'`);
  const command = first as Command | undefined;
  if (!command && !help) throw new UsageError('no command given');
  if (extra.length) {
    throw new UsageError(
      `unexpected argument '${extra[0]}'${command === 'run' ? `: the command to run goes after --, e.g. cargo-isolate run -- ${[extra[0], ...extra.slice(1)].join(' ')}` : `: ${command} takes no arguments`}`,
    );
  }
  for (const [spec, spelled] of seen) {
    if (!accepts(spec, command))
      throw new UsageError(`option '${spelled}' does not apply to ${command ?? 'this command'} (it is for ${(spec.commands as Command[]).join(', ')})`);
  }
  if (rest.length && command !== 'run') throw new UsageError(`unexpected argument '${rest[0]}' after --: only run takes a command`);
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

/** Pure: the usage text, from the table (so it cannot drift from what is accepted). */
export function usage(): string {
  const line = (f: FlagSpec) => `  --${f.name}${f.form ? ` ${f.form}` : ''}`.padEnd(42) + f.help;
  const forCommand = (c: Command) => FLAGS.filter((f) => f.commands !== 'all' && f.commands.includes(c)).map(line);
  return [
    'usage: cargo-isolate <command> [options]',
    '',
    'commands:',
    '  status              the root: slots, leases (age, holder), sizes, stores, trash; warm starts',
    '  gc                  the disk guard for a host timer (host scope unless --prune-scope runner)',
    '  run -- CMD [ARG..]  lease directories, run CMD with them exported, release them',
    '  forget              a PR closed or a branch was deleted: its builds go first when the disk needs room',
    "  metrics             Prometheus text format for node_exporter's textfile collector",
    "  demo                two jobs build a small workspace in one slot, the second from the first's build",
    '',
    'Each setting comes from its flag, else the runner variable CARGO_ISOLATE_<INPUT> (from --env-file,',
    "then the environment), else its default. Flags are named as the action's inputs.",
    '',
    'every command:',
    ...FLAGS.filter((f) => f.commands === 'all').map(line),
    ...(['status', 'gc', 'run', 'forget', 'metrics'] as const).flatMap((c) => ['', `${c}:`, ...forCommand(c)]),
    '',
    'older names still accepted: --threshold, --target, --scope, --runner',
    '',
  ].join('\n');
}
