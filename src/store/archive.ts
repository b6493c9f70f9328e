import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ARCHIVE_FORMAT, type ArchiveCandidate, type ArchiveKey, chooseArchive, chooseByIdentity, keyDifferences } from '../model/archive-key.js';
import { archiveDir } from '../model/layout.js';
import { type ArchivePlan, NOT_PROFILE, planArchive, type ProfileListing } from '../model/archive-content.js';
import { writeAtomic } from '../os/fsutil.js';
import { removeEscapingLinks } from '../os/copy.js';
import { type Held, hold, release } from '../os/flock.js';
import { chooseCompressor, type Compressor, digestMismatch, nodeHasZstd, packTar, unpackTar } from './archive-stream.js';

/*
 * Dependency archives on the host: save one from a build dir, restore one into an empty build dir.
 * What goes in is decided by model/archive-content.ts, under which key by model/archive-key.ts,
 * where it lives by model/layout.ts (`archiveDir`). Each archive is a directory:
 *
 *   <exact key>/archive.tar.zst   the tar, zstd-compressed (archive-stream.ts)
 *   <exact key>/archive.json      its sha256 and size, its key's parts, when and from where
 *
 * Save, and two jobs saving one key at once: each writes both files into a temp directory of its
 * own beside the final one (`.<exact>.<random>.tmp`), then rename(2)s it to the final name. A
 * directory cannot be renamed over a non-empty one, so the first rename wins whole and the
 * second job removes its temp directory: a reader sees no archive or one whole archive, never a
 * data file of one save with the checksum of another.
 *
 * Restore: zstd and `tar --extract` unpack the data into a temp directory inside the build dir
 * (`.cargo-isolate-restore-<random>`, same filesystem) while this process hashes the same open
 * file beside them (archive-stream.ts unpackTar). Only when tar succeeded and the checksum and
 * size match archive.json are its top entries (the profile dirs) renamed into place; a truncated or altered archive, or a build dir already holding one of
 * those entries, leaves the build dir as it was. The mtimes are the archive's (tar keeps them to
 * the nanosecond): cargo's fingerprints compare them.
 *
 * Its data file is its lock (os/flock.ts has the rule): a restore holds it shared while it reads
 * (never waiting: an archive being removed is one that is not there), a save holds its temp
 * directory's exclusively until the rename, and whatever removes an archive (the guard, the cap,
 * a closed PR: store/archive-host.ts) takes it exclusively without waiting, so no archive goes
 * while a restore reads it and no save in progress passes for a leftover. A restore also sets
 * the directory's mtime: when the archive was last used.
 *
 * An archive restores at any build dir path: cargo keeps dep-info relative to the build dir and
 * rewrites build-script output paths (FIELD-NOTES; __tests__/archive.test.ts restores one slot's
 * archive into another slot's target and finds every dependency unit fresh). What must match is
 * the CARGO_HOME string, which is part of the key.
 */

export const DATA = 'archive.tar.zst';
export const META = 'archive.json';
const RESTORE_PREFIX = '.cargo-isolate-restore-';

/** What archive.json says. */
export interface ArchiveMeta {
  format: number;
  exact: string;
  fallback: string;
  /** The key's parts (model/archive-key.ts): compared to say why a start missed. */
  key: Record<string, string>;
  sha256: string;
  bytes: number;
  compressor: Compressor;
  savedAt: string;
  /** The build dir as the saving build saw it. */
  buildDir: string;
  /**
   * The trust domain that saved it, as the job's key spells it: its directory's name is that key
   * made a path component (layout.ts archiveDir), which a merge queue's key does not survive.
   * Absent in archives of earlier versions.
   */
  domain?: string;
  /** Dependency packages, files and their bytes before compression. */
  packages: number;
  files: number;
  sourceBytes: number;
}

export type SaveOutcome =
  | { saved: true; meta: ArchiveMeta; ms: number }
  | { saved: false; reason: 'exists' | 'raced' | 'no-lock' | 'nothing' | 'no-zstd' | 'failed'; detail: string; ms: number };

