import { join } from 'node:path';
import type { JobIdentity } from './identity.js';
import { safeComponent } from './key.js';

/*
 * Every path under a root, in one place: the slots, the job directories, the locks, the trash, the
 * stores, the logs, the shared CARGO_HOMEs and the sccache servers' dirs (the on-disk contract
 * below). What the job exports is built from these in job/exports.ts.
 */

/**
 * Every path under the root. The shape is the on-disk contract between jobs, the guard, the
 * CLI and older or newer versions of the action running on the same host:
 *
 *   <root>/.cargo-isolate-root             marker: refuse to manage a directory we did not make
 *   <root>/locks/slot-<name>.lock          lease of a slot (never deleted: see lease.ts)
 *   <root>/locks/guard.lock                one disk guard at a time per host
 *   <root>/slots/<name>/slot.json          last owner, key, times, sizes (informational only)
 *   <root>/slots/<name>/{target,install,tmp}/  the job's own: its build, `cargo install`, temp files
 *   <root>/slots/<name>/cargo-home/        a private CARGO_HOME: fork PRs only (cargo-home.ts)
 *   <root>/homes/u<uid>/                   CARGO_HOME of every trusted job of that uid (cargo-home.ts)
 *   <root>/homes/u<uid>-verified/          what of that home was verified, and when (store/home-sources.ts)
 *   <root>/homes/u<uid>-verified/blobs.json  the crate store's blobs that uid found whole, and when (store/blob-stamps.ts)
 *   <root>/jobs/<repo>/<key>/run-<uid>/    layout: job, with its lease in .lease
 *   <root>/trash/                          renamed here first, deleted afterwards
 *   <root>/crates/{sha256,dirs,index}/     host-wide verified .crate store (storePaths)
 *   <root>/warmth.jsonl[.1]                one line per ended job: units built and fresh (warmth.ts)
 *   <root>/events.jsonl[.1]                guard runs, lease waits, jobs the hooks left unisolated (events.ts)
 *   <root>/metrics.json                    where `cargo-isolate metrics` stopped reading the logs, its counters
 *   <root>/sccache/u<uid>-p<port>/tmp/     the host sccache server's temp dir (host/sccache.ts)
 *   <root>/git/{db,dirs}/                  host-wide git dependency store (gitStorePaths)
 *   <root>/archives/<repo>/<domain>/<fallback key>/<exact key>/{archive.tar.zst,archive.json}
 *                                          dependency archives (archiveDir, store/archive.ts)
 *   <root>/archives/.fleet-<nonce>.tmp/    an archive on its way between the Actions cache service and the host tier (fleetStaging)
 */
export const MARKER = '.cargo-isolate-root';

export interface Dirs {
  /** The directory owned by one lease: a slot or a job directory. */
  base: string;
  target: string;
  /** The slot's private CARGO_HOME: a fork PR's, and the job layout's (cargo-home.ts). */
  cargoHome: string;
  /** CARGO_INSTALL_ROOT: what `cargo install` puts on PATH stays the job's own. */
  install: string;
  tmp: string;
  record: string;
  lock: string;
}

/** The same directories seen elsewhere (a container's view of the root): every one through `at`. */
export const mapDirs = (d: Dirs, at: (p: string) => string): Dirs => ({
  base: at(d.base),
  target: at(d.target),
  cargoHome: at(d.cargoHome),
  install: at(d.install),
  tmp: at(d.tmp),
  record: at(d.record),
  lock: at(d.lock),
});

export const rootPaths = (root: string) => ({
  marker: join(root, MARKER),
  locks: join(root, 'locks'),
  slots: join(root, 'slots'),
  jobs: join(root, 'jobs'),
  trash: join(root, 'trash'),
  crates: join(root, 'crates'),
  homes: join(root, 'homes'),
  warmth: join(root, 'warmth.jsonl'),
  events: join(root, 'events.jsonl'),
  metrics: join(root, 'metrics.json'),
  metricsLock: join(root, 'locks', 'metrics.lock'),
  guardLock: join(root, 'locks', 'guard.lock'),
  git: join(root, 'git'),
  sccache: join(root, 'sccache'),
  archives: join(root, 'archives'),
});

