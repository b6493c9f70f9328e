import { promises as fs } from 'node:fs';
import type { Level } from '../model/units.js';

/*
 * How full a filesystem is: one statfs(2) as df counts it, bytes and inodes, and whether it is
 * beyond a level (a used share or a free-space floor, model/units.ts).
 */

/** One statfs(2) of the filesystem holding a path: bytes the way df counts them, and inodes. */
export interface Disk {
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
  /** used / (used + available), as df's Use% before rounding up. */
  usedPercent: number;
  inodes: number;
  inodesFree: number;
  inodePercent: number;
}

export function diskFromStatfs(s: { bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number }): Disk {
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  const inodesUsed = s.files - s.ffree;
  return {
    totalBytes: s.blocks * s.bsize,
    usedBytes: used,
    freeBytes: avail,
    usedPercent: used + avail > 0 ? (used * 100) / (used + avail) : 0,
    inodes: s.files,
    inodesFree: s.ffree,
    // Filesystems without an inode limit (btrfs, some overlays) report 0 files.
    inodePercent: s.files > 0 ? (inodesUsed * 100) / s.files : 0,
  };
}

export async function measure(path: string): Promise<Disk> {
  return diskFromStatfs(await fs.statfs(path));
}

/** Inodes have no free-space form: a free-space level watches them at 90%. */
const inodeLimit = (l: Level) => (l.kind === 'percent' ? l.percent : 90);

/** Pure: is the disk beyond this level (bytes or inodes)? */
export function beyond(d: Disk, l: Level): boolean {
  const bytes = l.kind === 'percent' ? d.usedPercent > l.percent : d.freeBytes < l.bytes;
  return bytes || d.inodePercent > inodeLimit(l);
}
