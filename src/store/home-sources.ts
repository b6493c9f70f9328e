import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { SETTLE_MS, afterOwnWrites, changedSince, settle, unchangedSince } from '../os/changes.js';
import { hold, release } from '../os/flock.js';
import { writeAtomic } from '../os/fsutil.js';
import { removeTree } from '../os/remove.js';
import { blobPath, fileSha256, placeAtomically } from './crates.js';
import { type Diff, compareTree, extractTree, repairTree, sealTree, unsealTree } from './crate-tree.js';
import { type LockedCrate, indexChecksums, indexPath } from './lockfile.js';
import { CrateFormatError, expectedTree, readCrate } from './tar.js';
import { type GitEntry, GitObjectError, checkoutTree, commitTree } from './git-tree.js';
import { isDirAt, listDir, listDirents, lstatIfPresent, readBytesIfPresent, readTextIfPresent } from '../os/absent.js';

/*
 * The sources of a CARGO_HOME that several trust domains read (job/cargo-home.ts): every
 * extracted registry crate is exactly its verified `.crate`, every git checkout exactly its locked
 * commit's tree (git-tree.ts), checked again whenever anything below it changed, and sealed
 * read-only.
 *
 * The record (`<root>/homes/u<uid>-verified/sources.json`, beside the home, not in it) says for
 * each crate directory which `.crate` checksum it was verified against and the moment `at` after
 * which nothing below it, nor its `.crate`, had changed. A check:
 *
 * 1. Targets: the crates the job's Cargo.lock names (with the lock's checksum), or, where no lock
 *    is known (a runner hook starts before checkout; a repository without one), every crate the
 *    home holds, by the checksum it was verified against, else the one cargo's index cache gives
 *    (what cargo itself checks a download against).
 * 2. One `find -newerct` over the recorded targets (os/changes.ts): the paths whose change time is
 *    after their record's `at`. ctime is set by every write, chmod, rename and link, and by
 *    `touch -r` too, which puts only the mtime back: a same-size edit with its mtime restored and a
 *    file replaced by rename are both seen. Nothing changed: done, without a lock or a write.
 * 3. Otherwise, under cargo's own download lock of the home (`.package-cache`, which cargo holds
 *    while it extracts, so neither side ever sees the other's half-made directory): the `.crate`
 *    is hashed where it changed (a wrong one is replaced from the crate store, or moved away with
 *    its sources: cargo downloads it again and checks it), then the changed paths (every path, for
 *    a crate never recorded) are compared with the `.crate`'s tree and repaired file by file
 *    (crate-tree.ts); a locked crate whose sources are missing is extracted from its verified
 *    `.crate` before the build needs it.
 * 4. What is recorded is only what was read after the moment recorded, so that a change racing
 *    the check is seen by the next one: a crate compared whole, at a moment after this check's
 *    own writes (seals, extractions) and SETTLE_MS before anything is read; a crate compared only
 *    where the listing said it changed, at the listing's moment; every `.crate` hashed after it. A
 *    repaired crate is compared once more before it is recorded, and (its repair being a change
 *    after the listing) once more at the next check.
 */

export interface SourceRecord {
  /** sha256 of the `.crate` the tree was verified against (a git checkout: its commit). */
  sha256: string;
  /**
   * Whose checksum (a git checkout: whose commit) that is: a Cargo.lock's, cargo's index cache's
   * (no lock named the crate), or the checkout's own HEAD (no lock named it).
   */
  from: 'lock' | 'index' | 'checkout';
  /** Nothing below the tree, nor its `.crate`, changed after this moment (ms). */
  at: number;
  /** When a job last needed it (its lock named it), for giving cargo's clean-up its old sources back. */
  used: number;
  /** Read-only, or left writable (a crate whose build script writes next to its sources). */
  sealed: boolean;
}

