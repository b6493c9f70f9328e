import { promises as fs } from 'node:fs';
import { collectCandidates, planPrune } from '../pool/guard.js';
import { type EventName, type FleetEvent, type Via, eventsLog, parseEvents } from '../pool/events.js';
import { type Cursor, readSince } from '../pool/jsonlog.js';
import { type WarmthEntry, parseLog, startedWarm, warmthLog } from '../pool/warmth.js';
import { beyond } from '../os/disk.js';
import { hold, release } from '../os/flock.js';
import { writeAtomic } from '../os/fsutil.js';
import { rootPaths } from '../model/layout.js';
import type { Level } from '../model/units.js';
import { type ArchiveCap, DEFAULT_ARCHIVE_CAP } from '../model/settings.js';
import { VERSION } from '../model/version.js';
import { handBackTo, ownerOf } from '../owners/owner.js';
import { type RootStatus, rootStatus } from './status.js';
import { myUid } from '../os/proc.js';
import type { ArchiveTier, RestoreResult, SaveResult } from '../pool/events.js';
import type { StartTier } from './tiers.js';
import { isMadeRoot } from '../pool/root.js';

/*
 * `cargo-isolate metrics`: the root in Prometheus's text format (version 0.0.4), for
 * node_exporter's textfile collector. Gauges come from one look at the root (status.ts);
 * counters come from the root's logs (warmth.jsonl, events.jsonl), which rotate: so the reader
 * keeps, in <root>/metrics.json, where it stopped in each log and the totals so far, and adds
 * only the lines appended since (jsonlog.ts readSince). A counter then only grows, whatever the
 * rotation, for as long as metrics run at least once per rotation of a log. One writer at a time
 * (locks/metrics.lock): the timer and the hooks may both call it.
 *
 * Every series carries `root`, so several roots on one host (one file each) never collide. The
 * job's name is `ci_job`: Prometheus itself sets `job` (the scrape job) on every series.
 */

export interface JobCounts {
  warm: number;
  cold: number;
  built: number;
  fresh: number;
}

/** The totals so far and where they were read up to: <root>/metrics.json. */
export interface Counters {
  format: 1;
  cursors: { warmth?: Cursor; events?: Cursor };
  /** Guard runs by `trigger|result` (events.ts GuardResult). */
  guardRuns: Record<string, number>;
  /** Bytes the guard freed, by trigger. */
  guardFreed: Record<string, number>;
  /** Leases taken and the seconds they waited, by who took them (Via). */
  leaseWaits: Record<string, { count: number; seconds: number }>;
  unisolated: number;
  /** By JSON [repository, ci_job]. */
  jobs: Record<string, JobCounts>;
  /** Archive restores and saves by `tier|op|result` (events.ts). */
  archives: Record<string, number>;
  /** Ended jobs by the tier their start came from (job/tiers.ts StartTier). */
  starts: Record<string, number>;
}

export const emptyCounters = (): Counters => ({
  format: 1,
  cursors: {},
  guardRuns: {},
  guardFreed: {},
  leaseWaits: {},
  unisolated: 0,
  jobs: {},
  archives: {},
  starts: {},
});

/** Pure: the counters with these events added (each by its row of EVENT_METRICS). */
export function addEvents(c: Counters, events: FleetEvent[]): Counters {
  const out: Counters = JSON.parse(JSON.stringify(c));
  for (const e of events) (EVENT_METRICS[e.event].count as (c: Counters, e: FleetEvent) => void)(out, e);
  return out;
}

/** Pure: a job's name as status shows it: with its `key` input when it has one (matrix legs). */
export const ciJob = (e: Pick<WarmthEntry, 'job' | 'jobKey'>): string => (e.jobKey ? `${e.job} (${e.jobKey})` : e.job);

