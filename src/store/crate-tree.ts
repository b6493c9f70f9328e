import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { type CrateEntry } from './tar.js';
import { listDir, lstatIfPresent } from '../os/absent.js';

/*
 * One extracted crate directory (`registry/src/<index>/<name>-<version>/`) against the tree its
 * verified `.crate` holds (tar.ts): compared, repaired file by file, extracted, sealed.
 *
 * - Sealed: files 0444 (0555 when the archive marks them executable), directories 0555. A job
 *   that is not root then cannot write, add or remove anything below without a chmod first: an
 *   accidental write fails in the job that tried ("Permission denied") instead of reaching every
 *   later build, and `rm -rf` of the sources fails instead of taking them from under a build that
 *   runs elsewhere. Root ignores the modes; what holds for it is the check (home-sources.ts).
 * - Repairs never remove a tree a build may be reading: a wrong file is replaced by renaming a
 *   verified copy over it (a reader holds the old file or opens the new one, whole either way),
 *   an extra entry is unlinked, a missing one is created. Only the directories being changed are
 *   made writable, for the length of the change.
 * - A new extraction is made in a hidden directory beside its final name, sealed, and renamed
 *   into place: a reader sees no directory or a whole one, never a partial one, and cargo finds
 *   its marker (`.cargo-ok`) and uses it as its own.
 */

export type Diff = { path: string; why: 'missing' | 'extra' | 'content' | 'kind' | 'mode' };

export const sealedMode = (e: Pick<CrateEntry, 'kind' | 'mode'>): number => (e.kind === 'dir' ? 0o555 : e.mode & 0o111 ? 0o555 : 0o444);
export const writableMode = (e: Pick<CrateEntry, 'kind' | 'mode'>): number => (e.kind === 'dir' ? 0o755 : e.mode & 0o111 ? 0o755 : 0o644);

const kindOf = (st: { isDirectory(): boolean; isSymbolicLink(): boolean; isFile(): boolean }) =>
  st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';

/** Pure: the children each directory of the tree must have ('' is the crate directory). */
export function childrenOf(tree: Map<string, CrateEntry>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>([['', new Set()]]);
  for (const [p, e] of tree) {
    const at = p.lastIndexOf('/');
    const parent = at < 0 ? '' : p.slice(0, at);
    if (!out.has(parent)) out.set(parent, new Set());
    out.get(parent)!.add(p.slice(at + 1));
    if (e.kind === 'dir' && !out.has(p)) out.set(p, new Set());
  }
  return out;
}

/** One path against what the tree says of it; undefined when it is right. */
async function compareOne(dir: string, rel: string, want: CrateEntry | undefined, sealed: boolean): Promise<Diff['why'] | undefined> {
  const st = await lstatIfPresent(join(dir, rel));
  if (!want) return st ? 'extra' : undefined;
  if (!st) return 'missing';
  if (kindOf(st) !== want.kind) return 'kind';
  if (want.kind === 'file') {
    if (st.size !== want.data!.length || !(await fs.readFile(join(dir, rel))).equals(want.data!)) return 'content';
  } else if (want.kind === 'symlink') {
    if ((await fs.readlink(join(dir, rel))) !== want.target) return 'content';
  }
  if (want.kind === 'symlink') return undefined;
  const mode = st.mode & 0o777;
  return mode === (sealed ? sealedMode(want) : writableMode(want)) ? undefined : 'mode';
}

export interface CompareOptions {
  /** The modes a sealed tree has (else a writable one's). */
  sealed: boolean;
  /** Entries the tree does not have are left (a crate whose build script writes next to its sources). */
  keepExtra?: boolean;
  /**
   * The paths a change was seen on (files, and directories whose entries are compared by name):
   * everything else is known unchanged. Without it, the whole tree is walked and every file read.
   */
  only?: string[];
  /** Paths left alone with everything below them (a git checkout's own `.git`, its submodules). */
  ignore?: string[];
}

