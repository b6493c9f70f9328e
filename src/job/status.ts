import { join } from 'node:path';
import { type Disk, measure } from '../os/disk.js';
import { allFree } from '../os/flock.js';
import { gitStorePaths, rootPaths, slotDirs, storePaths } from '../model/layout.js';
import { scanSlots } from '../pool/lease.js';
import { cargoLockFiles } from '../os/liveness.js';
import type { DirRecord } from '../model/record.js';
import { formatBytes, formatDuration } from '../model/units.js';
import { type WarmthRow, formatWarmth, readWarmth, warmShare } from '../pool/warmth.js';
import { diskUsage } from '../os/sizes.js';
import { VERSION } from '../model/version.js';
import { listDir } from '../os/absent.js';
import { type HostArchive, listHostArchives } from '../store/archive-host.js';
import { type FleetEvent, eventsLog, parseEvents } from '../pool/events.js';
import { readLog } from '../pool/jsonlog.js';
import { type ArchiveCap, DEFAULT_ARCHIVE_CAP, archiveCapBytes, formatArchiveCap } from '../model/settings.js';

/*
 * What `cargo-isolate status` shows: every slot with its lease, its record and whether cargo still
 * runs in it (exact flock probes, which a status can afford), job directories, trash, the stores'
 * sizes and how warm each job started lately; as text or as JSON.
 */

export interface SlotStatus {
  name: string;
  live: boolean;
  /** cargo holds locks in a slot nobody leases: a build outliving its job. */
  cargoRunning: boolean;
  record?: DirRecord;
  /** Live: how long the current holder (the record's job) has held the lease. */
  heldMs?: number;
  /** Free: how long since a job last used it. */
  idleMs?: number;
}

export interface RootStatus {
  version: string;
  root: string;
  disk: Disk;
  slots: SlotStatus[];
  jobDirs: number;
  trashEntries: number;
  /** Bytes on disk (du) of the crate store, the git store and the trash. */
  bytes: { crates: number; git: number; trash: number; target: number; cargoHome: number };
  /** Per repository and job, how many of the latest jobs started warm (warmth.ts). */
  warmth: WarmthRow[];
  /** The host tier: its archives and their bytes, its cap, and what the events log counts of restores and saves. */
  archives: ArchiveStatus;
}

export interface ArchiveStatus {
  count: number;
  bytes: number;
  /** The cap in bytes (host-archives as this command was given it; 0: off). */
  capBytes: number;
  cap: string;
  /** Results of restores and saves in the events log (which rotates: the latest ones), by `op|result`. */
  events: Record<string, number>;
}

/** Pure: the host tier's archives and what the events log says of them. */
export function archiveStatus(archives: Pick<HostArchive, 'bytes' | 'temp'>[], events: FleetEvent[], cap: ArchiveCap, totalBytes: number): ArchiveStatus {
  const counts: Record<string, number> = {};
  for (const e of events) if (e.event === 'archive' && e.tier === 'host') counts[`${e.op}|${e.result}`] = (counts[`${e.op}|${e.result}`] ?? 0) + 1;
  const whole = archives.filter((a) => !a.temp);
  return {
    count: whole.length,
    bytes: archives.reduce((n, a) => n + a.bytes, 0),
    capBytes: archiveCapBytes(cap, totalBytes),
    cap: formatArchiveCap(cap),
    events: counts,
  };
}

/** Exact liveness for every slot (flock probes): the CLI can afford what the guard's decision cannot. */
export async function rootStatus(root: string, now = Date.now(), cap: ArchiveCap = DEFAULT_ARCHIVE_CAP): Promise<RootStatus> {
  const p = rootPaths(root);
  const views = await scanSlots(root);
  const slots: SlotStatus[] = [];
  for (const v of views) {
    const d = slotDirs(root, v.name);
    const live = !allFree([d.lock], true);
    const cargoRunning = !live && !allFree(await cargoLockFiles(d.target, d.cargoHome));
    const r = v.record;
    const since = (t?: string) => (t && Number.isFinite(Date.parse(t)) ? Math.max(0, now - Date.parse(t)) : undefined);
    slots.push({ name: v.name, live, cargoRunning, record: r, ...(live ? { heldMs: since(r?.leasedAt) } : { idleMs: since(r?.lastUsed) }) });
  }
  let jobDirs = 0;
  for (const repo of await listDir(p.jobs)) {
    for (const key of await listDir(join(p.jobs, repo), { notADirectory: 'absent' }))
      jobDirs += (await listDir(join(p.jobs, repo, key), { notADirectory: 'absent' })).length;
  }
  const trashEntries = (await listDir(p.trash)).length;
  // An empty trash is 0, not the directory's own block.
  const [crates, git, trash] = await Promise.all([
    diskUsage(storePaths(root).base),
    diskUsage(gitStorePaths(root).base),
    trashEntries ? diskUsage(p.trash) : 0,
  ]);
  const sum = (f: (s: NonNullable<DirRecord['sizes']>) => number) => slots.reduce((n, s) => n + (s.record?.sizes ? f(s.record.sizes) : 0), 0);
  const disk = await measure(root);
  return {
    version: VERSION,
    root,
    disk,
    slots,
    jobDirs,
    trashEntries,
    bytes: { crates, git, trash, target: sum((x) => x.target), cargoHome: sum((x) => x.cargoHome) },
    warmth: warmShare(await readWarmth(root)),
    archives: archiveStatus(await listHostArchives(root), parseEvents(await readLog(eventsLog(root))), cap, disk.totalBytes),
  };
}