export interface SourcesRecord {
  format: 1;
  /** By `<index dir>/<name>-<version>`, and `git/<database>/<short commit>` for checkouts. */
  crates: Record<string, SourceRecord>;
  /** Crate names some job declared writable (`writable-sources`), with when it last did. */
  writable: Record<string, number>;
}

/** cargo cleans sources nobody used for a month: sealed ones it cannot, so they are unsealed after this. */
export const UNSEAL_AFTER_MS = 21 * 86_400_000;
/** A name declared writable stays so this long after the last job that declared it. */
export const WRITABLE_FOR_MS = 30 * 86_400_000;
/** `used` is written at most this often per crate: a start that changes nothing writes nothing. */
const USED_EVERY_MS = 86_400_000;

const emptyRecord = (): SourcesRecord => ({ format: 1, crates: {}, writable: {} });

export async function readSources(file: string): Promise<SourcesRecord> {
  try {
    const r = JSON.parse(await fs.readFile(file, 'utf8')) as SourcesRecord;
    if (r.format !== 1 || typeof r.crates !== 'object' || r.crates === null) return emptyRecord();
    return { format: 1, crates: r.crates, writable: r.writable ?? {} };
  } catch {
    return emptyRecord();
  }
}

/**
 * The `.crate` files of a home a record vouches for (publishCrates' `verified`): the sha256 it was
 * verified as, while its ctime says it has not changed since. Registry crates only.
 */
export function verifiedCrates(rec: SourcesRecord, now = Date.now()): (key: string, ctimeMs: number) => string | undefined {
  return (key, ctimeMs) => {
    const x = key.startsWith('git/') ? undefined : rec.crates[key];
    return x && unchangedSince(ctimeMs, x.at, now) ? x.sha256 : undefined;
  };
}

/** A crate the check looks at. */
export interface Target {
  /** `<index dir>/<name>-<version>`, or `git/<db name>/<short commit>` for a git checkout. */
  key: string;
  /** The index dir (a checkout: the database's name). */
  dir: string;
  /** `<name>-<version>` (a checkout: its directory, the commit's short name). */
  crate: string;
  /** The job's Cargo.lock names it, with this checksum (a checkout: this commit). */
  lockSha?: string;
  /** A git checkout: the packages the lock takes from it (for writable-sources). */
  git?: { names: string[] };
}

export type Plan =
  | { action: 'ok' }
  | { action: 'drop' }
  | { action: 'skip'; why: string }
  /** Compare the tree (only the changed paths, or all), the `.crate` hashed first when `crate`. */
  | { action: 'verify'; only?: string[]; crate: boolean }
  /** The sources are missing: extract them from the `.crate` (hashed first). */
  | { action: 'extract' };

/**
 * Pure: what one target needs. `changed`: paths below its sources that changed after its record
 * ('' for the directory itself); `crateChanged`: its `.crate` did; `sealed`: whether it must be
 * read-only now.
 */
export function planTarget(
  t: Pick<Target, 'lockSha'>,
  rec: SourceRecord | undefined,
  on: { src: boolean; crateFile: boolean },
  changed: string[],
  crateChanged: boolean,
  sealed: boolean,
  extract = true,
): Plan {
  if (!on.src && !on.crateFile) return rec ? { action: 'drop' } : { action: 'skip', why: 'not in this CARGO_HOME' };
  const stale = !rec || (t.lockSha !== undefined && rec.sha256 !== t.lockSha) || rec.sealed !== sealed;
  if (!on.src) {
    // cargo extracts a missing tree from the `.crate` when it needs it: a starting job's locked
    // crates are extracted now, from a verified one; otherwise only the `.crate` must be right.
    if (extract && t.lockSha !== undefined && on.crateFile) return { action: 'extract' };
    return stale || crateChanged ? { action: 'verify', crate: true } : { action: 'ok' };
  }
  // Never verified, verified against another checksum, or sealed the other way: the whole tree.
  if (stale) return { action: 'verify', crate: true };
  // The directory itself changed (an entry added or removed at its top, its mode, a rename of
  // it): the whole tree, as for a new one. Else the paths that changed, and the `.crate` if it did.
  if (changed.includes('')) return { action: 'verify', crate: crateChanged };
  if (crateChanged || changed.length > 0) return { action: 'verify', crate: crateChanged, only: changed };
  return { action: 'ok' };
}

