import { homedir } from 'node:os';
import { join } from 'node:path';
import { Failure } from './failure.js';
import { type Level, formatBytes, parseDuration, parseLevel, parseSize, unitHint } from './units.js';
import { ARCHIVE_STORE_FORM, type ArchiveStore, parseArchiveStore } from './archive-store.js';

/*
 * Every input, read and validated once, from wherever it is set: the action's inputs, the runner's
 * CARGO_ISOLATE_* variables (the hooks), the CLI's flags and --env-file; each message names what
 * the user set, the value and the accepted form.
 */

/**
 * Every input of action.yml, read once, validated and normalised. Nothing else reads inputs.
 * The README's input table is checked against action.yml by __tests__/docs.test.ts.
 */
export interface Settings {
  /** Absolute path of the directory that holds slots, jobs, trash, locks and the crate store. */
  root: string;
  /** Who set the root (input, variable, flag or the default), for messages about it. */
  rootOrigin?: Origin;
  layout: 'slot' | 'job';
  reuse: 'same-key' | 'never' | 'always';
  /** How long to wait for a dying predecessor that still holds the preferred slot. */
  leaseWaitMs: number;
  /** Upper bound on one lease: a hung job that never ends cannot pin a slot forever. */
  maxLeaseMs: number;
  diskThreshold: Level;
  diskTarget: Level;
  /**
   * Over this, a guard in runner scope frees any runner's idle data (policy.ts scopeOf): the scope
   * is never why a job fails for disk. Undefined: room for the largest build the host has seen
   * (policy.ts hardLevel).
   */
  diskHardThreshold?: Level;
  pruneScope: 'runner' | 'host';
  dryRun: boolean;
  /** Fail the job when free space stays below this after pruning; undefined = never fail. */
  failBelowBytes?: number;
  publishCrates: 'always' | 'trusted' | 'never';
  cache: boolean;
  /** Cargo.lock search start: a manifest path or a working directory. */
  manifestPath?: string;
  workingDirectory: string;
  cleanupTimeoutMs: number;
  /** The operator's name for this runner (else CARGO_ISOLATE_RUNNER, RUNNER_NAME, ...). */
  runnerName?: string;
  /** What the job name cannot tell apart (matrix legs), as rust-cache's `key`. */
  jobKey: string;
  /** Where the hosts of a fleet share dependency archives (model/archive-store.ts): none unless set. */
  archiveStore: ArchiveStore;
  /** How much of the root's filesystem the host's dependency archives may take (store/archive.ts, job/tiers.ts); off: no host tier. */
  hostArchives: ArchiveCap;
  /** The levels and the floor as the user set them, with their origin: for a message once the disk is measured. */
  setLevels?: Partial<Record<'disk-threshold' | 'disk-target' | 'disk-hard-threshold' | 'fail-below', { text: string; origin: Origin }>>;
  /**
   * Registry crates whose build scripts write next to their own sources: their extracted sources
   * in the shared CARGO_HOME are left writable (still verified at every job start).
   */
  writableSources: string[];
}

/** The host tier's cap: a share of the root's filesystem, a size, or no host tier at all. */
export type ArchiveCap = { kind: 'off' } | { kind: 'share'; percent: number } | { kind: 'size'; bytes: number };

/** Pure: the cap in bytes on a filesystem of `totalBytes` (0 when off). */
export const archiveCapBytes = (c: ArchiveCap, totalBytes: number): number =>
  c.kind === 'off' ? 0 : c.kind === 'size' ? c.bytes : Math.floor((totalBytes * c.percent) / 100);

/** Pure: the cap as a person reads it: `10% of the disk`, `20.0 GiB`, `off`. */
export const formatArchiveCap = (c: ArchiveCap): string => (c.kind === 'off' ? 'off' : c.kind === 'size' ? formatBytes(c.bytes) : `${c.percent}% of the disk`);

/**
 * Where a value came from, in the words the user wrote it: the action's input, the runner's
 * variable (in the process's environment or a runner's .env file) or the CLI's flag. Every
 * message about a value names its origin this way, so the same check serves all three.
 */
export interface Origin {
  kind: 'input' | 'variable' | 'flag' | 'default';
  /** `disk-threshold`, `CARGO_ISOLATE_DISK_THRESHOLD`, `--disk-threshold` (or the alias typed). */
  name: string;
  /** The .env file a variable was read from (`cargo-isolate --env-file`). */
  file?: string;
}

