import { constants, promises as fs, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootPaths } from '../model/layout.js';
import { handBackTo, myUid, ownerOf } from '../owners/owner.js';

/*
 * How warm a job started, measured from what cargo itself leaves behind, and a short history of
 * it per host for `cargo-isolate status`.
 *
 * Cargo keeps one fingerprint directory per compile unit: `<target>/<profile>/.fingerprint/
 * <unit>-<hash>/` (and `<target>/<triple>/<profile>/...` with --target). A unit it finds dirty
 * has its hash file `<kind>-<name>` emptied at once (also when a failed dependency then keeps it
 * from compiling); compiling writes `invoked.timestamp` before rustc, and the hash file with its
 * `.json` after (a build script's run writes only that pair: its timestamp lives under build/).
 * A unit it finds fresh is only read: nothing in the directory changes, not even a mtime
 * (measured with cargo 1.95, see docs/warmth.md). So, against the lease's start:
 *
 *   built  a unit directory with a file modified during the lease (dirty: compiled, or tried to);
 *   fresh  a unit directory with a complete fingerprint (a `.json`) and nothing modified.
 *
 * "Fresh" therefore means "already in the target dir and left alone": cargo leaves no trace of
 * which units it merely checked, so units this job's commands never asked for (another profile,
 * an older version of a dependency) count as fresh too. A slot holds one job's (or one key's)
 * units, so the two agree closely; a cold start has 0 fresh either way.
 */

export interface UnitFile {
  name: string;
  mtimeMs: number;
}

