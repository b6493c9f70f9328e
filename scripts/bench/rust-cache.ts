// rust-cache's way, as bench sections 11 and 11a measure it beside the archive tiers: its archive of
// a build at the same paths, cleaned first as its cleanTargetDir does (Swatinem/rust-cache 2.9.2):
// the profile's own files, incremental/ and examples/ go, and in build/, .fingerprint/ and deps/
// every entry named for a workspace package (its hash cut); with the registry's index and cache.
// Restored by wiping the target and CARGO_HOME and extracting at the same paths.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { timed } from './kit.js';

export interface RustCacheArchive {
  file: string;
  bytes: number;
  saveMs: number;
  /** Paths of the archive, relative to `base`. */
  rel: string[];
  base: string;
}

/** Cleans `target` as rust-cache does (destructive: the target is its archive's content after) and archives it with the home's registry. */
export async function saveRustCache(o: { base: string; target: string; home: string; local: string[]; file: string }): Promise<RustCacheArchive> {
  const profile = join(o.target, 'debug');
  for (const e of await fs.readdir(profile, { withFileTypes: true })) {
    if (!['build', '.fingerprint', 'deps'].includes(e.name)) await fs.rm(join(profile, e.name), { recursive: true, force: true });
  }
  const ownNames = new Set(o.local.flatMap((p) => [p, p.replace(/-/g, '_'), `lib${p.replace(/-/g, '_')}`]));
  for (const sub of ['build', '.fingerprint', 'deps']) {
    for (const e of await fs.readdir(join(profile, sub)).catch(() => [] as string[])) {
      const cut = e.includes('-') ? e.slice(0, e.lastIndexOf('-')) : e;
      if (ownNames.has(cut) || ownNames.has(e)) await fs.rm(join(profile, sub, e), { recursive: true, force: true });
    }
  }
  const rel = [o.target, join(o.home, 'registry', 'index'), join(o.home, 'registry', 'cache')].map((p) => {
    if (!p.startsWith(`${o.base}/`)) throw new Error(`bench: rust-cache's paths must be under ${o.base}: ${p}`);
    return p.slice(o.base.length + 1);
  });
  const save = await timed('tar', ['--zstd', '-cf', o.file, '-C', o.base, ...rel]);
  return { file: o.file, bytes: (await fs.stat(o.file)).size, saveMs: save.ms, rel, base: o.base };
}

/** Wipes what the archive holds and extracts it at the same paths: rust-cache's restore; its time in ms. */
export async function restoreRustCache(a: RustCacheArchive, wipe: string[]): Promise<number> {
  for (const p of wipe) await fs.rm(p, { recursive: true, force: true });
  return (await timed('tar', ['--zstd', '-xf', a.file, '-C', a.base])).ms;
}
