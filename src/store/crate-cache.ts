import { storePaths } from '../model/layout.js';
import { sha256Hex } from '../model/key.js';
import type { Log } from '../os/log.js';

/*
 * Persists the crate store across ephemeral runners with @actions/cache (input `cache`).
 * The module is imported only when the input is on: it triples the bundle's start-up cost.
 * Every failure is a warning: a cache is an optimisation, never a reason to fail a job.
 */
const PREFIX = 'cargo-isolate-crates-v1-';

export const cacheKey = (lockText: string) => `${PREFIX}${sha256Hex(lockText).slice(0, 32)}`;
const cachePaths = (root: string) => {
  const p = storePaths(root);
  return [p.blobs, p.dirs, p.index];
};

export async function restoreStore(root: string, lockText: string, log: Log): Promise<string | undefined> {
  try {
    const cache = await import('@actions/cache');
    if (!cache.isFeatureAvailable()) {
      log.info('cache: the GitHub cache service is not available to this runner; not restoring the crate store.');
      return undefined;
    }
    const hit = await cache.restoreCache(cachePaths(root), cacheKey(lockText), [PREFIX]);
    log.info(hit ? `cache: restored the crate store from ${hit}.` : 'cache: no saved crate store yet.');
    return hit;
  } catch (e) {
    log.warning(`cache: restoring the crate store failed (${(e as Error).message}); continuing without it.`);
    return undefined;
  }
}

export async function saveStore(root: string, lockText: string, log: Log): Promise<boolean> {
  try {
    const cache = await import('@actions/cache');
    if (!cache.isFeatureAvailable()) {
      log.info('cache: the GitHub cache service is not available to this runner; not saving the crate store.');
      return false;
    }
    await cache.saveCache(cachePaths(root), cacheKey(lockText));
    log.info(`cache: saved the crate store as ${cacheKey(lockText)}.`);
    return true;
  } catch (e) {
    log.warning(`cache: saving the crate store failed (${(e as Error).message}); the next job downloads what is missing.`);
    return false;
  }
}