/**
 * Pure: a run as a person reads it. GitHub's run ids are short enough; a run the CLI made up
 * (`local-<pid>-<ms>`) becomes its pid and start time, and an attempt is named only when a re-run.
 */
export function runText(r: Pick<DirRecord, 'runId' | 'runAttempt' | 'job' | 'jobKey'>): string {
  const local = /^local-(\d+)-(\d+)$/.exec(r.runId);
  const id = local ? `local (pid ${local[1]}, ${new Date(Number(local[2])).toISOString().slice(0, 19).replace('T', ' ')} UTC)` : r.runId;
  return `${id}${r.runAttempt && r.runAttempt !== '1' ? ` attempt ${r.runAttempt}` : ''}, ${r.job}${r.jobKey ? ` (${r.jobKey})` : ''}`;
}

/** Pure: a slot's state column. */
function stateText(x: SlotStatus): string {
  if (x.live) return `leased ${x.heldMs !== undefined ? formatDuration(x.heldMs) : ''}`.trim();
  if (x.cargoRunning) return 'cargo running';
  if (x.record?.foreign) return `uid ${x.record.foreign.uid}'s files: needs root`;
  return `free${x.idleMs !== undefined ? `, idle ${formatDuration(x.idleMs)}` : ''}`;
}

/** Pure: the host tier's line of `status`. */
export function archiveLine(a: ArchiveStatus): string {
  const n = (k: string) => a.events[k] ?? 0;
  const cap = a.capBytes ? `of ${formatBytes(a.capBytes)} (host-archives ${a.cap})` : '(host-archives off)';
  return (
    `dependency archives (host tier): ${a.count}, ${formatBytes(a.bytes)} ${cap}; lately ${n('restore|restored')} restored, ` +
    `${n('restore|missed')} missed, ${n('restore|refused')} refused (corrupt), ${n('restore|failed')} failed; ${n('save|saved')} saved`
  );
}

export function formatStatus(s: RootStatus): string {
  const leased = s.slots.filter((x) => x.live).length;
  const lines = [
    `cargo-isolate ${s.version}; root ${s.root}`,
    `disk: ${s.disk.usedPercent.toFixed(1)}% used, ${formatBytes(s.disk.freeBytes)} free, ${s.disk.inodePercent.toFixed(1)}% inodes`,
    `slots: ${s.slots.length} (${leased} leased), target dirs ${formatBytes(s.bytes.target)}, ` +
      `cargo homes ${formatBytes(s.bytes.cargoHome)} (as last recorded); ${s.jobDirs} job dirs`,
    `stores: crates ${formatBytes(s.bytes.crates)}, git ${formatBytes(s.bytes.git)}; trash ${formatBytes(s.bytes.trash)} in ${s.trashEntries} entries`,
    archiveLine(s.archives),
  ];
  if (s.slots.length) {
    // A leased slot's record was written when its lease began: trust domain, runner and run are its
    // holder's. The job's `key` input (matrix legs) is shown with the job, in parentheses.
    const header = ['slot', 'state', 'trust domain', 'runner', 'run, job (key)', 'target', 'cargo-home', 'units built/fresh'];
    const rows = s.slots.map((x) => {
      const r = x.record;
      return [
        x.name,
        stateText(x),
        r ? `${r.repository} ${r.key}` : '-',
        r?.runnerName ?? '-',
        r ? runText(r) : '-',
        r?.sizes ? formatBytes(r.sizes.target) : x.live ? '(in use)' : '?',
        r?.sizes ? formatBytes(r.sizes.cargoHome) : x.live ? '(in use)' : '?',
        r?.units && !x.live ? `${r.units.built}/${r.units.fresh}` : '-',
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [header, ...rows])
      lines.push(
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      );
  }
  lines.push(...formatWarmth(s.warmth));
  return lines.join('\n');
}