/** One fingerprint directory as read from disk: its name and the files that tell (readUnits). */
export interface UnitDir {
  name: string;
  files: UnitFile[];
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

/** Pure: built and fresh units among `units`, given the cut-off (ms since the epoch). */
export function countUnits(units: UnitDir[], cutOffMs: number): UnitCount {
  let built = 0;
  let fresh = 0;
  const crates = new Set<string>();
  for (const u of units) {
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

/** Entries of the target dir that never hold a profile's `.fingerprint` (rustdoc output, `cargo package`). */
const NOT_PROFILES = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build']);

const subdirs = (dir: string): string[] => {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && !NOT_PROFILES.has(d.name)).map((d) => d.name);
  } catch {
    return [];
  }
};

/** `<target>/<profile>/.fingerprint` and `<target>/<triple>/<profile>/.fingerprint`; nothing deeper. */
export function fingerprintDirs(target: string): string[] {
  const out: string[] = [];
  const has = (d: string) => statSync(join(d, '.fingerprint'), { throwIfNoEntry: false })?.isDirectory() ?? false;
  for (const a of subdirs(target)) {
    const p = join(target, a);
    if (has(p)) out.push(join(p, '.fingerprint'));
    else for (const b of subdirs(p)) if (has(join(p, b))) out.push(join(p, b, '.fingerprint'));
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
  for (const fp of fingerprintDirs(target)) {
    let names: string[];
    try {
      names = readdirSync(fp);
    } catch {
      continue;
    }
    for (const name of names) {
      let entries: string[];
      try {
        entries = readdirSync(join(fp, name));
      } catch {
        continue; // not a directory, or gone meanwhile
      }
      const files: UnitFile[] = [];
      for (const f of entries) {
        if (f.startsWith('dep-') || f.startsWith('output-')) continue;
        const st = statSync(join(fp, name, f), { throwIfNoEntry: false });
        if (st?.isFile()) files.push({ name: f, mtimeMs: st.mtimeMs });
      }
      units.push({ name, files });
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
// own file. It is append-only: each line is one write(2) on an O_APPEND descriptor, so
// concurrent posts never interleave within a line. A line torn by a full disk or a kill is
// skipped by the reader, and the next line is recovered even when glued to the torn one. When
// the file passes LOG_MAX bytes, the writer that noticed renames it to `.1` (replacing the
// older generation), so the history stays within 2 x LOG_MAX. Two writers rotating at once can
// drop one generation early: a statistic may lose old lines, never gain wrong ones.
// ---------------------------------------------------------------------------------------------

export const LOG_MAX = 256 * 1024;
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

const ENTRY_START = '{"t":"';

/** Pure: the entries of a log's text; torn and foreign lines are skipped. */
export function parseLog(text: string): WarmthEntry[] {
  const out: WarmthEntry[] = [];
  for (const line of text.split('\n')) {
    // A torn line followed by a whole one on the same line: the whole one starts last.
    const at = line.lastIndexOf(ENTRY_START);
    if (at < 0) continue;
    try {
      const e = JSON.parse(line.slice(at)) as WarmthEntry;
      if (typeof e.repository === 'string' && typeof e.job === 'string' && Number.isInteger(e.built) && Number.isInteger(e.fresh)) out.push(e);
    } catch {
      /* torn */
    }
  }
  return out;
}

/** Pure: the closed-domain lines of a log's text (parseLog skips them: they are no job). */
export function parseClosed(text: string): ClosedEntry[] {
  const out: ClosedEntry[] = [];
  for (const line of text.split('\n')) {
    const at = line.lastIndexOf(ENTRY_START);
    if (at < 0 || !line.includes('"closed":true')) continue;
    try {
      const e = JSON.parse(line.slice(at)) as ClosedEntry;
      if (e.closed === true && typeof e.repository === 'string' && typeof e.key === 'string') out.push(e);
    } catch {
      /* torn */
    }
  }
  return out;
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
    rows.push({ repository, job, jobs: last.length, warm: last.filter(startedWarm).length, unitsFresh: fresh / (built + fresh), last: last[last.length - 1].t });
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

/**
 * Appends one job's line; rotates past LOG_MAX. Throws: the caller (post) turns it into a
 * warning. A build runs as this uid and can replace the file: with a symlink (O_NOFOLLOW
 * refuses it), a FIFO (O_NONBLOCK: no hang) or a hard link to a file outside the root (refused
 * by its link count), so a root
 * job's post step never writes or chowns anything but this root's own log.
 */
export async function appendWarmth(root: string, e: WarmthEntry | ClosedEntry): Promise<void> {
  const path = warmthLog(root);
  const { t, ...rest } = e;
  const h = await fs.open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  let st;
  try {
    const before = await h.stat();
    if (!before.isFile() || before.nlink !== 1) throw new Error(`${path} is not a plain file of its own (${before.nlink} links); remove it, the next job starts a new history`);
    await h.write(JSON.stringify({ t, ...rest }) + '\n');
    st = await h.stat();
    // A root job on a root owned by the runner's user: the next host job must be able to append.
    const to = handBackTo(myUid(), await ownerOf(root));
    if (to && st.uid !== to.uid) await h.chown(to.uid, to.gid);
  } finally {
    await h.close();
  }
  if (st.size > LOG_MAX) {
    // Rotate only the file this job wrote to: another writer may have rotated it already.
    const now = await fs.lstat(path).catch(() => undefined);
    if (now?.ino === st.ino) await fs.rename(path, `${path}.1`);
  }
}

async function readPlain(path: string): Promise<string> {
  const h = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!h) return '';
  try {
    return (await h.stat()).isFile() ? await h.readFile('utf8') : '';
  } catch {
    return '';
  } finally {
    await h.close();
  }
}

/** The history on disk, older generation first. Never throws. */
export async function readWarmth(root: string): Promise<WarmthEntry[]> {
  return (await readHistory(root)).jobs;
}

/** Jobs and closed domains, older generation first, in one read. Never throws. */
export async function readHistory(root: string): Promise<{ jobs: WarmthEntry[]; closed: ClosedEntry[] }> {
  const path = warmthLog(root);
  const texts = await Promise.all([`${path}.1`, path].map(readPlain));
  return { jobs: texts.flatMap(parseLog), closed: texts.flatMap(parseClosed) };
}
