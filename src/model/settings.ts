import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Level, parseDuration, parseLevel, parseSize } from './units.js';

/**
 * Every input of action.yml, read once, validated and normalised. Nothing else reads inputs.
 * The README's input table is checked against action.yml by __tests__/docs.test.ts.
 */
export interface Settings {
  /** Absolute path of the directory that holds slots, jobs, trash, locks and the crate store. */
  root: string;
  layout: 'slot' | 'job';
  reuse: 'same-key' | 'never' | 'always';
  /** How long to wait for a dying predecessor that still holds the preferred slot. */
  leaseWaitMs: number;
  /** Upper bound on one lease: a hung job that never ends cannot pin a slot forever. */
  maxLeaseMs: number;
  diskThreshold: Level;
  diskTarget: Level;
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
}

export class InputError extends Error {
  constructor(input: string, value: string, expected: string) {
    super(`Input '${input}' is '${value}'. Expected ${expected}.`);
    this.name = 'InputError';
  }
}

type Get = (name: string) => string;

function oneOf<T extends string>(get: Get, name: string, allowed: readonly T[], dflt: T): T {
  const v = get(name).trim();
  if (v === '') return dflt;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new InputError(name, v, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

function bool(get: Get, name: string, dflt: boolean): boolean {
  const v = get(name).trim();
  if (v === '') return dflt;
  if (['true', 'True', 'TRUE'].includes(v)) return true;
  if (['false', 'False', 'FALSE'].includes(v)) return false;
  throw new InputError(name, v, `'true' or 'false'`);
}

function duration(get: Get, name: string, dflt: number, min = 0): number {
  const v = get(name).trim();
  if (v === '') return dflt;
  const ms = parseDuration(v);
  if (ms === undefined || ms < min) {
    throw new InputError(name, v, `a duration such as 30s, 5m or 2h${min ? ` of at least ${min / 1000}s` : ''}`);
  }
  return ms;
}

const LEVEL_FORM = 'a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB)';

function level(get: Get, name: string): Level | undefined {
  const v = get(name).trim();
  if (v === '') return undefined;
  const l = parseLevel(v);
  if (!l) throw new InputError(name, v, LEVEL_FORM);
  return l;
}

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
  return true; // mixed forms cannot be compared without the disk's size
}

/** A short single-line label: it is recorded in slot.json and compared, never used as a path. */
function label(get: Get, name: string, example: string): string {
  const v = get(name).trim();
  if (v.length > 200 || /[\u0000-\u001f\u007f]/.test(v)) throw new InputError(name, v.length > 60 ? `${v.slice(0, 60)}...` : v, `one line of at most 200 characters (e.g. ${example})`);
  return v;
}

export function defaultRoot(env: Record<string, string | undefined>): string {
  if (env.CARGO_ISOLATE_ROOT) return env.CARGO_ISOLATE_ROOT;
  // Outside RUNNER_TEMP (emptied every job) and outside the workspace (cleaned by checkout).
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'cargo-isolate');
}

export function readSettings(get: Get, env: Record<string, string | undefined> = process.env): Settings {
  const diskThreshold = level(get, 'disk-threshold') ?? { kind: 'percent', percent: 85 };
  const diskTarget = level(get, 'disk-target') ?? defaultTarget(diskThreshold);
  if (!targetIsBelow(diskThreshold, diskTarget)) {
    throw new InputError('disk-target', get('disk-target').trim(), `a level at or below 'disk-threshold' (${get('disk-threshold').trim() || '85%'})`);
  }
  const failBelowRaw = get('fail-below').trim();
  let failBelowBytes: number | undefined;
  if (failBelowRaw !== '' && failBelowRaw !== '0') {
    failBelowBytes = parseSize(failBelowRaw);
    if (failBelowBytes === undefined || failBelowBytes <= 0) {
      throw new InputError('fail-below', failBelowRaw, 'a free-space size such as 5GiB, or empty to never fail');
    }
  }
  const rootRaw = get('root').trim();
  return {
    root: rootRaw || defaultRoot(env),
    layout: oneOf(get, 'layout', ['slot', 'job'] as const, 'slot'),
    reuse: oneOf(get, 'reuse', ['same-key', 'never', 'always'] as const, 'same-key'),
    leaseWaitMs: duration(get, 'lease-wait', 60_000),
    maxLeaseMs: duration(get, 'max-lease', 24 * 3_600_000, 60_000),
    diskThreshold,
    diskTarget,
    pruneScope: oneOf(get, 'prune-scope', ['runner', 'host'] as const, 'runner'),
    dryRun: bool(get, 'dry-run', false),
    failBelowBytes,
    publishCrates: oneOf(get, 'publish-crates', ['always', 'trusted', 'never'] as const, 'trusted'),
    cache: bool(get, 'cache', false),
    manifestPath: get('manifest-path').trim() || undefined,
    workingDirectory: get('working-directory').trim() || env.GITHUB_WORKSPACE || process.cwd(),
    cleanupTimeoutMs: duration(get, 'cleanup-timeout', 120_000, 1000),
    runnerName: label(get, 'runner-name', 'build-host-3') || undefined,
    jobKey: label(get, 'key', '${{ matrix.target }}'),
  };
}
