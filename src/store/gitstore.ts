import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { exists, isPermissionError, linkOrCopy } from '../os/fsutil.js';
import { sha256Hex, safeComponent } from '../model/key.js';
import { removeTree } from '../os/remove.js';
import { gitStorePaths } from '../model/layout.js';
import { lockPackages } from './lockfile.js';
import { knownDirs, learnDir } from './dir-names.js';
import { listDir, lstatIfPresent, readTextIfPresent } from '../os/absent.js';

/*
 * The host-wide git store, <root>/git: the databases of git dependencies, fetched once per host.
 *
 *   db/<url-key>/<commit>/pack-<h>.pack   every object reachable from <commit>, packed by git;
 *   db/<url-key>/<commit>/pack-<h>.idx    read-only, published whole by renaming a temp dir
 *   db/<url-key>/<commit>/entry.json      { url, commit }: what the entry claims to hold
 *   dirs/<hash>.json                      which git/db/<dir> names cargo <version> used for a URL:
 *                                         learned from publishers, never computed
 *
 * What cargo needs to skip the fetch (rust-lang/cargo src/sources/git/source.rs, utils.rs;
 * measured with cargo 1.95):
 * - GitSource::fetch_db opens CARGO_HOME/git/db/<ident> and, when Cargo.lock pins a commit
 *   (`git+URL?branch=..#<sha>`, Revision::Locked) and GitDatabase::contains(sha) (a
 *   revparse of the sha: the commit object alone), uses it with no network at all, whatever
 *   `net.git-fetch-with-cli` says: that setting only picks the fetch program. Refs, FETCH_HEAD
 *   and the branch in the URL are not consulted for a locked commit.
 * - <ident> is `<last path segment of the canonical URL>-<short_hash(canonical URL)>` (plus
 *   `-shallow` under -Zgit=shallow-deps). The hash is cargo's and changed in 1.85: the names
 *   are learned from the db dirs cargo made for a publisher, per cargo version, never computed.
 * - checkouts/<ident>/<short sha>/ is a working tree cargo clones locally from the db (hardlinks)
 *   and marks with `.cargo-ok` once reset; a checkout without it is redone, one with it is used
 *   unchecked. So only databases are seeded, never checkouts: cargo rebuilds them offline.
 * - The checkout of a commit needs its tree and blobs, which `contains` does not check: a db
 *   with the commit but a broken tree makes cargo fail, not fetch. Hence the full check below.
 * - Submodules are fetched into databases of their own URLs when a checkout is made; they are
 *   not seeded (their commits are not in Cargo.lock).
 *
 * Invariants:
 * - A store entry reaches a slot only after `git fsck` (every object's hash, the packs'
 *   checksums, connectivity from the locked commit) and `rev-parse <sha>^{tree}` passed on the
 *   very files placed in the slot, in a fresh repository holding nothing else (no alternates,
 *   no GIT_* environment), and only after entry.json names the locked URL and commit.
 * - The seeded database is made by this code: `git init`, the entry's pack and index linked
 *   (copied for untrusted jobs) in, one ref written from the consumer's own Cargo.lock. Nothing
 *   a job can rewrite in place is shared: git never modifies a pack or index file, and a
 *   repack in a slot writes new files and unlinks the old names, which the store keeps.
 * - Entries appear whole or not at all (temp dir + rename) and are never modified; a trusted
 *   job's post step replaces an entry its main step refused (moved to trash first).
 */

export interface LockedGit {
  name: string;
  version: string;
  /** The repository URL as Cargo.lock writes it, without `?branch=..` and `#sha`. */
  url: string;
  commit: string;
}

const SHA = /^[0-9a-f]{40}$/;

