// What a start costs the host in the simulation: the compile time of each way a job can start,
// as factors of its cold build (traces.json `weights`, each with its source), and sccache's
// local cache on the disk. Effects only: no decision of the pool is made here.
import { parseSize } from '../../src/model/units.js';
import type { Config, Weight } from './trace.js';

/** How a job started: each is priced by a weight. */
export type How = 'warm' | 'copy' | 'hit' | 'cold' | 'first' | 'restore' | 'coldSave' | 'none' | 'archive' | 'fleet';

/** The weights (traces.json `weights`), resolved: each a factor of the job's cold build. */
export interface Weights {
  factor: Record<How, number>;
  copySecondsPerGiB: number;
  copyDiskFraction: number;
  sccacheFraction: number;
  overheadMinutes: number;
  sccacheBytes: number;
  cancelMinutes: number;
  /** The host's gc timer's period (traces.json `gc`). */
  gcEveryMinutes: number;
  /** The dependency archive tiers: an archive's bytes per byte of its target, its save (a factor of the cold build, like the starts). */
  archiveFraction: number;
  archiveSave: number;
  /** The fleet tier's shared directory: seconds per GiB of archive sent to it and fetched from it. */
  fleetPutSecondsPerGiB: number;
  fleetFetchSecondsPerGiB: number;
  /** rust-cache's archive: its bytes per byte of target, and the cache service's seconds per GiB each way. */
  rustCacheFraction: number;
  cacheServicePutSecondsPerGiB: number;
  cacheServiceFetchSecondsPerGiB: number;
}

export function weightsOf(cfg: Config): Weights {
  const w = cfg.weights;
  const x = (name: string): number => {
    const v = w[name];
    if (typeof v !== 'object' || typeof v?.x !== 'number') throw new Error(`traces.json: weights.${name}.x is missing`);
    return (v as Weight).x;
  };
  const sccacheBytes = parseSize(cfg.sccache.cacheSize);
  if (sccacheBytes === undefined) throw new Error(`traces.json: sccache.cacheSize '${cfg.sccache.cacheSize}' is not a size`);
  return {
    factor: {
      warm: x('warmSlotChange'),
      copy: x('warmSlotChange'),
      hit: x('stablePathHit'),
      cold: x('newPathCold'),
      first: x('firstCacheRun'),
      restore: x('rustCacheRestore'),
      coldSave: x('noCompileCache') + x('rustCacheSave'),
      none: x('noCompileCache'),
      // A start from either tier is the same restore into an empty target; the fleet's transfer is priced apart (per GiB).
      archive: x('hostTierRestore'),
      fleet: x('hostTierRestore'),
    },
    copySecondsPerGiB: x('copySecondsPerGiB'),
    copyDiskFraction: x('copyDiskFraction'),
    sccacheFraction: x('sccacheBytesPerTarget'),
    overheadMinutes: x('jobOverheadMinutes'),
    sccacheBytes,
    cancelMinutes: cfg.cancel.releaseSeconds / 60,
    gcEveryMinutes: cfg.gc.everyMinutes,
    archiveFraction: x('archiveBytesPerTarget'),
    archiveSave: x('archiveSave'),
    fleetPutSecondsPerGiB: x('fleetPutSecondsPerGiB'),
    fleetFetchSecondsPerGiB: x('fleetFetchSecondsPerGiB'),
    rustCacheFraction: x('rustCacheBytesPerTarget'),
    cacheServicePutSecondsPerGiB: x('cacheServicePutSecondsPerGiB'),
    cacheServiceFetchSecondsPerGiB: x('cacheServiceFetchSecondsPerGiB'),
  };
}

/**
 * sccache's local cache: least recently used entries go once it passes SCCACHE_CACHE_SIZE. Its
 * key is the job's units compiled at one set of paths (sccache hashes CARGO_HOME, the target
 * dir and the cwd, FIELD-NOTES): `path|job`, or the job alone where paths are the same for
 * every run (a stable in-container path, or cross-slot hits).
 */
export class CompileCache {
  readonly cap: number;
  readonly m = new Map<string, number>();
  bytes = 0;
  /** On the disk: its full size. A busy host's cache sits at its limit; the guard cannot free it. */
  readonly disk: number;
  constructor(cap: number) {
    this.cap = cap;
    this.disk = Math.max(0, cap);
  }
  hit(key: string): boolean {
    const b = this.m.get(key);
    if (b === undefined) return false;
    this.m.delete(key);
    this.m.set(key, b);
    return true;
  }
  put(key: string, bytes: number): void {
    if (this.cap <= 0) return;
    const old = this.m.get(key);
    if (old !== undefined) {
      this.m.delete(key);
      this.bytes -= old;
    }
    this.m.set(key, bytes);
    this.bytes += bytes;
    for (const [k, b] of this.m) {
      if (this.bytes <= this.cap) break;
      this.m.delete(k);
      this.bytes -= b;
    }
  }
}