export type RestoreOutcome =
  | { restored: true; meta: ArchiveMeta; entries: string[]; ms: number }
  | { restored: false; reason: 'missing' | 'unreadable' | 'truncated' | 'altered' | 'not-empty' | 'failed'; detail: string; ms: number };

const dirsIn = (d: string): string[] => {
  try {
    return readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
};
const namesIn = (d: string): string[] => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};

const isProfile = (d: string): boolean => ['.fingerprint', 'build', 'deps'].some((x) => existsSync(join(d, x)));

/** The profile dirs of a build dir (`<profile>`, `<triple>/<profile>`), as model/archive-content reads them. */
export function listBuildDir(buildDir: string): ProfileListing[] {
  const out: ProfileListing[] = [];
  const add = (rel: string) => {
    const p = join(buildDir, rel);
    out.push({ path: rel, fingerprints: dirsIn(join(p, '.fingerprint')), build: dirsIn(join(p, 'build')), deps: namesIn(join(p, 'deps')) });
  };
  for (const a of dirsIn(buildDir).filter((n) => !NOT_PROFILE.has(n) && !n.startsWith('.'))) {
    if (isProfile(join(buildDir, a))) add(a);
    else for (const b of dirsIn(join(buildDir, a)).filter((n) => !NOT_PROFILE.has(n))) if (isProfile(join(buildDir, a, b))) add(`${a}/${b}`);
  }
  return out;
}

/**
 * Every directory and regular file under the planned paths, relative to the build dir, parents
 * first. Symlinks are left out: cargo makes none in a build dir, and one planted by a build
 * must not travel to another job.
 */
function filesOf(buildDir: string, include: string[]): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const seenDirs = new Set<string>();
  const parents = (rel: string) => {
    const up: string[] = [];
    for (let d = dirname(rel); d !== '.' && !seenDirs.has(d); d = dirname(d)) up.unshift(d);
    for (const d of up) {
      seenDirs.add(d);
      files.push(d);
    }
  };
  const walk = (rel: string) => {
    const st = lstatSync(join(buildDir, rel), { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      seenDirs.add(rel);
      files.push(rel);
      for (const n of namesIn(join(buildDir, rel)).sort()) walk(`${rel}/${n}`);
    } else if (st.isFile()) {
      files.push(rel);
      bytes += st.size;
    }
  };
  for (const rel of include) {
    parents(rel);
    walk(rel);
  }
  return { files, bytes };
}

/** Reads archive.json; undefined when missing or not one of this format. */
export function readArchiveMeta(dir: string): ArchiveMeta | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, META), 'utf8')) as ArchiveMeta;
    return m.format === ARCHIVE_FORMAT && typeof m.sha256 === 'string' && typeof m.bytes === 'number' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The archives saved under one fallback key's directory (archiveDir without `exact`), each with its archive.json, read once. */
export function listArchives(fallbackDir: string): (ArchiveCandidate & { dir: string; meta: ArchiveMeta })[] {
  return dirsIn(fallbackDir)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => {
      const meta = readArchiveMeta(join(fallbackDir, n));
      return meta ? [{ exact: meta.exact, savedAt: meta.savedAt, dir: join(fallbackDir, n), meta }] : [];
    });
}

export type Found = { found: true; dir: string; how: 'exact' | 'fallback'; domain: string; meta: ArchiveMeta } | { found: false; why: string };

/** Pure: the newest of `archives`. */
const newestOf = <T extends { savedAt: string }>(archives: T[]): T | undefined => [...archives].sort((a, b) => (a.savedAt < b.savedAt ? 1 : -1))[0];

/**
 * The archive a start restores, among the trust domains it may read (its own and its base's:
 * the caller says which, as for warm copies), under `key` (chooseArchive); else why none: that
 * there is none, or the parts in which the newest archive of those domains differs from `key`.
 * Each archive.json is read once: the fallback key's directories first, the rest only for a miss.
 */
