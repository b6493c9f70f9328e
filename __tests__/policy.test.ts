import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobIdentity } from '../src/model/identity.js';
import { contentKey } from '../src/model/key.js';
import { archiveDir, slotDirs } from '../src/model/layout.js';
import type { DirRecord, PathView } from '../src/model/record.js';
import type { Level } from '../src/model/units.js';
import { measure } from '../src/os/disk.js';
import { type Held, hold, release } from '../src/os/flock.js';
import { heldLocks } from '../src/os/liveness.js';
import type { Log } from '../src/os/log.js';
import { writeRecord } from '../src/os/record-file.js';
import { planGuard, runGuard, scanRoot } from '../src/pool/guard.js';
import { acquireSlot, releaseLease, slotToKeep } from '../src/pool/lease.js';
import { SHIPPED, type Scope, type UseEntry } from '../src/pool/policy.js';
import { prepareRoot } from '../src/pool/root.js';
import { appendWarmth } from '../src/pool/warmth.js';
import type { Job } from '../scripts/sim/model.js';
import { type SimArchive, type Slot, SimPool, SIM_HOME, SIM_ROOT, archiveKeyOf, diskOf } from '../scripts/sim/pool.js';
import { rng } from '../scripts/sim/trace.js';
import { removeScratch } from './helpers/scratch.js';
import { DATA, META } from '../src/store/archive.js';
import { slotRecord } from './helpers/records.js';

/*
 * One policy, two paths. The product's: slot records written to a root on a tmpfs of this test's
 * own (writeRecord), leases held with flock, the host's history appended to <root>/warmth.jsonl
 * (appendWarmth); read back by the action's own code: scanSlots and hostHistory through
 * slotToKeep, collectCandidates and planPrune, runGuard (a dry run: it says what it would remove,
 * in order, and where it stops), acquireSlot. The simulator's: the same records, leases and history
 * in memory, in its slot pool (scripts/sim/pool.ts SimPool), as a simulated day holds them. On
 * seeded random hosts both must keep the same build, order the same targets the same way, stop at
 * the same removal and give the job the same slot.
 */

let scratch: string;
let mount: string;
const GiB = 2 ** 30;
const quiet: Log = { info: () => undefined, warning: () => undefined, debug: () => undefined, group: (_n, fn) => fn() };

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-policy-'));
  // Its own filesystem: where the guard stops depends on the free bytes it measures, which
  // nothing else on the machine may change while it runs.
  mount = join(scratch, 'fs');
  await fs.mkdir(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mount]);
});
afterAll(async () => {
  await removeScratch(scratch);
});

/** The paths a job of the simulated host sees in a slot, as the simulator records them (one uid, one CARGO_HOME). */
const viewOf = (name: string): PathView => ({ root: SIM_ROOT, uid: 1001, cargoHome: SIM_HOME, target: `${SIM_ROOT}/slots/${name}/target` });
const VIEW = { own: { root: SIM_ROOT, uid: 1001 }, at: (_vp: unknown, name: string) => viewOf(name) };

const REPO = 'acme/w';
const QUEUE = contentKey(undefined, 'gh-readonly-queue/main/pr-3-abc123');
const KEYS = ['ref-main', 'ref-main', 'pr-1', 'pr-2', 'pr-3', 'pr-4', 'pr-5', QUEUE, contentKey(undefined, 'release/1.x')];
const JOBS = [
  ['test', ''],
  ['lint', ''],
  ['bench', ''],
  ['build', 'arm'],
] as const;
const RUNNERS = ['r1', 'r2', 'r3'];

interface Host {
  nowMs: number;
  slots: Slot[];
  history: ({ job: UseEntry & { runner: string; slot: string } } | { closed: { repository: string; key: string; tMs: number } })[];
  me: JobIdentity;
  scope: Scope;
  room: boolean;
  /** Bytes the guard must free to reach its target. */
  toFree: number;
  /** The disk is over disk-hard-threshold: runner scope gives way to host scope. */
  overHard: boolean;
  /** The host tier's dependency archives: a trust domain's of one job each, with their two files' bytes. */
  archives: { domain: string; job: string; jobKey: string; savedMs: number; dataBytes: number }[];
}

