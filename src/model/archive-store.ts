import { isAbsolute, normalize } from 'node:path';
import { ARCHIVE_FORMAT, type ArchiveKey, redactedValue } from './archive-key.js';
import { nearest } from './spelling.js';

/*
 * The fleet tier's decisions, pure: which store the `archive-store` setting names, the names an
 * archive goes by in the Actions cache service, which entries of a shared directory a job may
 * trust, and which of a store's outcomes is worth a warning. The effects are store/fleet-*.ts;
 * table-tested in __tests__/fleet-decisions.test.ts.
 */

/** Where the hosts of a fleet share dependency archives: nowhere, the Actions cache service, or a directory every host mounts. */
export type ArchiveStore = { kind: 'none' } | { kind: 'actions-cache' } | { kind: 'directory'; path: string };

export const ACTIONS_CACHE = 'actions-cache';

/** The accepted forms, for refusals. */
export const ARCHIVE_STORE_FORM = `'${ACTIONS_CACHE}', or the absolute path of a directory every host mounts (e.g. /mnt/ci-archives), or empty for none`;

/**
 * Pure: the store a setting names, or why it names none: a hint for the refusal (the words of
 * settings.ts's InputError). Paths are normalised (`/mnt/x/` is `/mnt/x`); `/` itself is refused,
 * as a relative path is (where it leads would depend on each job's directory).
 */
export function parseArchiveStore(text: string): ArchiveStore | { hint: string } {
  const t = text.trim();
  if (t === '' || t === 'none') return { kind: 'none' };
  if (t === ACTIONS_CACHE) return { kind: 'actions-cache' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) return { hint: 'it holds a control character.' };
  if (isAbsolute(t)) {
    const path = normalize(t).replace(/(.)\/+$/, '$1');
    if (path === '/') return { hint: "'/' is the whole filesystem, not a directory of archives." };
    return { kind: 'directory', path };
  }
  const near = nearest(t, [ACTIONS_CACHE, 'none']);
  if (near) return { hint: `did you mean '${near}'?` };
  if (/^(github|gha|cache|true|yes|on)$/i.test(t)) return { hint: `the Actions cache service is spelled '${ACTIONS_CACHE}'.` };
  return { hint: "a relative path: where it leads would depend on each job's working directory." };
}

/** Pure: what a store is called in a job's log: `the Actions cache service`, `the shared directory /mnt/ci-archives`. */
export const storeName = (s: ArchiveStore): string =>
  s.kind === 'actions-cache' ? 'the Actions cache service' : s.kind === 'directory' ? `the shared directory ${s.path}` : 'no fleet store';

const CACHE_PREFIX = `cargo-isolate-deps/v${ARCHIVE_FORMAT}`;

/**
 * Pure: an archive's key in the Actions cache service: `cargo-isolate-deps/v1/<domain>/<fallback>/<exact>`.
 * Trust domains (`pr-7`, `ref-main`, model/key.ts) never hold a `/` or a comma, so the prefix of
 * one domain's fallback key never matches another domain's entries.
 */
export const cacheKeyOf = (domain: string, fallback: string, exact: string): string => `${CACHE_PREFIX}/${domain}/${fallback}/${exact}`;

/**
 * Pure: what a start asks the Actions cache service for, in the order it prefers: its exact key
 * in each domain it may read (its own first, then its base's), then the newest entry under its
 * fallback key in each (the service matches restore keys as prefixes, newest first). Without an
 * exact key (no Cargo.lock), only the fallbacks. At most 10 keys: the service's limit.
 */
export function cacheKeysFor(domains: string[], key: ArchiveKey): { primary: string; restoreKeys: string[] } {
  const exact = key.exact === undefined ? [] : domains.map((d) => cacheKeyOf(d, key.fallback, key.exact!));
  const near = domains.map((d) => `${CACHE_PREFIX}/${d}/${key.fallback}/`);
  const [primary, ...restoreKeys] = [...exact, ...near].slice(0, 10);
  return { primary, restoreKeys };
}

/**
 * Pure: the domain and keys of an entry the service matched, when it is one a start asking with
 * `domains` and `key` may restore: one of its domains, its fallback key. Anything else (an entry
 * of another domain, a name of another form) is undefined: never restored.
 */
export function parseCacheKey(
  matched: string,
  domains: string[],
  key: ArchiveKey,
): { domain: string; fallback: string; exact: string; how: 'exact' | 'fallback' } | undefined {
  const parts = matched.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== CACHE_PREFIX) return undefined;
  const [domain, fallback, exact] = parts.slice(2);
  if (!domains.includes(domain) || fallback !== key.fallback || !/^[0-9a-f]{32}$/.test(exact)) return undefined;
  return { domain, fallback, exact, how: exact === key.exact ? 'exact' : 'fallback' };
}

/**
 * Pure: an archive's key parts as they leave the host for a fleet store: the values of the
 * variables as digests (model/archive-key.ts `redactedValue`), the rest (repository, job, rustc,
 * OS, the CARGO_HOME path) as they are: names a store's reader sees anyway in the entry's paths.
 */
export function partsForFleet(parts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, k.startsWith('env.') && !v.startsWith('sha256:') ? redactedValue(v) : v]));
}

/** One file or directory of a shared directory's entry, as lstat(2) says. */
export interface EntryStat {
  path: string;
  kind: 'file' | 'directory' | 'other';
  uid: number;
  mode: number;
}

/**
 * Pure: why an entry of a shared directory cannot be trusted by a job of `uid`, or undefined when
 * it can: every directory from the uid's own part of the store down to the archive, and its two
 * files, must be plain directories and files owned by that uid and writable by nobody else. A
 * directory every host mounts is writable by every job of the uid on every host (the security
 * page says what that means); this is what the store's own permissions let a job trust: nothing
 * another uid wrote, or could have replaced.
 */
export function untrustedEntry(entries: EntryStat[], uid: number): string | undefined {
  for (const e of entries) {
    if (e.kind === 'other') return `${e.path} is not a plain file or directory (a symbolic link, say)`;
    if (e.uid !== uid) return `${e.path} belongs to uid ${e.uid}, not to this job's uid ${uid}`;
    if (e.mode & 0o002) return `${e.path} is writable by every user (mode ${(e.mode & 0o7777).toString(8)})`;
    if (e.mode & 0o020) return `${e.path} is writable by its group (mode ${(e.mode & 0o7777).toString(8)})`;
  }
  return undefined;
}

/** How a call to a fleet store ended, whatever the store. */
export type FleetReason =
  /** Nothing there (a fetch), or already there (a put): the store works. */
  | 'missing'
  | 'exists'
  /** Another host put the same key first: one whole archive is there. */
  | 'raced'
  /** The store takes no writes from this job (a read-only mount, a read-only cache token). */
  | 'read-only'
  /** This job cannot reach the store (no runtime token, no mount): said once, not a fault. */
  | 'unavailable'
  /** An entry this job may not trust, or whose checksum does not match: never restored. */
  | 'refused'
  /** The store failed (down, full, over quota, rate-limited, refused the token) or was slower than the time bound. */
  | 'error'
  | 'timeout';

/** Pure: whether an outcome is a fault worth a warning (an annotation), or a line of the log. */
export const isFleetFault = (r: FleetReason): boolean => r === 'refused' || r === 'error' || r === 'timeout';