/** Pure: the counters with these ended jobs added (only jobs that ran cargo say anything about warmth). */
export function addWarmth(c: Counters, entries: WarmthEntry[]): Counters {
  const out: Counters = JSON.parse(JSON.stringify(c));
  for (const e of entries) {
    if (e.built + e.fresh === 0) continue;
    const j = (out.jobs[JSON.stringify([e.repository, ciJob(e)])] ??= { warm: 0, cold: 0, built: 0, fresh: 0 });
    if (startedWarm(e)) j.warm++;
    else j.cold++;
    j.built += e.built;
    j.fresh += e.fresh;
    if (e.from && (START_TIERS as string[]).includes(e.from)) out.starts[e.from] = (out.starts[e.from] ?? 0) + 1;
  }
  return out;
}

/** Who rewrites the file: the CLI (`cargo-isolate metrics`, from the timer) or the hooks after a job. */
export type MetricsWriter = 'cli' | 'hook';

/** What one look at the root found; `status` is absent when the root does not exist (yet). */
export interface Snapshot {
  root: string;
  /** When (ms) and by whom the file is written: a file only the hooks write ages on an idle host, and the stale alert knows it. */
  written?: { at: number; by: MetricsWriter };
  status?: RootStatus;
  /** Bytes the guard could free in host scope: idle targets and job dirs as recorded, store entries no slot links, trash. */
  idleBytes?: number;
  /** Over disk-threshold now (the threshold this command was given, or the runners' variable). */
  overThreshold?: boolean;
  /** The host tier's cap in bytes (host-archives, as this command was given it). */
  archiveCapBytes?: number;
}

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const fmtLabels = (l: Labels) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;
const num = (v: number) => (Number.isFinite(v) ? String(v) : 'NaN');

/** One metric family: HELP, TYPE and its samples (a summary's are `_sum` and `_count`). */
function family(name: string, type: 'gauge' | 'counter' | 'summary', help: string, samples: [Labels, number, string?][]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([l, v, suffix]) => `${name}${suffix ?? ''}${fmtLabels(l)} ${num(v)}`)];
}

const GUARD_RESULTS = ['under', 'freed', 'over', 'failed'] as const;
const TRIGGERS = ['job', 'gc'] as const;
const VIAS: Via[] = ['action', 'hook', 'cli'];
const ARCHIVE_TIERS: ArchiveTier[] = ['host', 'fleet'];
const RESTORE_RESULTS: RestoreResult[] = ['restored', 'missed', 'refused', 'failed'];
const SAVE_RESULTS: SaveResult[] = ['saved', 'failed'];
const START_TIERS: StartTier[] = ['slot', 'copy', 'host-archive', 'fleet-archive', 'compile-cache', 'cold'];

type EventOf<E extends EventName> = Extract<FleetEvent, { event: E }>;

/**
 * Each event of events.ts with the counters it adds to and the metric families it renders
 * (always, at 0 before anything happened, so queries see them). An event added there without
 * its row here does not compile.
 */
