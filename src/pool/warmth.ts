import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootPaths } from '../model/layout.js';
import { LOG_MAX, appendLine, parseLines, readLog } from './jsonlog.js';
import { ifPresentSync, listDirentsSync } from '../os/absent.js';

/*
 * How warm a job started, measured from what cargo itself leaves behind, and a short history of
 * it per host for `cargo-isolate status`.
 *
 * Cargo keeps one fingerprint directory per compile unit. Where it lives depends on the build-dir
 * layout (rust-lang/cargo src/compiler/layout.rs, `BuildDirLayout::fingerprint`), under each
 * profile dir `<target>/<profile>/` (and `<target>/<triple>/<profile>/` with --target):
 *
 *   v1  .fingerprint/<pkg>-<hash>/           cargo up to 1.99 (the default); 1.100+ only through
 *                                            its temporary, unpublished opt-out
 *   v2  build/<pkg>/<hash>/fingerprint/      cargo 1.100+ (the default, cargo#17354); nightly
 *                                            1.91-1.99 with -Zbuild-dir-new-layout, and nightly
 *                                            from 1.99 by default
 *
 * The files in it are the same in both (fingerprint/mod.rs does not know the layout). A unit it
 * finds dirty has its hash file `<kind>-<name>` emptied at once (also when a failed dependency
 * then keeps it from compiling); compiling writes `invoked.timestamp` before rustc, and the hash
 * file with its `.json` after (a build script's run writes only that pair: its timestamp lives
 * under `build/<pkg>-<hash>/` in v1, `run/` in v2). A unit it finds fresh is only read: nothing in
 * the directory changes, not even a mtime (measured with cargo 1.95 on v1 and nightly 1.97 on v2,
 * see docs/warmth.md). So, against the lease's start:
 *
 *   built  a unit directory with a file modified during the lease (dirty: compiled, or tried to);
 *   fresh  a unit directory with a complete fingerprint (a `.json`) and nothing modified.
 *
 * "Fresh" therefore means "already in the target dir and left alone": cargo leaves no trace of
 * which units it merely checked, so units this job's commands never asked for (another profile,
 * an older version of a dependency) count as fresh too. A slot holds one job's (or one key's)
 * units, so the two agree closely; a cold start has 0 fresh either way.
 *
 * Cargo's JSON messages would say the same more directly, but the post step never sees cargo's
 * output (it runs after the user's steps), so the directories are the only witness. Both layouts
 * are read, whatever the cargo: a slot built by a cargo before 1.100 and then by 1.100 holds both,
 * and only the one cargo wrote last is counted per profile (inUse).
 */

export type CargoLayout = 'v1' | 'v2';

export interface UnitFile {
  name: string;
  mtimeMs: number;
}

/** One fingerprint directory as read from disk: its name and the files that tell (readUnits). */
export interface UnitDir {
  /** `<pkg>-<hash>` in both layouts (v2's `<pkg>/<hash>` joined the way v1 names it). */
  name: string;
  files: UnitFile[];
  /** The profile dir it belongs to and the layout it was found in; absent: one layout only. */
  profile?: string;
  layout?: CargoLayout;
}

export interface UnitCount {
  built: number;
  fresh: number;
  /** Crates of the built units, sorted, when there are few enough to name (≤ NAMED_MAX). */
  builtCrates?: string[];
}

const NAMED_MAX = 20;
/** `<crate>-<16 hex digits>`: cargo's unit directory name. */
const UNIT_NAME = /^(.+)-[0-9a-f]{16}$/;

/**
 * The cut-off for "written during the lease": the lease's start, to the millisecond. Not rounded
 * down to whole seconds for filesystems with one-second mtimes: the previous lease's last cargo
 * write, its post step and this job's main step easily fit in one second, and that previous
 * build would then count as this job's (seen in the real-cargo test). The kernel stamps files
 * from a clock a few ms coarse; the first cargo write comes much later than that after the
 * main step, and the previous lease's last one much earlier.
 */
export const cutOff = (startedAt: string): number => Date.parse(startedAt);

const newest = (u: UnitDir): number => u.files.reduce((m, f) => Math.max(m, f.mtimeMs), -Infinity);

/**
 * Pure: the units of the layout cargo wrote last in each profile dir. A profile holding both
 * layouts was built by a cargo before 1.100 and one after (a toolchain upgrade on a warm slot);
 * the older layout's units are leftovers that no cargo of this job reads, and counting them as
 * fresh would make a cold build look half warm. Ties go to v2, the newer cargo's.
 */
export function inUse(units: UnitDir[]): UnitDir[] {
  const last = new Map<string, { v1: number; v2: number }>();
  for (const u of units) {
    if (u.profile === undefined || u.layout === undefined) continue;
    const l = last.get(u.profile) ?? { v1: -Infinity, v2: -Infinity };
    l[u.layout] = Math.max(l[u.layout], newest(u));
    last.set(u.profile, l);
  }
  return units.filter((u) => {
    const l = u.profile === undefined ? undefined : last.get(u.profile);
    if (!l || l.v1 === -Infinity || l.v2 === -Infinity) return true; // one layout here
    return u.layout === (l.v1 > l.v2 ? 'v1' : 'v2');
  });
}