/** Pure: the git packages of a Cargo.lock, one per (URL, commit). */
export function parseGitLock(text: string): LockedGit[] {
  const out: LockedGit[] = [];
  const seen = new Set<string>();
  for (const field of lockPackages(text)) {
    const [name, version, source] = ['name', 'version', 'source'].map(field);
    const m = source ? /^git\+([^?#]+)(?:\?[^#]*)?#([0-9a-f]{40})$/.exec(source) : null;
    if (!name || !version || !m) continue;
    const key = `${m[1]}#${m[2]}`;
    if (seen.has(key)) continue; // a workspace of several crates in one repository: one database
    seen.add(key);
    out.push({ name, version, url: m[1], commit: m[2] });
  }
  return out;
}

/** The store's directory for a URL: readable, and distinct for distinct URLs. */
export function urlKey(url: string): string {
  const last =
    url
      .replace(/\/+$/, '')
      .split('/')
      .pop()
      ?.replace(/\.git$/, '') || 'repo';
  return `${safeComponent(last, 40)}-${sha256Hex(url).slice(0, 16)}`;
}

export const entryPath = (root: string, url: string, commit: string) => join(gitStorePaths(root).db, urlKey(url), commit);
const label = (g: Pick<LockedGit, 'name' | 'commit'>) => `${g.name} ${g.commit.slice(0, 8)}`;

/** What a db dir in a job's CARGO_HOME holds, as publishing sees it. */
export interface DbDirFacts {
  name: string;
  /** Locked commits (of any URL) present in it. */
  commits: string[];
  /** URLs named in its FETCH_HEAD (`... of <url>`), written by libgit2 and git alike. */
  fetchedFrom: string[];
}

/**
 * Pure: which locked URL each db dir belongs to. A commit alone can be ambiguous (a fork pinned
 * at a commit of its upstream, both locked): then FETCH_HEAD, then cargo's `<last segment>-`
 * prefix decide; a dir still ambiguous is not published.
 */
export function assignDbDirs(dirs: DbDirFacts[], locked: Pick<LockedGit, 'url' | 'commit'>[]): { assigned: Map<string, string>; ambiguous: string[] } {
  const assigned = new Map<string, string>();
  const ambiguous: string[] = [];
  const norm = (u: string) =>
    u
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
      .toLowerCase();
  for (const d of dirs) {
    let urls = [...new Set(locked.filter((g) => d.commits.includes(g.commit)).map((g) => g.url))];
    if (urls.length > 1) {
      const fetched = urls.filter((u) => d.fetchedFrom.some((f) => norm(f) === norm(u)));
      if (fetched.length > 0) urls = fetched;
    }
    if (urls.length > 1) {
      const prefix = d.name.replace(/-[0-9a-f]{16}(-shallow)?$/, '').toLowerCase();
      const named = urls.filter((u) => norm(u).split('/').pop() === prefix);
      if (named.length > 0) urls = named;
    }
    if (urls.length === 1) assigned.set(d.name, urls[0]);
    else if (urls.length > 1) ambiguous.push(d.name);
  }
  return { assigned, ambiguous };
}

/** The git program, behind an interface so that its absence is a reason, not a crash. */
export interface Git {
  run(args: string[], o?: { input?: string }): { status: number | null; stdout: string; stderr: string; error?: Error };
}

/**
 * git as a child process with no GIT_* variable of the job's environment: GIT_DIR,
 * GIT_OBJECT_DIRECTORY or GIT_ALTERNATE_OBJECT_DIRECTORIES would make a check read other
 * objects than the ones placed. `safe.directory=*`: store files may belong to another uid.
 */
export function systemGit(env: NodeJS.ProcessEnv = process.env, timeoutMs = 600_000): Git {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('GIT_')));
  return {
    run(args, o = {}) {
      const r = spawnSync('git', ['-c', 'safe.directory=*', '-c', 'init.defaultBranch=main', ...args], {
        env: { ...clean, GIT_TERMINAL_PROMPT: '0' },
        input: o.input,
        encoding: 'utf8',
        timeout: timeoutMs,
        maxBuffer: 64 << 20,
      });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
    },
  };
}

