import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type JobIdentity } from './identity.js';
import { type Lease, acquireJobDir, acquireSlot, releaseLease } from './lease.js';
import { cargoLockFiles } from './liveness.js';
import type { Log } from './log.js';
import { type PrepareResult, prepareDirs } from './prepare.js';
import { type DirRecord, readRecord, writeRecord } from './record.js';
import { type RemoveResult, removeTree } from './remove.js';
import { prepareRoot } from './root.js';
import type { Settings } from './settings.js';
import { diskUsage } from './sizes.js';

/** What the main step hands to the post step (through state.ts) and to the summary. */
export interface StartedJob {
  root: string;
  layout: Settings['layout'];
  slot: string;
  dirs: Lease['dirs'];
  keeperPid: number;
  tier: Lease['tier'];
  waitedMs: number;
  zombies: string[];
  reset: PrepareResult['decision'];
  identity: JobIdentity;
  startedAt: string;
  cleanupTimeoutMs: number;
  exports: Record<string, string>;
  path: string;
}

export function exportsFor(dirs: Lease['dirs']): Record<string, string> {
  return {
    CARGO_TARGET_DIR: dirs.target,
    CARGO_HOME: dirs.cargoHome,
    TMPDIR: dirs.tmp,
    TMP: dirs.tmp,
    TEMP: dirs.tmp,
  };
}

function recordFor(lease: Lease, me: JobIdentity, now: string, previous?: DirRecord): DirRecord {
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
    jobUid: me.jobUid,
    leasedAt: now,
    lastUsed: now,
    sizes: previous?.sizes,
  };
}

/**
 * The main step's work after the guard: lease a directory, make it ready, say what to export.
 * `onLeased` runs as soon as the lease exists, so that a cancel arriving during preparation
 * still leaves the post step enough to release it.
 */
export async function startJob(s: Settings, root: string, me: JobIdentity, env: Record<string, string | undefined>, log: Log, watchPid: number, onLeased: (partial: Pick<StartedJob, 'root' | 'layout' | 'slot' | 'dirs' | 'keeperPid' | 'cleanupTimeoutMs'>) => void): Promise<StartedJob> {
  const req = { root, me, watchPid, maxLeaseMs: s.maxLeaseMs, leaseWaitMs: s.leaseWaitMs, log };
  const lease = await (s.layout === 'slot' ? acquireSlot(req) : acquireJobDir(req));
  onLeased({ root, layout: s.layout, slot: lease.name, dirs: lease.dirs, keeperPid: lease.keeperPid, cleanupTimeoutMs: s.cleanupTimeoutMs });
  try {
    const now = new Date().toISOString();
    await writeRecord(lease.dirs.record, recordFor(lease, me, now, lease.previous));
    const prep = await prepareDirs(root, lease.dirs, lease.previous, me, s, env);
    for (const r of prep.removed.filter((x) => x.outcome === 'left-in-trash')) {
      log.warning(`Could not fully delete the old ${r.path}: ${r.detail}. The remains are in ${r.trashPath}; the job continues with a fresh directory, and a later guard or 'cargo-isolate gc' run as that user or root removes them.`);
    }
    return {
      root,
      layout: s.layout,
      slot: lease.name,
      dirs: lease.dirs,
      keeperPid: lease.keeperPid,
      tier: lease.tier,
      waitedMs: lease.waitedMs,
      zombies: lease.zombies,
      reset: prep.decision,
      identity: me,
      startedAt: now,
      cleanupTimeoutMs: s.cleanupTimeoutMs,
      exports: exportsFor(lease.dirs),
      path: join(lease.dirs.cargoHome, 'bin'),
    };
  } catch (e) {
    await releaseLease(lease.keeperPid, lease.dirs.lock);
    throw e;
  }
}

export interface EndedJob {
  released: boolean;
  removed: RemoveResult[];
  sizes?: DirRecord['sizes'];
  warnings: string[];
}

/**
 * The post step's work. Best effort throughout: each failure becomes a warning that says what
 * was being done and where, and the lease is released whatever happened before.
 */
export async function endJob(j: Pick<StartedJob, 'root' | 'layout' | 'dirs' | 'keeperPid' | 'cleanupTimeoutMs'>): Promise<EndedJob> {
  const warnings: string[] = [];
  const removed: RemoveResult[] = [];
  let sizes: DirRecord['sizes'];
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      warnings.push(`${what}: ${(e as Error).message}`);
    }
  };
  const timeoutMs = j.cleanupTimeoutMs;
  const note = (r: RemoveResult) => {
    removed.push(r);
    if (r.outcome === 'left-in-trash') warnings.push(`Could not fully delete ${r.path}: ${r.detail}. The remains are in ${r.trashPath} for a later guard or 'cargo-isolate gc' run as that user or root.`);
    if (r.outcome === 'live') warnings.push(`Did not delete ${r.path}: cargo still holds its locks (a build still running, e.g. in a container). The next guard removes it once idle.`);
  };
  try {
    await prepareRoot(j.root, {}, false);
    if (j.layout === 'job') {
      // Our own keeper holds the lease; cargo's locks decide whether a build still runs there.
      await attempt(`Removing the job directory ${j.dirs.base}`, async () => {
        note(await removeTree(j.root, j.dirs.base, { locks: await cargoLockFiles(j.dirs.target, j.dirs.cargoHome), timeoutMs }));
      });
    } else {
      await attempt(`Emptying TMPDIR ${j.dirs.tmp}`, async () => {
        note(await removeTree(j.root, j.dirs.tmp, { timeoutMs }));
        await fs.mkdir(j.dirs.tmp, { mode: 0o700 }).catch(() => undefined);
      });
      await attempt(`Recording sizes in ${j.dirs.record}`, async () => {
        const now = new Date().toISOString();
        const [target, cargoHome] = await Promise.all([diskUsage(j.dirs.target), diskUsage(j.dirs.cargoHome)]);
        sizes = { target, cargoHome, tmp: 0, measuredAt: now };
        const rec = await readRecord(j.dirs.record);
        if (rec) await writeRecord(j.dirs.record, { ...rec, releasedAt: now, lastUsed: now, sizes });
      });
    }
  } catch (e) {
    warnings.push(`Checking the root ${j.root}: ${(e as Error).message}`);
  }
  let released = false;
  await attempt(`Releasing the lease ${j.dirs.lock} (keeper pid ${j.keeperPid})`, async () => {
    released = await releaseLease(j.keeperPid, j.dirs.lock);
  });
  return { released, removed, sizes, warnings };
}
