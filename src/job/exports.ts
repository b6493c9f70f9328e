import type { StartedJob } from './types.js';
import type { JobIdentity } from '../model/identity.js';
import type { Lease } from '../pool/lease.js';
import type { DirRecord, PathView, Viewpoint } from '../model/record.js';
import { slotDirs } from '../model/layout.js';
import { builtSince, rootSeen } from '../pool/view.js';
import { homeFor } from './cargo-home.js';
import { myUid } from '../os/proc.js';

/*
 * What a job exports and what its slot's record says, made alike at the job's start (start.ts)
 * and at its end (end.ts), so that a view recorded and a view expected compare equal.
 */

/**
 * What every later step sees, and the one rule for it: anything that needs to know the paths a
 * job's build sees (a slot's CARGO_HOME string, say) computes them here.
 * CARGO_BUILD_BUILD_DIR (Rust 1.91+) is set to the target dir, which is cargo's own default: a
 * repository's `build.build-dir` would otherwise send every job's intermediate artifacts to one
 * shared directory outside the slot (an environment variable beats a config file). Equal to the
 * target dir, cargo's locks, the guard's sizes and every removal already cover it, in cargo <=
 * 1.95 and in 1.96+'s split build-dir locks, on build-dir layout v1 and v2 (1.100+). CARGO_HOME is the uid's shared home or a private
 * one (cargo-home.ts); CARGO_INSTALL_ROOT keeps `cargo install` in the slot.
 */
export function exportsFor(dirs: Lease['dirs'], cargoHome: string): Record<string, string> {
  return {
    CARGO_TARGET_DIR: dirs.target,
    CARGO_BUILD_BUILD_DIR: dirs.target,
    CARGO_HOME: cargoHome,
    CARGO_INSTALL_ROOT: dirs.install,
    TMPDIR: dirs.tmp,
    TMP: dirs.tmp,
    TEMP: dirs.tmp,
  };
}

/**
 * The paths a job whose steps see the root at `vp` sees in slot `name`: its exports there, through
 * exportsFor and nothing else, so that a view recorded and a view expected are made alike.
 * `shared`: the job gets its uid's shared CARGO_HOME, else the slot's private one (cargo-home.ts).
 */
export function viewAt(vp: Viewpoint, name: string, shared: boolean): PathView {
  const dirs = slotDirs(vp.root, name);
  const e = exportsFor(dirs, homeFor(vp.root, dirs, vp.uid, shared));
  return { root: vp.root, uid: vp.uid, cargoHome: e.CARGO_HOME, target: e.CARGO_TARGET_DIR };
}

/**
 * The view the slot's content was built under once this job ends: the one its build showed in
 * cargo's dep-info (pool/view.ts) when it compiled anything, else the content's view at the lease.
 * A build under paths that are not the slot's at any root (a `docker run` step mounting it
 * elsewhere) leaves the view unknown.
 */
export function viewAfter(j: Pick<StartedJob, 'root' | 'slot' | 'startedAt' | 'view' | 'home'>): PathView | undefined {
  const shared = j.home?.shared ?? false;
  const buildDir = slotDirs(j.root, j.slot).target;
  const seen = builtSince(buildDir, j.startedAt);
  if (!seen) return j.view;
  const root = rootSeen(seen.output, j.root, buildDir);
  return root === undefined ? undefined : viewAt({ root, uid: seen.uid }, j.slot, shared);
}

export function recordFor(lease: Pick<Lease, 'name' | 'layout'>, me: JobIdentity, now: string, previous?: DirRecord, view?: PathView): DirRecord {
  return {
    format: 1,
    name: lease.name,
    layout: lease.layout,
    repository: me.repository,
    key: me.key,
    runnerId: me.runnerId,
    runnerName: me.runnerName,
    host: me.host,
    workflow: me.workflow,
    runId: me.runId,
    runAttempt: me.runAttempt,
    job: me.job,
    jobKey: me.jobKey || undefined,
    jobUid: me.jobUid,
    leasedAt: now,
    lastUsed: now,
    sizes: previous?.sizes,
    uid: myUid(),
    view,
  };
}