/** A host as a day of CI leaves it: slots of several PRs, branches and jobs, some leased, some pruned, and the history behind them. */
function hostOf(seed: number): Host {
  const r = rng(seed);
  // Whole minutes: the simulator counts its day in minutes; whole seconds in every record, as
  // its ISO time says them.
  const nowMs = Math.floor(Date.now() / 60_000) * 60_000;
  const ago = (minLo: number, minHi: number) => nowMs - Math.round(r.uniform(minLo, minHi) * 60) * 1000;
  const n = 3 + Math.floor(r.next() * 10);
  const slots: Slot[] = [];
  for (let i = 0; i < n; i++) {
    // Every slot has a record: the simulator's do (its jobs write one as they start), and a slot
    // without one is the previous job's crash, which the guard measures with du.
    const name = `s${String(i).padStart(3, '0')}`;
    const [job, jobKey] = r.pick([...JOBS]);
    const key = r.pick(KEYS);
    const t = new Date(ago(3, 40 * 60)).toISOString();
    const pruned = r.next() < 0.12;
    const bytes = pruned ? 0 : Math.round(r.uniform(0.3, 8) * GiB);
    const record: DirRecord = slotRecord({
      name,
      repository: REPO,
      key,
      runnerId: r.pick(RUNNERS),
      runId: String(100 + Math.floor(r.next() * 50)),
      job,
      jobKey: jobKey || undefined,
      leasedAt: t,
      lastUsed: t,
      sizes: { target: bytes, cargoHome: 0, tmp: 0, measuredAt: t },
      prunedAt: pruned ? t : undefined,
      view: viewOf(name),
    });
    slots.push({ name, bytes, live: r.next() < 0.15, record });
  }
  // The history: runs of every key and job over two days, a base for PRs' first runs, some PRs closed.
  const history: Host['history'] = [];
  let run = 100;
  for (const key of new Set(KEYS)) {
    const runs = 1 + Math.floor(r.next() * 5);
    for (let k = 0; k < runs; k++) {
      const tMs = ago(10, 48 * 60);
      run++;
      for (const [job, jobKey] of JOBS) {
        if (r.next() < 0.3) continue;
        const warm = k > 0 && r.next() < 0.7;
        const e = {
          t: new Date(tMs + Math.round(r.uniform(0, 600)) * 1000).toISOString(),
          repository: REPO,
          workflow: 'ci',
          job,
          jobKey: jobKey || undefined,
          key,
          run: String(run),
          ms: Math.round((warm ? r.uniform(1, 3) : r.uniform(8, 25)) * 60_000),
          built: warm ? 2 : 90,
          fresh: warm ? 88 : 0,
          base: key.startsWith('pr-') && k === 0 ? 'ref-main' : undefined,
          runner: r.pick(RUNNERS),
          slot: 's000',
        };
        history.push({ job: e });
      }
    }
    if (key.startsWith('pr-') && r.next() < 0.4) history.push({ closed: { repository: REPO, key, tMs: ago(1, 20 * 60) } });
  }
  // Oldest first, as the simulated day adds them; no two at the same instant.
  const at = (h: Host['history'][number]) => ('job' in h ? Date.parse(h.job.t) : h.closed.tMs);
  history.sort((a, b) => at(a) - at(b));
  const uniq = history.filter((h, i) => i === 0 || at(h) !== at(history[i - 1]));
  const [job, jobKey] = r.pick([...JOBS]);
  const key = r.pick(KEYS.filter((k) => k !== QUEUE));
  const pr = key.startsWith('pr-') ? Number(key.slice(3)) : undefined;
  const me: JobIdentity = {
    repository: REPO,
    eventName: pr ? 'pull_request' : 'push',
    pr,
    branch: pr ? `f${pr}` : key.slice(4),
    key,
    fork: false,
    workflow: 'ci',
    runId: String(1000 + seed),
    runAttempt: '1',
    job,
    jobKey,
    baseKey: pr ? 'ref-main' : undefined,
    runnerName: r.pick(RUNNERS),
    runnerId: '',
    runnerFrom: 'RUNNER_NAME',
    host: 'h',
    container: false,
    nonce: 'n',
    jobUid: `u${seed}`,
  };
  me.runnerId = me.runnerName;
  const idle = slots.filter((s) => !s.live).reduce((a, s) => a + s.bytes, 0);
  // The host tier, from draws of their own (the hosts above stay as they were): up to six archives.
  const ra = rng(seed + 99_991);
  const archives: Host['archives'] = [];
  for (let i = Math.floor(ra.next() * 7); i > 0; i--) {
    const [job, jobKey] = ra.pick([...JOBS]);
    // Every domain, a merge queue's too: its key (`+` in it) names a re-hashed directory, and the
    // product reads the domain from archive.json, as the history names it.
    const domain = ra.pick(KEYS);
    if (archives.some((a) => a.domain === domain && a.job === job && a.jobKey === jobKey)) continue;
    const savedMs = nowMs - Math.round(ra.uniform(3, 40 * 60) * 60) * 1000;
    archives.push({ domain, job, jobKey, savedMs, dataBytes: Math.round(ra.uniform(0.1, 1.5) * GiB) });
  }
  return {
    archives,
    nowMs,
    slots,
    history: uniq,
    me,
    scope: r.next() < 0.7 ? 'runner' : 'host',
    room: r.next() < 0.5,
    toFree: Math.round(r.uniform(0.1, 1.3) * idle) + 1,
    overHard: r.next() < 0.2,
  };
}