const EVENT_METRICS: { [E in EventName]: { count(c: Counters, e: EventOf<E>): void; families(c: Counters, r: Labels): string[] } } = {
  guard: {
    count(c, e) {
      const k = `${e.trigger}|${e.result}`;
      c.guardRuns[k] = (c.guardRuns[k] ?? 0) + 1;
      c.guardFreed[e.trigger] = (c.guardFreed[e.trigger] ?? 0) + (Number.isFinite(e.freed) ? e.freed : 0);
    },
    families: (c, r) => [
      ...family(
        'cargo_isolate_guard_runs_total',
        'counter',
        'Guard runs, by trigger (job: before a lease; gc: the timer) ' +
          'and result (under: nothing to do; freed; over: still over the threshold; failed: below fail-below).',
        TRIGGERS.flatMap((t) => GUARD_RESULTS.map((res): [Labels, number] => [{ ...r, trigger: t, result: res }, c.guardRuns[`${t}|${res}`] ?? 0])),
      ),
      ...family(
        'cargo_isolate_guard_freed_bytes_total',
        'counter',
        'Bytes the guard removed, by trigger.',
        TRIGGERS.map((t): [Labels, number] => [{ ...r, trigger: t }, c.guardFreed[t] ?? 0]),
      ),
    ],
  },
  lease: {
    count(c, e) {
      const w = (c.leaseWaits[e.via] ??= { count: 0, seconds: 0 });
      w.count++;
      w.seconds += Number.isFinite(e.waitedMs) ? e.waitedMs / 1000 : 0;
    },
    families: (c, r) =>
      family(
        'cargo_isolate_lease_wait_seconds',
        'summary',
        'Leases taken (count) and the seconds jobs waited for them (sum), by what took them: the action, the runner hook or the CLI.',
        VIAS.flatMap((v): [Labels, number, string][] => [
          [{ ...r, via: v }, c.leaseWaits[v]?.seconds ?? 0, '_sum'],
          [{ ...r, via: v }, c.leaseWaits[v]?.count ?? 0, '_count'],
        ]),
      ),
  },
  archive: {
    count(c, e) {
      const k = `${e.tier}|${e.op}|${e.result}`;
      c.archives[k] = (c.archives[k] ?? 0) + 1;
    },
    families: (c, r) => [
      ...family(
        'cargo_isolate_archive_restores_total',
        'counter',
        'Starts that looked for a dependency archive, by tier (host, fleet) and result ' +
          '(restored; missed: none fitted; refused: corrupt, removed; failed: unreadable here).',
        ARCHIVE_TIERS.flatMap((t) => RESTORE_RESULTS.map((x): [Labels, number] => [{ ...r, tier: t, result: x }, c.archives[`${t}|restore|${x}`] ?? 0])),
      ),
      ...family(
        'cargo_isolate_archive_saves_total',
        'counter',
        'Dependency archives saved at the end of a job, by tier and result (saved, failed).',
        ARCHIVE_TIERS.flatMap((t) => SAVE_RESULTS.map((x): [Labels, number] => [{ ...r, tier: t, result: x }, c.archives[`${t}|save|${x}`] ?? 0])),
      ),
    ],
  },
  unisolated: {
    count(c) {
      c.unisolated++;
    },
    families: (c, r) =>
      family(
        'cargo_isolate_hook_unisolated_jobs_total',
        'counter',
        "Jobs the runner's job-started hook let run without isolation (a bad variable, a refused root); the hook's warning says why.",
        [[r, c.unisolated]],
      ),
  },
};

