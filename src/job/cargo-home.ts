import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { type Dirs, rootPaths, sharedHome } from '../model/layout.js';
import { ownDirIn, ownerOf } from '../owners/owner.js';
import { describeForeign, findForeignInHome } from '../owners/foreign.js';

/*
 * Which CARGO_HOME a job gets: one per uid under the root, shared by every trusted job of that
 * uid (`<root>/homes/u<uid>`), as a developer machine has one `~/.cargo`.
 *
 * Why not one per slot: cargo's fingerprint of a registry crate hashes the absolute path of its
 * source, `$CARGO_HOME/registry/src/<index>/<crate>-<version>/...`, and sccache's Rust key hashes
 * every CARGO_* variable and the cwd, which for a registry crate is that source directory. With a
 * home per slot, every slot had its own paths: a copy of another slot's warm target rebuilt every
 * registry crate, and sccache hit nothing that another slot compiled (measured: docs/warm-starts.md).
 * One home per uid makes those strings the same in every slot, so a warm build copied from an idle
 * slot is fresh, and a compile cache serves what any slot compiled.
 *
 * What stays per slot, because it is what a job writes for itself: target/, tmp/ and install/
 * (CARGO_INSTALL_ROOT: `cargo install` puts its binaries there, and that bin/ is on PATH, so a
 * PR's installed tool never reaches another trust domain's PATH). The registry and git caches in
 * the shared home are coordinated by cargo's own locks exactly as on a developer machine; what
 * every domain reads there is checked and kept read-only at each job's start and end, and what a
 * job writes at its top goes with the job (shared-home.ts).
 *
 * Per uid, so that a root container job never writes root-owned files where the runner user's
 * cargo writes (the "Permission denied (os error 13)" on registry/src of the incident reports).
 * Root's home is handed back to the root's owner with the rest of what a root job made
 * (handback.ts), so the runner user's guard and gc can free it; root's jobs keep using it.
 *
 * A private home in the slot, as before, for:
 * - fork PRs: their build could leave anything in a shared registry/src, and trusted jobs read
 *   from it unchecked; a fork's home is wiped with its slot like the rest of its content;
 * - `layout: job`: everything of such a job lives in its directory and goes with it;
 * - a shared home this uid cannot trust: not its own directory, or files of another uid where
 *   cargo writes (a `docker run` step as root mounted it): the job says so and builds anyway.
 */

export interface HomeChoice {
  cargoHome: string;
  shared: boolean;
  reason: string;
}

/** Pure: the CARGO_HOME a job of `uid` sees in `dirs` under `root`: its uid's shared one or the slot's own. */
export function homeFor(root: string, dirs: Pick<Dirs, 'cargoHome'>, uid: number, shared: boolean): string {
  return shared ? sharedHome(root, uid) : dirs.cargoHome;
}

/** Pure: the job's CARGO_HOME. `problem`: why the shared home cannot be used, when it cannot. */
export function chooseHome(
  root: string,
  dirs: Pick<Dirs, 'cargoHome'>,
  o: { uid: number; layout: 'slot' | 'job'; fork: boolean; problem?: string },
): HomeChoice {
  if (o.layout === 'job') return { cargoHome: dirs.cargoHome, shared: false, reason: 'layout: job keeps all of a job in its own directory' };
  if (o.fork) return { cargoHome: dirs.cargoHome, shared: false, reason: 'a fork PR gets a private CARGO_HOME in its slot, wiped with it' };
  if (o.problem) return { cargoHome: dirs.cargoHome, shared: false, reason: `a private CARGO_HOME in the slot: the shared one cannot be used (${o.problem})` };
  return { cargoHome: homeFor(root, dirs, o.uid, true), shared: true, reason: `shared by the trusted jobs of uid ${o.uid} on this root` };
}

/**
 * Makes `<root>/homes/u<uid>` ready, or says why it cannot be used: not a directory of this
 * uid's own, or another uid's files where cargo writes in it (root cannot be harmed by those).
 */
export async function sharedHomeProblem(root: string, uid: number): Promise<string | undefined> {
  const { dir, theirs } = await ownDirIn(rootPaths(root).homes, `u${uid}`, uid, 0o755, await rootOwnerFor(root, uid));
  if (theirs) return theirs;
  const foreign = await findForeignInHome(dir, uid);
  if (foreign.length > 0)
    return (
      `${dir} holds files of ${describeForeign(foreign)} where cargo writes: a \`docker run\` step as root mounted it? ` +
      "Root's 'cargo-isolate gc' hands them back"
    );
  return undefined;
}

/** For root: the root's owner, who gets back what root's jobs make (its home among them). */
export async function rootOwnerFor(root: string, uid: number): Promise<number | undefined> {
  return uid === 0 ? (await ownerOf(root).catch(() => undefined))?.uid : undefined;
}

/**
 * The runner's own CARGO_HOME, whose config and credentials its jobs get a copy of (home-top.ts).
 * A nested run (the action used twice in one job) must find the runner's home, not ours.
 */
export function originalCargoHome(env: Record<string, string | undefined>, root: string): string | undefined {
  const home = resolve(env.CARGO_HOME || join(env.HOME || homedir(), '.cargo'));
  return home === root || home.startsWith(root + sep) ? undefined : home;
}
