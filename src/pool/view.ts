import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { cutOff } from './warmth.js';
import { listDirSync, listDirentsSync } from '../os/absent.js';

/*
 * Under which path view a slot's build was made, from what cargo itself wrote.
 *
 * The runner's job-started hook runs on the host before "Initialize containers", and nothing in
 * its environment or files says whether the job's steps will run in a container (actions/runner:
 * the hook's script handler exports only the `github` context's allow-listed values and the
 * `runner` context; `job.container` is evaluated before the hook but never exported). The build
 * itself tells: rustc's dep-info files (`<build dir>/<profile>/deps/<crate>-<hash>.d`, or in each
 * unit's `out/` in cargo's build-dir layout v2) name every output by the absolute path cargo gave
 * it, which starts with CARGO_BUILD_BUILD_DIR exactly as the build saw it (`/__w/_tool/...` in a
 * job container, the host's path on the host), and the file is owned by the uid cargo ran as. A build that compiled nothing writes none: then the
 * slot's content is still what the previous view built.
 */

/** How many of the newest dep-info files are read before giving up on finding an output path. */
const READ_MAX = 8;
const HEAD_BYTES = 4096;

/** Pure: the first output a dep-info file names (`<output>: <sources>`), spaces unescaped. */
export function outputOf(depInfo: string): string | undefined {
  const line = depInfo.split('\n', 1)[0];
  const m = /^((?:[^:\\]|\\.)+):(?:\s|$)/.exec(line);
  const out = m?.[1].replace(/\\(.)/g, '$1');
  return out && isAbsolute(out) ? out : undefined;
}

/**
 * Pure: the root as the build saw it, given an output path the build wrote and where this process
 * sees the root and the build dir (`<root>/slots/<name>/target`): the output's prefix before the
 * build dir's place under the root. Undefined when the output is not under that place at all (a
 * `docker run` step mounting the target elsewhere): the view cannot be told.
 */
export function rootSeen(output: string, root: string, buildDir: string): string | undefined {
  const rel = relative(root, buildDir);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  const at = output.lastIndexOf(`/${rel}/`);
  if (at <= 0) return undefined;
  return output.slice(0, at);
}

/** Entries of a build dir that are never a profile (rustdoc output, `cargo package`, ...). */
const NOT_PROFILES = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build', 'examples', '.fingerprint']);
const hasLock = (d: string) => ['.cargo-lock', '.cargo-build-lock'].some((f) => lstatSync(join(d, f), { throwIfNoEntry: false })?.isFile());
const subdirs = (d: string) =>
  listDirentsSync(d, { notADirectory: 'absent' })
    .filter((e) => e.isDirectory() && !NOT_PROFILES.has(e.name))
    .map((e) => join(d, e.name));
const list = (d: string) => listDirSync(d, { notADirectory: 'absent' });

/**
 * Profile dirs of a build dir, `<profile>` and `<triple>/<profile>`: those holding cargo's build
 * lock (`.cargo-lock`, `.cargo-build-lock` from 1.96), which stays at the profile in both of
 * cargo's build-dir layouts.
 */
function profileDirs(buildDir: string): string[] {
  return subdirs(buildDir).flatMap((p) => (hasLock(p) ? [p] : subdirs(p).filter(hasLock)));
}

/**
 * Where a profile's dep-info files are: `deps/` (cargo's layout up to 1.99) and each unit's
 * `build/<pkg>/<hash>/out/` (layout v2, stable in 1.100). As many entries as units.
 */
function depInfoDirs(profile: string): string[] {
  const v2 = list(join(profile, 'build')).flatMap((pkg) => list(join(profile, 'build', pkg)).map((h) => join(profile, 'build', pkg, h, 'out')));
  return [join(profile, 'deps'), ...v2];
}

/**
 * The newest dep-info file written under `buildDir` since the lease started: its first output
 * path and its owner. One lstat per dep-info file (as many as units); at most READ_MAX are read.
 */
export function builtSince(buildDir: string, startedAt: string): { output: string; uid: number } | undefined {
  const since = cutOff(startedAt);
  const found: { path: string; mtimeMs: number; uid: number }[] = [];
  for (const dir of profileDirs(buildDir).flatMap(depInfoDirs)) {
    for (const n of list(dir)) {
      if (!n.endsWith('.d')) continue;
      const st = lstatSync(join(dir, n), { throwIfNoEntry: false });
      if (st?.isFile() && st.mtimeMs >= since) found.push({ path: join(dir, n), mtimeMs: st.mtimeMs, uid: st.uid });
    }
  }
  found.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const f of found.slice(0, READ_MAX)) {
    const output = outputOf(readHead(f.path));
    if (output) return { output, uid: f.uid };
  }
  return undefined;
}

function readHead(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0)).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
