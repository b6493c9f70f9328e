import { spawn } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/*
 * What changed in trees since a moment, by the one timestamp no process can set: the inode's
 * change time (ctime). A write, a truncate, a chmod, a rename into place, a new link, and
 * `touch -r` putting an mtime back all set it to the current time; nothing sets it to another.
 *
 * Granularity: many filesystems stamp ctime from a coarse clock (one scheduler tick, up to 10 ms,
 * behind the precise one), so a change made just after a moment T can carry a ctime a little
 * before T. Callers therefore record a moment only after SETTLE_MS have passed since their own
 * last write, and ask for changes after that moment (settle.ts of a caller's pass): a later change
 * is then always stamped after it (settle below). A system clock stepped backwards (ctime earlier than a record)
 * is the caller's to detect: a record from the future is not trusted.
 *
 * One `find` over every tree (GNU findutils: -newerct, -printf; it stats each entry without
 * following links); where no `find` runs (a minimal container image), the same walk in-process.
 */

/** Longer than a scheduler tick at HZ=100 (10 ms), the coarsest clock filesystems stamp ctime with. */
export const SETTLE_MS = 30;

/**
 * The moment to record once one's own writes are done: the next millisecond. Date.now() is the
 * current millisecond rounded down, and a write made earlier in that same millisecond carries a
 * ctime with its fraction (a file changed at .86 of millisecond T is newer than T), so T itself
 * would make one's own last write look like a later change.
 */
export const afterOwnWrites = (): number => Date.now() + 1;

/**
 * Pure: a file whose ctime is `ctimeMs` has not changed since a record said it was read after
 * `at` (readBefore below). A record from the future proves nothing: the clock was set back.
 */
export const unchangedSince = (ctimeMs: number, at: number, now: number): boolean => at <= now + 60_000 && ctimeMs <= at;

/**
 * The moment to record for what is about to be read: SETTLE_MS (and a millisecond) before now, so
 * that a change made while or after it is read, stamped by a clock up to one tick behind, is
 * after the moment; a change just before it may look later, which costs only a second reading.
 */
export const readBefore = (): number => Date.now() - SETTLE_MS - 1;

/** Waits until the clock is past `at + SETTLE_MS`: every change after that is stamped after `at`. */
export async function settle(at: number): Promise<void> {
  const left = at + SETTLE_MS + 1 - Date.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}

/**
 * The paths (as given, and every entry below them) changed after `sinceMs`, with their ctime in
 * ms. Two `find`s at once over halves of the list (a host has at least two cores; the walk is
 * mostly system calls), each list in batches no kernel's argument limit refuses.
 */
export async function changedSince(paths: string[], sinceMs: number, o: { skip?: string } = {}): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const batches: string[][] = [];
  const half = Math.ceil(paths.length / (paths.length > 40 ? 2 : 1));
  for (let i = 0; i < paths.length;) {
    const batch: string[] = [];
    for (let size = 0; i < paths.length && size < 100_000 && batch.length < half; i++) {
      batch.push(paths[i]);
      size += paths[i].length + 1;
    }
    batches.push(batch);
  }
  for (let i = 0; i < batches.length; i += 2) {
    const found = await Promise.all(batches.slice(i, i + 2).map((b) => findNewer(b, sinceMs, o.skip)));
    for (const [k, f] of found.entries()) {
      if (f === undefined) walkNewer(batches[i + k], sinceMs, out, o.skip);
      else for (const [p, t] of f) out.set(p, t);
    }
  }
  return out;
}

/**
 * `find PATHS -newerct @T -printf`; undefined when find cannot run here. Missing paths are
 * skipped; entries named `skip` are not entered (a git checkout's own `.git`).
 */
function findNewer(paths: string[], sinceMs: number, skip?: string): Promise<Map<string, number> | undefined> {
  return new Promise((res) => {
    const at = `@${Math.floor(sinceMs / 1000)}.${String(sinceMs % 1000).padStart(3, '0')}`;
    const pruned = skip ? ['-name', skip, '-prune', '-o'] : [];
    const child = spawn('find', [...paths, ...pruned, '-newerct', at, '-printf', '%C@\\t%p\\0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', () => res(undefined));
    child.on('close', (code) => {
      // 1: some start point did not exist (told on stderr); the others were still searched.
      if (code !== 0 && code !== 1) return res(undefined);
      const m = new Map<string, number>();
      for (const rec of Buffer.concat(chunks).toString('utf8').split('\0')) {
        const tab = rec.indexOf('\t');
        if (tab > 0) m.set(rec.slice(tab + 1), parseFloat(rec.slice(0, tab)) * 1000);
      }
      res(m);
    });
  });
}

function walkNewer(paths: string[], sinceMs: number, out: Map<string, number>, skip?: string): void {
  const visit = (p: string) => {
    if (skip && p.endsWith(`/${skip}`)) return;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.ctimeMs > sinceMs) out.set(p, st.ctimeMs);
    if (st.isDirectory()) for (const n of readdirSafe(p)) visit(join(p, n));
  };
  for (const p of paths) visit(p);
}

function readdirSafe(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}