/** An archive's archive.json as a save writes it (store/archive.ts ArchiveMeta), for the simulated job's keys. */
const metaOf = (a: Host['archives'][number]) => {
  const k = archiveKeyOf(REPO, a.job, a.jobKey);
  const key = { repository: REPO, workflow: 'ci', job: a.job, key: a.jobKey };
  const meta = { format: 1, exact: k.exact, fallback: k.fallback, key, domain: a.domain, sha256: '0'.repeat(64), bytes: a.dataBytes, compressor: 'zstd' };
  return (
    JSON.stringify({ ...meta, savedAt: new Date(a.savedMs).toISOString(), buildDir: '/b', packages: 90, files: 900, sourceBytes: a.dataBytes * 4 }, null, 1) +
    '\n'
  );
};

/** disk-hard-threshold on a disk with `free` bytes free: over it or not, as the host says. */
const hardOf = (h: Host, free: number): Level => ({ kind: 'free', bytes: h.overHard ? free + 2 ** 50 : 0 });

/** What the action decides on that host, from the files it reads. */
async function product(h: Host, root: string) {
  await prepareRoot(root, {});
  const leases: Held[] = [];
  for (const s of h.slots) {
    const d = slotDirs(root, s.name);
    await fs.mkdir(d.target, { recursive: true });
    await fs.writeFile(d.lock, '');
    if (s.record) await writeRecord(d.record, s.record);
    if (s.live) leases.push((await hold([d.lock]))!);
  }
  for (const a of h.archives) {
    const k = archiveKeyOf(REPO, a.job, a.jobKey);
    const dir = archiveDir(root, REPO, a.domain, k.fallback, k.exact);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(join(dir, META), metaOf(a));
    // Sparse: its bytes as listed, none on the test's small filesystem.
    await fs.writeFile(join(dir, DATA), '');
    await fs.truncate(join(dir, DATA), a.dataBytes);
    await fs.utimes(dir, a.savedMs / 1000, a.savedMs / 1000);
  }
  for (const e of h.history) {
    if ('job' in e) await appendWarmth(root, e.job);
    else await appendWarmth(root, { t: new Date(e.closed.tMs).toISOString(), repository: e.closed.repository, key: e.closed.key, closed: true });
  }
  try {
    const keep = await slotToKeep({ root, me: h.me, view: VIEW, nowMs: h.nowMs });
    const free = (await measure(root)).freeBytes;
    const threshold: Level = { kind: 'free', bytes: free + 2 ** 50 };
    const hard = hardOf(h, free);
    const { plan } = planGuard(await scanRoot(root, heldLocks(), h.nowMs), await measure(root), {
      scope: h.scope,
      runnerId: h.me.runnerId,
      keep,
      threshold,
      hard,
      nowMs: h.nowMs,
    });
    const guard = await runGuard({
      root,
      threshold,
      target: { kind: 'free', bytes: free + h.toFree },
      scope: h.scope,
      hard,
      runnerId: h.me.runnerId,
      dryRun: true,
      keep: async () => keep,
      nowMs: h.nowMs,
      timeoutMs: 30_000,
      log: quiet,
    });
    const slotOf = (p: string) => /\/slots\/(s\d+)\/target$/.exec(p)?.[1];
    const lease = await acquireSlot({
      root,
      me: h.me,
      watchPid: 0,
      maxLeaseMs: 600_000,
      leaseWaitMs: 0,
      log: quiet,
      diskTarget: h.room ? { kind: 'percent', percent: 100 } : undefined,
      view: VIEW,
      nowMs: h.nowMs,
    });
    await releaseLease(lease.keeperPid, lease.dirs.lock);
    // A build by its slot, an archive by its domain and job: the names both sides give it.
    const archiveOf = (p: string) => {
      const a = h.archives.find(
        (x) => archiveDir(root, REPO, x.domain, archiveKeyOf(REPO, x.job, x.jobKey).fallback, archiveKeyOf(REPO, x.job, x.jobKey).exact) === p,
      );
      return a && `archive ${a.domain} ${a.job}${a.jobKey}`;
    };
    const named = (c: { kind: string; slot?: string; path: string }) => (c.kind === 'archive' ? archiveOf(c.path) : (c.slot ?? slotOf(c.path)));
    const ours = (c: { kind: string }) => c.kind === 'target' || c.kind === 'archive';
    return {
      keep,
      plan: plan.ordered.filter(ours).map(named),
      others: plan.others.filter(ours).map(named),
      removed: guard.removals.filter(ours).map(named),
      slot: { name: lease.name, tier: lease.tier },
    };
  } finally {
    for (const l of leases) await release(l);
  }
}