/** Pure: the subject of a message: `Input 'disk-threshold'`, `Variable CARGO_ISOLATE_DISK_THRESHOLD`, `Option '--disk-threshold'`. */
export function subjectOf(o: Origin): string {
  if (o.kind === 'variable') return `Variable ${o.name}${o.file ? ` (in ${o.file})` : ''}`;
  if (o.kind === 'flag') return `Option '${o.name}'`;
  if (o.kind === 'default') return `The default ${o.name}`;
  return `Input '${o.name}'`;
}

/** Pure: how a message refers to another setting: `'disk-threshold'`, `CARGO_ISOLATE_DISK_THRESHOLD`, `--disk-threshold`. */
export const refOf = (o: Origin): string => (o.kind === 'input' ? `'${o.name}'` : o.kind === 'default' ? `the default ${o.name}` : o.name);

export class InputError extends Failure {
  /** A setting's refusal (`Input 'x' is 'v': hint. Expected form.`), or `{ message }` for one that is not about a single value. */
  constructor(origin: Origin | string | { message: string }, value = '', expected = '', hint?: string) {
    if (typeof origin === 'object' && 'message' in origin) super(origin.message, 'input');
    else {
      const o: Origin = typeof origin === 'string' ? { kind: 'input', name: origin } : origin;
      super(`${subjectOf(o)} is '${value}'${hint ? `: ${hint} ` : '. '}Expected ${expected}.`, 'input');
    }
    this.name = 'InputError';
  }
}

type Get = (name: string) => string;

/** Settings read from somewhere other than the action's inputs: each value with its origin. */
export interface Source {
  /** The raw text for an input name ('' when unset). */
  get: Get;
  origin(input: string): Origin;
}

/** Inputs an operator may set for every job of a runner or host; the rest are per job (key, paths) or need a token (cache). */
export const RUNNER_INPUTS = [
  'root',
  'layout',
  'reuse',
  'lease-wait',
  'max-lease',
  'disk-threshold',
  'disk-target',
  'disk-hard-threshold',
  'prune-scope',
  'runner-name',
  'dry-run',
  'fail-below',
  'cleanup-timeout',
  'publish-crates',
  'archive-store',
  'host-archives',
  'writable-sources',
] as const;

/** Pure: the runner variable for an input. runner-name keeps the name identity.ts already reads. */
export function variableOf(input: string): string {
  return input === 'runner-name' ? 'CARGO_ISOLATE_RUNNER' : `CARGO_ISOLATE_${input.toUpperCase().replace(/-/g, '_')}`;
}

/** The runner's `CARGO_ISOLATE_*` variables as settings (runner hooks, the CLI), from an environment or a .env file. */
export function fromVariables(env: Record<string, string | undefined>, file?: string): Source {
  const allowed: readonly string[] = RUNNER_INPUTS;
  return {
    get: (n) => (allowed.includes(n) ? (env[variableOf(n)] ?? '') : ''),
    origin: (n) => ({ kind: 'variable', name: variableOf(n), file }),
  };
}

/** The first source that sets an input wins (the CLI: flag, then variable); none: the default. */
export function firstOf(...sources: Source[]): Source {
  const pick = (n: string) => sources.find((src) => src.get(n).trim() !== '');
  return { get: (n) => pick(n)?.get(n) ?? '', origin: (n) => pick(n)?.origin(n) ?? { kind: 'default', name: n } };
}

/** Pure: a .env file's lines as the runner splits them (.NET's ReadAllLines: CRLF, LF or CR; a BOM dropped). */
export const envLines = (text: string): string[] => text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);

/**
 * Pure: the runner's .env file as the runner reads it (actions/runner, Runner.Listener's
 * LoadAndSetEnv): one NAME=value per line, split at the first '=', the value verbatim; no
 * comments, quotes or trimming. A line without '=' (or starting with it) sets nothing.
 * model/variables.ts says what in such a file is not what its writer meant.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of envLines(text)) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

const LEVEL_FORM = 'a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB)';

/**
 * The default of every input that has one, in one place and in the form action.yml states it
 * (__tests__/decisions.test.ts checks that the two agree): readSettings reads an unset input as
 * its default, and whatever else needs one (the hooks, the fleet simulator) reads it here.
 */