/** Pure: built and fresh units among `units`, given the cut-off (ms since the epoch). */
export function countUnits(units: UnitDir[], cutOffMs: number): UnitCount {
  let built = 0;
  let fresh = 0;
  const crates = new Set<string>();
  for (const u of inUse(units)) {
    if (u.files.some((f) => f.mtimeMs >= cutOffMs)) {
      built++;
      crates.add(UNIT_NAME.exec(u.name)?.[1] ?? u.name);
    } else if (u.files.some((f) => f.name.endsWith('.json'))) {
      fresh++;
    }
    // Else an old, incomplete fingerprint (a compile that failed or was killed before this
    // lease) that this job did not touch: neither work done nor work saved.
  }
  return { built, fresh, ...(built <= NAMED_MAX ? { builtCrates: [...crates].sort() } : {}) };
}

/** Entries of the target dir that are never a profile dir (rustdoc output, `cargo package`, ...). */
const NOT_PROFILES = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build']);

const subdirs = (dir: string): string[] =>
  listDirentsSync(dir, { notADirectory: 'absent' })
    .filter((d) => d.isDirectory() && !NOT_PROFILES.has(d.name))
    .map((d) => d.name);

const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/**
 * `<target>/<profile>` and `<target>/<triple>/<profile>`: a directory holding `.fingerprint/`
 * (v1) or `build/` (both layouts); nothing deeper.
 */
export function profileDirs(target: string): string[] {
  const out: string[] = [];
  const isProfile = (d: string) => isDir(join(d, '.fingerprint')) || isDir(join(d, 'build'));
  for (const a of subdirs(target)) {
    const p = join(target, a);
    if (isProfile(p)) out.push(p);
    else for (const b of subdirs(p)) if (isProfile(join(p, b))) out.push(join(p, b));
  }
  return out;
}

/** Where one unit's fingerprint files are. */
export interface UnitLocation {
  name: string;
  dir: string;
  layout: CargoLayout;
}

const dirEntries = (dir: string) => listDirentsSync(dir, { notADirectory: 'absent' }).filter((d) => d.isDirectory());

/**
 * Where the fingerprint directories of one profile dir may be, in both layouts; readUnits skips
 * those that are not there. v2 costs one more readdir per package than v1 (build/<pkg>/ lists
 * the package's unit hashes). In a v1 profile, build/ holds `<pkg>-<hash>/` build script dirs
 * instead: each costs a readdir or two and yields nothing.
 */
export function unitLocations(profile: string): UnitLocation[] {
  const out: UnitLocation[] = [];
  const v1 = join(profile, '.fingerprint');
  for (const u of dirEntries(v1)) out.push({ name: u.name, dir: join(v1, u.name), layout: 'v1' });
  const build = join(profile, 'build');
  for (const pkg of dirEntries(build)) {
    for (const hash of dirEntries(join(build, pkg.name))) {
      // Not stat'ed here: readUnits' readdir fails on a v1 build script dir's `out/fingerprint`.
      out.push({ name: `${pkg.name}-${hash.name}`, dir: join(build, pkg.name, hash.name, 'fingerprint'), layout: 'v2' });
    }
  }
  return out;
}

/**
 * Reads every unit directory with the mtimes of its files but `dep-*` and `output-*`: cargo
 * writes those only together with `invoked.timestamp`, so they would add nothing but stat
 * calls. Synchronous on purpose: a few thousand units mean ~10k small
 * syscalls, which the thread pool would only add latency to; post does nothing else meanwhile.
 */
export function readUnits(target: string): UnitDir[] {
  const units: UnitDir[] = [];
  for (const profile of profileDirs(target)) {
    for (const loc of unitLocations(profile)) {
      // Not there: not a unit (a v1 build script dir under build/), or gone meanwhile.
      const entries = ifPresentSync(loc.dir, () => readdirSync(loc.dir), { notADirectory: 'absent' });
      if (!entries) continue;
      const files: UnitFile[] = [];
      for (const f of entries) {
        if (f.startsWith('dep-') || f.startsWith('output-')) continue;
        const st = statSync(join(loc.dir, f), { throwIfNoEntry: false });
        if (st?.isFile()) files.push({ name: f, mtimeMs: st.mtimeMs });
      }
      units.push({ name: loc.name, files, profile: profile.slice(target.length + 1), layout: loc.layout });
    }
  }
  return units;
}

/** Units built and found fresh in `target` since the lease started. */
export function unitsSince(target: string, startedAt: string): UnitCount {
  return countUnits(readUnits(target), cutOff(startedAt));
}

