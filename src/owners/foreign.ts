import { join } from 'node:path';
import type { Dirs } from '../model/layout.js';
import { listDirents, lstatIfPresent } from '../os/absent.js';

/*
 * Files of another uid *below* a slot's top entries. A `docker run` step (root inside) that
 * mounts the job's target dir and CARGO_HOME creates `target/debug/`, its `.cargo-lock`,
 * `cargo-home/registry/...` as root, while `target/` and `cargo-home/` stay the runner user's:
 * owner.ts's O(1) check sees nothing, and the next job of that user fails with EACCES on
 * `target/debug/.cargo-lock`. Only root's files in the places cargo writes to on every build
 * matter, so the probe looks exactly there and never walks a tree:
 *
 *   entries of                     whose owners are probed
 *   target/                        profile dirs, triple dirs, .rustc_info.json, CACHEDIR.TAG
 *   target/<dir>/                  a profile's lock files (.cargo-lock; .cargo-build-lock and
 *                                  .cargo-artifact-lock from cargo 1.96), its final artifacts,
 *                                  and its parts (owners only, never their content): deps/,
 *                                  .fingerprint/ (layout v1, cargo up to 1.99), build/ (both
 *                                  layouts; every unit's dir on layout v2, cargo 1.100+),
 *                                  incremental/, examples/
 *   target/<triple>/<profile>/     the same for cross builds (cargo's src/compiler/layout.rs)
 *   cargo-home/                    .package-cache, .package-cache-mutate, .global-cache, registry/, git/, bin/
 *   cargo-home/registry/<kind>/    index/<dir>, cache/<dir>, src/<dir>: one per registry
 *   cargo-home/git/<kind>/         db/<repo>, checkouts/<repo>: one per git dependency
 *
 * That is a few dozen lstat calls, whatever the size of the build: the directories listed hold
 * one entry per profile, triple, registry or git dependency, and a profile's own entries (its
 * final artifacts among them). What it cannot see: another uid's files deep inside a tree the
 * runner's user made first (see docs/docker-run.md); the fix at the source covers both.
 */

/**
 * Sub-directories of a profile dir: their owners are probed, their entries never listed. Layout v2
 * (cargo 1.100+) keeps every unit under build/<pkg>/<hash>/ and has no deps/ or .fingerprint/;
 * a build as root in a slot it found empty makes target/<profile>/ itself root's, which is seen.
 */
const PROFILE_PARTS = new Set(['deps', 'build', '.fingerprint', 'incremental', 'examples', 'native']);

/**
 * Pure: is the directory at `rel` (components below the slot dir) listed, so that the owners
 * of its entries are probed? Everything listed is bounded by the number of profiles, targets,
 * registries and git dependencies, never by the number of crates or files.
 */
export function listed(rel: string[]): boolean {
  const [top, a, b] = rel;
  if (top === 'target') {
    if (rel.length <= 2) return true; // target/, target/<profile or triple>/
    // target/<triple>/<profile>/: not a part of a profile (deps, build, ...)
    return rel.length === 3 && !PROFILE_PARTS.has(b);
  }
  if (top === 'cargo-home') {
    if (rel.length === 1) return true;
    if (a !== 'registry' && a !== 'git') return false;
    return rel.length === 2 || (rel.length === 3 && ['index', 'cache', 'src', 'db', 'checkouts'].includes(b));
  }
  return false;
}

export interface Owned {
  /** Path relative to the slot directory. */
  rel: string;
  uid: number;
}

/**
 * Pure: what a job running as `uid` cannot rely on. Root can write anything; every other uid
 * needs its own files where cargo opens, creates or locks (a file of root's mode 0644 is as
 * fatal as a directory: cargo opens .cargo-lock read-write).
 */
export function foreignOf(uid: number, seen: Owned[]): Owned[] {
  return uid === 0 ? [] : seen.filter((s) => s.uid !== uid);
}

/** The probe's view of a slot: the owner of every entry of every listed directory. */
export async function probeOwners(dirs: Pick<Dirs, 'base'>): Promise<Owned[]> {
  // target/ and cargo-home/ themselves are owner.ts's top entries; their content starts here.
  return probeTops({ target: join(dirs.base, 'target'), 'cargo-home': join(dirs.base, 'cargo-home') });
}

/** The same probe over directories named as the slot names them (`target`, `cargo-home`). */
async function probeTops(tops: Record<string, string>): Promise<Owned[]> {
  const out: Owned[] = [];
  const visit = async (top: string, rel: string[]): Promise<void> => {
    const entries = await listDirents(join(tops[top], ...rel.slice(1)), { notADirectory: 'absent' });
    await Promise.all(
      entries.map(async (e) => {
        const r = [...rel, e.name];
        const st = await lstatIfPresent(join(tops[top], ...r.slice(1)));
        if (!st) return;
        out.push({ rel: r.join('/'), uid: st.uid });
        if (st.isDirectory() && listed(r)) await visit(top, r);
      }),
    );
  };
  await Promise.all(Object.keys(tops).map((t) => visit(t, [t])));
  return out.sort((x, y) => x.rel.localeCompare(y.rel));
}

/**
 * Another uid's entries where cargo writes in a CARGO_HOME shared by the jobs of `uid`
 * (cargo-home.ts), probed as a slot's cargo-home/ is: the same few dozen lstat calls.
 */
export async function findForeignInHome(home: string, uid: number): Promise<Owned[]> {
  return uid === 0 ? [] : foreignOf(uid, await probeTops({ 'cargo-home': home }));
}

/** Entries of another uid than `uid` in the places cargo writes to (empty for root). */
export async function findForeign(dirs: Pick<Dirs, 'base'>, uid: number): Promise<Owned[]> {
  return uid === 0 ? [] : foreignOf(uid, await probeOwners(dirs));
}

/** Pure: the entries that say most first: the build's own (target/), shallow before deep. */
export function telling(found: Owned[]): Owned[] {
  const depth = (o: Owned) => o.rel.split('/').length;
  return [...found].sort(
    (a, b) => Number(b.rel.startsWith('target/')) - Number(a.rel.startsWith('target/')) || depth(a) - depth(b) || a.rel.localeCompare(b.rel),
  );
}

/** Pure: the uids and a few of the paths, for a message: `uid 0 (target/debug, ...)`. */
export function describeForeign(found: Owned[], max = 3): string {
  const uids = [...new Set(found.map((f) => f.uid))].sort((a, b) => a - b);
  const shown = telling(found)
    .slice(0, max)
    .map((f) => f.rel);
  return `uid ${uids.join(', ')} (${shown.join(', ')}${found.length > max ? ` and ${found.length - max} more` : ''})`;
}
