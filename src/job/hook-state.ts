import { promises as fs } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { allFree } from '../os/flock.js';
import { writeAtomic } from '../os/fsutil.js';
import type { Log } from '../os/log.js';
import type { GuardReport } from '../pool/guard.js';
import { type Dirs, SLOT_NAME, jobDirs, mapDirs, slotDirs } from '../model/layout.js';
import { DEFAULTS, type Settings } from '../model/settings.js';
import type { CratesState, StartedJob } from './types.js';
import { prepareCrates } from './dependencies.js';
import { mayPublish } from '../store/crates.js';
import { readTextIfPresent } from '../os/absent.js';
import { secureHome } from './shared-home.js';

/*
 * The runner hooks' state channel: how the job-started hook passes its lease to the
 * job-completed hook, and to a `uses:` step of the same job that joins it (hook-impl.ts, and
 * main-impl.ts through joinHookLease). The action's own main-to-post channel is state.ts.
 *
 * What the started hook writes to GITHUB_ENV reaches every later step; the completed hook gets
 * fresh, empty files and sees none of it. So the state is a file in RUNNER_TEMP, which the
 * runner empties before the started hook and after the completed one: it lives exactly as long
 * as the job. The job's own steps can write it too, so nothing read from it is trusted to name
 * paths (ownPaths) or a lease (flock.isHolder, allFree) without a check.
 */
export const STATE_FILE = 'cargo-isolate-hook.json';
/** Exported by the started hook: a `uses:` step of the same job joins the lease it names. */
export const STATE_VAR = 'CARGO_ISOLATE_HOOK_STATE';

export interface HookState {
  format: 1;
  job: StartedJob;
  guard?: GuardReport;
  /** The runner's publish-crates, read once by the started hook (a bad variable fails there, not at release). */
  publishCrates: Settings['publishCrates'];
  /** Written by a `uses:` step that joined: the lock file it found, relative to the workspace. */
  action?: { lockFile?: string; crates?: CratesState };
}

export const statePath = (env: Record<string, string | undefined>) => (env.RUNNER_TEMP ? join(env.RUNNER_TEMP, STATE_FILE) : undefined);

export const writeState = (file: string, s: HookState): Promise<void> => writeAtomic(file, JSON.stringify(s));

export async function readState(file: string): Promise<HookState | undefined> {
  const text = await readTextIfPresent(file);
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as HookState;
    return s.format === 1 && s.job?.dirs ? s : undefined;
  } catch {
    return undefined; // not the started hook's: a step of the job wrote it
  }
}

/**
 * Pure: the state's directories are exactly what the layout gives the slot (or job directory) it
 * names under its root. The keeper's command line then vouches for the lock, so a state file
 * edited during the job cannot aim the completed hook's removals at another slot.
 */
export function ownPaths(job: Pick<StartedJob, 'layout' | 'root' | 'slot' | 'dirs' | 'identity'>): boolean {
  if (!isAbsolute(job.root) || typeof job.slot !== 'string') return false;
  const expected =
    job.layout === 'slot' ? (SLOT_NAME.test(job.slot) ? slotDirs(job.root, job.slot) : undefined) : job.identity && jobDirs(job.root, job.identity);
  if (!expected || !job.dirs) return false;
  const keys = Object.keys(expected) as (keyof typeof expected)[];
  return keys.length === Object.keys(job.dirs).length && keys.every((k) => job.dirs[k] === expected[k]);
}

/**
 * Pure: the hook's job as this step sees it. In a container job the runner translated the hook's
 * host paths (/__t/...) the same way for every path, CARGO_HOME included: the root is where this
 * step's CARGO_HOME sits at the hook's CARGO_HOME's place under it. Undefined when `home` is not
 * at that place (this step sees another CARGO_HOME).
 */
