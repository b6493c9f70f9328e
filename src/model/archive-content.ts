/*
 * What a dependency archive holds: what a later build needs to find every unit of a package that
 * is not the workspace's own fresh, and nothing else. Read from a listing of the build dir (the
 * effects in store/archive-content-list.ts), decided here as plain data.
 *
 * A build dir holds profile dirs, `<profile>/` and `<triple>/<profile>/`. In each:
 *
 *   layout v1 (cargo up to 1.99)            kept for a dependency's unit
 *     .fingerprint/<pkg>-<hash>/            yes: cargo's record of the unit (hashes, dep-info, mtimes)
 *     build/<pkg>-<hash>/                   yes: a build script, compiled (`build-script-build`) or run
 *                                           (`out/` = OUT_DIR, `output` it printed, `root-output`)
 *     deps/<crate>-<hash>.{rlib,rmeta,so,d} yes: the artifacts other units link
 *   layout v2 (cargo 1.100+)
 *     build/<pkg>/<hash>/{fingerprint,out,run}/   yes, the package's whole dir: all of the above
 *   both
 *     incremental/                          no: only the workspace's own units compile incrementally,
 *                                           and it is the largest part of a dev build
 *     examples/, <bin>, <bin>.d, lib*.rlib  no: uplifted copies of the workspace's own artifacts
 *     .cargo-lock, .cargo-build-lock, ...   no: cargo's locks, made by the next build
 *   at the build dir's top: .rustc_info.json, CACHEDIR.TAG, doc/, package/, tmp/: no.
 *
 * The workspace's own packages (and path dependencies: every package without a `source` in
 * Cargo.lock) are left out: their fingerprints compare the checkout's mtimes, which another
 * checkout never matches, so they rebuild anyway. A v1 unit is told by its directory name's
 * package; its files in `deps/` by the unit hash in their name (`-<hash>` is the unit's
 * `-C extra-filename`, the same as its fingerprint dir's on every cargo read here). A package
 * of the workspace with a dependency's name leaves that dependency out too: it rebuilds, never
 * more than that (cargo checks every unit it restores).
 */

export interface ProfileListing {
  /** Relative to the build dir: `debug`, `x86_64-unknown-linux-gnu/release`. */
  path: string;
  /** v1 `.fingerprint/` entries. */
  fingerprints: string[];
  /** `build/` entries: v1 `<pkg>-<hash>` dirs and v2 `<pkg>` dirs. */
  build: string[];
  /** v1 `deps/` entries. */
  deps: string[];
}

export interface ArchivePlan {
  /** Paths relative to the build dir, each a whole subtree, sorted. */
  include: string[];
  /** Dependency units kept (v1 fingerprint dirs and v2 unit dirs are counted by the lister). */
  packages: number;
  /** Entries left out for being the workspace's own. */
  workspaceEntries: number;
}

/** `<pkg>-<16 hex digits>`: a v1 unit dir name. */
const V1_UNIT = /^(.+)-([0-9a-f]{16})$/;
/** `<crate>-<16 hex digits>` before an optional extension: a v1 `deps/` file. */
const DEPS_FILE = /-([0-9a-f]{16})(\.[A-Za-z0-9.]+)?$/;

/** Pure: what to archive of `profiles`, leaving out the packages named in `local`. */
export function planArchive(profiles: ProfileListing[], local: ReadonlySet<string>): ArchivePlan {
  const include: string[] = [];
  const packages = new Set<string>();
  let workspaceEntries = 0;
  for (const p of profiles) {
    const localHashes = new Set<string>();
    const keep = (dir: string, name: string, pkg: string, hash?: string) => {
      if (local.has(pkg)) {
        workspaceEntries++;
        if (hash) localHashes.add(hash);
        return;
      }
      packages.add(pkg);
      include.push(`${p.path}/${dir}/${name}`);
    };
    for (const name of p.fingerprints) {
      const m = V1_UNIT.exec(name);
      if (m) keep('.fingerprint', name, m[1], m[2]);
    }
    for (const name of p.build) {
      const m = V1_UNIT.exec(name);
      keep('build', name, m ? m[1] : name, m?.[2]);
    }
    for (const name of p.deps) {
      const hash = DEPS_FILE.exec(name)?.[1];
      // A file without a unit hash is not cargo's (or is an uplifted copy): left out.
      if (!hash) continue;
      if (localHashes.has(hash)) workspaceEntries++;
      else include.push(`${p.path}/deps/${name}`);
    }
  }
  return { include: include.sort(), packages: packages.size, workspaceEntries };
}

/** Entries of a build dir's top level that are never profile dirs. */
export const NOT_PROFILE = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build', '.fingerprint', 'examples']);