/** Pure: `name-version` split at the dash before the version (a name may hold dashes, a version too). */
export function splitCrate(crate: string): { name: string; version: string }[] {
  const out: { name: string; version: string }[] = [];
  for (let i = crate.indexOf('-'); i > 0; i = crate.indexOf('-', i + 1)) {
    const version = crate.slice(i + 1);
    if (/^\d+\.\d+\.\d+/.test(version)) out.push({ name: crate.slice(0, i), version });
  }
  return out;
}

export interface SourcesCheck {
  root: string;
  home: string;
  /** The record file (its directory exists and is this uid's: job/shared-home.ts). */
  recordFile: string;
  /** The job's locked registry crates; undefined where no lock is known. */
  locked?: LockedCrate[];
  /** The index dirs cargo names each locked source with, as publishers learned them (dir-names.ts). */
  dirsOf?: (source: string) => Promise<string[]>;
  /** The job's locked git dependencies (gitstore.ts parseGitLock), and the database names cargo gives their URLs. */
  gitLocked?: { name: string; url: string; commit: string }[];
  gitDirsOf?: (url: string) => Promise<string[]>;
  /** Crate names whose sources stay writable (the job's `writable-sources`). */
  writable: string[];
  /** How long to wait for cargo's download lock of the home. */
  lockWaitSeconds: number;
  /** Extract the locked crates whose sources are missing (a start: the build is about to read them). */
  extract?: boolean;
  now?: number;
}

export interface SourcesReport {
  /** Crates looked at. */
  checked: number;
  /** Crates found changed since they were verified, or never verified. */
  verified: number;
  /** Paths replaced, created or removed, per crate. */
  repaired: { crate: string; paths: string[] }[];
  extracted: number;
  /** `.crate` files that were not what their checksum says, and what became of them. */
  replaced: { crate: string; how: string }[];
  /** Crates left unchecked, and why. */
  unchecked: { crate: string; why: string }[];
  unsealed: number;
  /** Why the check could not run under cargo's lock (the caller decides what that costs). */
  skipped?: string;
  ms: number;
}

const isDir = isDirAt;
const isFile = async (p: string) => (await lstatIfPresent(p))?.isFile() ?? false;
const listDirs = async (p: string) => (await listDirents(p)).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);

/** The checksum cargo's index cache gives for `crate` in index dir `dir`, when exactly one does. */
async function indexSha(home: string, dir: string, crate: string): Promise<string | undefined> {
  for (const { name, version } of splitCrate(crate)) {
    const buf = await readBytesIfPresent(join(home, 'registry', 'index', dir, '.cache', indexPath(name)));
    const sums = buf ? [...new Set(indexChecksums(buf, version))] : [];
    if (sums.length === 1) return sums[0];
  }
  return undefined;
}

/**
 * The git checkouts to look at: the locked commits' (under the database names known for their
 * URLs, else any database holding a checkout of that commit), or every checkout the home holds.
 */
async function checkoutsOf(c: SourcesCheck): Promise<Target[]> {
  const co = join(c.home, 'git', 'checkouts');
  const out = new Map<string, Target>();
  const add = (dir: string, short: string, commit?: string, names: string[] = []) => {
    const key = `git/${dir}/${short}`;
    const t = out.get(key);
    out.set(key, { key, dir, crate: short, lockSha: commit, git: { names: [...(t?.git?.names ?? []), ...names] } });
  };
  if (c.locked) {
    for (const g of c.gitLocked ?? []) {
      const known = (await c.gitDirsOf?.(g.url)) ?? [];
      for (const dir of known.length ? known : await listDirs(co))
        for (const short of await listDirs(join(co, dir))) if (short.length >= 7 && g.commit.startsWith(short)) add(dir, short, g.commit, [g.name]);
    }
    return [...out.values()];
  }
  for (const dir of await listDirs(co)) for (const short of await listDirs(join(co, dir))) add(dir, short);
  return [...out.values()];
}