/** What the simulator decides on the same host, held in memory as a simulated day holds it. */
function simulator(h: Host) {
  const now = (h.nowMs - Date.UTC(2026, 10, 2)) / 60_000;
  // The archives' bytes count on the simulated disk as on the host's (there sparse files, whose sizes the guard reads).
  const used = h.slots.reduce((a, s) => a + s.bytes, 0) + h.archives.reduce((a, x) => a + x.dataBytes + Buffer.byteLength(metaOf(x)), 0);
  const D = used + 2 ** 52;
  const free = diskOf(D, used).freeBytes;
  const w = { sccacheBytes: 0, sccacheFraction: 0, copyDiskFraction: 1 };
  const history = h.history.map((e) => ('job' in e ? { job: e.job } : e));
  const levels = { threshold: { kind: 'free', bytes: free + 2 ** 50 }, target: { kind: 'free', bytes: free + h.toFree }, hard: hardOf(h, free) } as const;
  const guarded = new SimPool(SHIPPED, D, levels, w, {
    scope: h.scope,
    leaseWaitMs: 0,
  });
  const archives: SimArchive[] = h.archives.map((a) => {
    const k = archiveKeyOf(REPO, a.job, a.jobKey);
    const path = `archive ${a.domain} ${a.job}${a.jobKey}`;
    const bytes = a.dataBytes + Buffer.byteLength(metaOf(a));
    const at = { savedMs: a.savedMs, savedAt: new Date(a.savedMs).toISOString(), lastUsedMs: a.savedMs };
    return { path, repository: REPO, workflow: 'ci', job: a.job, jobKey: a.jobKey || undefined, domain: a.domain, ...k, bytes, ...at, live: false };
  });
  guarded.seed(h.slots, history, archives);
  const g = guarded.guard(h.me.runnerId, now, guarded.views(h.nowMs), h.me)!;
  // The choice on the host as it is, the guard not run: the action's lease comes after it, on the same files.
  const chooser = new SimPool(SHIPPED, D, { threshold: { kind: 'free', bytes: 0 }, target: { kind: 'free', bytes: 0 } }, w, {
    scope: h.scope,
    leaseWaitMs: 0,
    room: h.room,
  });
  chooser.seed(h.slots, history, archives);
  const job: Job = {
    id: 1,
    spec: { repo: REPO, job: h.me.job, jobKey: h.me.jobKey, bytes: GiB, coldMinutes: 10 },
    repo: REPO,
    key: h.me.key,
    pr: h.me.pr,
    baseKey: h.me.baseKey,
    runId: h.me.runId,
    event: h.me.eventName,
  };
  const started = chooser.start(job, h.me.runnerId, now, { noWait: true });
  if ('wait' in started) throw new Error('a start that may not wait waited');
  return { keep: g.keep, plan: g.plan, others: g.others, removed: g.removed, slot: { name: job.slot!.name, tier: started.tier } };
}

