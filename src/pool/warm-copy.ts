import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { COPY_RULE_TEXT, type CopyRule, type CopySource, SHIPPED } from './policy.js';
import { worthless } from './value.js';
import { readRecord } from '../os/record-file.js';
import { type Dirs, slotDirs } from '../model/layout.js';
import { measure } from '../os/disk.js';
import { hold, release } from '../os/flock.js';
import { cargoLockFiles } from '../os/liveness.js';
import { copyTree } from '../os/copy.js';
import { diskUsage } from '../os/sizes.js';
import { removeTree } from '../os/remove.js';
import type { Level } from '../model/units.js';
import { formatBytes } from '../model/units.js';
import { isDirAt, listDir, listDirents, readTextIfPresent } from '../os/absent.js';

/*
 * A job that got a slot without its own warm build (a new slot, one reset for another trust
 * domain, one whose target the guard pruned) starts from a copy of a compatible warm build that
 * an idle slot on the host holds, instead of compiling everything. It works because every slot
 * of a uid and path view sees the same CARGO_HOME (cargo-home.ts): cargo's fingerprints then
 * hold in the copy, whose mtimes `cp -a` keeps (measured: docs/warm-starts.md).
 *
 * Which build is the policy's copy-source step (policy.ts chooseCopySource): the same repository
 * and job, built with the same CARGO_HOME string, idle, and one this job may read under the reuse
 * rules; never another trust domain's content into a trusted one.
 *
 * The copy (copyWarmBuild) takes the source slot's lease and cargo's locks there for as long as
 * it reads, so no job starts in it mid-copy (its owner's next run waits for it as for a
 * predecessor, choose.ts), re-reads its record under the lease, checks that the copy keeps the
 * disk under the guard's threshold, and writes only into this job's own slot. Build-script
 * outputs that name the source slot (a script that printed CARGO_TARGET_DIR into rustc-env, say)
 * are made stale, so cargo runs those scripts again for this slot: nothing in the copy leads
 * this job to write into another slot.
 */

/** A build-script run's recorded output, as cargo leaves it in `<profile>/build/<unit>/`. */
export interface ScriptOutput {
  unit: string;
  output: string;
  /** `root-output`: the OUT_DIR the script ran with, which cargo itself rewrites on reuse. */
  rootOutput: string;
}

/**
 * Pure: build-script runs whose output names `source` (the slot copied from) anywhere but in the
 * script's own OUT_DIR, which cargo rewrites to the new path when it reads the output back.
 */
export function staleScripts(outputs: ScriptOutput[], source: string): string[] {
  return outputs.filter((o) => (o.rootOutput ? o.output.split(o.rootOutput.trim()).join('') : o.output).includes(source)).map((o) => o.unit);
}

/** `<profile>/build` and `<triple>/<profile>/build` dirs of a target dir (cargo's layout.rs). */
async function buildDirs(target: string): Promise<string[]> {
  const out: string[] = [];
  const sub = async (d: string) => (await listDirents(d)).filter((e) => e.isDirectory()).map((e) => join(d, e.name));
  for (const a of await sub(target)) {
    if (await isDirAt(join(a, 'build'))) out.push(join(a, 'build'));
    for (const b of await sub(a)) if (!b.endsWith('/build') && (await isDirAt(join(b, 'build')))) out.push(join(b, 'build'));
  }
  return out;
}

/** Pure: the package a unit dir (`<package>-<16 hex digits>`) belongs to. */
export const unitPackage = (unit: string) => unit.replace(/-[0-9a-f]{16}$/, '');

/**
 * Makes the listed build-script runs stale, with every unit of their package: cargo runs the
 * script again and recompiles the package (measured with cargo 1.95: with only the run's
 * fingerprint gone, the script runs again but the crate that read its rustc-env stays "fresh").
 * What depends on the package is rebuilt by cargo itself, as after any rebuild.
 */