/** The crates to look at: the lock's (in the index dirs known for its sources), or everything the home holds. */
async function targetsOf(c: SourcesCheck): Promise<Target[]> {
  return [...(await registryTargets(c)), ...(await checkoutsOf(c))];
}

async function registryTargets(c: SourcesCheck): Promise<Target[]> {
  const reg = join(c.home, 'registry');
  const out = new Map<string, Target>();
  if (c.locked) {
    const present = new Set([...(await listDirs(join(reg, 'src'))), ...(await listDirs(join(reg, 'cache')))]);
    const bySource = new Map<string, string[]>();
    for (const s of new Set(c.locked.map((x) => x.source)))
      bySource.set(
        s,
        ((await c.dirsOf?.(s)) ?? []).filter((d) => present.has(d)),
      );
    for (const x of c.locked) {
      const crate = `${x.name}-${x.version}`;
      let dirs = bySource.get(x.source)!;
      // A registry no publisher has named yet: the dir whose index cache gives this very checksum.
      if (dirs.length === 0) {
        dirs = [];
        for (const d of present) if ((await indexSha(c.home, d, crate)) === x.checksum) dirs.push(d);
      }
      for (const d of dirs) out.set(`${d}/${crate}`, { key: `${d}/${crate}`, dir: d, crate, lockSha: x.checksum });
    }
    return [...out.values()];
  }
  for (const d of await listDirs(join(reg, 'src')))
    for (const crate of await listDirs(join(reg, 'src', d))) out.set(`${d}/${crate}`, { key: `${d}/${crate}`, dir: d, crate });
  for (const d of await listDirs(join(reg, 'cache')))
    for (const f of await listDir(join(reg, 'cache', d), { notADirectory: 'absent' }))
      if (f.endsWith('.crate') && !f.startsWith('.')) out.set(`${d}/${f.slice(0, -6)}`, { key: `${d}/${f.slice(0, -6)}`, dir: d, crate: f.slice(0, -6) });
  return [...out.values()];
}

interface Work {
  t: Target;
  plan: Plan;
  src: string;
  crateFile: string;
  sealed: boolean;
  sha?: string;
  from?: SourceRecord['from'];
  tree?: ReturnType<typeof expectedTree>;
  /** Only the `.crate` is there: verified, nothing to compare. */
  crateOnly?: boolean;
  /** The paths to compare (changed since the record); undefined: all of them. */
  only?: string[];
  /** Paths left alone: a checkout's own `.git` and its submodules. */
  ignore?: string[];
  /** A checkout: its commit's tree, whose bytes are read when a repair needs them. */
  gitTree?: Map<string, GitEntry>;
  diffs?: Diff[];
  /** Before the listing of what changed: what the record may say of a crate compared only in part. */
  scanAt: number;
}