/** Pure: the text node_exporter serves. Counters are always written, at 0 before anything happened, so queries see them. */
export function renderMetrics(s: Snapshot, c: Counters): string {
  const r = { root: s.root };
  const lines: string[] = [
    ...family('cargo_isolate_info', 'gauge', 'The cargo-isolate version that wrote this file (1).', [[{ ...r, version: VERSION }, 1]]),
    ...family('cargo_isolate_root_present', 'gauge', 'Whether the root exists (0 before its first job).', [[r, s.status ? 1 : 0]]),
    ...(s.written
      ? family(
          'cargo_isolate_metrics_written_timestamp_seconds',
          'gauge',
          'When this file was written (Unix time), by the CLI (a timer) or a hook (after a job).',
          [[{ ...r, writer: s.written.by }, s.written.at / 1000]],
        )
      : []),
  ];
  const st = s.status;
  if (st) {
    const count = (f: (x: RootStatus['slots'][number]) => boolean) => st.slots.filter(f).length;
    lines.push(
      ...family(
        'cargo_isolate_slots',
        'gauge',
        "Slots by state: leased, free, cargo_running (no lease, cargo still holds its locks), needs_root (another uid's files).",
        [
          [{ ...r, state: 'leased' }, count((x) => x.live)],
          [{ ...r, state: 'free' }, count((x) => !x.live && !x.cargoRunning && !x.record?.foreign)],
          [{ ...r, state: 'cargo_running' }, count((x) => !x.live && x.cargoRunning)],
          [{ ...r, state: 'needs_root' }, count((x) => !x.live && !x.cargoRunning && !!x.record?.foreign)],
        ],
      ),
      ...family('cargo_isolate_slot_bytes', 'gauge', 'Bytes in slots as their last jobs recorded them, by part.', [
        [{ ...r, part: 'target' }, st.bytes.target],
        [{ ...r, part: 'cargo_home' }, st.bytes.cargoHome],
      ]),
      ...family('cargo_isolate_store_bytes', 'gauge', 'Bytes on disk of the host-wide stores.', [
        [{ ...r, store: 'crates' }, st.bytes.crates],
        [{ ...r, store: 'git' }, st.bytes.git],
      ]),
      ...family('cargo_isolate_trash_bytes', 'gauge', 'Bytes waiting in the trash for the next guard.', [[r, st.bytes.trash]]),
      ...family('cargo_isolate_archive_bytes', 'gauge', 'Bytes of the dependency archives on this host, by tier (the host tier: under the root).', [
        [{ ...r, tier: 'host' }, st.archives.bytes],
      ]),
      ...family('cargo_isolate_archives', 'gauge', 'Dependency archives on this host, by tier.', [[{ ...r, tier: 'host' }, st.archives.count]]),
      ...family('cargo_isolate_archive_cap_bytes', 'gauge', 'What the host tier may take (host-archives; 0: off), as this command was given it.', [
        [{ ...r, tier: 'host' }, s.archiveCapBytes ?? 0],
      ]),
      ...family('cargo_isolate_idle_bytes', 'gauge', 'Bytes the guard could free in host scope (idle data as recorded, and the trash).', [
        [r, s.idleBytes ?? 0],
      ]),
      ...family('cargo_isolate_disk_size_bytes', 'gauge', "Size of the root's filesystem.", [[r, st.disk.totalBytes]]),
      ...family('cargo_isolate_disk_free_bytes', 'gauge', "Bytes available on the root's filesystem (as df counts them).", [[r, st.disk.freeBytes]]),
      ...family('cargo_isolate_disk_used_ratio', 'gauge', "Used share of the root's filesystem, 0 to 1 (as df's Use%).", [[r, st.disk.usedPercent / 100]]),
      ...family('cargo_isolate_inodes', 'gauge', "Inodes of the root's filesystem (0 where it has no limit).", [[r, st.disk.inodes]]),
      ...family('cargo_isolate_inodes_free', 'gauge', "Free inodes of the root's filesystem.", [[r, st.disk.inodesFree]]),
      ...family('cargo_isolate_disk_over_threshold', 'gauge', 'Whether the disk is over disk-threshold now (bytes or inodes), 1 or 0.', [
        [r, s.overThreshold ? 1 : 0],
      ]),
      ...family('cargo_isolate_leases', 'gauge', 'Leases held now.', [[r, count((x) => x.live)]]),
      ...family(
        'cargo_isolate_lease_age_seconds',
        'gauge',
        'How long each live lease has been held, with the job holding it.',
        st.slots
          .filter((x) => x.live)
          .map((x) => [
            {
              ...r,
              slot: x.name,
              repository: x.record?.repository ?? '',
              ci_job: x.record ? ciJob({ job: x.record.job, jobKey: x.record.jobKey }) : '',
              runner: x.record?.runnerName ?? '',
            },
            (x.heldMs ?? 0) / 1000,
          ]),
      ),
    );
  }
  const jobs = Object.entries(c.jobs)
    .map(([k, v]) => [JSON.parse(k) as [string, string], v] as const)
    .sort(([a], [b]) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  /** A counter of the ended jobs: per repository and job, one sample for each count, which `label` names. */
  const perJob = (name: string, label: string, counts: (keyof JobCounts)[], help: string) =>
    family(
      name,
      'counter',
      help,
      jobs.flatMap(([[repository, job], v]) => counts.map((k): [Labels, number] => [{ ...r, repository, ci_job: job, [label]: k }, v[k]])),
    );
  lines.push(
    ...Object.values(EVENT_METRICS).flatMap((m) => m.families(c, r)),
    ...perJob(
      'cargo_isolate_jobs_total',
      'start',
      ['warm', 'cold'],
      'Ended jobs that ran cargo, by repository, job and start: warm when most compile units were found fresh.',
    ),
    ...family(
      'cargo_isolate_starts_total',
      'counter',
      'Ended jobs that ran cargo, by the tier their start came from: slot, copy, host_archive, fleet_archive, compile_cache, cold.',
      START_TIERS.map((t): [Labels, number] => [{ ...r, tier: t.replace('-', '_') }, c.starts[t] ?? 0]),
    ),
    ...perJob(
      'cargo_isolate_units_total',
      'state',
      ['built', 'fresh'],
      'Compile units of ended jobs, by repository, job and state: built (compiled) or fresh (reused).',
    ),
  );
  return lines.join('\n') + '\n';
}

async function readCounters(path: string): Promise<Counters> {
  try {
    const c = JSON.parse(await fs.readFile(path, 'utf8')) as Counters;
    return c?.format === 1 && c.cursors && c.jobs ? { ...emptyCounters(), ...c } : emptyCounters();
  } catch {
    return emptyCounters(); // absent or unreadable: count from what the logs hold now
  }
}

/**
 * The counters brought up to date with what the logs gained since the last call, saved when this
 * uid may write the root (the timer as root, the hooks as the root's owner). When it may not,
 * the totals are still right: the saved cursor did not move, so the next call reads the same lines.
 */
async function updateCounters(root: string, warn: (m: string) => void): Promise<Counters> {
  const p = rootPaths(root);
  const lock = await hold([p.metricsLock], { waitSeconds: 30 }).catch(() => undefined);
  try {
    const before = await readCounters(p.metrics);
    const ev = await readSince(eventsLog(root), before.cursors.events);
    const wa = await readSince(warmthLog(root), before.cursors.warmth);
    const after = addWarmth(addEvents(before, parseEvents(ev.text)), parseLog(wa.text));
    after.cursors = { events: ev.cursor, warmth: wa.cursor };
    if (!lock) {
      warn(`could not lock ${p.metricsLock}: the counters are right but not saved (the next run reads the same lines again)`);
      return after;
    }
    try {
      await writeAtomic(p.metrics, JSON.stringify(after) + '\n', 0o644);
      const to = handBackTo(myUid(), await ownerOf(root));
      if (to) await fs.chown(p.metrics, to.uid, to.gid);
    } catch (e) {
      warn(`saving the counters in ${p.metrics}: ${(e as Error).message} (the next run reads the same lines again)`);
    }
    return after;
  } finally {
    if (lock) await release(lock);
  }
}

/** The metrics text for a root (or for its absence). */
export async function collectMetrics(
  root: string,
  threshold: Level,
  warn: (m: string) => void = () => undefined,
  by: MetricsWriter = 'cli',
  cap: ArchiveCap = DEFAULT_ARCHIVE_CAP,
): Promise<string> {
  const written = { at: Date.now(), by };
  if (!(await isMadeRoot(root))) return renderMetrics({ root, written }, emptyCounters());
  const status = await rootStatus(root, Date.now(), cap);
  const plan = planPrune(await collectCandidates(root), 'host', '');
  const idleBytes = plan.ordered.reduce((n, c) => n + (c.kind === 'trash' ? 0 : (c.bytes ?? 0)), 0) + status.bytes.trash;
  const counters = await updateCounters(root, warn);
  return renderMetrics(
    { root, written, status, idleBytes, overThreshold: beyond(status.disk, threshold), archiveCapBytes: status.archives.capBytes },
    counters,
  );
}

/** Writes the text where node_exporter reads it: whole or not at all (a temp file, then rename). */
export async function writeMetrics(path: string, text: string): Promise<void> {
  await writeAtomic(path, text, 0o644);
}