export function hookJobSeenAt(
  job: Pick<StartedJob, 'root' | 'dirs' | 'exports'>,
  home: string,
): { root: string; dirs: Dirs; exports: Record<string, string> } | undefined {
  const hookHome = job.exports?.CARGO_HOME ?? job.dirs.cargoHome;
  const root = join(home, relative(hookHome, job.root));
  if (join(root, relative(job.root, hookHome)) !== normalize(home)) return undefined;
  const seen = (p: string) => join(root, relative(job.root, p));
  const exports = Object.fromEntries(Object.entries(job.exports ?? {}).map(([k, v]) => [k, v.startsWith(job.root + '/') ? seen(v) : v]));
  return { root, dirs: mapDirs(job.dirs, seen), exports };
}

/**
 * What the completed hook publishes from: the lock file a joining `uses:` step found (relative to
 * the workspace, which the completed hook sees at the same path on the host), else a search of the
 * workspace; the runner's publish-crates, read once by the started hook.
 */
export function cratesAtEnd(st: HookState, env: Record<string, string | undefined>): CratesState {
  const ws = env.GITHUB_WORKSPACE || process.cwd();
  const policy = st.publishCrates ?? DEFAULTS['publish-crates']; // a state file without it: the default
  return {
    ...(st.action?.crates ?? {}),
    search: { workingDirectory: ws },
    lockFile: st.action?.lockFile !== undefined ? join(ws, st.action.lockFile) : undefined,
    cargoVersion: st.action?.crates?.cargoVersion,
    publish: mayPublish(policy, st.job.identity),
    policy,
    cache: false,
  };
}

/** Pure: `file` relative to the workspace, when it lies inside it. */
function insideWorkspace(ws: string | undefined, file: string | undefined): string | undefined {
  if (!ws || !file) return undefined;
  const rel = relative(ws, file);
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel;
}

/**
 * The `uses:` step in a job the started hook already isolated: it joins the hook's lease
 * instead of taking a second slot (and runs no second guard). What applies is the part only
 * the action can do, seeding crates from the checked-out Cargo.lock; the slot inputs (root,
 * layout, reuse, key) were the runner's to choose. The completed hook releases the lease and
 * publishes from the lock file recorded here. Undefined when there is no hook lease to join,
 * or when this step cannot see it (a container without the root mounted): then the action
 * works as it does without hooks.
 */
export async function joinHookLease(s: Settings, env: Record<string, string | undefined>, log: Log): Promise<{ job: StartedJob } | undefined> {
  const file = env[STATE_VAR];
  const st = file ? await readState(file) : undefined;
  const home = env.CARGO_HOME;
  if (!file || !st || !home) return undefined;
  const seen = hookJobSeenAt(st.job, home);
  if (
    !seen ||
    !(await fs.stat(home).then(
      (x) => x.isDirectory(),
      () => false,
    ))
  ) {
    log.warning(
      `The runner's job-started hook leased ${st.job.dirs.base}, which this step does not see at ${home}. Taking a lease of this step's own; ` +
        "mount the hook's root at the same path, or put it under the runner's tool cache (docs/runner-hooks.md).",
    );
    return undefined;
  }
  if (allFree([seen.dirs.lock])) {
    // Nobody holds it: the hook's keeper is gone (max-lease, or killed). Its slot is not ours.
    log.warning(
      `The runner's job-started hook leased ${st.job.dirs.base}, but that lease has ended (${seen.dirs.lock} is free). Taking a lease of this step's own.`,
    );
    return undefined;
  }
  log.info(
    `Joining the runner's job-started hook: ${st.job.layout} ${st.job.slot} is this job's ` +
      "(the runner's settings chose it and ran the guard; this step's root, layout, reuse, key and guard inputs do not apply).",
  );
  const crates = await log.group('Crates', () => prepareCrates(s, seen.root, seen.exports.CARGO_HOME ?? seen.dirs.cargoHome, st.job.identity, env, log));
  // The hook checked the shared home's sources before checkout; now the lock file is here.
  await log.group('CARGO_HOME', () => secureHome({ ...st.job, ...seen, crates }, s, env, log, { joined: true }));
  // For the completed hook, which runs on the host: where the lock file is, relative to the workspace.
  await writeState(file, { ...st, action: { lockFile: insideWorkspace(env.GITHUB_WORKSPACE, crates.lockFile), crates: { ...crates, lockFile: undefined } } });
  return { job: { ...st.job, ...seen, crates } };
}