describe('the product and the simulator decide the same on the same host', () => {
  const SEEDS = Array.from({ length: 24 }, (_, i) => 7001 + i);
  const seen = {
    stoppedEarly: 0,
    tookKept: 0,
    heldBack: 0,
    overHard: 0,
    tiers: new Set<string>(),
    live: 0,
    pruned: 0,
    archivesPlanned: 0,
    archivesHeld: 0,
    archivesRemoved: 0,
  };

  test.each(SEEDS)('host %i: the build kept for last, the order of targets and archives, where the guard stops, the slot chosen', async (seed) => {
    const h = hostOf(seed);
    const root = join(mount, `root-${seed}`);
    const p = await product(h, root);
    const s = simulator(h);
    expect(p).toEqual(s);
    if (s.removed.length < s.plan.length) seen.stoppedEarly++;
    if (s.others.length) seen.heldBack++;
    if (h.scope === 'runner' && h.overHard) seen.overHard++;
    if (s.keep.length && s.removed.includes(s.keep[0])) seen.tookKept++;
    seen.tiers.add(s.slot.tier!);
    seen.live += h.slots.filter((x) => x.live).length;
    seen.pruned += h.slots.filter((x) => x.record?.prunedAt).length;
    const isArchive = (x: string | undefined) => x?.startsWith('archive ');
    seen.archivesPlanned += s.plan.filter(isArchive).length;
    seen.archivesHeld += s.others.filter(isArchive).length;
    seen.archivesRemoved += s.removed.filter(isArchive).length;
    await fs.rm(root, { recursive: true, force: true });
  });

  test('the hosts cover what the decisions turn on (the comparison would pass vacuously otherwise)', () => {
    expect(seen.stoppedEarly).toBeGreaterThan(3);
    // Runner scope left other runners' builds to the gc timer on some hosts, and gave way over the hard level on others.
    expect(seen.heldBack).toBeGreaterThan(2);
    expect(seen.overHard).toBeGreaterThan(0);
    expect(seen.tookKept).toBeGreaterThan(0);
    expect([...seen.tiers].sort()).toEqual(expect.arrayContaining(['base', 'lru', 'own-job']));
    expect(seen.tiers.size).toBeGreaterThanOrEqual(4);
    expect(seen.live).toBeGreaterThan(3);
    expect(seen.pruned).toBeGreaterThan(3);
    // Archives weighed among the builds (host scope, or worth nothing), held back for the gc timer (runner scope), and removed.
    expect(seen.archivesPlanned).toBeGreaterThan(3);
    expect(seen.archivesHeld).toBeGreaterThan(3);
    expect(seen.archivesRemoved).toBeGreaterThan(0);
  });
});