const firstLine = (r: { stderr: string; stdout: string; status: number | null; error?: Error }) =>
  (r.error?.message ?? (r.stderr.trim() || r.stdout.trim()).split('\n').filter((l) => !/^(hint|Checking|notice)/.test(l))[0] ?? `exit ${r.status}`).slice(
    0,
    200,
  );

/** True when git answers at all (hosts without git still build: cargo has libgit2 built in). */
export function gitAvailable(git: Git): boolean {
  return git.run(['--version']).status === 0;
}

/**
 * The build runs as the store's owner and may replace a store directory by a symlink (into a
 * slot, out of the root): nothing is listed, written or removed through one. Absent is fine:
 * mkdir makes a real directory.
 */
async function plainDirs(root: string, ...rel: string[]): Promise<boolean> {
  let p = root;
  for (const c of rel) {
    p = join(p, c);
    const st = await lstatIfPresent(p);
    if (st && !st.isDirectory()) return false;
  }
  return true;
}

async function learnGitDir(root: string, version: string, url: string, dir: string): Promise<void> {
  if (await plainDirs(root, 'git', 'dirs')) await learnDir(gitStorePaths(root).dirs, version, url, dir, 'url');
}

/** The pack and index files of an entry: regular files only, never a symlink planted there. */
interface PackFile {
  name: string;
  path: string;
  bytes: number;
  nlink: number;
  ctimeMs: number;
  uid: number;
}

async function packFiles(entry: string): Promise<PackFile[]> {
  const out = [];
  for (const name of await listDir(entry)) {
    if (!/^pack-[0-9a-f]{40,64}\.(pack|idx)$/.test(name)) continue;
    const st = await lstatIfPresent(join(entry, name));
    if (st?.isFile()) out.push({ name, path: join(entry, name), bytes: st.size, nlink: st.nlink, ctimeMs: st.ctimeMs, uid: st.uid });
  }
  return out;
}

/**
 * Checks a database made by this code, by git's own hashes: the locked commit and its tree
 * resolve, then fsck reads every object (packed ones re-hashed, the pack's trailing checksum
 * verified) and walks from the refs, so a missing or altered object reachable from the locked
 * commit fails it. Undefined when intact; otherwise why not.
 */
export function verifyDb(git: Git, gitDir: string, commit: string): string | undefined {
  const tree = git.run(['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', `${commit}^{tree}`]);
  if (tree.status !== 0) return `the locked commit ${commit.slice(0, 12)} or its tree is not in it`;
  // A ref of our own, from the consumer's Cargo.lock: the root of fsck's walk, and it keeps the
  // objects reachable should cargo ever gc this database.
  const ref = git.run(['--git-dir', gitDir, 'update-ref', `refs/cargo-isolate/${commit}`, commit]);
  if (ref.status !== 0) return `cannot point a ref at the locked commit ${commit.slice(0, 12)}: ${firstLine(ref)}`;
  const fsck = git.run(['--git-dir', gitDir, 'fsck', '--full', '--no-dangling', '--no-progress']);
  if (fsck.status !== 0) return `git fsck failed: ${firstLine(fsck)}`;
  return undefined;
}

export interface GitSeedReport {
  locked: number;
  seeded: { dep: string; bytes: number }[];
  seededBytes: number;
  present: number;
  notSeeded: { dep: string; why: string }[];
  /** Entries that failed verification: a trusted post step replaces them. */
  refused: { url: string; commit: string }[];
  mode: 'link' | 'copy';
  copiedInstead: number;
}

/** The db dirs (cargo's names for the URL) this CARGO_HOME lacks, or holds without the locked commit. */
async function dbDirsLacking(git: Git, dbRoot: string, dirs: string[], commit: string): Promise<string[]> {
  const todo: string[] = [];
  for (const dir of dirs) {
    const d = join(dbRoot, dir);
    const isDir = (await lstatIfPresent(d))?.isDirectory() ?? false;
    if (!(isDir && git.run(['--git-dir', d, 'cat-file', '-e', `${commit}^{commit}`]).status === 0)) todo.push(dir);
  }
  return todo;
}

