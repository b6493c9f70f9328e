import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { SLOT_NAME, rootPaths, slotDirs } from '../model/layout.js';
import { allFree } from '../os/flock.js';
import { readRecord } from '../os/record-file.js';
import { removeTree } from '../os/remove.js';
import { writeAtomic } from '../os/fsutil.js';
import { myUid } from '../os/proc.js';
import { OUR_WRAPPER } from '../host/sccache.js';
import { originalCargoHome } from './cargo-home.js';
import { ifPresent, listDir, lstatIfPresent, readBytesIfPresent } from '../os/absent.js';

/*
 * The top of a CARGO_HOME: what cargo shares there, and what a job writes there for itself.
 *
 * Shared (SHARED_TOP): cargo's caches (`registry/`, `git/`), its locks (`.package-cache`,
 * `.package-cache-mutate`) and its tracking database (`.global-cache`, with SQLite's journal),
 * and this action's key wrapper. Everything else is the job's own: `config.toml` and
 * `credentials.toml` (`cargo login`), their legacy names `config` and `credentials`, a `bin/` of
 * `cargo install --root $CARGO_HOME`, anything a step writes there.
 *
 * One path serves every job of the uid at once (16 runners overlap all the time), so a file at
 * the top cannot be told to be one job's: `cargo login` in two jobs writes one credentials.toml.
 * The rule, from what can be known (the entry's change time, which jobs ran then):
 *
 *   an entry is removed by the first job start or end that finds that no other job still
 *   running was running when it was last changed.
 *
 * So a job's own entries go at its end when nobody overlapped its writes, and otherwise with
 * the last job that did; a job that ends never removes what a job still running may have just
 * written (its fresh credentials); and an entry of a job that died without its end goes at the
 * next start. While a job runs, the jobs of its uid that run beside it can read what it wrote
 * there, as on a runner without this action, where every runner of one user shares ~/.cargo (and
 * each can read the others' environment in /proc/<pid>/environ).
 *
 * The runner's own `~/.cargo` config and credentials are copied to the top (never linked: a
 * `cargo login` would write through the link into the runner's own home), and a copy identical
 * to its original counts as the runner's, not a job's.
 */

/** Names at the top of a CARGO_HOME that every job of the uid shares. */
export const SHARED_TOP = ['registry', 'git', '.package-cache', '.package-cache-mutate', '.global-cache', OUR_WRAPPER];
const sharedName = (n: string) =>
  SHARED_TOP.includes(n) || /^\.global-cache-(journal|wal|shm)$/.test(n) || n.startsWith(`.${OUR_WRAPPER}.`) || /^\.cargo-isolate-top\..*\.tmp$/.test(n);

/** Files of the runner's own CARGO_HOME that jobs get a copy of. */
export const RUNNER_FILES = ['config.toml', 'config', 'credentials.toml', 'credentials'];

/** Change times are stamped from a clock up to a tick behind; a lease's start is written a little after it began. */
const MARGIN_MS = 1000;

export interface TopEntry {
  name: string;
  /** The latest change time of the entry and, for a directory, of everything below it. */
  changedMs: number;
  /** A copy of the runner's own file, unchanged. */
  runnerCopy: boolean;
}

export interface LiveJob {
  slot: string;
  startedMs: number;
}

/** Pure: is `e` possibly the job `j`'s own (it ran when `e` last changed)? */
export const mayOwn = (j: LiveJob, e: Pick<TopEntry, 'changedMs'>): boolean => j.startedMs <= e.changedMs + MARGIN_MS;

/** Pure: what becomes of an entry at a start or an end of job `me`, while `live` jobs of the uid run. */
export function topFate(e: TopEntry, me: string, live: LiveJob[]): 'keep' | 'remove' {
  if (e.runnerCopy) return 'keep';
  return live.some((j) => j.slot !== me && mayOwn(j, e)) ? 'keep' : 'remove';
}

/** The latest ctime of a path and, for a directory, of its entries (not following links; a bounded walk). */
async function latestChange(path: string, budget = { n: 20_000 }): Promise<number> {
  const st = await lstatIfPresent(path);
  if (!st) return 0;
  let t = st.ctimeMs;
  if (st.isDirectory() && budget.n-- > 0) for (const n of await listDir(path)) t = Math.max(t, await latestChange(join(path, n), budget));
  return t;
}

/** The runner's own files as they are now: name to content (regular files only). */
async function runnerFiles(orig: string | undefined): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (!orig) return out;
  for (const f of RUNNER_FILES) {
    const st = await ifPresent(join(orig, f), () => fs.stat(join(orig, f)), { notADirectory: 'absent' });
    if (st?.isFile()) {
      const b = await readBytesIfPresent(join(orig, f));
      if (b) out.set(f, b);
    }
  }
  return out;
}