/** What differs between `dir` and `tree`, one difference per path. */
export async function compareTree(dir: string, tree: Map<string, CrateEntry>, o: CompareOptions): Promise<Diff[]> {
  const diffs = new Map<string, Diff['why']>();
  const kids = childrenOf(tree);
  const seen = new Set<string>();
  const ignored = (path: string) => o.ignore?.some((i) => path === i || path.startsWith(`${i}/`)) ?? false;
  const note = (path: string, why: Diff['why']) => {
    if ((why === 'extra' && o.keepExtra) || ignored(path)) return;
    if (!diffs.has(path)) diffs.set(path, why);
  };
  const visit = async (rel: string, deep: boolean) => {
    if (seen.has(rel) || ignored(rel)) return;
    seen.add(rel);
    if (rel !== '') {
      const why = await compareOne(dir, rel, tree.get(rel), o.sealed);
      if (why && !(why === 'mode' && o.keepExtra)) note(rel, why);
      if (why === 'extra' || why === 'missing' || why === 'kind') return;
    } else {
      const st = await lstatIfPresent(dir);
      if (!st?.isDirectory()) return void note('', st ? 'kind' : 'missing');
      if (!o.keepExtra && (st.mode & 0o777) !== (o.sealed ? 0o555 : 0o755)) note('', 'mode');
    }
    if (!kids.has(rel)) return; // not a directory of the tree
    const names = await listDir(join(dir, rel), { notADirectory: 'absent' });
    const want = kids.get(rel)!;
    for (const n of names) if (!want.has(n)) note(rel ? `${rel}/${n}` : n, 'extra');
    for (const n of want) {
      const child = rel ? `${rel}/${n}` : n;
      if (deep) await visit(child, true);
      else if (!names.includes(n)) note(child, 'missing');
    }
  };
  if (!o.only) await visit('', true);
  else for (const rel of [...o.only].sort()) await visit(rel, false);
  return [...diffs].map(([path, why]) => ({ path, why }));
}

/** Makes `dir` writable while `fn` runs, then gives it `mode` back (0o555 sealed). */
async function writableWhile<T>(dir: string, mode: number, fn: () => Promise<T>): Promise<T> {
  await fs.chmod(dir, 0o755);
  try {
    return await fn();
  } finally {
    await fs.chmod(dir, mode).catch(() => undefined);
  }
}