// ---------------------------------------------------------------------------------------------
// History: <root>/warmth.jsonl (+ .1), one line per job, written by post.
//
// Slot records hold only their last job, and the audit log is opt-in, so the history has its
// own file: an append-only log of jsonlog.ts (one O_APPEND write per line, rotation at LOG_MAX,
// torn lines skipped), read by `status` (the share of warm starts) and `metrics` (counters).
// ---------------------------------------------------------------------------------------------

export { LOG_MAX };
/** How many of the latest jobs of a repository's job `status` considers. */
export const RECENT = 20;

export interface WarmthEntry {
  /** When the job ended (ISO). */
  t: string;
  repository: string;
  job: string;
  jobKey?: string;
  key: string;
  runner: string;
  /** The slot, or `job` for a per-job directory. */
  slot: string;
  built: number;
  fresh: number;
  /** The workflow, run id, lease time (ms) and base key of the job: what the value rule (value.ts) reads. Absent in lines of older versions. */
  workflow?: string;
  run?: string;
  ms?: number;
  base?: string;
  /** Which tier the job's start came from (job/tiers.ts StartTier: slot, copy, host-archive, ...). Absent in lines of older versions. */
  from?: string;
}

/**
 * A trust domain said to be closed (a `pull_request: closed` run of the action, or
 * `cargo-isolate forget`): its builds are worth nothing from then on (value.ts).
 */
export interface ClosedEntry {
  t: string;
  repository: string;
  key: string;
  closed: true;
}

/** Pure: a job started warm when most of its units were already there and left alone. */
export const startedWarm = (e: Pick<WarmthEntry, 'built' | 'fresh'>): boolean => e.fresh > e.built;

export interface WarmthRow {
  repository: string;
  /** The job's name, with its `key` input when it has one (matrix legs). */
  job: string;
  /** Jobs considered (the latest RECENT that ran cargo). */
  jobs: number;
  warm: number;
  /** Units fresh / (built + fresh) over those jobs. */
  unitsFresh: number;
  last: string;
}

/** Pure: the entries of a log's text; torn and foreign lines are skipped. */
export function parseLog(text: string): WarmthEntry[] {
  return parseLines<WarmthEntry>(
    text,
    (e) => typeof e.repository === 'string' && typeof e.job === 'string' && Number.isInteger(e.built) && Number.isInteger(e.fresh),
  );
}

/** Pure: the closed-domain lines of a log's text (parseLog skips them: they are no job). */
export function parseClosed(text: string): ClosedEntry[] {
  return parseLines<ClosedEntry>(text, (e) => e.closed === true && typeof e.repository === 'string' && typeof e.key === 'string');
}

/** Pure: per repository and job, the share of its latest `recent` jobs that started warm. */
export function warmShare(entries: WarmthEntry[], recent = RECENT): WarmthRow[] {
  const groups = new Map<string, WarmthEntry[]>();
  for (const e of entries) {
    if (e.built + e.fresh === 0) continue; // ran no cargo build: says nothing about warmth
    const job = e.jobKey ? `${e.job} (${e.jobKey})` : e.job;
    const k = JSON.stringify([e.repository, job]);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(e);
  }
  const rows: WarmthRow[] = [];
  for (const [k, all] of groups) {
    const [repository, job] = JSON.parse(k) as [string, string];
    const last = [...all].sort((a, b) => a.t.localeCompare(b.t)).slice(-recent);
    const built = last.reduce((s, e) => s + e.built, 0);
    const fresh = last.reduce((s, e) => s + e.fresh, 0);
    rows.push({
      repository,
      job,
      jobs: last.length,
      warm: last.filter(startedWarm).length,
      unitsFresh: fresh / (built + fresh),
      last: last[last.length - 1].t,
    });
  }
  return rows.sort((a, b) => a.repository.localeCompare(b.repository) || a.job.localeCompare(b.job));
}

export function formatWarmth(rows: WarmthRow[]): string[] {
  if (rows.length === 0) return ['warm starts: no job with a cargo build recorded yet'];
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  return [
    `warm starts (latest ${RECENT} jobs each; warm: most compile units found fresh):`,
    ...rows.map((r) => `  ${r.repository} ${r.job}: ${r.warm}/${r.jobs} warm (${pct(r.warm / r.jobs)}), ${pct(r.unitsFresh)} of units fresh`),
  ];
}

export const warmthLog = (root: string): string => rootPaths(root).warmth;

/** Appends one line, a job's or a closed PR's (jsonlog.ts: O_APPEND, rotation, refused links). Throws: post turns it into a warning. */
export async function appendWarmth(root: string, e: WarmthEntry | ClosedEntry): Promise<void> {
  await appendLine(root, warmthLog(root), e);
}

/** The history on disk, older generation first. Never throws. */
export async function readWarmth(root: string): Promise<WarmthEntry[]> {
  return (await readHistory(root)).jobs;
}

/** Jobs and closed domains, older generation first, in one read. Never throws. */
export async function readHistory(root: string): Promise<{ jobs: WarmthEntry[]; closed: ClosedEntry[] }> {
  const text = await readLog(warmthLog(root));
  return { jobs: parseLog(text), closed: parseClosed(text) };
}