/** The job's own entries at the top of `home`, as topFate sees them. */
async function topEntries(home: string, runner: Map<string, Buffer>): Promise<TopEntry[]> {
  const out: TopEntry[] = [];
  for (const name of await listDir(home)) {
    if (sharedName(name)) continue;
    const p = join(home, name);
    const st = await lstatIfPresent(p);
    if (!st) continue;
    const orig = runner.get(name);
    const runnerCopy = !!orig && st.isFile() && st.size === orig.length && (await fs.readFile(p).catch(() => Buffer.alloc(0))).equals(orig);
    out.push({ name, changedMs: await latestChange(p), runnerCopy });
  }
  return out;
}

/**
 * Jobs of this uid whose lease is held now, other than `me`, that began before `before`: read
 * from the slots' records (when each began) and confirmed by a probe of each one's lease lock
 * (a record alone says nothing of liveness). Only records that could matter are probed.
 */
async function liveJobs(root: string, me: string, before: number): Promise<LiveJob[]> {
  const uid = myUid();
  const out: LiveJob[] = [];
  for (const name of (await listDir(rootPaths(root).slots)).filter((n) => SLOT_NAME.test(n))) {
    if (name === me) continue;
    const d = slotDirs(root, name);
    const rec = await readRecord(d.record);
    if (!rec?.leasedAt || (rec.uid !== undefined && rec.uid !== uid)) continue;
    const started = Date.parse(rec.leasedAt);
    const released = rec.releasedAt ? Date.parse(rec.releasedAt) : 0;
    if (!(started <= before + MARGIN_MS) || released >= started) continue; // began later, or its end ran
    if (!allFree([d.lock])) out.push({ slot: name, startedMs: started });
  }
  return out;
}

export interface TopReport {
  removed: string[];
  kept: string[];
  /** Runner files copied to the top. */
  copied: string[];
  /** The runner's own CARGO_HOME, as the start found it (the end compares the copies with it). */
  runnerHome?: string;
}

/**
 * Settles the top of `home` at a start or an end of job `me` (its slot's name): removes what no
 * running job may own (topFate), replaces a link to one of the runner's files with a copy, and,
 * at a start, copies the runner's files that are not there. `shared`: other jobs use the home
 * (else everything a job wrote is the job's: removed at its end, and at the next start).
 */
export async function settleTop(o: {
  root: string;
  home: string;
  me: string;
  shared: boolean;
  at: 'start' | 'end';
  /** The job's environment before its exports (at a start: where the runner's own home is). */
  env?: Record<string, string | undefined>;
  /** The runner's own CARGO_HOME the start found (at an end). */
  runnerHome?: string;
}): Promise<TopReport> {
  const runnerHome = o.runnerHome ?? (o.env ? originalCargoHome(o.env, o.root) : undefined);
  const r: TopReport = { removed: [], kept: [], copied: [], runnerHome };
  if (
    !(await fs.lstat(o.home).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return r;
  const runner = await runnerFiles(runnerHome);
  // A link among the runner's names (an earlier version linked them): a `cargo login` would
  // write through it, outside the root. A copy of the same bytes serves whoever reads it.
  for (const f of RUNNER_FILES) {
    const p = join(o.home, f);
    if (!(await lstatIfPresent(p))?.isSymbolicLink()) continue;
    const b = runner.get(f);
    // Whatever is there (a link) is replaced by a file of the same bytes, in one rename.
    if (b) await writeAtomic(p, b, 0o600);
    else await fs.unlink(p).catch(() => undefined);
  }
  const entries = await topEntries(o.home, runner);
  const latest = Math.max(0, ...entries.map((e) => e.changedMs));
  const live = o.shared && entries.some((e) => !e.runnerCopy) ? await liveJobs(o.root, o.me, latest) : [];
  for (const e of entries) {
    const fate = o.shared ? topFate(e, o.me, live) : o.at === 'end' || !e.runnerCopy ? 'remove' : 'keep';
    if (fate === 'keep') {
      if (!e.runnerCopy) r.kept.push(e.name);
      continue;
    }
    const res = await removeTree(o.root, join(o.home, e.name), {
      why: `CARGO_HOME ${o.at === 'end' ? 'at the end of' : 'at the start of'} a job: another job's own entry`,
    });
    if (res.outcome === 'removed' || res.outcome === 'left-in-trash') r.removed.push(e.name);
  }
  if (o.at === 'start') {
    for (const [f, b] of runner) if (await createIfAbsent(join(o.home, f), b)) r.copied.push(f);
  }
  return r;
}

/** Writes `data` at `path` only if nothing is there: a temp file linked to the name (link(2) never replaces). */
async function createIfAbsent(path: string, data: Buffer): Promise<boolean> {
  const tmp = join(dirname(path), `.cargo-isolate-top.${randomBytes(4).toString('hex')}.tmp`);
  await fs.writeFile(tmp, data, { mode: 0o600 });
  try {
    await fs.link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}
