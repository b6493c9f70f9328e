import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { type ArchiveKey, type IdentityParts } from '../model/archive-key.js';
import { type EntryStat, type FleetReason, partsForFleet, untrustedEntry } from '../model/archive-store.js';
import { archiveDir } from '../model/layout.js';
import { fleetStoreMapsUid, fleetStoreNotMounted } from '../model/messages.js';
import { DATA, META, findArchive, findArchiveByIdentity, listArchives } from './archive.js';
import { copyArchive } from './archive-copy.js';
import { listDir } from '../os/absent.js';

/*
 * The fleet tier on a directory every host mounts (NFS, CephFS, any shared filesystem): what the
 * fleet store's worker process does with it (src/fleet-worker-impl.ts), never the job's own
 * process, which a server that stops answering on a hard mount would hold in the kernel for good.
 *
 *   <store>/u<uid>/archives/<repo>/<domain>/<fallback key>/<exact key>/{archive.tar.zst,archive.json}
 *
 * The host tier's layout (model/layout.ts `archiveDir`) under a part of the store per uid: a
 * job's archives are keyed by its CARGO_HOME string, which is the uid's own (`homes/u<uid>`), so
 * no uid restores another's anyway, and each uid's part is written by that uid alone.
 *
 * Put: the archive is copied from the host tier, verified as it is read (archive-copy.ts: temp
 * then rename, the first of two hosts wins whole), under the host tier's read lock. The store's directories get mode 0755 and its
 * files 0644 whatever the umask. A share that maps this uid to another (NFS's root squashing)
 * writes files this uid's jobs would refuse: such a store is read-only to the job, and said so.
 * Fetch: the entry the host tier would choose (findArchive: exact key, else the newest under the
 * fallback key, in the job's own trust domain or its base's), restored only when it is this
 * uid's own and writable by nobody else (model/archive-store.ts `untrustedEntry`), copied into
 * the host tier verified, its temp directory there locked as a save's is; the engine verifies it again as it restores.
 *
 * Kept: the newest KEEP archives under each fallback key (a job's archives, one per Cargo.lock);
 * an older one is renamed to a dot-name (readers skip those) and removed by the put that
 * superseded it. What this does not remove (a closed PR's, an old toolchain's) is the operator's
 * (docs/fleet-stores.md gives a timer).
 */

const KEEP = 2;
/** A temp or removed entry older than this was left by a host that died mid-copy. */
const STALE_MS = 60 * 60 * 1000;

export type DirFetch =
  { fetched: true; dir: string; domain: string; how: 'exact' | 'fallback'; bytes: number } | { fetched: false; reason: FleetReason; detail: string };
export type DirPut = { put: true; bytes: number; removed: number } | { put: false; reason: FleetReason; detail: string };

const uidPart = (store: string, uid: number) => join(store, `u${uid}`);

async function storeThere(store: string): Promise<string | undefined> {
  const st = await fs.stat(store).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) return fleetStoreNotMounted(store, st.code ?? st.message);
  if (!st.isDirectory()) return `${store} is not a directory`;
  return undefined;
}

