import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ArchiveKey, IdentityParts } from '../model/archive-key.js';
import {
  type ArchiveStore,
  type FleetReason,
  cacheKeyOf,
  cacheKeysFor,
  isFleetFault,
  parseCacheKey,
  partsForFleet,
  storeName,
} from '../model/archive-store.js';
import { archiveDir, fleetStaging } from '../model/layout.js';
import { actionsCacheNeedsToken } from '../model/messages.js';
import { myUid } from '../os/proc.js';
import { readArchiveMeta } from './archive.js';
import { copyArchive } from './archive-copy.js';
import { type WorkerNotes, callWorker } from './fleet-worker.js';

/*
 * The fleet tier: dependency archives in a store every host of a fleet reaches, behind the host
 * tier (store/archive.ts). A start reads the fleet tier only where its host has nothing
 * (job/tiers.ts restoreTier), and what it fetches lands in the host tier first, so the next start on this
 * host finds it there; an end that saved an archive on the host sends it on (put). Two stores,
 * one interface, every call in a worker process bounded in time (store/fleet-worker.ts):
 *
 *   the Actions cache service   @actions/cache (GitHub.com, GHES, Forgejo's and Gitea's runners'
 *                               cache servers): the archive's directory as one cache entry, named
 *                               by its trust domain and keys (model/archive-store.ts). Only where
 *                               an action step runs: it needs the runtime token the runner gives
 *                               action steps alone, never the runner hooks or the CLI.
 *   a shared directory          NFS, CephFS, any mount every host sees (store/fleet-dir.ts).
 *
 * Nothing a store does fails a job: a store that is down, slow, full, over its quota, rate
 * limited or refusing the token gives a warning and the start goes on cold (`isFleetFault` says
 * which outcomes are faults; the rest are lines of the log).
 */

/** The time bounds of a store's calls: what a start waits for at most, and an end. */
export const FLEET_BOUNDS = {
  /** Finding out whether the store holds an archive for this start (the Actions cache service's lookup). */
  lookupMs: 30_000,
  /** Bringing one into the host tier: the bench's 168 MiB archive at 1 MiB/s, about as long as the bench's cold build. */
  fetchMs: 180_000,
  /** Sending one at a job's end. */
  putMs: 300_000,
};

export interface FleetQuery {
  /** The host's root: a fetched archive lands in its host tier. */
  root: string;
  repository: string;
  /** The trust domains whose archives the start may restore: its own, then its base's (as for the host tier). */
  domains: string[];
  /** The start's whole key; or, where it knows only who it is (the runner's hook), its identity: a shared directory finds the job's newest archive by it. */
  key?: ArchiveKey;
  identity?: IdentityParts;
  bounds?: Partial<typeof FLEET_BOUNDS>;
}

export type FleetFetch =
  | { fetched: true; dir: string; domain: string; how: 'exact' | 'fallback'; bytes: number; ms: number }
  | { fetched: false; reason: FleetReason; detail: string; ms: number };

export interface FleetPutRequest {
  root: string;
  repository: string;
  /** The trust domain the archive was saved under: the job's own. */
  domain: string;
  key: ArchiveKey & { exact: string };
  /** The archive's directory in the host tier. */
  dir: string;
  bounds?: Partial<typeof FLEET_BOUNDS>;
}

export type FleetPut = { put: true; bytes: number; ms: number } | { put: false; reason: FleetReason; detail: string; ms: number };

export interface FleetStore {
  readonly kind: 'actions-cache' | 'directory';
  /** In the log: `the Actions cache service`, `the shared directory /mnt/ci-archives`. */
  readonly name: string;
  /** Brings the archive a start may restore into the host tier. Never throws. */
  fetch(q: FleetQuery): Promise<FleetFetch>;
  /** Sends an archive of the host tier, unless the store holds its key. Never throws. */
  put(p: FleetPutRequest): Promise<FleetPut>;
}

