// What the shipped pool is judged against on the same simulated day: the clairvoyant reference
// and plain LRU (entries without slots), and the layouts fleets run instead, each with the
// compile cache its users really have. None of them is the action's: they make no decision the
// action makes, so none calls its policy (pool.ts does).
import type { Level } from '../../src/model/units.js';
import { CompileCache, type How, type Weights } from './costs.js';
import type { Job, Model } from './model.js';
import type { FleetTier } from './pool.js';
import { type Trace, entryOf } from './trace.js';

/** The guard's threshold in percent: the simulation's thresholds are percentages. */
export const percentOf = (l: Level): number => {
  if (l.kind !== 'percent') throw new Error('the simulation takes a disk-threshold in percent');
  return l.percent;
};

export type EntryRule = 'lru' | 'belady' | 'belady-size';

interface Entry {
  bytes: number;
  live: boolean;
  lastUse: number;
}

/**
 * Entries of (trust domain, job) with no slots: the clairvoyant reference and plain LRU. Both
 * fill the disk up to the guard's threshold and evict only what must go, both share sccache's
 * cache on the disk, and both follow the base rule (a first run starts from its base's entry).
 * - rule `belady`: evict the idle entry asked for again furthest in the future;
 * - rule `belady-size`: the largest (time to next use x size), for entries of unequal size;
 * - rule `lru`: the least recently used idle entry.
 * `copies`: a first run copies its base's entry (the base keeps its own) instead of taking it.
 * `waitMinutes`: how long a job waits for its own entry held by an earlier run (the action's rule).
 */
export function entryModel(
  trace: Trace,
  D: number,
  level: { threshold: Level },
  w: Weights,
  o: { rule: EntryRule; copies?: boolean; anyBase?: boolean; waitMinutes: (job: Job) => number },
): Model {
  const entries = new Map<string, Entry>();
  const cap = (D * percentOf(level.threshold)) / 100;
  let idleBytes = 0;
  let liveBytes = 0;
  const cc = new CompileCache(w.sccacheBytes);
  const used = () => idleBytes + liveBytes + cc.disk;
  const nextUse = (e: string, now: number) => {
    const ts = trace.uses.get(e) ?? [];
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] <= now) lo = mid + 1;
      else hi = mid;
    }
    return lo < ts.length ? ts[lo] : Infinity;
  };
  const score = (k: string, v: Entry, now: number) => {
    if (o.rule === 'lru') return now - v.lastUse;
    const n = nextUse(k, now);
    return o.rule === 'belady' ? n : n === Infinity ? Infinity : (n - now) * v.bytes;
  };
  const evictFor = (need: number, now: number, except: string) => {
    while (used() + need > cap) {
      let victim: string | undefined;
      let best = -Infinity;
      let bestBytes = 0;
      for (const [k, v] of entries) {
        if (v.live || k === except) continue;
        const s = score(k, v, now);
        if (s > best || (s === best && v.bytes > bestBytes)) [victim, best, bestBytes] = [k, s, v.bytes];
      }
      if (victim === undefined) return;
      idleBytes -= entries.get(victim)!.bytes;
      entries.delete(victim);
    }
  };
  const seen = new Set<string>();
  return {
    used,
    start(job, _runner, now, { noWait }) {
      const spec = job.spec;
      const e = entryOf(job.repo, job.key, spec.job, spec.jobKey);
      const first = !seen.has(e);
      seen.add(e);
      let cur = entries.get(e);
      let dup = false;
      if (cur?.live) {
        if (!noWait && o.waitMinutes(job) > 0) return { wait: e, waitMinutes: o.waitMinutes(job) };
        dup = true;
        cur = undefined;
      }
      let how: How | undefined;
      if (cur) how = 'warm';
      else if (!dup && (first || o.anyBase) && job.baseKey) {
        const b = entryOf(job.repo, job.baseKey, spec.job, spec.jobKey);
        const base = entries.get(b);
        if (base && !base.live) {
          if (o.copies) {
            evictFor(base.bytes, now, e);
            cur = { bytes: base.bytes, live: false, lastUse: now };
            entries.set(e, cur);
            idleBytes += cur.bytes;
          } else {
            entries.delete(b);
            entries.set(e, base);
            cur = base;
          }
          how = 'warm';
        }
      }
      if (!how) {
        evictFor(spec.bytes, now, e);
        cur = { bytes: spec.bytes, live: false, lastUse: now };
        if (!dup) {
          entries.set(e, cur);
          idleBytes += cur.bytes;
        }
        how = 'cold';
        cc.put(`${job.repo}|${spec.job}|${spec.jobKey}`, spec.bytes * w.sccacheFraction);
      }
      const entry = cur!;
      if (!dup) idleBytes -= entry.bytes;
      entry.live = true;
      liveBytes += entry.bytes;
      job.entry = entry;
      job.dup = dup;
      return { warm: how === 'warm', how, failed: used() > D ? 'disk' : undefined };
    },
    end(job, now) {
      const cur = job.entry as Entry;
      cur.live = false;
      cur.lastUse = now;
      liveBytes -= cur.bytes;
      if (!job.dup) idleBytes += cur.bytes;
      return entryOf(job.repo, job.key, job.spec.job, job.spec.jobKey);
    },
  };
}