/** lstat of every directory from `from` down to `dir`, and of the archive's two files. */
async function chain(from: string, dir: string): Promise<EntryStat[]> {
  const rel = relative(from, dir);
  const dirs = [from, ...rel.split(sep).map((_, i, a) => join(from, ...a.slice(0, i + 1)))];
  const out: EntryStat[] = [];
  for (const p of [...dirs, join(dir, DATA), join(dir, META)]) {
    const st = await fs.lstat(p);
    out.push({ path: p, kind: st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other', uid: st.uid, mode: st.mode });
  }
  return out;
}

export interface DirFetchRequest {
  store: string;
  uid: number;
  /** The host's root: the archive lands in its host tier. */
  root: string;
  repository: string;
  domains: string[];
  /** The start's whole key; or, for a start that knows only who it is (the runner's hook), its identity: the job's newest archive. */
  key?: ArchiveKey;
  identity?: IdentityParts;
  /** Runs while the copy into the host tier is held, before its rename (a test runs a guard there; a function never reaches the worker). */
  whileHeld?: (tmp: string) => Promise<void>;
}

/** Finds the archive a start may restore in the store and copies it into the host tier. Never throws. */
export async function fetchFromDir(q: DirFetchRequest): Promise<DirFetch> {
  try {
    const missing = await storeThere(q.store);
    if (missing) return { fetched: false, reason: 'unavailable', detail: missing };
    const base = uidPart(q.store, q.uid);
    const found = q.key
      ? findArchive(base, q.repository, q.domains, q.key)
      : q.identity
        ? { ...findArchiveByIdentity(base, q.repository, q.domains, q.identity), how: 'fallback' as const }
        : { found: false as const, why: 'no dependency archive asked for' };
    if (!found.found) return { fetched: false, reason: 'missing', detail: found.why.replace(/^no dependency archive/, 'no dependency archive in the store') };
    const why = untrustedEntry(await chain(base, found.dir), q.uid);
    if (why) return { fetched: false, reason: 'refused', detail: `${why}: another user could have written it; not restored` };
    const into = archiveDir(q.root, q.repository, found.domain, found.meta.fallback, found.meta.exact);
    // Into the host tier under its lock: the guard leaves a copy in progress alone, however long the share takes.
    const c = await copyArchive(found.dir, into, { how: 'copy', locks: { to: true }, whileHeld: q.whileHeld });
    if (c.copied || c.reason === 'exists' || c.reason === 'raced')
      return { fetched: true, dir: into, domain: found.domain, how: found.how, bytes: c.copied ? c.bytes : found.meta.bytes };
    const reason: FleetReason = c.reason === 'altered' || c.reason === 'truncated' || c.reason === 'unreadable' ? 'refused' : 'error';
    return { fetched: false, reason, detail: c.detail };
  } catch (e) {
    return { fetched: false, reason: 'error', detail: `reading ${q.store}: ${(e as Error).message}` };
  }
}

export interface DirPutRequest {
  store: string;
  uid: number;
  repository: string;
  domain: string;
  key: ArchiveKey & { exact: string };
  /** The archive in the host tier. */
  from: string;
  /** Runs while the copy is held, before its rename (a test runs a guard there; a function never reaches the worker). */
  whileHeld?: (tmp: string) => Promise<void>;
}

/** Sends a host-tier archive to the store, unless one of its key is there. Never throws. */
export async function putToDir(p: DirPutRequest): Promise<DirPut> {
  const base = uidPart(p.store, p.uid);
  try {
    const missing = await storeThere(p.store);
    if (missing) return { put: false, reason: 'unavailable', detail: missing };
    const made = await fs.mkdir(base).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        return false;
      },
    );
    if (made) await fs.chmod(base, 0o755); // not narrowed by the umask: a group-writable part would be refused
    const owner = (await fs.lstat(base)).uid;
    if (owner !== p.uid)
      return {
        put: false,
        reason: 'read-only',
        detail: fleetStoreMapsUid(base, owner, p.uid),
      };
    const to = archiveDir(base, p.repository, p.domain, p.key.fallback, p.key.exact);
    // Read under the host tier's lock, as a restore reads: the guard leaves the archive being sent.
    const c = await copyArchive(p.from, to, {
      how: 'copy',
      dirMode: 0o755,
      fileMode: 0o644,
      meta: (m) => ({ ...m, key: partsForFleet(m.key) }),
      locks: { from: true },
      whileHeld: p.whileHeld,
    });
    if (!c.copied) {
      if (c.reason === 'exists' || c.reason === 'raced') return { put: false, reason: c.reason, detail: c.detail };
      if (c.reason === 'altered' || c.reason === 'truncated' || c.reason === 'unreadable') return { put: false, reason: 'refused', detail: c.detail };
      return { put: false, reason: /\((EROFS)\)/.test(c.detail) ? 'read-only' : 'error', detail: c.detail };
    }
    return { put: true, bytes: c.bytes, removed: await prune(dirname(to)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return { put: false, reason: 'read-only', detail: `${p.store} is mounted read-only here` };
    return { put: false, reason: 'error', detail: `writing to ${base}: ${(e as Error).message}` };
  }
}

/** Keeps the newest KEEP archives of one fallback key; removes older ones and stale temp dirs. Returns how many archives went. */
async function prune(fallbackDir: string): Promise<number> {
  const archives = listArchives(fallbackDir).sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0));
  let removed = 0;
  for (const old of archives.slice(KEEP)) {
    // A dot-name first: a reader lists no dot-names, so none starts on an archive half removed.
    const gone = join(fallbackDir, `.${old.exact}.${randomBytes(4).toString('hex')}.gone`);
    if (
      await fs.rename(old.dir, gone).then(
        () => true,
        () => false,
      )
    ) {
      await fs.rm(gone, { recursive: true, force: true }).catch(() => undefined);
      removed++;
    }
  }
  for (const name of await listDir(fallbackDir, { notADirectory: 'absent' })) {
    if (!name.startsWith('.') || !/\.(tmp|gone)$/.test(name)) continue;
    const st = await fs.lstat(join(fallbackDir, name)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > STALE_MS) await fs.rm(join(fallbackDir, name), { recursive: true, force: true }).catch(() => undefined);
  }
  return removed;
}
