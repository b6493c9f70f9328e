import type { CratesState } from './types.js';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatBytes } from '../model/units.js';
import type { JobIdentity } from '../model/identity.js';
import { hold, release } from '../os/flock.js';
import type { Log } from '../os/log.js';
import type { Settings } from '../model/settings.js';
import { cargoVersion, mayPublish, nothingToSeed, planSeed, seedCrates } from '../store/crates.js';
import { restoreStore } from '../store/crate-cache.js';
import { findLockFile, parseLock } from '../store/lockfile.js';
import { type GitSeedReport, parseGitLock, seedGit, systemGit } from '../store/gitstore.js';

/*
 * Crates and git dependencies: seeded from the host's stores at the start (the main step, or a
 * `uses:` step joining a runner hook's lease), the lock file read again at the end to publish.
 */

/** The workspace's Cargo.lock and the version of cargo that builds it, or no lock file. */
export interface Workspace {
  lockFile?: string;
  version?: string;
}

/**
 * Where the job's Cargo.lock is and which cargo builds it: a question that may cost two processes
 * (`cargo locate-project`, `cargo --version`: rustup's proxy each time), asked as a job starts
 * (mainJob) and answered while its guard and its lease wait for their own processes and locks.
 */
export async function findWorkspace(s: Pick<Settings, 'manifestPath' | 'workingDirectory'>, env: NodeJS.ProcessEnv): Promise<Workspace> {
  const lockFile = await findLockFile(s.manifestPath, s.workingDirectory, env);
  return lockFile ? { lockFile, version: await cargoVersion(dirname(lockFile), env) } : {};
}

/** Seeds the new CARGO_HOME from the host's store with the crates of the workspace's Cargo.lock (findWorkspace). */
export async function prepareCrates(
  s: Settings,
  root: string,
  cargoHome: string,
  me: JobIdentity,
  env: NodeJS.ProcessEnv,
  log: Log,
  workspace: Promise<Workspace> = findWorkspace(s, env),
): Promise<CratesState> {
  const state: CratesState = {
    search: { manifestPath: s.manifestPath, workingDirectory: s.workingDirectory },
    publish: mayPublish(s.publishCrates, me),
    policy: s.publishCrates,
    cache: s.cache,
  };
  const { lockFile, version } = await workspace;
  if (!lockFile) {
    log.info(
      `Crates: no Cargo.lock found from ${s.manifestPath ?? s.workingDirectory}; ` +
        "nothing to seed (set 'working-directory' or 'manifest-path' if the workspace is elsewhere).",
    );
    return state;
  }
  if (!version) {
    log.warning(`Crates: 'cargo --version' failed in ${dirname(lockFile)}; not seeding crates.`);
    return state;
  }
  // One read serves the cache key, the registry crates and the git dependencies.
  const lockText = await fs.readFile(lockFile, 'utf8');
  if (s.cache) await restoreStore(root, lockText, log);
  const locked = parseLock(lockText);
  const plan = await planSeed(root, cargoHome, locked, version);
  // Seeding writes where cargo downloads: under cargo's own download lock of that home, as a
  // second cargo would (another job of this uid may be resolving in the shared home right now).
  // A home that holds every locked crate already (a warm one) gets no write: no lock to wait for.
  const writes = !nothingToSeed(plan) || parseGitLock(lockText).length > 0;
  const downloadLock = writes ? await hold([join(cargoHome, '.package-cache')], { waitSeconds: 120 }) : undefined;
  if (writes && !downloadLock) {
    log.warning(`Crates: another cargo held ${join(cargoHome, '.package-cache')} for 120 s; not seeding (cargo downloads what it needs).`);
    return { ...state, lockFile, cargoVersion: version };
  }
  try {
    const seed = await seedCrates(root, cargoHome, locked, version, me.fork ? 'copy' : 'link', writes ? undefined : plan);
    seed.lockFile = lockFile;
    const how = [
      formatBytes(seed.seededBytes),
      seed.mode,
      seed.copiedInstead && `${seed.copiedInstead} copied because ${seed.copyReason}`,
      seed.dirs > 1 && `into ${seed.dirs} index dirs`,
    ].filter(Boolean);
    const unknown = seed.unknownDirs ? `, ${seed.unknownDirs} registries this host has not published for cargo ${version} yet` : '';
    log.info(
      `Crates: ${lockFile} locks ${seed.locked} registry crates; seeded ${seed.seeded} (${how.join(', ')}), ` +
        `${seed.present} already there, ${seed.missing} not in the store yet${unknown}.`,
    );
    for (const m of seed.mismatches) log.warning(`Crates: ${m.crate}: ${m.why}.`);
    const gitSeed = await prepareGit(root, cargoHome, lockText, version, me, env, log);
    return { ...state, lockFile, cargoVersion: version, seed, gitSeed };
  } finally {
    if (downloadLock) await release(downloadLock);
  }
}

/** Seeds the locked git dependencies; a failure is a warning: cargo then fetches them itself. */
async function prepareGit(
  root: string,
  cargoHome: string,
  lockText: string,
  version: string,
  me: JobIdentity,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<GitSeedReport | undefined> {
  try {
    const locked = parseGitLock(lockText);
    if (locked.length === 0) return undefined;
    const r = await seedGit(root, cargoHome, locked, version, me.fork ? 'copy' : 'link', systemGit(env));
    log.info(
      `Git: ${locked.length} locked git dependencies; seeded ${r.seeded.length} ` +
        `(${formatBytes(r.seededBytes)}, ${r.mode}${r.copiedInstead ? `, ${r.copiedInstead} files copied instead` : ''}), ${r.present} already there.`,
    );
    // A refused entry is a warning (someone damaged the store); an absent one is routine.
    for (const n of r.notSeeded) {
      if (n.why.includes(' refused: ')) log.warning(`Git: ${n.dep}: ${n.why}.`);
      else log.info(`Git: ${n.dep}: ${n.why}.`);
    }
    return r;
  } catch (e) {
    log.warning(`Git: seeding git dependencies into ${join(cargoHome, 'git', 'db')} failed (${(e as Error).message}); cargo fetches them.`);
    return undefined;
  }
}

/** A lock file as one step read it, for every part of that step (publishing, the archive key, the home's check). */
export interface ReadLock {
  file: string;
  text: string;
  version?: string;
}

/**
 * Post's lock file: main's, else found again (the job's build may have made one), read once;
 * cargo's version only where something may be published (it costs a `cargo --version`).
 */
export async function postLock(c: CratesState, env: NodeJS.ProcessEnv): Promise<ReadLock | undefined> {
  const lockFile = c.lockFile ?? (await findLockFile(c.search.manifestPath, c.search.workingDirectory, env));
  if (!lockFile) return undefined;
  const text = await fs.readFile(lockFile, 'utf8');
  return { file: lockFile, text, version: c.publish ? (c.cargoVersion ?? (await cargoVersion(dirname(lockFile), env))) : undefined };
}