/** The host-wide crate store (store/crates.ts): .crate files by sha256, cargo's index dir names, index entries. */
export const storePaths = (root: string) => ({
  base: join(root, 'crates'),
  blobs: join(root, 'crates', 'sha256'),
  dirs: join(root, 'crates', 'dirs'),
  index: join(root, 'crates', 'index'),
});

/** The host-wide git dependency store (store/gitstore.ts): bare databases by URL, cargo's db dir names. */
export const gitStorePaths = (root: string) => ({
  base: join(root, 'git'),
  db: join(root, 'git', 'db'),
  dirs: join(root, 'git', 'dirs'),
});

/** A trust domain's directory name under the archives (a merge queue's key, with `/` in it, is re-hashed). */
const domainDirName = (domain: string): string => safeComponent(domain, 100);

/**
 * Pure: the trust domain of an archive in the directory `dirName`: the one its archive.json
 * records (`recorded`) when that is the domain this directory is named for, else the name itself
 * (an archive of an earlier version, which recorded none). A recorded domain never moves an
 * archive into another domain than its directory's: the name is an injective map of the key.
 */
export const archiveDomain = (dirName: string, recorded: string | undefined): string =>
  recorded !== undefined && domainDirName(recorded) === dirName ? recorded : dirName;

/**
 * One dependency archive's directory (store/archive.ts), under its repository, the trust domain
 * that wrote it (`ref-main`, `pr-7`) and its fallback key; without `exact`, the fallback key's
 * directory, which lists the archives a near start may restore.
 */
export function archiveDir(root: string, repository: string, domain: string, fallback: string, exact?: string): string {
  const base = join(root, 'archives', safeComponent(repository.replace('/', '__')), domainDirName(domain), safeComponent(fallback));
  return exact === undefined ? base : join(base, safeComponent(exact));
}

/**
 * Where an archive on its way between the Actions cache service and the host tier is staged
 * (store/fleet-store.ts): on the host tier's filesystem, so it is linked in rather than copied,
 * under a dot-name no reader lists. A killed job leaves it behind; the guard removes it an hour on
 * (store/archive-host.ts deadStaging).
 */
export const fleetStaging = (root: string, nonce: string): string => join(root, 'archives', `.fleet-${nonce}.tmp`);

function dirsIn(base: string, record: string, lock: string): Dirs {
  return { base, target: join(base, 'target'), cargoHome: join(base, 'cargo-home'), install: join(base, 'install'), tmp: join(base, 'tmp'), record, lock };
}

export function slotDirs(root: string, name: string): Dirs {
  const base = join(root, 'slots', name);
  return dirsIn(base, join(base, 'slot.json'), join(root, 'locks', `slot-${name}.lock`));
}

export function jobDirs(root: string, id: JobIdentity): Dirs {
  const base = join(root, 'jobs', safeComponent(id.repository.replace('/', '__')), id.key, `run-${id.jobUid}`);
  return dirsIn(base, join(base, 'job.json'), join(base, '.lease'));
}

/** The CARGO_HOME every trusted job of `uid` shares under this root (cargo-home.ts says why). */
export const sharedHome = (root: string, uid: number) => join(root, 'homes', `u${uid}`);

/** Beside that home, not in it: the record of its verified sources (store/home-sources.ts). */
export const verifiedName = (uid: number) => `u${uid}-verified`;
export const sourcesRecord = (root: string, uid: number) => join(root, 'homes', verifiedName(uid), 'sources.json');

export const SLOT_NAME = /^s\d{3,}$/;
export const slotName = (index: number) => `s${String(index).padStart(3, '0')}`;
