import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type Disk, measure } from '../os/disk.js';
import { allFree } from '../os/flock.js';
import { rootPaths, slotDirs } from '../model/layout.js';
import { scanSlots } from '../pool/lease.js';
import { cargoLockFiles } from '../os/liveness.js';
import type { DirRecord } from '../model/record.js';
import { formatBytes, formatDuration } from '../model/units.js';
import { type WarmthRow, formatWarmth, readWarmth, warmShare } from '../pool/warmth.js';

export interface SlotStatus {
  name: string;
  live: boolean;
  /** cargo holds locks in a slot nobody leases: a build outliving its job. */
  cargoRunning: boolean;
  record?: DirRecord;
}

export interface RootStatus {
  root: string;
  disk: Disk;
  slots: SlotStatus[];
  jobDirs: number;
  trashEntries: number;
  /** Per repository and job, how many of the latest jobs started warm (warmth.ts). */
  warmth: WarmthRow[];
}

/** Exact liveness for every slot (flock probes): the CLI can afford what the guard's decision cannot. */
export async function rootStatus(root: string): Promise<RootStatus> {
  const p = rootPaths(root);
  const views = await scanSlots(root);
  const slots: SlotStatus[] = [];
  for (const v of views) {
    const d = slotDirs(root, v.name);
    const live = !allFree([d.lock], true);
    const cargoRunning = !live && !allFree(await cargoLockFiles(d.target, d.cargoHome));
    slots.push({ name: v.name, live, cargoRunning, record: v.record });
  }
  let jobDirs = 0;
  for (const repo of await fs.readdir(p.jobs).catch(() => [] as string[])) {
    for (const key of await fs.readdir(join(p.jobs, repo)).catch(() => [] as string[])) jobDirs += (await fs.readdir(join(p.jobs, repo, key)).catch(() => [])).length;
  }
  return { root, disk: await measure(root), slots, jobDirs, trashEntries: (await fs.readdir(p.trash).catch(() => [])).length, warmth: warmShare(await readWarmth(root)) };
}

export function formatStatus(s: RootStatus): string {
  const lines = [
    `root ${s.root}: ${s.disk.usedPercent.toFixed(1)}% used, ${formatBytes(s.disk.freeBytes)} free, ${s.disk.inodePercent.toFixed(1)}% inodes; ${s.slots.length} slots, ${s.jobDirs} job dirs, ${s.trashEntries} in trash`,
  ];
  const header = ['slot', 'state', 'key', 'runner', 'run', 'last used', 'target', 'cargo-home', 'units built/fresh'];
  const rows = s.slots.map((x) => {
    const r = x.record;
    return [
      x.name,
      x.live ? 'leased' : x.cargoRunning ? 'cargo running' : r?.foreign ? `uid ${r.foreign.uid}'s files: needs root` : 'free',
      r ? `${r.repository} ${r.key}` : '-',
      r?.runnerName ?? '-',
      r ? `${r.runId}/${r.runAttempt} ${r.job}` : '-',
      r ? `${formatDuration(Date.now() - Date.parse(r.lastUsed))} ago` : '-',
      r?.sizes ? formatBytes(r.sizes.target) : '?',
      r?.sizes ? formatBytes(r.sizes.cargoHome) : '?',
      r?.units ? `${r.units.built}/${r.units.fresh}` : '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [header, ...rows]) lines.push(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  lines.push(...formatWarmth(s.warmth));
  return lines.join('\n');
}
