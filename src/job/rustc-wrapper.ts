import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { rootPaths } from '../model/layout.js';
import { ownDirIn } from '../owners/owner.js';
import { rootOwnerFor } from './cargo-home.js';
import { OUR_WRAPPER, WRAPPED, type Wrapper } from '../host/sccache.js';
import { writeAtomic } from '../os/fsutil.js';
import { readTextIfPresent } from '../os/absent.js';

/*
 * Compile-cache keys that are the same in every slot.
 *
 * sccache's Rust key hashes every CARGO_* variable in rustc's environment (sccache 0.4,
 * src/compiler/rust.rs, generate_hash_key; later versions too), so CARGO_TARGET_DIR and
 * CARGO_BUILD_BUILD_DIR, which name the job's own slot, gave every slot its own keys: a job
 * that does not hold its build hit nothing another slot compiled (0 of 35, measured). With
 * CARGO_HOME one string for every slot of a uid (cargo-home.ts), those are the only slot paths
 * left in a registry crate's key.
 *
 * The fix is a tiny wrapper in front of the job's own (RUSTC_WRAPPER=sccache): a POSIX sh
 * script at one path for every slot, which unsets the variables that name the slot and execs
 * the job's wrapper, named in CARGO_ISOLATE_RUSTC_WRAPPER. rustc never reads them; cargo still
 * gives them to build scripts, which it runs itself. What sees the difference: a proc macro that
 * reads CARGO_TARGET_DIR at expansion time (cargo does not track that) now finds it unset, as on a
 * developer machine that never set it, and every slot then compiles the same output, so a cache
 * hit can never carry another slot's path. Cost: about 3 ms per rustc invocation (sh, unset,
 * exec), measured against rustc's own in docs/warm-starts.md.
 */

/** Variables rustc does not need and that would make a key depend on the slot or the host's root. */
const STRIPPED = ['CARGO_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR', 'CARGO_INSTALL_ROOT', 'CARGO_ISOLATE_ROOT', WRAPPED];

export const WRAPPER_SCRIPT = `#!/bin/sh
# cargo-isolate: runs the job's own rustc wrapper without the variables that name the job's slot,
# so that compile-cache keys are the same in every slot (docs/warm-starts.md).
w=$${WRAPPED}
unset ${STRIPPED.join(' ')}
if [ -n "$w" ]; then exec "$w" "$@"; fi
exec "$@"
`;

/** Pure: the exports that put our wrapper in front of the job's own. */
export function wrapperExports(script: string, wrapper: Wrapper): Record<string, string> {
  return { RUSTC_WRAPPER: script, [WRAPPED]: wrapper.command };
}

/**
 * Writes the script at `<root>/homes/u<uid>/cargo-isolate-rustc` (one path for every slot of the
 * uid), atomically and only when its text differs: other jobs may be running it right now.
 * Undefined when that directory is not this uid's own (owner.ts, ownDirIn).
 */
export async function ensureWrapperScript(root: string, uid: number): Promise<string | undefined> {
  const { dir, theirs } = await ownDirIn(rootPaths(root).homes, `u${uid}`, uid, 0o755, await rootOwnerFor(root, uid));
  if (theirs) return undefined;
  const path = join(dir, OUR_WRAPPER);
  if ((await readTextIfPresent(path)) === WRAPPER_SCRIPT) return path;
  await writeAtomic(path, WRAPPER_SCRIPT, 0o755);
  return path;
}

/*
 * Fork PRs and the compile cache. sccache keys entries by their inputs, but its cache files are
 * plain files writable by whoever runs the server, and a build runs as that uid: an entry a fork
 * PR's job wrote could be served to a trusted job. So a fork PR's job compiles through a server of
 * its own configuration, on a cache directory trusted jobs never read,
 * `<root>/homes/u<uid>-untrusted-sccache` (beside the uid's CARGO_HOME, not in it), with no remote
 * backend and no config file: only SCCACHE_CACHE_SIZE and logging are kept from the job's
 * settings. Its port differs from the trusted server's, since the port is a hash of the settings
 * (host/sccache.ts). Fork PRs share that cache among themselves, which is what they would get from any
 * shared cache anyway; they read nothing trusted jobs compiled.
 */
const KEPT_FOR_FORKS = ['SCCACHE_CACHE_SIZE', 'SCCACHE_LOG', 'SCCACHE_ERROR_LOG'];

/** Pure: the environment a fork PR's sccache server starts with (and the job exports). */
export function untrustedEnv(env: Record<string, string | undefined>, cacheDir: string, conf: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('SCCACHE_') || KEPT_FOR_FORKS.includes(k)) out[k] = v;
  return { ...out, SCCACHE_DIR: cacheDir, SCCACHE_CONF: conf };
}

/** The untrusted cache directory and an empty config file for it (a directory of this uid's own). */
export async function untrustedCache(root: string, uid: number): Promise<{ dir: string; conf: string } | undefined> {
  const { dir, theirs } = await ownDirIn(rootPaths(root).homes, `u${uid}-untrusted-sccache`, uid, 0o700, await rootOwnerFor(root, uid));
  if (theirs) return undefined;
  const conf = join(dir, 'config.toml');
  await fs.writeFile(conf, '');
  await fs.mkdir(join(dir, 'cache'), { recursive: true });
  return { dir: join(dir, 'cache'), conf };
}