export function findArchive(root: string, repository: string, domains: string[], key: ArchiveKey): Found {
  const under = domains.flatMap((domain) => listArchives(archiveDir(root, repository, domain, key.fallback)).map((c) => ({ ...c, domain })));
  const r = chooseArchive(under, key);
  if (r) {
    const c = r.pick as (typeof under)[number];
    return { found: true, dir: c.dir, how: r.how, domain: c.domain, meta: c.meta };
  }
  const others = domains.flatMap((domain) => domainCandidates(root, repository, domain, key.fallback));
  const newest = newestOf([...under, ...others]);
  if (!newest) return { found: false, why: `no dependency archive of ${repository} for ${domains.join(' or ')}` };
  const parts = keyDifferences(newest.meta.key, key.parts);
  return {
    found: false,
    why: `the newest dependency archive of ${repository} (${newest.domain}, saved ${newest.meta.savedAt}) was built with another ${parts.join(', ')}`,
  };
}

/** The archives of a trust domain, under every fallback key but `except` (already listed), each with its domain. */
const domainCandidates = (root: string, repository: string, domain: string, except?: string) => {
  const domainDir = dirname(archiveDir(root, repository, domain, 'any'));
  return dirsIn(domainDir)
    .filter((f) => f !== except)
    .flatMap((f) => listArchives(join(domainDir, f)).map((c) => ({ ...c, domain })));
};

/**
 * The archive a start restores when it knows only who it is (chooseByIdentity: the runner's
 * hook), among `domains` (its own, then its base's); else why none.
 */
export function findArchiveByIdentity(
  root: string,
  repository: string,
  domains: string[],
  want: Parameters<typeof chooseByIdentity>[1],
): { found: true; dir: string; domain: string; meta: ArchiveMeta } | { found: false; why: string } {
  const all = domains.flatMap((d) => domainCandidates(root, repository, d).map((c) => ({ ...c, parts: c.meta.key })));
  const pick = chooseByIdentity(all, want, domains);
  if (pick) return { found: true, dir: pick.dir, domain: pick.domain, meta: pick.meta };
  const newest = newestOf(all);
  if (!newest) return { found: false, why: `no dependency archive of ${repository} for ${domains.join(' or ')}` };
  const parts = keyDifferences(Object.fromEntries(Object.keys(want).map((k) => [k, newest.parts[k]])), want);
  return { found: false, why: `the newest dependency archive of ${repository} (${newest.domain}, saved ${newest.savedAt}) is of another ${parts.join(', ')}` };
}

/**
 * `rustc -vV` of the toolchain that built `buildDir`, as cargo recorded it there
 * (`.rustc_info.json`, its cache of rustc's answers, rewritten when the rustc changes), else as
 * `rustc` answers in `cwd` with `env` (a rust-toolchain file there picks the toolchain, as it does
 * for the build). Undefined when neither says.
 */
export async function rustcOf(buildDir: string | undefined, cwd: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (buildDir) {
    try {
      const info = JSON.parse(readFileSync(join(buildDir, '.rustc_info.json'), 'utf8')) as { outputs?: Record<string, { stdout?: string }> };
      const vv = Object.values(info.outputs ?? {}).find((o) => /^rustc \S+/.test(o.stdout ?? '') && /\nbinary: rustc\n/.test(o.stdout ?? ''));
      if (vv?.stdout) return vv.stdout;
    } catch {
      // no record (an empty target) or not cargo's: ask rustc
    }
  }
  const r = spawnSync('rustc', ['-vV'], { cwd, env, encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 && r.stdout.startsWith('rustc ') ? r.stdout : undefined;
}

const compressorHere = (wanted?: Compressor): Compressor | undefined =>
  chooseCompressor({ zstdOnPath: (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'zstd'))), nodeZstd: nodeHasZstd() }, wanted);

export interface SaveOptions {
  /** CARGO_BUILD_BUILD_DIR, else the target dir: where cargo's intermediate artifacts are. */
  buildDir: string;
  /** The archive's directory: archiveDir(root, repository, domain, key.fallback, key.exact). */
  dir: string;
  key: ArchiveKey;
  /** The trust domain saving it (the job's key), recorded in archive.json. */
  domain?: string;
  /** The workspace's own packages (lockfile.ts `lockDependencies(...).local`): left out. */
  local: string[];
  compressor?: Compressor;
  timeoutMs: number;
  /** What to archive, when the caller has planned it already (job/tiers.ts, to decide whether to save): `local` is then not read again. */
  plan?: ArchivePlan;
}