export type Layout = 'per-run' | 'per-pr' | 'shared' | 'rust-cache';

interface Dir {
  content: Map<string, number>;
  live: Set<Job>;
}

/**
 * The layouts of the fleet in the incident reports and of rust-cache, each with the compile cache
 * its users run:
 * - `per-run`: a new target dir per run, mounted at the same in-container path, CARGO_HOME kept,
 *   a host-wide sccache: every job's units hit wherever any earlier run compiled them;
 * - `per-pr`: a directory per PR (same sccache), kept until the PR closes; a job starting while
 *   a cancelled earlier run of its PR still writes there fails (the cancel-in-progress collision);
 * - `shared`: one target dir per repository, always warm, but a job starting while another is
 *   live in it fails (the concurrent collisions);
 * - `rust-cache`: the target dir (without incremental output) and the registry archived after a
 *   job that found no archive, restored by the next job of that job name on the branch or its base.
 */
/**
 * What the hosts of a fleet share, off every host's disk: rust-cache's archives in the cache
 * service, a remote sccache backend (`remote`) for the per-run layout, and the pool's fleet tier.
 */
export interface Shared {
  archives: Set<string>;
  remote?: CompileCache;
  fleet?: FleetTier;
}

export function layoutModel(kind: Layout, D: number, w: Weights, shared?: Shared): Model {
  const dirs = new Map<string, Dir>();
  const cc = shared?.remote ?? new CompileCache(kind === 'rust-cache' ? 0 : w.sccacheBytes);
  const archives = shared?.archives ?? new Set<string>();
  let bytes = 0;
  // A remote backend's cache is not on the host's disk.
  const used = () => bytes + (shared?.remote ? 0 : cc.disk);
  const dirOf = (job: Job) => (kind === 'shared' ? job.repo : kind === 'per-pr' ? `${job.repo}#${job.key}` : `run-${job.id}`);
  const cached = (job: Job): How => {
    const key = `${job.repo}|${job.spec.job}|${job.spec.jobKey}`;
    const how = cc.hit(key) ? 'hit' : 'first';
    cc.put(key, job.spec.bytes * w.sccacheFraction);
    return how;
  };
  return {
    used,
    start(job) {
      const spec = job.spec;
      if (kind === 'rust-cache') {
        const a = (k: string) => `${job.repo}|${k}|${spec.job}|${spec.jobKey}`;
        const how = archives.has(a(job.key)) || (job.baseKey && archives.has(a(job.baseKey))) ? 'restore' : 'coldSave';
        bytes += spec.bytes;
        job.bytes = spec.bytes;
        // Its archive comes from the cache service on every restore (priced per GiB in fleet.ts), on one host as on several.
        const fetchedBytes = how === 'restore' ? spec.bytes * w.rustCacheFraction : 0;
        return { warm: how === 'restore', how, fetchedBytes, failed: used() > D ? 'disk' : undefined };
      }
      const name = dirOf(job);
      const d = dirs.get(name) ?? dirs.set(name, { content: new Map(), live: new Set() }).get(name)!;
      const what = `${spec.job}|${spec.jobKey}`;
      const race = kind === 'shared' ? d.live.size > 0 : kind === 'per-pr' ? [...d.live].some((j) => j.runId !== job.runId) : false;
      const how = d.content.has(what) ? 'warm' : cached(job);
      const prev = d.content.get(what) ?? 0;
      d.content.set(what, Math.max(prev, spec.bytes));
      bytes += Math.max(prev, spec.bytes) - prev;
      d.live.add(job);
      job.dir = d;
      return { warm: how === 'warm', how, failed: race ? 'race' : used() > D ? 'disk' : undefined };
    },
    end(job) {
      if (kind === 'rust-cache') {
        bytes -= job.bytes!;
        archives.add(`${job.repo}|${job.key}|${job.spec.job}|${job.spec.jobKey}`);
        return undefined;
      }
      const d = job.dir as Dir;
      d.live.delete(job);
      if (kind === 'per-run') {
        for (const b of d.content.values()) bytes -= b;
        dirs.delete(dirOf(job));
      }
      return undefined;
    },
    close(repo, key) {
      // The fleet's reaper removed a closed PR's directory.
      const name = `${repo}#${key}`;
      const d = dirs.get(name);
      if (kind === 'per-pr' && d && d.live.size === 0) {
        for (const b of d.content.values()) bytes -= b;
        dirs.delete(name);
      }
    },
  };
}