/** Puts `e` at `path` whole: a temp name in the same directory, then rename(2) over whatever is there. */
async function place(path: string, e: CrateEntry, sealed: boolean): Promise<void> {
  const tmp = join(dirname(path), `.cargo-isolate-${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (e.kind === 'symlink') await fs.symlink(e.target!, tmp);
    else {
      await fs.writeFile(tmp, e.data!, { mode: 0o600 });
      if (e.mtime) await fs.utimes(tmp, e.mtime, e.mtime);
      await fs.chmod(tmp, sealed ? sealedMode(e) : writableMode(e));
    }
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Removes a file, a link or a whole directory below the crate directory (made writable first). */
async function removeEntry(path: string): Promise<void> {
  const st = await lstatIfPresent(path);
  if (!st) return;
  if (st.isDirectory()) {
    await chmodTree(
      path,
      () => 0o755,
      () => 0o755,
    );
    await fs.rm(path, { recursive: true, force: true });
  } else await fs.unlink(path);
}

/** Makes a directory of the tree (and its files, later) with the tree's modes. */
async function makeDir(path: string): Promise<void> {
  await fs.mkdir(path, { mode: 0o755 });
}

/**
 * Brings `dir` to `tree` by the differences `diffs` (compareTree's): each wrong or missing file
 * renamed into place whole, each extra entry unlinked, modes set. Parents are made writable only
 * while their entries change.
 */
export async function repairTree(dir: string, tree: Map<string, CrateEntry>, diffs: Diff[], sealed: boolean): Promise<void> {
  const dirMode = sealed ? 0o555 : 0o755;
  // Parents before children; a missing directory is made before the files below it.
  for (const d of [...diffs].sort((a, b) => a.path.split('/').length - b.path.split('/').length || a.path.localeCompare(b.path))) {
    const path = d.path === '' ? dir : join(dir, d.path);
    const want = tree.get(d.path);
    if (d.why === 'mode') {
      await fs.chmod(path, d.path === '' || !want ? dirMode : sealed ? sealedMode(want) : writableMode(want));
      continue;
    }
    await writableWhile(dirname(path), dirMode, async () => {
      if (d.why === 'extra' || d.why === 'kind') await removeEntry(path);
      if (d.why === 'extra' || !want) return;
      if (want.kind === 'dir') {
        await makeDir(path).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
        // Its entries: every one is missing (the directory was not there) or compared below.
        const inner = await compareTree(path, subtree(tree, d.path), { sealed });
        await fs.chmod(path, 0o755);
        await repairTree(path, subtree(tree, d.path), inner, sealed);
        await fs.chmod(path, dirMode);
      } else await place(path, want, sealed);
    });
  }
}

/** Pure: the part of `tree` below `rel`, relative to it. */
function subtree(tree: Map<string, CrateEntry>, rel: string): Map<string, CrateEntry> {
  const out = new Map<string, CrateEntry>();
  for (const [p, e] of tree) if (p.startsWith(`${rel}/`)) out.set(p.slice(rel.length + 1), { ...e, path: p.slice(rel.length + 1) });
  return out;
}

/**
 * chmod over a tree without following links: directories by `dirMode`, files by `fileMode` (their
 * current mode in); `skip`: paths below `top` left alone with their subtrees.
 */
export async function chmodTree(top: string, dirMode: (m: number) => number, fileMode: (m: number) => number, skip: string[] = [], rel = ''): Promise<void> {
  if (rel && skip.some((x) => rel === x || rel.startsWith(`${x}/`))) return;
  const st = await lstatIfPresent(top);
  if (!st || st.isSymbolicLink()) return;
  if (!st.isDirectory()) {
    if ((st.mode & 0o777) !== fileMode(st.mode & 0o777)) await fs.chmod(top, fileMode(st.mode & 0o777));
    return;
  }
  // Writable first, so that entries can be listed and changed; its final mode last.
  if ((st.mode & 0o700) !== 0o700) await fs.chmod(top, 0o755);
  for (const n of await fs.readdir(top)) await chmodTree(join(top, n), dirMode, fileMode, skip, rel ? `${rel}/${n}` : n);
  if ((st.mode & 0o777) !== dirMode(st.mode & 0o777) || (st.mode & 0o700) !== 0o700) await fs.chmod(top, dirMode(st.mode & 0o777));
}

/** Seals a crate directory as the tree says (modes only: the content is checked elsewhere). */
export const sealTree = (dir: string, skip: string[] = []) =>
  chmodTree(
    dir,
    () => 0o555,
    (m) => (m & 0o111 ? 0o555 : 0o444),
    skip,
  );

/** Makes a sealed crate directory writable again (for cargo's own clean-up of what nobody used for long). */
export const unsealTree = (dir: string, skip: string[] = []) =>
  chmodTree(
    dir,
    () => 0o755,
    (m) => (m & 0o111 ? 0o755 : 0o644),
    skip,
  );

/**
 * Extracts `tree` as `<parent>/<name>`: made whole in a hidden directory beside it, with cargo's
 * marker, modes and mtimes, then renamed into place. 'exists' when a directory of that name
 * appeared meanwhile (it is then compared like any other).
 */
export async function extractTree(parent: string, name: string, tree: Map<string, CrateEntry>, sealed: boolean): Promise<'made' | 'exists'> {
  const tmp = join(parent, `.cargo-isolate-${randomBytes(4).toString('hex')}-${name}`);
  await fs.mkdir(tmp, { mode: 0o755 });
  try {
    const paths = [...tree.keys()].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
    for (const p of paths) {
      const e = tree.get(p)!;
      if (e.kind === 'dir') await makeDir(join(tmp, p));
      else await place(join(tmp, p), e, sealed);
    }
    // Directories last, deepest first: their entries are all there.
    if (sealed) for (const p of paths.filter((q) => tree.get(q)!.kind === 'dir').reverse()) await fs.chmod(join(tmp, p), 0o555);
    await fs.chmod(tmp, sealed ? 0o555 : 0o755);
    try {
      await fs.rename(tmp, join(parent, name));
      return 'made';
    } catch (e) {
      if (!['EEXIST', 'ENOTEMPTY'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      await removeEntry(tmp);
      return 'exists';
    }
  } catch (e) {
    await removeEntry(tmp).catch(() => undefined);
    throw e;
  }
}