/** Who is asking: only an action step has the runtime token the Actions cache service needs. */
export type EntryPoint = 'action' | 'hook' | 'cli';

/**
 * The store a setting names, for a job started by `via`; `unavailable` says why the setting
 * names one this job cannot use (the log says it once, as a line, not a warning).
 */
export function openFleetStore(
  setting: ArchiveStore,
  env: Record<string, string | undefined>,
  via: EntryPoint,
): FleetStore | { unavailable: string } | undefined {
  if (setting.kind === 'none') return undefined;
  if (setting.kind === 'directory') return directoryStore(setting.path);
  if (via !== 'action') return { unavailable: actionsCacheNeedsToken(via === 'hook' ? 'the runner hooks never have' : 'a command on the host never has') };
  if (!env.ACTIONS_RUNTIME_TOKEN || !(env.ACTIONS_RESULTS_URL || env.ACTIONS_CACHE_URL))
    return {
      unavailable:
        'the runner gave this job no Actions cache service (no ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL or ACTIONS_CACHE_URL): the host tier only',
    };
  return actionsCacheStore(env);
}

const bound = (b: Partial<typeof FLEET_BOUNDS> | undefined, k: keyof typeof FLEET_BOUNDS) => b?.[k] ?? FLEET_BOUNDS[k];
const since = (t0: number) => Math.round(performance.now() - t0);

/** The words of a worker that failed or was stopped, as a fault. */
const workerFault = (r: { timedOut: boolean; detail: string }): { reason: FleetReason; detail: string } => ({
  reason: r.timedOut ? 'timeout' : 'error',
  detail: r.detail,
});

function directoryStore(path: string): FleetStore {
  const name = storeName({ kind: 'directory', path });
  return {
    kind: 'directory',
    name,
    async fetch(q) {
      const t0 = performance.now();
      const r = await callWorker(
        { op: 'dir-fetch', store: path, uid: myUid(), root: q.root, repository: q.repository, domains: q.domains, key: q.key, identity: q.identity },
        { timeoutMs: bound(q.bounds, 'fetchMs') },
      );
      if (!r.ok) return { fetched: false, ...workerFault(r), ms: since(t0) };
      return { ...r.result, ms: since(t0) };
    },
    async put(p) {
      const t0 = performance.now();
      const r = await callWorker(
        { op: 'dir-put', store: path, uid: myUid(), repository: p.repository, domain: p.domain, key: p.key, from: p.dir },
        { timeoutMs: bound(p.bounds, 'putMs') },
      );
      if (!r.ok) return { put: false, ...workerFault(r), ms: since(t0) };
      return r.result.put ? { put: true, bytes: r.result.bytes, ms: since(t0) } : { ...r.result, ms: since(t0) };
    },
  };
}

/** The one path the Actions cache service's entries hold, relative to the worker's workspace: the service's `version` hashes it. */
export const CACHE_ENTRY = 'cargo-isolate-archive';

/**
 * Pure: what the Actions cache service's client said when a save took nothing: another host's
 * entry of the key (a race, or a lookup that missed it: the service answers 409 Conflict), a
 * token that may not write (the run's cache mode), or a fault. @actions/cache says it only in
 * its log: a warning, or the reason its reservation failed in a debug line.
 */
