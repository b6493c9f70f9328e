import * as cache from '@actions/cache';

/*
 * The calls to the Actions cache service (@actions/cache: GitHub.com's cache service v2, GHES's
 * v1, and the v1 cache servers of Forgejo's and Gitea's runners), made only in the fleet store's
 * worker process (src/fleet-worker-impl.ts): the one module that imports @actions/cache, so that
 * no other bundle carries it, and so that each call runs with the working directory and the
 * GITHUB_WORKSPACE its paths are relative to (the service's `version` hashes the paths as given,
 * and a restore writes them back relative to GITHUB_WORKSPACE) and is bounded by a kill.
 *
 * @actions/cache never throws for a failing service: it logs a warning (the worker passes it on)
 * and returns a miss (restore) or -1 (save). `available` is false where the runner gave this
 * process no cache service (no ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL).
 */

export interface CacheRestoreRequest {
  paths: string[];
  primary: string;
  restoreKeys: string[];
  lookupOnly: boolean;
}
export type CacheRestoreResult = { available: false } | { available: true; matchedKey?: string };

export async function cacheRestore(r: CacheRestoreRequest): Promise<CacheRestoreResult> {
  if (!cache.isFeatureAvailable()) return { available: false };
  const matchedKey = await cache.restoreCache(r.paths, r.primary, r.restoreKeys, { lookupOnly: r.lookupOnly });
  return { available: true, matchedKey };
}

export interface CacheSaveRequest {
  paths: string[];
  key: string;
}
export type CacheSaveResult = { available: false } | { available: true; id: number };

export async function cacheSave(r: CacheSaveRequest): Promise<CacheSaveResult> {
  if (!cache.isFeatureAvailable()) return { available: false };
  return { available: true, id: await cache.saveCache(r.paths, r.key) };
}