export const DEFAULTS = {
  layout: 'slot',
  reuse: 'same-key',
  'lease-wait': '60s',
  'max-lease': '24h',
  'disk-threshold': '85%',
  'prune-scope': 'runner',
  'dry-run': 'false',
  'publish-crates': 'trusted',
  cache: 'false',
  'cleanup-timeout': '120s',
  'host-archives': '10%',
} as const;
const defaultOf = (name: string): string => (DEFAULTS as Record<string, string>)[name] ?? '';

/** The default cleanup-timeout in ms: the limit of a removal or hand-back whose caller names none. */
export const DEFAULT_CLEANUP_TIMEOUT_MS = parseDuration(DEFAULTS['cleanup-timeout'])!;

/**
 * Where pruning stops when the user names only a threshold: just under the threshold itself.
 * The target is also the level under which a job makes a new slot rather than wipe a warm
 * build (choose.ts), so it is how much of the disk the pool keeps builds on. Measured on the
 * fleet simulation (docs/simulation.md, "The guard's levels"): every point of target under the
 * threshold leaves a point of the disk unused and loses warm starts (10 points under it lost 3
 * to 7 points of the clairvoyant reference's warm starts where the disk is scarce, and even 3
 * points under it lost to plain LRU where everything just fits), while the guard removes the
 * same bytes a day whatever the target: only more often, about one build per run instead of two.
 */
export function defaultTarget(threshold: Level): Level {
  return threshold;
}

function targetIsBelow(threshold: Level, target: Level): boolean {
  if (threshold.kind === 'percent' && target.kind === 'percent') return target.percent <= threshold.percent;
  if (threshold.kind === 'free' && target.kind === 'free') return target.bytes >= threshold.bytes;
  return false; // mixed forms: refused before this is asked
}

const KIND_TEXT = { percent: 'a percentage', free: 'a free-space floor' } as const;

/**
 * Pure, once the disk is measured: a level or floor the user set that no disk of this size can
 * meet (a free-space floor at or above the filesystem's whole size: every job would prune
 * everything idle, or fail), as the refusal to give; undefined when every one can be met.
 */
export function beyondDisk(
  s: Pick<Settings, 'diskThreshold' | 'diskTarget' | 'failBelowBytes' | 'setLevels'>,
  totalBytes: number,
  where: string,
): InputError | undefined {
  const checks: ['disk-threshold' | 'disk-target' | 'fail-below', number | undefined, string][] = [
    ['disk-threshold', s.diskThreshold.kind === 'free' ? s.diskThreshold.bytes : undefined, 'every job would find the disk over it and prune everything idle'],
    ['disk-target', s.diskTarget.kind === 'free' ? s.diskTarget.bytes : undefined, 'every guard run would prune everything idle'],
    ['fail-below', s.failBelowBytes, 'every job would fail'],
  ];
  for (const [name, bytes, cost] of checks) {
    const set = s.setLevels?.[name];
    if (bytes === undefined || bytes < totalBytes || !set) continue;
    return new InputError(
      set.origin,
      set.text,
      `a size under ${formatBytes(totalBytes)}${name === 'fail-below' ? ' (e.g. 5GiB)' : ', e.g. 20GiB, or a percentage such as 85%'}`,
      `the filesystem of ${where} holds ${formatBytes(totalBytes)} in all, so ${cost}.`,
    );
  }
  return undefined;
}

/** Pure: `10%`, `20GiB`, `off` (or `0`) as a cap; undefined when it is none of them. */
export function archiveCap(text: string): ArchiveCap | undefined {
  const t = text.trim();
  if (t === 'off' || t === '0' || t === '0%') return { kind: 'off' };
  const p = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (p) {
    const percent = parseFloat(p[1]);
    return percent > 0 && percent < 100 ? { kind: 'share', percent } : undefined;
  }
  const bytes = parseSize(t);
  return bytes !== undefined && bytes > 0 ? { kind: 'size', bytes } : undefined;
}

/** The host tier's cap when nothing sets `host-archives` (DEFAULTS). */
export const DEFAULT_ARCHIVE_CAP: ArchiveCap = archiveCap(DEFAULTS['host-archives'])!;