/** The check (see above). Never throws for one crate's trouble: it is reported, and the crate is left unrecorded. */
export async function checkSources(c: SourcesCheck): Promise<SourcesReport> {
  const t0 = performance.now();
  const now = c.now ?? Date.now();
  const r: SourcesReport = { checked: 0, verified: 0, repaired: [], extracted: 0, replaced: [], unchecked: [], unsealed: 0, ms: 0 };
  const done = () => ((r.ms = Math.round(performance.now() - t0)), r);
  // A record from the future: the clock was set back, and ctimes after it prove nothing.
  const trusted = (x: SourcesRecord) => (Object.values(x.crates).some((y) => y.at > now + 60_000) ? { ...emptyRecord(), writable: x.writable } : x);
  let rec = trusted(await readSources(c.recordFile));
  const writable = new Set([...c.writable, ...Object.entries(rec.writable).flatMap(([n, at]) => (now - at < WRITABLE_FOR_MS ? [n] : []))]);
  const targets = await targetsOf(c);
  const paths = (t: Target) =>
    t.git
      ? { src: join(c.home, 'git', 'checkouts', t.dir, t.crate), crateFile: join(c.home, 'git', 'db', t.dir) }
      : { src: join(c.home, 'registry', 'src', t.dir, t.crate), crateFile: join(c.home, 'registry', 'cache', t.dir, `${t.crate}.crate`) };
  // Which sources and `.crate` files are there: one listing per index dir, not a stat per crate.
  const listing = async (sub: 'src' | 'cache', dir: string, want: (e: { isDirectory(): boolean; isFile(): boolean }) => boolean) =>
    new Set((await listDirents(join(c.home, 'registry', sub, dir))).filter(want).map((e) => e.name));
  const present = async (ts: Target[]) => {
    const dirs = [...new Set(ts.filter((t) => !t.git).map((t) => t.dir))];
    const src = new Map(await Promise.all(dirs.map(async (d) => [d, await listing('src', d, (e) => e.isDirectory())] as const)));
    const cache = new Map(await Promise.all(dirs.map(async (d) => [d, await listing('cache', d, (e) => e.isFile())] as const)));
    const checkouts = new Map(
      await Promise.all(
        ts.filter((t) => t.git).map(async (t) => [t.key, { src: await isDir(paths(t).src), crateFile: await isDir(paths(t).crateFile) }] as const),
      ),
    );
    return (t: Target) => checkouts.get(t.key) ?? { src: src.get(t.dir)!.has(t.crate), crateFile: cache.get(t.dir)!.has(`${t.crate}.crate`) };
  };
  const plan = async (ts: Target[], record: SourcesRecord): Promise<Work[]> => {
    const on = await present(ts);
    const recorded = ts.filter((t) => record.crates[t.key]);
    const since = Math.min(...recorded.map((t) => record.crates[t.key].at));
    // A change after this moment may not be in the listing: a crate compared only where the
    // listing says it changed is recorded as verified up to here, no later (see below).
    const scanAt = Date.now() - SETTLE_MS;
    // A checkout's database is not watched: every object read from it is checked by its hash.
    const watched = recorded.flatMap((t) => [...(on(t).src ? [paths(t).src] : []), ...(on(t).crateFile && !t.git ? [paths(t).crateFile] : [])]);
    const changed = watched.length ? await changedSince(watched, Math.floor(since), { skip: '.git' }) : new Map<string, number>();
    const out: Work[] = [];
    for (const t of ts) {
      const p = paths(t);
      const at = record.crates[t.key]?.at ?? Infinity;
      const inside = [...changed].filter(([f, ct]) => ct > at && (f === p.src || f.startsWith(p.src + sep))).map(([f]) => relative(p.src, f));
      const crateChanged = !t.git && (changed.get(p.crateFile) ?? 0) > at;
      const names = t.git ? t.git.names : [splitCrate(t.crate)[0]?.name ?? t.crate];
      const sealed = !names.some((n) => writable.has(n));
      // cargo makes a missing checkout itself, from the database, when it needs one.
      const pl = planTarget(t, record.crates[t.key], on(t), inside, crateChanged, sealed, c.extract !== false && !t.git);
      out.push({ t, plan: pl, ...p, sealed, scanAt });
    }
    return out;
  };
  let work = await plan(targets, rec);
  r.checked = work.filter((w) => w.plan.action !== 'skip').length;
  const oldSealed = Object.entries(rec.crates).filter(([k, x]) => x.sealed && now - x.used > UNSEAL_AFTER_MS && !targets.some((t) => t.key === k));
  const stale = (w: Work) => w.t.lockSha !== undefined && now - (rec.crates[w.t.key]?.used ?? 0) > USED_EVERY_MS;
  const declared = c.writable.filter((n) => now - (rec.writable[n] ?? 0) > USED_EVERY_MS);
  const needs = (ws: Work[]) => ws.filter((w) => w.plan.action !== 'ok' && w.plan.action !== 'skip');
  // A locked crate cargo never fetched (a dependency of another platform's) is read by nobody: no trouble.
  if (needs(work).length === 0 && oldSealed.length === 0 && !work.some(stale) && declared.length === 0) return done();

  const lock = await hold([join(c.home, '.package-cache')], { waitSeconds: c.lockWaitSeconds });
  if (!lock) {
    r.skipped = `another cargo held ${join(c.home, '.package-cache')} for ${c.lockWaitSeconds} s`;
    return done();
  }
  try {
    // Another job may have verified some of these while this one waited for the lock.
    const fresh = trusted(await readSources(c.recordFile));
    if (fresh.crates !== rec.crates && JSON.stringify(fresh.crates) !== JSON.stringify(rec.crates)) {
      rec = fresh;
      work = await plan(targets, rec);
    }
    for (const n of c.writable) rec.writable[n] = now;
    const todo = needs(work);
    for (const w of todo) {
      try {
        await prepare(c, w, r, rec);
      } catch (e) {
        r.unchecked.push({ crate: w.t.key, why: `${w.src}: ${(e as Error).message}` });
        w.tree = undefined;
        delete rec.crates[w.t.key];
      }
    }
    for (const [key] of oldSealed) {
      const git = key.startsWith('git/');
      const [dir, crate] = git ? key.slice(4).split('/') : [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      await unsealTree(git ? join(c.home, 'git', 'checkouts', dir, crate) : join(c.home, 'registry', 'src', dir, crate), git ? ['.git'] : []).then(
        () => ((rec.crates[key].sealed = false), r.unsealed++),
        () => undefined,
      );
    }
    // Everything this check wrote so far is stamped before `at`; what changes after it is not.
    // So everything recorded as verified is read after it: each `.crate` is hashed once more.
    const at = afterOwnWrites();
    await settle(at);
    for (const w of todo.filter((x) => x.tree)) {
      if (!w.t.git && w.sha && (await fileSha256(w.crateFile).catch(() => '')) !== w.sha) {
        r.unchecked.push({ crate: w.t.key, why: `${w.crateFile} changed while it was checked` });
        w.tree = undefined;
        delete rec.crates[w.t.key];
      }
    }
    for (const w of todo.filter((x) => x.tree && !x.crateOnly)) {
      try {
        w.diffs = await compareTree(w.src, w.tree!, { sealed: w.sealed, keepExtra: !w.sealed, only: w.only, ignore: w.ignore });
        if (w.diffs.length === 0) continue;
        if (w.gitTree) await loadForRepair(w);
        await repairTree(w.src, w.tree!, w.diffs, w.sealed);
        r.repaired.push({ crate: w.t.key, paths: w.diffs.map((d) => `${d.path || '.'} (${d.why})`) });
      } catch (e) {
        r.unchecked.push({ crate: w.t.key, why: `comparing ${w.src}: ${(e as Error).message}` });
        w.tree = undefined;
        delete rec.crates[w.t.key];
      }
    }
    // A repaired crate is recorded at `at2` only once a second look, after it, finds whole every
    // path that changed since the first look began (the repair's own writes, and anything another
    // process wrote meanwhile): a path compared before `at2` and changed after that comparison
    // would otherwise carry a ctime older than its record.
    const repaired = todo.filter((w) => w.tree && w.diffs?.length);
    const at2 = afterOwnWrites();
    if (repaired.length) await settle(at2);
    for (const w of repaired) {
      const base = w.only !== undefined && !w.crateOnly ? w.scanAt : at;
      const since = [...(await changedSince([w.src], Math.floor(base), { skip: w.t.git ? '.git' : undefined })).keys()].map((f) => relative(w.src, f));
      const again = await compareTree(w.src, w.tree!, {
        sealed: w.sealed,
        keepExtra: !w.sealed,
        only: since.includes('') ? undefined : [...new Set([...w.diffs!.map((d) => d.path), ...since])],
        ignore: w.ignore,
      });
      if (again.length) {
        r.unchecked.push({ crate: w.t.key, why: `${again.map((d) => d.path).join(', ')} changed again while it was repaired` });
        w.tree = undefined;
        delete rec.crates[w.t.key];
      }
    }
    for (const w of work) {
      const old = rec.crates[w.t.key];
      if (w.plan.action === 'drop') delete rec.crates[w.t.key];
      else if (w.tree && w.sha) {
        // Every path read after `at` (or `at2`): that moment. Only the changed ones: the listing's.
        const verified = w.diffs?.length ? at2 : w.only !== undefined && !w.crateOnly ? w.scanAt : at;
        rec.crates[w.t.key] = { sha256: w.sha, from: w.from!, at: verified, used: w.t.lockSha ? now : (old?.used ?? now), sealed: w.sealed };
      } else if (old && stale(w)) old.used = now;
    }
    await writeAtomic(c.recordFile, JSON.stringify(rec));
  } finally {
    await release(lock);
  }
  return done();
}

/**
 * Before the comparison: the `.crate` hashed and, when wrong, replaced or moved away; the tree
 * read from it; a missing locked tree extracted; a tree never sealed sealed. Leaves `w.tree`
 * unset when nothing can be verified.
 */
async function prepare(c: SourcesCheck, w: Work, r: SourcesReport, rec: SourcesRecord): Promise<void> {
  if (w.t.git) return prepareCheckout(w, r, rec);
  const old = rec.crates[w.t.key];
  const want = w.t.lockSha ?? old?.sha256 ?? (await indexSha(c.home, w.t.dir, w.t.crate));
  w.from = w.t.lockSha ? 'lock' : old ? old.from : 'index';
  if (!want) {
    r.unchecked.push({ crate: w.t.key, why: 'no lock file, record or index entry gives its checksum' });
    return;
  }
  r.verified++;
  const pl = w.plan;
  // The `.crate` is hashed unless it is the one recorded and has not changed since.
  const rehash = pl.action === 'extract' || (pl.action === 'verify' && pl.crate);
  w.only = pl.action === 'verify' ? pl.only : undefined;
  const hashed = !rehash ? want : (await isFile(w.crateFile)) ? await fileSha256(w.crateFile) : undefined;
  if (hashed !== want) {
    const blob = blobPath(c.root, want);
    if ((await isFile(blob)) && (await fileSha256(blob)) === want) {
      await placeAtomically(w.crateFile, { from: blob, mode: 'link' });
      r.replaced.push({ crate: w.t.key, how: hashed ? 'replaced from the crate store' : 'restored from the crate store' });
      w.only = undefined; // another `.crate`: the whole tree against it
    } else {
      // Nothing verified to put there: cargo downloads the `.crate` again (and checks it against
      // the index), and extracts it afresh, once the sources it would trust are gone too.
      if (hashed) await removeTree(c.root, w.crateFile, { why: 'shared CARGO_HOME: a .crate that is not what its checksum says' });
      if (await isDir(w.src)) {
        await fs.chmod(w.src, 0o755).catch(() => undefined);
        await removeTree(c.root, w.src, { why: 'shared CARGO_HOME: sources of a .crate that is not what its checksum says' });
      }
      delete rec.crates[w.t.key];
      r.replaced.push({
        crate: w.t.key,
        how: hashed ? 'moved away with its sources (not in the crate store): cargo downloads it again' : 'absent, sources moved away',
      });
      return;
    }
  }
  w.sha = want;
  if ((await fs.lstat(w.crateFile)).mode & 0o222) await fs.chmod(w.crateFile, 0o444).catch(() => undefined);
  try {
    w.tree = expectedTree(readCrate(await fs.readFile(w.crateFile), w.t.crate));
  } catch (e) {
    if (!(e instanceof CrateFormatError)) throw e;
    r.unchecked.push({ crate: w.t.key, why: `${w.crateFile}: ${e.message}` });
    return;
  }
  if (!(await isDir(w.src))) {
    if (pl.action !== 'extract') return void (w.crateOnly = true); // cargo extracts it from this `.crate` when it needs it
    await fs.mkdir(join(c.home, 'registry', 'src', w.t.dir), { recursive: true });
    if ((await extractTree(join(c.home, 'registry', 'src', w.t.dir), w.t.crate, w.tree, w.sealed)) === 'made') r.extracted++;
    w.only = undefined; // compared whole below, like any other new tree
    return;
  }
  // Compared whole: sealed first (modes only), so that the moment recorded comes after these writes.
  if (w.sealed && w.only === undefined) await sealTree(w.src);
  if (!w.sealed && old?.sealed) {
    await unsealTree(w.src);
    r.unsealed++;
  }
}

/**
 * A git checkout: compared with the tree of its commit (the lock's; else the one it was verified
 * as; else its own HEAD, which must be the commit its directory is named after), read from its
 * database with every object checked. Its own `.git` and its submodules are left alone.
 */
async function prepareCheckout(w: Work, r: SourcesReport, rec: SourcesRecord): Promise<void> {
  const old = rec.crates[w.t.key];
  const head = async () => {
    const h = ((await readTextIfPresent(join(w.src, '.git', 'HEAD'), { notADirectory: 'absent' })) ?? '').trim();
    return /^[0-9a-f]{40}$/.test(h) && h.startsWith(w.t.crate) ? h : undefined;
  };
  const commit = w.t.lockSha ?? old?.sha256 ?? (await head());
  w.from = w.t.lockSha ? 'lock' : old ? old.from : 'checkout';
  if (!commit)
    return void r.unchecked.push({ crate: w.t.key, why: 'no lock file or record names its commit, and its HEAD is not the one its directory is named after' });
  if (!(await isDir(w.src))) return;
  r.verified++;
  w.only = w.plan.action === 'verify' ? w.plan.only : undefined;
  try {
    w.gitTree = await commitTree(w.crateFile, commit);
    w.tree = await checkoutTree(w.crateFile, w.gitTree, w.only ?? undefined);
  } catch (e) {
    if (!(e instanceof GitObjectError)) throw e;
    r.unchecked.push({ crate: w.t.key, why: `its database ${w.crateFile}: ${e.message}` });
    w.tree = undefined;
    return;
  }
  w.sha = commit;
  w.ignore = ['.git', ...[...w.gitTree].filter(([, e]) => e.kind === 'submodule').map(([p]) => p)];
  if (w.sealed && w.only === undefined) await sealTree(w.src, w.ignore);
  if (!w.sealed && old?.sealed) {
    await unsealTree(w.src, w.ignore);
    r.unsealed++;
  }
}

/** The bytes a checkout's repair needs that the comparison did not read. */
async function loadForRepair(w: Work): Promise<void> {
  const need = w.diffs!.filter((d) => d.why !== 'extra' && d.why !== 'mode').map((d) => d.path);
  const missing = [...w.tree!].filter(
    ([p, e]) => (e.kind === 'file' ? !e.data : e.kind === 'symlink' && e.target === undefined) && need.some((n) => p === n || p.startsWith(`${n}/`)),
  );
  if (missing.length === 0) return;
  const more = await checkoutTree(
    w.crateFile,
    w.gitTree!,
    missing.map(([p]) => p),
  );
  for (const [p] of missing) w.tree!.set(p, more.get(p)!);
}