async function invalidateScripts(target: string, source: string): Promise<string[]> {
  const stale: string[] = [];
  for (const build of await buildDirs(target)) {
    const outputs: ScriptOutput[] = [];
    // A unit that never ran its script has no output; a file among the units is no unit.
    const unitFile = (unit: string, name: string) => readTextIfPresent(join(build, unit, name), { notADirectory: 'absent' });
    for (const unit of await listDir(build)) {
      const output = await unitFile(unit, 'output');
      if (output === undefined) continue;
      outputs.push({ unit, output, rootOutput: (await unitFile(unit, 'root-output')) ?? '' });
    }
    const packages = new Set(staleScripts(outputs, source).map(unitPackage));
    const fingerprints = join(build, '..', '.fingerprint');
    for (const unit of await listDir(fingerprints)) {
      if (!packages.has(unitPackage(unit)) || unitPackage(unit) === unit) continue;
      await fs.rm(join(fingerprints, unit), { recursive: true, force: true });
      stale.push(unit);
    }
  }
  return stale;
}

export interface CopyReport {
  from: string;
  rule: CopyRule;
  key: string;
  outcome: 'copied' | 'busy' | 'changed' | 'no-room' | 'failed';
  bytes: number;
  ms: number;
  detail?: string;
  /** Units made stale because a build script of their package named the source slot. */
  staleScripts?: string[];
  linksRemoved?: string[];
}

/** Pure: the log's line for a copy. */
export function describeCopy(c: CopyReport): string {
  const what = `the warm build of slot ${c.from} (${COPY_RULE_TEXT[c.rule]}, ${c.key}, ${formatBytes(c.bytes)})`;
  if (c.outcome === 'copied') {
    const extra = [
      c.staleScripts?.length ? `${c.staleScripts.length} units of packages whose build scripts named slot ${c.from} will build again` : '',
      c.linksRemoved?.length ? `${c.linksRemoved.length} links out of the copy removed` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return `Started from a copy of ${what} in ${(c.ms / 1000).toFixed(1)} s${extra ? `; ${extra}` : ''}.`;
  }
  const why = {
    busy: "it became live (its lease or cargo's locks are held)",
    changed: 'another job used it meanwhile',
    'no-room': 'the copy would take the disk over disk-threshold',
    failed: `the copy failed: ${c.detail}`,
  }[c.outcome];
  return `Not starting from ${what}: ${why}; building from the compile cache or from scratch.`;
}

/**
 * Copies the source slot's target dir into `to.target` (empty, this job's own), under the source
 * slot's lease and cargo's locks there. Never fails the job: a copy that cannot be made leaves
 * the target empty, and the build starts cold.
 */
export async function copyWarmBuild(
  root: string,
  src: CopySource,
  to: Dirs,
  o: { threshold: Level; timeoutMs: number; reflink?: boolean },
): Promise<CopyReport> {
  const from = slotDirs(root, src.name);
  const base: CopyReport = { from: src.name, rule: src.rule, key: src.record.key, outcome: 'busy', bytes: src.record.sizes?.target ?? 0, ms: 0 };
  const t0 = performance.now();
  const h = await hold([from.lock, ...(await cargoLockFiles(from.target, from.cargoHome))]);
  if (!h) return base;
  try {
    const now = await readRecord(from.record);
    if (!now || now.lastUsed !== src.record.lastUsed || now.key !== src.record.key || now.view?.cargoHome !== src.record.view?.cargoHome || worthless(now))
      return { ...base, outcome: 'changed' };
    const bytes = now.sizes?.target ?? (await diskUsage(from.target));
    if (!o.reflink && !SHIPPED.copyFits(await measure(root), bytes, o.threshold)) return { ...base, bytes, outcome: 'no-room' };
    const c = await copyTree(from.target, to.target, o.timeoutMs);
    if (!c.ok) {
      // A partial copy must not pass for a warm build: the job starts from an empty target.
      await removeTree(root, to.target, { why: 'warm copy: a partial copy', timeoutMs: o.timeoutMs });
      await fs.mkdir(to.target, { recursive: true });
      return { ...base, bytes, outcome: 'failed', detail: c.detail, ms: Math.round(performance.now() - t0) };
    }
    const stale = await invalidateScripts(to.target, from.base);
    return { ...base, bytes, outcome: 'copied', ms: Math.round(performance.now() - t0), staleScripts: stale, linksRemoved: c.linksRemoved };
  } finally {
    await release(h);
  }
}