export function defaultRoot(env: Record<string, string | undefined>): string {
  if (env.CARGO_ISOLATE_ROOT) return env.CARGO_ISOLATE_ROOT;
  // Outside RUNNER_TEMP (emptied every job) and outside the workspace (cleaned by checkout).
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'cargo-isolate');
}

/** Pure: where the root came from when nothing set it: CARGO_ISOLATE_ROOT, else the default path. */
export const defaultRootOrigin = (env: Record<string, string | undefined>): Origin =>
  env.CARGO_ISOLATE_ROOT ? { kind: 'variable', name: 'CARGO_ISOLATE_ROOT' } : { kind: 'default', name: 'root' };

/**
 * Reads every setting once, from the action's inputs (`get`) or another source (the runner's
 * variables, the CLI's flags); every refusal names the value's origin (`Input 'disk-threshold'`,
 * `Variable CARGO_ISOLATE_DISK_THRESHOLD`, `Option '--disk-threshold'`). A bare number is refused
 * wherever a unit is needed, with a hint (`'85': did you mean 85% or 85GiB?`).
 */
export function readSettings(from: Get | Source, env: Record<string, string | undefined> = process.env): Settings {
  const src: Source = typeof from === 'function' ? { get: from, origin: (n) => ({ kind: 'input', name: n }) } : from;
  const read = (name: string) => src.get(name).trim() || defaultOf(name);
  const refuse = (name: string, value: string, expected: string, hint?: string) => new InputError(src.origin(name), value, expected, hint);

  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T => {
    const v = read(name);
    if ((allowed as readonly string[]).includes(v)) return v as T;
    throw refuse(name, v, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  };
  const bool = (name: string): boolean => {
    const v = read(name);
    if (['true', 'True', 'TRUE'].includes(v)) return true;
    if (['false', 'False', 'FALSE'].includes(v)) return false;
    throw refuse(name, v, `'true' or 'false'`);
  };
  const duration = (name: string, min = 0): number => {
    const v = read(name);
    const ms = parseDuration(v);
    if (ms === undefined || ms < min) {
      throw refuse(name, v, `a duration such as 30s, 5m or 2h${min ? ` of at least ${min / 1000}s` : ''}`, unitHint(v, 'duration'));
    }
    return ms;
  };
  const level = (name: string): Level | undefined => {
    const v = read(name);
    if (v === '') return undefined;
    const l = parseLevel(v);
    if (!l) throw refuse(name, v, LEVEL_FORM, unitHint(v, 'level'));
    return l;
  };
  /** A short single-line label: it is recorded in slot.json and compared, never used as a path. */
  const label = (name: string, example: string): string => {
    const v = read(name);
    // Control characters are what this refuses: a label goes into file names and log lines.
    // eslint-disable-next-line no-control-regex
    if (v.length > 200 || /[\u0000-\u001f\u007f]/.test(v))
      throw refuse(name, v.length > 60 ? `${v.slice(0, 60)}...` : v, `one line of at most 200 characters (e.g. ${example})`);
    return v;
  };

  /** Crate names, separated by commas, spaces or new lines (a YAML block). */
  const crateNames = (name: string, raw: string): string[] => {
    const names = raw.split(/[\s,]+/).filter(Boolean);
    const bad = names.find((n) => !/^[A-Za-z0-9_-]{1,64}$/.test(n));
    if (bad !== undefined)
      throw refuse(name, raw, 'crate names separated by commas or spaces (e.g. maili-registry, jemalloc-sys)', `'${bad}' is not a crate name.`);
    return names;
  };

  const diskThreshold = level('disk-threshold')!; // it has a default
  // 85% used and 20GiB free can only be compared on a disk of known size, and which level the
  // guard acts at would then depend on the disk: every level of one kind, the threshold's.
  const sameKind = (name: 'disk-target' | 'disk-hard-threshold', l: Level | undefined, example: Record<Level['kind'], string>, orNone: string) => {
    if (!l || l.kind === diskThreshold.kind) return;
    const t = refOf(src.origin('disk-threshold'));
    throw refuse(
      name,
      read(name),
      `${KIND_TEXT[diskThreshold.kind]} as ${t} is (e.g. ${example[diskThreshold.kind]})${orNone}`,
      `${t} is ${KIND_TEXT[diskThreshold.kind]} (${read('disk-threshold')}), ` +
        `and ${name === 'disk-target' ? 'a target' : 'a hard level'} of another kind cannot be compared with it.`,
    );
  };
  const diskTarget = level('disk-target') ?? defaultTarget(diskThreshold);
  sameKind('disk-target', diskTarget, { percent: '80%', free: '25GiB' }, ', or none: it then stops at the threshold');
  if (!targetIsBelow(diskThreshold, diskTarget)) {
    throw refuse('disk-target', read('disk-target'), `a level at or below ${refOf(src.origin('disk-threshold'))} (${read('disk-threshold')})`);
  }
  const diskHardThreshold = level('disk-hard-threshold');
  sameKind('disk-hard-threshold', diskHardThreshold, { percent: '95%', free: '5GiB' }, '');
  if (diskHardThreshold && !targetIsBelow(diskHardThreshold, diskThreshold)) {
    throw refuse('disk-hard-threshold', read('disk-hard-threshold'), `a level at or above ${refOf(src.origin('disk-threshold'))} (${read('disk-threshold')})`);
  }
  const failBelowRaw = read('fail-below');
  let failBelowBytes: number | undefined;
  if (failBelowRaw !== '' && parseFloat(failBelowRaw) !== 0) {
    failBelowBytes = parseSize(failBelowRaw);
    if (failBelowBytes === undefined || failBelowBytes <= 0) {
      throw refuse('fail-below', failBelowRaw, 'a free-space size such as 5GiB, or empty to never fail', unitHint(failBelowRaw, 'size'));
    }
  }
  const hostArchivesRaw = read('host-archives');
  const hostArchives = archiveCap(hostArchivesRaw);
  if (!hostArchives) {
    throw refuse(
      'host-archives',
      hostArchivesRaw,
      "a share of the root's filesystem (e.g. 10%), a size (e.g. 20GiB), or 'off'",
      unitHint(hostArchivesRaw, 'level'),
    );
  }
  const rootRaw = read('root');
  // As the root: an operator sets the store once for a runner (its .env), and the action's input defaults to it.
  const storeRaw = read('archive-store') || (env.CARGO_ISOLATE_ARCHIVE_STORE ?? '').trim();
  const storeOrigin: Origin = read('archive-store') ? src.origin('archive-store') : { kind: 'variable', name: 'CARGO_ISOLATE_ARCHIVE_STORE' };
  const archiveStore = parseArchiveStore(storeRaw);
  if ('hint' in archiveStore) throw new InputError(storeOrigin, storeRaw, ARCHIVE_STORE_FORM, archiveStore.hint);
  if (archiveStore.kind === 'actions-cache' && storeOrigin.kind === 'flag')
    throw new InputError(
      storeOrigin,
      storeRaw,
      'the absolute path of a directory every host mounts (e.g. /mnt/ci-archives)',
      "the Actions cache service needs the runtime token that only a workflow's action steps get, which a command on the host never has.",
    );
  const setLevels: Settings['setLevels'] = {};
  for (const n of ['disk-threshold', 'disk-target', 'disk-hard-threshold', 'fail-below'] as const)
    if (read(n)) setLevels[n] = { text: read(n), origin: src.origin(n) };
  return {
    root: rootRaw || defaultRoot(env),
    rootOrigin: rootRaw ? src.origin('root') : defaultRootOrigin(env),
    layout: oneOf('layout', ['slot', 'job'] as const),
    reuse: oneOf('reuse', ['same-key', 'never', 'always'] as const),
    leaseWaitMs: duration('lease-wait'),
    maxLeaseMs: duration('max-lease', 60_000),
    diskThreshold,
    diskTarget,
    diskHardThreshold,
    pruneScope: oneOf('prune-scope', ['runner', 'host'] as const),
    dryRun: bool('dry-run'),
    failBelowBytes,
    publishCrates: oneOf('publish-crates', ['always', 'trusted', 'never'] as const),
    cache: bool('cache'),
    manifestPath: read('manifest-path') || undefined,
    workingDirectory: read('working-directory') || env.GITHUB_WORKSPACE || process.cwd(),
    cleanupTimeoutMs: duration('cleanup-timeout', 1000),
    runnerName: label('runner-name', 'build-host-3') || undefined,
    jobKey: label('key', '${{ matrix.target }}'),
    archiveStore,
    hostArchives,
    setLevels,
    writableSources: crateNames('writable-sources', read('writable-sources')),
  };
}