export function saveRefusal(notes: WorkerNotes): { reason: FleetReason; detail: string } {
  const all = [...notes.errors, ...notes.warnings, ...notes.lines];
  const reserve = notes.lines.find((l) => /Failed to reserve cache:|Unable to reserve cache/.test(l));
  if (all.some((l) => /already exists|\(409\)|Conflict/i.test(l))) return { reason: 'raced', detail: 'another job saved this key first' };
  if (notes.lines.some((l) => /cache-mode '[^']*' does not permit writes/.test(l)) || all.some((l) => /cache write denied:/.test(l)))
    return { reason: 'read-only', detail: "this job's token may not write to the cache (a read-only cache mode)" };
  const said = notes.errors[0] ?? notes.warnings[0] ?? reserve;
  return { reason: 'error', detail: said ? said.replace(/^debug: /, '') : 'the service did not take the archive, and said nothing' };
}

/** Pure: a restore that matched nothing: a miss, or a fault the client only warned about. */
export function restoreRefusal(notes: WorkerNotes): { reason: FleetReason; detail: string } | undefined {
  if (notes.lines.some((l) => /cache-mode '[^']*' does not permit reads/.test(l)))
    return { reason: 'unavailable', detail: "this job's token may not read the cache (its cache mode)" };
  const said = notes.errors[0] ?? notes.warnings[0];
  return said ? { reason: 'error', detail: said } : undefined;
}

function actionsCacheStore(env: Record<string, string | undefined>): FleetStore {
  /** A staging directory on the host root's filesystem (so the archive is linked into the host tier, not copied), and the worker's environment in it. */
  const stage = async (root: string) => {
    const dir = fleetStaging(root, randomBytes(4).toString('hex'));
    await fs.mkdir(join(dir, '.runner-temp'), { recursive: true });
    // RUNNER_TEMP: where @actions/cache writes its own tar; GITHUB_WORKSPACE: what the entry's path is relative to.
    return { dir, env: { ...env, GITHUB_WORKSPACE: dir, RUNNER_TEMP: join(dir, '.runner-temp') } as NodeJS.ProcessEnv };
  };
  const drop = (dir: string) => fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  return {
    kind: 'actions-cache',
    name: storeName({ kind: 'actions-cache' }),
    async fetch(q) {
      const t0 = performance.now();
      const not = (reason: FleetReason, detail: string): FleetFetch => ({ fetched: false, reason, detail, ms: since(t0) });
      if (!q.key) return not('unavailable', 'a start that knows only who it is names no cache entry');
      const key = q.key;
      const { primary, restoreKeys } = cacheKeysFor(q.domains, key);
      const s = await stage(q.root).catch((e: Error) => e);
      if (s instanceof Error) return not('error', `making a staging directory under ${q.root}: ${s.message}`);
      try {
        const call = { cwd: s.dir, env: s.env };
        const look = await callWorker(
          { op: 'cache-restore', paths: [CACHE_ENTRY], primary, restoreKeys, lookupOnly: true },
          { ...call, timeoutMs: bound(q.bounds, 'lookupMs') },
        );
        if (!look.ok) return not(workerFault(look).reason, workerFault(look).detail);
        if (!look.result.available) return not('unavailable', 'the runner gave this job no Actions cache service');
        const matched = look.result.matchedKey;
        if (!matched) {
          const fault = restoreRefusal(look.notes);
          return fault
            ? not(fault.reason, fault.detail)
            : not('missing', `no entry for ${q.domains.join(' or ')} under ${primary.replace(/\/[0-9a-f]{32}$/, '/...')}`);
        }
        const entry = parseCacheKey(matched, q.domains, key);
        if (!entry) return not('refused', `the service matched ${matched}, which is not one of the keys asked for: not restored`);
        // Then exactly that entry: what the lookup found, nothing a later save under a restore key put there meanwhile.
        const got = await callWorker(
          { op: 'cache-restore', paths: [CACHE_ENTRY], primary: matched, restoreKeys: [], lookupOnly: false },
          { ...call, timeoutMs: bound(q.bounds, 'fetchMs') },
        );
        if (!got.ok) return not(workerFault(got).reason, workerFault(got).detail);
        if (!got.result.available || got.result.matchedKey !== matched)
          return not(restoreRefusal(got.notes)?.reason ?? 'error', restoreRefusal(got.notes)?.detail ?? `${matched} could not be downloaded`);
        const from = join(s.dir, CACHE_ENTRY);
        const meta = readArchiveMeta(from);
        if (!meta || meta.exact !== entry.exact || meta.fallback !== entry.fallback) {
          const holds = meta ? `it holds ${meta.exact}` : 'no archive.json of this version';
          return not('refused', `the entry ${matched} does not describe the archive its name says (${holds}): not restored`);
        }
        const into = archiveDir(q.root, q.repository, entry.domain, entry.fallback, entry.exact);
        const c = await copyArchive(from, into, { how: 'link', locks: { to: true } });
        if (c.copied || c.reason === 'exists' || c.reason === 'raced')
          return { fetched: true, dir: into, domain: entry.domain, how: entry.how, bytes: meta.bytes, ms: since(t0) };
        return not(c.reason === 'failed' ? 'error' : 'refused', c.detail);
      } finally {
        await drop(s.dir);
      }
    },
    async put(p) {
      const t0 = performance.now();
      const not = (reason: FleetReason, detail: string): FleetPut => ({ put: false, reason, detail, ms: since(t0) });
      const key = cacheKeyOf(p.domain, p.key.fallback, p.key.exact);
      const s = await stage(p.root).catch((e: Error) => e);
      if (s instanceof Error) return not('error', `making a staging directory under ${p.root}: ${s.message}`);
      try {
        const call = { cwd: s.dir, env: s.env };
        const look = await callWorker(
          { op: 'cache-restore', paths: [CACHE_ENTRY], primary: key, restoreKeys: [], lookupOnly: true },
          { ...call, timeoutMs: bound(p.bounds, 'lookupMs') },
        );
        if (!look.ok) return not(workerFault(look).reason, workerFault(look).detail);
        if (!look.result.available) return not('unavailable', 'the runner gave this job no Actions cache service');
        if (look.result.matchedKey === key) return not('exists', `${key} is already there`);
        // Links, verified as they are made: an archive altered on this host is never sent.
        const c = await copyArchive(p.dir, join(s.dir, CACHE_ENTRY), {
          how: 'link',
          meta: (m) => ({ ...m, key: partsForFleet(m.key) }),
          locks: { from: true },
        });
        if (!c.copied) return not(c.reason === 'failed' ? 'error' : 'refused', c.detail);
        const saved = await callWorker({ op: 'cache-save', paths: [CACHE_ENTRY], key }, { ...call, timeoutMs: bound(p.bounds, 'putMs') });
        if (!saved.ok) return not(workerFault(saved).reason, workerFault(saved).detail);
        if (!saved.result.available) return not('unavailable', 'the runner gave this job no Actions cache service');
        // v1's client returns the reserved id even when the upload after it failed: its log says so.
        if (saved.result.id === -1 || saved.notes.errors.length > 0 || saved.notes.warnings.length > 0) {
          const why = saveRefusal(saved.notes);
          return not(why.reason, why.detail);
        }
        return { put: true, bytes: c.bytes, ms: since(t0) };
      } finally {
        await drop(s.dir);
      }
    },
  };
}

/** Pure: a fetch's or a put's outcome as one line of a job's log, and whether it is a warning. */
export function fleetLine(store: string, what: 'fetch' | 'put', o: FleetFetch | FleetPut): { warning: boolean; text: string } {
  const secs = `${(o.ms / 1000).toFixed(1)} s`;
  if ('fetched' in o && o.fetched)
    return {
      warning: false,
      text: `${store}: fetched the ${o.how === 'exact' ? 'exact' : 'nearest'} archive of ${o.domain} (${mib(o.bytes)}) in ${secs} into the host tier.`,
    };
  if ('put' in o && o.put) return { warning: false, text: `${store}: sent the dependency archive (${mib(o.bytes)}) in ${secs}.` };
  const r = o as { reason: FleetReason; detail: string };
  const tail = what === 'fetch' ? (isFleetFault(r.reason) ? ' This job starts without it.' : '') : isFleetFault(r.reason) ? ' The host tier keeps it.' : '';
  return { warning: isFleetFault(r.reason), text: `${store}: ${r.detail}.${tail}`.replace(/\.\./g, '.') };
}

const mib = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;
