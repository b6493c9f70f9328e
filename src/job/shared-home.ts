import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { gitStorePaths, rootPaths, sharedHome, storePaths, verifiedName } from '../model/layout.js';
import type { Settings } from '../model/settings.js';
import type { Log } from '../os/log.js';
import { myUid } from '../os/proc.js';
import { ownDirIn } from '../owners/owner.js';
import { knownDirs } from '../store/dir-names.js';
import { type SourcesReport, checkSources, readSources, verifiedCrates } from '../store/home-sources.js';
import { blobStamps } from '../store/blob-stamps.js';
import { findLockFile, parseLock } from '../store/lockfile.js';
import { parseGitLock } from '../store/gitstore.js';
import { type PublishAids, cargoVersion } from '../store/crates.js';
import { chooseHome, rootOwnerFor } from './cargo-home.js';
import { type ReadLock, prepareCrates } from './dependencies.js';
import { settleTop } from './home-top.js';
import { privateHomeAfterAll, sourcesRepaired } from '../model/messages.js';
import type { CratesState, HomeCheck, StartedJob } from './types.js';

/*
 * A job's CARGO_HOME at its start and at its end, one call each (mainJob, endJob):
 *
 * - the registry sources of the uid's shared home, checked and sealed (store/home-sources.ts):
 *   at a start against the job's Cargo.lock where it is known (the action's main step, `run`,
 *   a `uses:` step joining a runner hook), else against what each crate was verified as (a runner
 *   hook, before checkout; a repository without a lock); at the end against the lock as the build
 *   left it (post, the job-completed hook, the end of `run`), so what the job's cargo downloaded
 *   is sealed before the next job reads it;
 * - the top of the home (home-top.ts): what the job wrote there for itself goes, the runner's
 *   config is there as a copy.
 *
 * A start whose check cannot be completed (cargo's lock held for minutes by another job, a
 * locked crate that cannot be verified) does not build from the shared home: the job gets a
 * private one in its slot, seeded from the crate store, and says why.
 */

/** How long a check waits for cargo's download lock of the home, as seeding does. */
const LOCK_WAIT_SECONDS = 120;

/** A record beside this uid's shared home (the directory made this uid's, or the root owner's for root). */
async function recordFile(root: string, name = 'sources.json'): Promise<string> {
  const uid = myUid();
  const { dir, theirs } = await ownDirIn(rootPaths(root).homes, verifiedName(uid), uid, 0o755, await rootOwnerFor(root, uid));
  if (theirs) throw new Error(`the record of verified sources cannot be kept: ${theirs}`);
  return join(dir, name);
}

/**
 * What publishing from the shared home may skip (crates.ts PublishAids): the `.crate` files its
 * checks verified and nothing changed since, the store's blobs this uid found whole. A private
 * home (a fork PR's, `layout: job`) has neither: everything is hashed, as it always was.
 */
export async function publishAids(j: Pick<StartedJob, 'root'> & Partial<Pick<StartedJob, 'home'>>, cargoHome: string): Promise<PublishAids> {
  if (!j.home?.shared || cargoHome !== sharedHome(j.root, myUid())) return {};
  const sources = await recordFile(j.root);
  return { verified: verifiedCrates(await readSources(sources)), stamps: await blobStamps(join(dirname(sources), 'blobs.json')) };
}

/**
 * The lock file's registry crates and how to find the index dirs cargo names their sources with;
 * `read`: the lock as the step read it already (the end's, once for all its parts).
 */
async function lockOf(root: string, crates: CratesState | undefined, env: Record<string, string | undefined>, read?: () => Promise<ReadLock | undefined>) {
  const given = read ? await read().catch(() => undefined) : undefined;
  const file = given?.file ?? crates?.lockFile ?? (crates ? await findLockFile(crates.search.manifestPath, crates.search.workingDirectory, env) : undefined);
  if (!file) return undefined;
  const text = given?.text ?? (await fs.readFile(file, 'utf8').catch(() => undefined));
  if (text === undefined) return undefined;
  const version = given?.version ?? crates?.cargoVersion ?? (await cargoVersion(dirname(file), env));
  return {
    file,
    locked: parseLock(text),
    dirsOf: async (source: string) => (version ? knownDirs(storePaths(root).dirs, version, source) : []),
    gitLocked: parseGitLock(text),
    gitDirsOf: async (url: string) => (version ? knownDirs(gitStorePaths(root).dirs, version, url) : []),
  };
}

/** One line for the log: what was checked and what was found. */
export function describeSources(s: SourcesReport): string {
  const parts = [`${s.checked} crates checked in ${s.ms} ms`];
  if (s.verified) parts.push(`${s.verified} verified against their .crate`);
  if (s.extracted) parts.push(`${s.extracted} extracted from their verified .crate`);
  if (s.repaired.length) parts.push(`${s.repaired.length} repaired`);
  if (s.replaced.length) parts.push(`${s.replaced.length} .crate files not what their checksum says`);
  if (s.unsealed) parts.push(`${s.unsealed} unsealed (unused for weeks, or writable-sources)`);
  if (s.unchecked.length) parts.push(`${s.unchecked.length} not checked`);
  return parts.join('; ');
}

/** Warnings for what another job changed: a person should know that something wrote there. */
function warn(s: SourcesReport, home: string, log: Log): void {
  for (const x of s.repaired) log.warning(sourcesRepaired(home, x.crate, `${x.paths.slice(0, 5).join(', ')}${x.paths.length > 5 ? ', ...' : ''}`));
  for (const x of s.replaced) log.warning(`CARGO_HOME ${home}: ${x.crate}.crate was not what its checksum says: ${x.how}.`);
}

