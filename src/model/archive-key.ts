import { sha256Hex } from './key.js';

/*
 * What decides whether a dependency archive's artifacts are fresh for another job, as plain data
 * in and two keys out. Cargo itself re-checks every unit after a restore (its fingerprints hash
 * the toolchain, the flags, the source paths), so a wrong key never builds a wrong binary: it
 * restores an archive whose units cargo then rebuilds, which costs the restore for nothing. The
 * key is there to find the archive cargo will find fresh, and to say why none was found.
 *
 *   exact     every part below and the locked dependencies: a start with the same key finds
 *             every dependency unit fresh.
 *   fallback  the same without the lock: the newest archive of an older Cargo.lock is near,
 *             and cargo rebuilds only what changed (a bumped crate and what depends on it).
 *
 * Parts that cargo does not see, or sees only through the build scripts' own checks:
 *   - the host's architecture, OS release and libc: a build script links a system library it
 *     found there and says nothing when the host is upgraded;
 *   - the C toolchain variables build scripts read (CC, CFLAGS, AR, PKG_CONFIG_*, CMAKE_*, ...):
 *     most build scripts declare them with `rerun-if-env-changed`, so a mismatch reruns them,
 *     but an archive whose build scripts all rerun is worth little;
 *   - the CARGO_HOME string and the path view (the host's or a container's `/__t`): a registry
 *     crate's fingerprint hashes the absolute path of its source, so another home rebuilds all.
 * Repository, workflow, job and the `key` input say which commands built it: two jobs of one
 * workspace (a `clippy` job, a `test` job) compile other units with other features.
 */

/** Bumped when what an archive holds changes (store/archive-content): older archives never match. */
export const ARCHIVE_FORMAT = 1;

export interface ArchiveKeyInput {
  repository: string;
  workflow: string;
  job: string;
  /** The `key` input (matrix legs). */
  jobKey: string;
  /** `rustc -vV` as the build's rustc prints it (version, commit, host triple, LLVM). */
  rustc: string;
  /** `cargo -V`, when known: cargo's version decides the build-dir layout. */
  cargo?: string;
  /** The locked dependencies that are not the workspace's own (lockfile.ts `lockDependencies`); absent: no Cargo.lock. */
  lockedDependencies?: string[];
  /** The job's environment; only the variables that change artifacts are read (artifactEnv). */
  env: Record<string, string | undefined>;
  /** `process.arch`, and the OS release and libc (e.g. `debian 12`, `glibc 2.36`). */
  host: { arch: string; os: string; libc: string };
  /** CARGO_HOME as the build sees it. */
  cargoHome: string;
  /** Which view of the paths the build had: `host`, or the container's prefix (`/__t`). */
  view: string;
}

export interface ArchiveKey {
  /** Undefined without a Cargo.lock: only the fallback is known, and nothing is saved under it. */
  exact?: string;
  fallback: string;
  /** Every part, readable: stored beside the archive, compared to say why a start missed. */
  parts: Record<string, string>;
}

/** Variables read by name: cargo's own that change artifacts, and the C toolchain's. */
const NAMED = new Set([
  'RUSTFLAGS',
  'CARGO_ENCODED_RUSTFLAGS',
  'CARGO_BUILD_RUSTFLAGS',
  'RUSTC',
  'CARGO_BUILD_RUSTC',
  'CARGO_BUILD_TARGET',
  'CARGO_INCREMENTAL',
  'CARGO_BUILD_DEP_INFO_BASEDIR',
  'CARGO_TARGET_APPLIES_TO_HOST',
  'RUSTC_BOOTSTRAP',
  '__CARGO_DEFAULT_LIB_METADATA',
  'CC',
  'CXX',
  'AR',
  'RANLIB',
  'CFLAGS',
  'CXXFLAGS',
  'CPPFLAGS',
  'LDFLAGS',
  'ARFLAGS',
  'CRATE_CC_NO_DEFAULTS',
]);

/** Variables read by form: profiles, unstable flags, per-target settings, pkg-config, CMake. */
const PATTERNS = [
  /^CARGO_PROFILE_/,
  /^CARGO_UNSTABLE_/,
  /^CARGO_HOST_(RUSTFLAGS|LINKER)$/,
  /^CARGO_TARGET_[A-Z0-9_]+_(RUSTFLAGS|LINKER|AR)$/,
  /^(HOST|TARGET)_(CC|CXX|AR|RANLIB|CFLAGS|CXXFLAGS|CPPFLAGS|LDFLAGS)$/,
  /^(CC|CXX|AR|RANLIB|CFLAGS|CXXFLAGS|CPPFLAGS|LDFLAGS)_[A-Za-z0-9_]+$/,
  /^PKG_CONFIG/,
  /^CMAKE_/,
];