/** Saves the dependency artifacts of `buildDir` as the archive `dir`, unless one is there. Never throws. */
export async function saveArchive(o: SaveOptions): Promise<SaveOutcome> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const not = (reason: Exclude<SaveOutcome, { saved: true }>['reason'], detail: string): SaveOutcome => ({ saved: false, reason, detail, ms: ms() });
  if (o.key.exact === undefined) return not('no-lock', 'no Cargo.lock: an archive is saved only under an exact key');
  if (readArchiveMeta(o.dir)) return not('exists', `${o.dir} is already saved`);
  const compressor = compressorHere(o.compressor);
  if (!compressor) return not('no-zstd', "neither a 'zstd' on PATH nor a Node with zstd in zlib (Node 22.15+)");
  const tmp = join(dirname(o.dir), `.${basename(o.dir)}.${randomBytes(4).toString('hex')}.tmp`);
  let writing: Held | undefined;
  try {
    const plan = o.plan ?? planArchive(listBuildDir(o.buildDir), new Set(o.local));
    const { files, bytes } = filesOf(o.buildDir, plan.include);
    if (plan.include.length === 0) return not('nothing', `no dependency artifacts in ${o.buildDir}`);
    await fs.mkdir(dirname(o.dir), { recursive: true });
    await fs.mkdir(tmp);
    // Until the rename: a guard meeting this temp directory sees a save in progress, not a leftover.
    writing = await hold([join(tmp, DATA)]);
    const written = await packTar(o.buildDir, files, join(tmp, DATA), compressor, o.timeoutMs);
    const meta: ArchiveMeta = {
      format: ARCHIVE_FORMAT,
      exact: o.key.exact,
      fallback: o.key.fallback,
      key: o.key.parts,
      ...written,
      compressor,
      savedAt: new Date().toISOString(),
      buildDir: o.buildDir,
      ...(o.domain !== undefined ? { domain: o.domain } : {}),
      packages: plan.packages,
      files: files.length,
      sourceBytes: bytes,
    };
    await writeAtomic(join(tmp, META), JSON.stringify(meta, null, 1) + '\n');
    try {
      await fs.rename(tmp, o.dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        await fs.rm(tmp, { recursive: true, force: true });
        return not('raced', `another job saved ${o.dir} first`);
      }
      throw e;
    }
    return { saved: true, meta, ms: ms() };
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    return not('failed', `saving the dependency archive of ${o.buildDir} into ${o.dir}: ${(e as Error).message}`);
  } finally {
    if (writing) await release(writing);
  }
}

export interface RestoreOptions {
  /** The archive's directory. */
  dir: string;
  /** The build dir to fill: empty, or holding none of the archive's top entries. */
  buildDir: string;
  timeoutMs: number;
  /** Runs while the archive's read lock is held, before anything is read (a test runs a guard there). */
  whileHeld?: () => Promise<void>;
}

/** Restores the archive `dir` into `buildDir`, all or nothing. Never throws. */
export async function restoreArchive(o: RestoreOptions): Promise<RestoreOutcome> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const not = (reason: Exclude<RestoreOutcome, { restored: true }>['reason'], detail: string): RestoreOutcome => ({
    restored: false,
    reason,
    detail,
    ms: ms(),
  });
  const data = join(o.dir, DATA);
  if (!existsSync(data)) return not('missing', `no ${DATA} in ${o.dir}`);
  // Shared, never waited for: held exclusively, the archive is being removed (or still written).
  const reading = await hold([data], { shared: true }).catch(() => undefined);
  if (!reading) return not('missing', `${o.dir} is being removed or written by another process`);
  try {
    await o.whileHeld?.();
    return await restoreHeld(o, data, not, ms);
  } finally {
    await release(reading);
  }
}