/**
 * The start: the shared home's sources checked, the top settled. Changes `job` when it falls
 * back to a private home (its exports and its home choice); `joined`: a `uses:` step in a job a
 * runner hook started, whose CARGO_HOME the hook exported already (it only says what it found).
 */
export async function secureHome(
  job: StartedJob,
  s: Settings,
  env: Record<string, string | undefined>,
  log: Log,
  o: { joined?: boolean } = {},
): Promise<HomeCheck> {
  const r: HomeCheck = {};
  if (job.home?.shared) {
    const home = job.exports.CARGO_HOME;
    try {
      const lock = await lockOf(job.root, job.crates, { ...env, ...job.exports });
      r.sources = await checkSources({
        root: job.root,
        home,
        recordFile: await recordFile(job.root),
        locked: lock?.locked,
        dirsOf: lock?.dirsOf,
        gitLocked: lock?.gitLocked,
        gitDirsOf: lock?.gitDirsOf,
        writable: s.writableSources,
        lockWaitSeconds: LOCK_WAIT_SECONDS,
      });
      const against = lock ? ` (against ${lock.file})` : ' (no Cargo.lock yet: against what each crate was verified as)';
      log.info(`CARGO_HOME ${home}: ${describeSources(r.sources)}${against}.`);
      warn(r.sources, home, log);
      for (const u of r.sources.unchecked) log.info(`CARGO_HOME: ${u.crate} not checked: ${u.why}.`);
      const locked = new Set(lock?.locked.map((c) => `${c.name}-${c.version}`));
      const blind = r.sources.unchecked.filter((u) => locked.has(u.crate.slice(u.crate.indexOf('/') + 1)));
      if (r.sources.skipped) r.fallback = `its sources could not be checked: ${r.sources.skipped}`;
      else if (blind.length) r.fallback = `${blind.map((u) => u.crate).join(', ')} could not be verified`;
    } catch (e) {
      r.fallback = `checking its sources failed: ${(e as Error).message}`;
    }
    if (r.fallback && o.joined) log.warning(`CARGO_HOME ${home}: ${r.fallback}; the next job start checks it again.`);
    else if (r.fallback) await privateHomeInstead(job, s, env, log, `the shared CARGO_HOME ${home}: ${r.fallback}`);
  }
  if (o.joined) return r; // the top is the hook's to settle, at the job's start and end
  r.top = await settleTop({ root: job.root, home: job.exports.CARGO_HOME, me: job.slot, shared: job.home?.shared === true, at: 'start', env });
  if (r.top.removed.length) log.info(`CARGO_HOME: removed what ended jobs left at its top: ${r.top.removed.join(', ')}.`);
  if (r.top.kept.length) log.info(`CARGO_HOME: left at its top for jobs still running that may have written them: ${r.top.kept.join(', ')}.`);
  return r;
}

/** The job builds with a private CARGO_HOME in its slot after all, seeded like any new one. */
async function privateHomeInstead(job: StartedJob, s: Settings, env: Record<string, string | undefined>, log: Log, why: string): Promise<void> {
  job.home = chooseHome(job.root, job.dirs, { uid: myUid(), layout: job.layout, fork: job.identity.fork === true, problem: why });
  job.exports.CARGO_HOME = job.dirs.cargoHome;
  await fs.mkdir(job.dirs.cargoHome, { recursive: true });
  log.warning(privateHomeAfterAll(job.home.reason, job.dirs.cargoHome));
  if (job.crates) {
    // The lock file and cargo's version as the start found them: no second pair of processes.
    const known = job.crates.lockFile ? Promise.resolve({ lockFile: job.crates.lockFile, version: job.crates.cargoVersion }) : undefined;
    job.crates = await prepareCrates(s, job.root, job.dirs.cargoHome, job.identity, { ...env, CARGO_HOME: job.dirs.cargoHome }, log, known);
  }
}

/**
 * The end: what the job's cargo extracted, checked against the lock as the build left it and
 * sealed; the top settled. Best effort, like every step of an end: the caller makes a failure a
 * warning, and the next start checks again.
 */
export async function settleHome(
  j: Pick<StartedJob, 'root' | 'crates' | 'dirs'> & Partial<Pick<StartedJob, 'slot' | 'home' | 'exports' | 'homeCheck'>>,
  env: Record<string, string | undefined>,
  read?: () => Promise<ReadLock | undefined>,
): Promise<HomeCheck> {
  const r: HomeCheck = {};
  const home = j.exports?.CARGO_HOME ?? j.dirs.cargoHome;
  if (j.home?.shared) {
    const lock = await lockOf(j.root, j.crates, { ...env, CARGO_HOME: home }, read);
    if (lock)
      r.sources = await checkSources({
        root: j.root,
        home,
        recordFile: await recordFile(j.root),
        locked: lock.locked,
        dirsOf: lock.dirsOf,
        gitLocked: lock.gitLocked,
        gitDirsOf: lock.gitDirsOf,
        writable: [],
        lockWaitSeconds: 30,
        extract: false,
      });
  }
  if (j.slot) r.top = await settleTop({ root: j.root, home, me: j.slot, shared: j.home?.shared === true, at: 'end', runnerHome: j.homeCheck?.top?.runnerHome });
  return r;
}