/**
 * Pure: the variables of `env` that change what cargo or a build script writes, sorted. Empty
 * values count as unset (cargo and the cc crate read them so). The target dir, CARGO_HOME and
 * the build dir are not here: the path view and the home are parts of their own, and a target
 * dir's path does not reach a registry unit's fingerprint.
 */
export function artifactEnv(env: Record<string, string | undefined>): [string, string][] {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .filter(([k]) => k !== 'CARGO_TARGET_DIR' && (NAMED.has(k) || PATTERNS.some((p) => p.test(k))))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const digest = (parts: Record<string, string>): string => sha256Hex(JSON.stringify(Object.entries(parts).sort(([a], [b]) => (a < b ? -1 : 1)))).slice(0, 32);

/** Pure: the exact and the fallback key of a build. */
export function archiveKey(i: ArchiveKeyInput): ArchiveKey {
  const parts: Record<string, string> = {
    format: String(ARCHIVE_FORMAT),
    repository: i.repository,
    workflow: i.workflow,
    job: i.job,
    key: i.jobKey,
    rustc: i.rustc.trim(),
    arch: i.host.arch,
    os: i.host.os,
    libc: i.host.libc,
    cargoHome: i.cargoHome,
    view: i.view,
  };
  if (i.cargo !== undefined) parts.cargo = i.cargo.trim();
  for (const [k, v] of artifactEnv(i.env)) parts[`env.${k}`] = v;
  const fallback = digest(parts);
  if (i.lockedDependencies === undefined) return { fallback, parts };
  const lock = sha256Hex([...i.lockedDependencies].sort().join('\n'));
  return { exact: digest({ ...parts, lock }), fallback, parts: { ...parts, lock } };
}

/**
 * Pure: a part's value as an archive sent to a fleet store keeps it: a digest. The values of the
 * variables (`env.RUSTFLAGS`, `env.CFLAGS`, ...) may hold what should not leave the host, and a
 * digest still says whether two keys differ there.
 */
export const redactedValue = (v: string): string => `sha256:${sha256Hex(v).slice(0, 16)}`;

/**
 * Pure: the parts that differ between an archive's key and the wanted one, by name (`rustc`,
 * `env.RUSTFLAGS`, `lock`): what a job's summary says when no archive matched. A value an archive
 * keeps as a digest (one that came through a fleet store) is the same as the value it digests.
 */
export function keyDifferences(saved: Record<string, string>, wanted: Record<string, string>): string[] {
  const names = new Set([...Object.keys(saved), ...Object.keys(wanted)]);
  const same = (s: string | undefined, w: string | undefined) => s === w || (s !== undefined && w !== undefined && s === redactedValue(w));
  return [...names].filter((n) => !same(saved[n], wanted[n])).sort();
}

/** One archive found under a fallback key. */
export interface ArchiveCandidate {
  exact: string;
  /** When its save finished (ISO). */
  savedAt: string;
}

/**
 * Pure: which archive a start restores. Its exact key if there is one; else the newest of the
 * same fallback key (the most recent lock is the nearest to the next one); none when the start
 * has no fallback candidates. `how` says which.
 */
export function chooseArchive(candidates: ArchiveCandidate[], want: ArchiveKey): { pick: ArchiveCandidate; how: 'exact' | 'fallback' } | undefined {
  const exact = want.exact === undefined ? undefined : candidates.find((c) => c.exact === want.exact);
  if (exact) return { pick: exact, how: 'exact' };
  const newest = [...candidates].sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.exact < b.exact ? -1 : 1))[0];
  return newest ? { pick: newest, how: 'fallback' } : undefined;
}

/** The parts of a key a start knows before its checkout and toolchain step (the runner's hook). */
export const IDENTITY_PARTS = ['format', 'repository', 'workflow', 'job', 'key', 'arch', 'cargoHome'] as const;

/** What a start that knows only who it is (the runner's hook) looks an archive up by. */
export type IdentityParts = Pick<Record<string, string>, (typeof IDENTITY_PARTS)[number]>;

/**
 * Pure: which archive a start restores when its key cannot be known yet (the runner's job-started
 * hook runs before checkout and before a toolchain step: no Cargo.lock, perhaps another rustc):
 * the newest archive of the job itself, the same repository, workflow, job and `key`, made for the
 * same CARGO_HOME string on this architecture, in the first of `domains` (its own trust domain,
 * then its base's) that has one. Cargo checks every unit it restores, so an archive of an older
 * lock or toolchain costs its restore and the units cargo rebuilds, never a wrong build.
 */
export function chooseByIdentity<C extends ArchiveCandidate & { domain: string; parts: Record<string, string> }>(
  candidates: C[],
  want: IdentityParts,
  domains: string[],
): C | undefined {
  for (const d of domains) {
    const mine = candidates.filter((c) => c.domain === d && IDENTITY_PARTS.every((p) => c.parts[p] === want[p]));
    const newest = mine.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.exact < b.exact ? -1 : 1))[0];
    if (newest) return newest;
  }
  return undefined;
}