/** The restore under the archive's read lock. */
async function restoreHeld(
  o: RestoreOptions,
  data: string,
  not: (reason: Exclude<RestoreOutcome, { restored: true }>['reason'], detail: string) => RestoreOutcome,
  ms: () => number,
): Promise<RestoreOutcome> {
  // Removed between the look and the lock: the lock is then on a file in the trash.
  const size = (await fs.stat(data).catch(() => undefined))?.size;
  if (size === undefined) return not('missing', `no ${DATA} in ${o.dir}`);
  const meta = readArchiveMeta(o.dir);
  if (!meta)
    return not('unreadable', `${join(o.dir, META)} is missing or not an archive description of format ${ARCHIVE_FORMAT}: the archive cannot be verified`);
  if (size !== meta.bytes) return not('truncated', `${data} has ${size} bytes, ${meta.bytes} were saved: refused`);
  const compressor = compressorHere(meta.compressor);
  if (!compressor) return not('failed', "neither a 'zstd' on PATH nor a Node with zstd in zlib: cannot read the archive");
  const tmp = join(o.buildDir, `${RESTORE_PREFIX}${randomBytes(4).toString('hex')}`);
  const moved: string[] = [];
  try {
    await fs.mkdir(o.buildDir, { recursive: true });
    await fs.mkdir(tmp);
    const got = await unpackTar(data, tmp, compressor, o.timeoutMs, meta);
    // The checksum first: an archive not as it was saved is refused as such, whatever tar made of it.
    const bad = got.read && digestMismatch(meta, got.read, data);
    if (bad) return not(bad.reason, `${bad.detail}: refused, nothing restored`);
    if (got.failed || !got.read) return not('failed', `${got.failed ?? `reading ${data}: no checksum`}: nothing restored`);
    await removeEscapingLinks(tmp);
    const entries = namesIn(tmp).sort();
    const taken = entries.filter((e) => existsSync(join(o.buildDir, e)));
    if (taken.length > 0) return not('not-empty', `${o.buildDir} already holds ${taken.join(', ')}: an archive is restored only into an empty build dir`);
    for (const e of entries) {
      await fs.rename(join(tmp, e), join(o.buildDir, e));
      moved.push(e);
    }
    // When it was last used, for whoever weighs it (store/archive-host.ts); not ours to set: no matter.
    const now = new Date();
    await fs.utimes(o.dir, now, now).catch(() => undefined);
    return { restored: true, meta, entries, ms: ms() };
  } catch (e) {
    // Put back what had moved: the build dir holds all of the archive or none of it.
    for (const m of moved.reverse()) await fs.rename(join(o.buildDir, m), join(tmp, m)).catch(() => undefined);
    return not('failed', `restoring ${o.dir} into ${o.buildDir}: ${(e as Error).message}`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Pure: true for the temp directory a restore leaves behind when it is killed (for the guard). */
export const isRestoreLeftover = (name: string): boolean => name.startsWith(RESTORE_PREFIX);

/**
 * The host facts of an archive's key: architecture, OS release (`/etc/os-release`'s ID and
 * VERSION_ID) and libc (glibc's version from Node's report; `musl or other` without one).
 */
export function hostFacts(): { arch: string; os: string; libc: string } {
  return (facts ??= readHostFacts());
}
/** Read once per process: Node's report (for glibc's version) is slow to build on some hosts. */
let facts: { arch: string; os: string; libc: string } | undefined;
function readHostFacts(): { arch: string; os: string; libc: string } {
  let os = 'unknown';
  try {
    const rel = readFileSync('/etc/os-release', 'utf8');
    const v = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(rel)?.[1] ?? '';
    os = `${v('ID')} ${v('VERSION_ID')}`.trim() || 'unknown';
  } catch {
    // no os-release: keep 'unknown'
  }
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  return { arch: arch(), os, libc: glibc ? `glibc ${glibc}` : 'musl or other' };
}

/** Pure: the build dir cargo writes intermediate artifacts to, as a job's environment says. */
export function buildDirOf(env: Record<string, string | undefined>, targetDir: string, cwd: string): string | undefined {
  const b = env.CARGO_BUILD_BUILD_DIR;
  if (b === undefined || b === '') return resolve(cwd, targetDir);
  // Templates ({workspace-root}, {cargo-cache-home}, {workspace-path-hash}) are cargo's to expand.
  if (b.includes('{')) return undefined;
  return resolve(cwd, b);
}