/** Why a store entry does not claim to be this dependency (its entry.json); undefined when it does. */
async function claimRefusal(entry: string, g: LockedGit): Promise<string | undefined> {
  let claimed: { url?: string; commit?: string } = {};
  try {
    claimed = JSON.parse(await fs.readFile(join(entry, 'entry.json'), 'utf8'));
  } catch {
    /* judged below */
  }
  return claimed.url === g.url && claimed.commit === g.commit ? undefined : `${entry}/entry.json does not name ${g.url} at ${g.commit.slice(0, 12)}`;
}

/**
 * One db dir from the entry's packs: a fresh bare repository beside it, the packs linked or
 * copied in, verified by git (verifyDb), then renamed into place or its packs added to this
 * CARGO_HOME's own database of the URL. Why it was refused, or undefined once seeded.
 */
async function seedDbDir(
  git: Git,
  files: PackFile[],
  dbRoot: string,
  dir: string,
  g: LockedGit,
  mode: 'link' | 'copy',
  r: GitSeedReport,
): Promise<string | undefined> {
  const tmp = join(dbRoot, `.${dir}.seed-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(dbRoot, { recursive: true });
    const init = git.run(['init', '--quiet', '--bare', tmp]);
    if (init.status !== 0) throw new Error(`git init ${tmp}: ${firstLine(init)}`);
    for (const f of files) if (await linkOrCopy(f.path, join(tmp, 'objects', 'pack', f.name), mode)) r.copiedInstead++;
    const refused = verifyDb(git, tmp, g.commit);
    if (refused) return refused;
    const dest = join(dbRoot, dir);
    const st = await lstatIfPresent(dest);
    // A symlink a build left in its place (into another slot, say) is removed, never followed.
    if (st && !st.isDirectory()) await fs.rm(dest, { force: true });
    if (!st?.isDirectory()) await fs.rename(tmp, dest);
    else {
      // This slot's own database of the URL, without this commit: add the verified pack.
      await fs.mkdir(join(dest, 'objects', 'pack'), { recursive: true });
      for (const f of files) await fs.rename(join(tmp, 'objects', 'pack', f.name), join(dest, 'objects', 'pack', f.name));
      git.run(['--git-dir', dest, 'update-ref', `refs/cargo-isolate/${g.commit}`, g.commit]);
    }
    return undefined;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Seeds one locked dependency into every db dir that lacks it; what became of it goes into `r`. */
async function seedOne(root: string, dbRoot: string, g: LockedGit, version: string, mode: 'link' | 'copy', git: Git, r: GitSeedReport): Promise<void> {
  const dirs = await knownDirs(gitStorePaths(root).dirs, version, g.url);
  const entry = entryPath(root, g.url, g.commit);
  if (dirs.length === 0) {
    const why = (await exists(entry))
      ? `no job on this host has published ${g.url} with cargo ${version} yet (the db dir name is learned per version)`
      : 'not in the store yet';
    r.notSeeded.push({ dep: label(g), why: `${why}: cargo fetches it` });
    return;
  }
  const todo = await dbDirsLacking(git, dbRoot, dirs, g.commit);
  if (todo.length === 0) {
    r.present++; // this slot's own database (a warm slot of the same trust domain)
    return;
  }
  const files = await packFiles(entry);
  if (!files.some((f) => f.name.endsWith('.pack'))) {
    r.notSeeded.push({ dep: label(g), why: 'not in the store yet: cargo fetches it' });
    return;
  }
  let refused = await claimRefusal(entry, g);
  for (const dir of todo) refused ??= await seedDbDir(git, files, dbRoot, dir, g, mode, r);
  if (refused) {
    r.refused.push({ url: g.url, commit: g.commit });
    r.notSeeded.push({ dep: label(g), why: `store entry ${entry} refused: ${refused}; not seeded, cargo fetches it` });
    return;
  }
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  r.seeded.push({ dep: label(g), bytes });
  r.seededBytes += bytes;
}

/** Seeds the slot's CARGO_HOME/git/db with every locked commit the store holds intact. */
export async function seedGit(root: string, cargoHome: string, locked: LockedGit[], version: string, mode: 'link' | 'copy', git: Git): Promise<GitSeedReport> {
  const r: GitSeedReport = { locked: locked.length, seeded: [], seededBytes: 0, present: 0, notSeeded: [], refused: [], mode, copiedInstead: 0 };
  if (locked.length === 0) return r;
  if (!gitAvailable(git)) {
    for (const g of locked) r.notSeeded.push({ dep: label(g), why: "no 'git' program on PATH to verify the store with: cargo fetches it" });
    return r;
  }
  // A link a build left in place of git/ or git/db (into another slot, say): seeding would write
  // there. prepare.ts checks only the top dirs; cargo fetches instead.
  if (!(await plainDirs(cargoHome, 'git', 'db'))) {
    for (const g of locked)
      r.notSeeded.push({ dep: label(g), why: `${join(cargoHome, 'git')} or its db/ is not a directory of this CARGO_HOME (a symlink?): cargo fetches it` });
    return r;
  }
  for (const g of locked) await seedOne(root, join(cargoHome, 'git', 'db'), g, version, mode, git, r);
  return r;
}

export interface GitPublishReport {
  published: { dep: string; bytes: number }[];
  publishedBytes: number;
  skipped: number;
  notPublished: { dep: string; why: string }[];
}

/** The locked commits each of the job's db dirs holds, and the URLs its FETCH_HEAD names. */
function dbFacts(git: Git, dbRoot: string, names: string[], locked: LockedGit[]): Promise<DbDirFacts[]> {
  const commits = [...new Set(locked.map((g) => g.commit))];
  return Promise.all(
    names.map(async (name) => {
      const gitDir = join(dbRoot, name);
      const check = git.run(['--git-dir', gitDir, 'cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: commits.join('\n') + '\n' });
      const present =
        check.status === 0
          ? check.stdout
              .split('\n')
              .map((l) => l.split(' '))
              .filter(([sha, type]) => SHA.test(sha) && type === 'commit')
              .map(([sha]) => sha)
          : [];
      const head = (await readTextIfPresent(join(gitDir, 'FETCH_HEAD'))) ?? '';
      const fetchedFrom = [...head.matchAll(/ of (\S+)\s*$/gm)].map((m) => m[1]);
      return { name, commits: present, fetchedFrom };
    }),
  );
}

/**
 * Adds the job's databases of locked commits the store lacks (or holds damaged: `replace`).
 * Each entry is packed by git from the job's database into a temp dir under the store, then
 * renamed into place: a reader sees no entry or a whole one.
 */
export async function publishGit(
  root: string,
  cargoHome: string,
  locked: LockedGit[],
  version: string,
  git: Git,
  replace: { url: string; commit: string }[] = [],
): Promise<GitPublishReport> {
  const r: GitPublishReport = { published: [], publishedBytes: 0, skipped: 0, notPublished: [] };
  if (locked.length === 0) return r;
  if (!gitAvailable(git)) {
    for (const g of locked) r.notPublished.push({ dep: label(g), why: "no 'git' program on PATH" });
    return r;
  }
  const dbRoot = join(cargoHome, 'git', 'db');
  const names = (await listDir(dbRoot)).filter((n) => !n.startsWith('.'));
  const facts = await dbFacts(git, dbRoot, names, locked);
  const { assigned, ambiguous } = assignDbDirs(facts, locked);
  for (const g of locked) {
    const dirs = facts.filter((d) => assigned.get(d.name) === g.url && d.commits.includes(g.commit)).map((d) => d.name);
    if (dirs.length === 0) {
      const amb = facts.filter((d) => ambiguous.includes(d.name) && d.commits.includes(g.commit)).map((d) => d.name);
      r.notPublished.push({
        dep: label(g),
        why: amb.length
          ? `the databases ${amb.join(', ')} hold the commit for several locked URLs: cannot tell which is ${g.url}`
          : `no database in ${dbRoot} holds the commit (the build did not fetch it)`,
      });
      continue;
    }
    for (const d of dirs) {
      // Unwritable (a root job's, not handed back): seeding just does not learn this dir yet.
      await learnGitDir(root, version, g.url, d).catch((e) => {
        if (!isPermissionError(e)) throw e;
      });
    }
    const entry = entryPath(root, g.url, g.commit);
    const mustReplace = replace.some((x) => x.url === g.url && x.commit === g.commit);
    if ((await exists(entry)) && !mustReplace) {
      r.skipped++;
      continue;
    }
    if (!(await plainDirs(root, 'git', 'db', urlKey(g.url)))) {
      r.notPublished.push({ dep: label(g), why: `${dirname(entry)} is not a directory of the store (a symlink?): not published` });
      continue;
    }
    const tmp = join(dirname(entry), `.tmp-${g.commit.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.mkdir(tmp, { recursive: true });
      const pack = git.run(['--git-dir', join(dbRoot, dirs[0]), 'pack-objects', '--quiet', '--revs', join(tmp, 'pack')], { input: `${g.commit}\n` });
      if (pack.status !== 0) throw new Error(`git pack-objects in ${join(dbRoot, dirs[0])}: ${firstLine(pack)}`);
      await fs.writeFile(join(tmp, 'entry.json'), JSON.stringify({ url: g.url, commit: g.commit, version, publishedAt: new Date().toISOString() }) + '\n');
      const files = await packFiles(tmp);
      for (const f of [...files.map((x) => x.path), join(tmp, 'entry.json')]) await fs.chmod(f, 0o444);
      await fs.chmod(tmp, 0o755);
      if (mustReplace && (await exists(entry))) await removeTree(root, entry, { why: 'git store: an entry being replaced', timeoutMs: 60_000 });
      try {
        await fs.rename(tmp, entry);
      } catch (e) {
        if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
        r.skipped++; // another job published it meanwhile: one intact entry either way
        continue;
      }
      const bytes = files.reduce((n, f) => n + f.bytes, 0);
      r.published.push({ dep: label(g), bytes });
      r.publishedBytes += bytes;
    } catch (e) {
      r.notPublished.push({
        dep: label(g),
        why: isPermissionError(e) ? `cannot write into ${dirname(entry)} (made by another uid): not published` : (e as Error).message,
      });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }
  return r;
}

/** A store entry as the guard sees it: in use while a slot links its pack. */
export interface GitEntryFacts {
  path: string;
  bytes: number;
  lastUsedMs: number;
  linked: boolean;
}

/** Every entry of the store (and the temp dirs of publishers that died, as old as their ctime). */
export async function gitEntries(root: string): Promise<GitEntryFacts[]> {
  const out: GitEntryFacts[] = [];
  const db = gitStorePaths(root).db;
  if (!(await plainDirs(root, 'git', 'db'))) return out;
  for (const key of await listDir(db)) {
    if (!(await lstatIfPresent(join(db, key)))?.isDirectory()) continue;
    for (const commit of await listDir(join(db, key))) {
      const path = join(db, key, commit);
      const st = await lstatIfPresent(path);
      if (!st?.isDirectory()) continue;
      const files = await packFiles(path);
      // Linking and unlinking change a file's ctime: the newest ctime is the last seeding.
      out.push({
        path,
        bytes: files.reduce((n, f) => n + f.bytes, 0),
        lastUsedMs: Math.max(st.ctimeMs, ...files.map((f) => f.ctimeMs)),
        linked: files.some((f) => f.nlink > 1),
      });
    }
  }
  return out;
}
