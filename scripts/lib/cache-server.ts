import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * GitHub's Actions cache service, faked at the protocol boundary: the one thing that cannot exist
 * here. Both protocols the pinned @actions/cache (6.3.0) speaks:
 *   v1  REST under `_apis/artifactcache/` (GHES, and the cache servers of Forgejo's and Gitea's
 *       runners): lookup, reserve, PATCH chunks, commit, download.
 *   v2  twirp JSON under `twirp/github.actions.results.api.v1.CacheService/` (GitHub.com, where the
 *       runner sets ACTIONS_CACHE_SERVICE_V2): GetCacheEntryDownloadURL, CreateCacheEntry,
 *       FinalizeCacheEntryUpload; the data goes to a signed URL as Azure Blob Storage takes it (one
 *       Put Blob, or Put Block and Put Block List above 128 MiB: the Azure SDK's upload), and comes
 *       back with a plain GET.
 * Scoping as the service documents it: an entry is written in the scope of the run's ref (a PR's
 * `refs/pull/<n>/merge`), and a lookup searches the run's own scope, then the scopes its token
 * may read (a PR's base branch, the default branch), each for the key exactly, then as a prefix,
 * then each restore key as a prefix, newest first. The scopes come from the runtime token, a JWT
 * whose `ac` claim lists them (Permission 1: read, 2: write), as the runner's tokens carry them;
 * the older fixed token `fake-runtime-token` reads and writes `refs/heads/main`. And faults: a
 * route can answer an HTTP status, a twirp error, a refusal in the body, or nothing at all.
 */
interface Entry {
  key: string;
  version: string;
  scope: string;
  data: Buffer[];
  size: number;
  committed: boolean;
  at: number;
}

/** Where a fault applies: the lookup, the reservation, the data going up, the data coming down, or every request. */
export type Route = 'lookup' | 'reserve' | 'upload' | 'download' | 'all';
export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Answer nothing, ever: the connection stays open (a service that hangs). */
  | { kind: 'stall' }
  /** Close the connection without an answer (a service that is down behind a proxy). */
  | { kind: 'reset' }
  /** v2's CreateCacheEntry answers ok: false with this message (a full cache, a quota). */
  | { kind: 'refuse'; message: string };

export interface FakeCacheService {
  url: string;
  /** Committed entries, oldest first. */
  entries: () => { key: string; size: number; scope: string }[];
  /** The environment a job's step gets: the token of `scopes`, the service's URL, and the protocol's switch. */
  env: (scopes: { write: string; read?: string[] }, protocol?: 'v1' | 'v2') => Record<string, string>;
  fault: (route: Route, f: Fault | undefined) => void;
  /** How many requests each route got. */
  hits: () => Record<Route, number>;
  close: () => Promise<void>;
}

const SERVICE = '/twirp/github.actions.results.api.v1.CacheService/';
const b64url = (v: object | string) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A runtime token whose `ac` claim gives these scopes (Permission 3 on the write scope, 1 on the read ones). */
export function runtimeToken(scopes: { write: string; read?: string[] }): string {
  const ac = [{ Scope: scopes.write, Permission: 3 }, ...(scopes.read ?? []).map((s) => ({ Scope: s, Permission: 1 }))];
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ac: JSON.stringify(ac) })}.x`;
}

function scopesOf(auth: string | undefined): { write?: string; read: string[] } | undefined {
  const token = /^Bearer (.+)$/.exec(auth ?? '')?.[1];
  if (token === 'fake-runtime-token') return { write: 'refs/heads/main', read: ['refs/heads/main'] };
  try {
    const claims = JSON.parse(Buffer.from(token!.split('.')[1], 'base64url').toString()) as { ac?: string };
    const ac = JSON.parse(claims.ac ?? '') as { Scope: string; Permission: number }[];
    return { write: ac.find((a) => a.Permission & 2)?.Scope, read: ac.filter((a) => a.Permission & 1).map((a) => a.Scope) };
  } catch {
    return undefined;
  }
}

export async function fakeCacheService(): Promise<FakeCacheService> {
  const entries = new Map<number, Entry>();
  const blocks = new Map<string, Buffer>();
  const faults = new Map<Route, Fault>();
  const hits: Record<Route, number> = { lookup: 0, reserve: 0, upload: 0, download: 0, all: 0 };
  let nextId = 1;
  let base = '';
  const body = (req: IncomingMessage) =>
    new Promise<Buffer>((r) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => r(Buffer.concat(chunks)));
    });
  const json = (res: ServerResponse, status: number, value?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(value === undefined ? undefined : JSON.stringify(value));
  };
  /** The newest committed entry of `version` for these keys, searched scope by scope as the service does. */
  const lookup = (keys: string[], version: string, scopes: string[]) => {
    const done = [...entries.entries()].filter(([, e]) => e.committed && e.version === version).sort((a, b) => b[1].at - a[1].at);
    for (const scope of scopes) {
      const here = done.filter(([, e]) => e.scope === scope);
      const hit =
        here.find(([, e]) => e.key === keys[0]) ??
        here.find(([, e]) => e.key.startsWith(keys[0])) ??
        keys
          .slice(1)
          .map((k) => here.find(([, e]) => e.key.startsWith(k)))
          .find(Boolean);
      if (hit) return hit;
    }
    return undefined;
  };
  const signed = (id: number) => `${base}devstoreaccount1/cache/${id}?sig=fake`;
  const commit = (e: Entry, size: number) => {
    const data = Buffer.concat(
      Object.keys(e.data)
        .map(Number)
        .sort((a, b) => a - b)
        .map((k) => e.data[k]),
    );
    if (data.length !== size) return `size ${data.length} != ${size}`;
    e.data = [data];
    e.size = size;
    e.committed = true;
    e.at = Date.now();
    return undefined;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const blob = /^\/devstoreaccount1\/cache\/(\d+)$/.exec(url.pathname);
    const v1 = /^\/_apis\/artifactcache\/caches\/(\d+)$/.exec(url.pathname);
    const route: Route =
      (req.method === 'GET' && url.pathname === '/_apis/artifactcache/cache') || url.pathname.endsWith('/GetCacheEntryDownloadURL')
        ? 'lookup'
        : (req.method === 'POST' && url.pathname === '/_apis/artifactcache/caches') || url.pathname.endsWith('/CreateCacheEntry')
          ? 'reserve'
          : (blob || /^\/download\//.test(url.pathname)) && req.method === 'GET'
            ? 'download'
            : 'upload';
    hits[route]++;
    hits.all++;
    const f = faults.get(route) ?? faults.get('all');
    if (f?.kind === 'stall') return; // never answered: the client's socket stays open
    if (f?.kind === 'reset') return req.socket.destroy();
    if (f?.kind === 'status') {
      res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers });
      return res.end(f.body ?? JSON.stringify({ code: 'internal', msg: `fault ${f.status}` }));
    }

    // The data routes are signed URLs (v2) or unauthenticated downloads (v1), as on GitHub.
    if (blob && url.searchParams.get('sig') === 'fake') {
      const e = entries.get(Number(blob[1]));
      if (!e) return json(res, 404);
      if (req.method === 'GET') {
        if (!e.committed) return json(res, 404);
        res.writeHead(200, { 'content-length': e.size, 'content-type': 'application/octet-stream' });
        return res.end(e.data[0]);
      }
      const azure = { etag: '"0x1"', 'last-modified': new Date().toUTCString(), 'x-ms-request-id': String(Date.now()), 'x-ms-version': '2024-11-04' };
      const comp = url.searchParams.get('comp');
      const data = await body(req);
      if (comp === 'block') blocks.set(`${blob[1]}:${url.searchParams.get('blockid')}`, data);
      else if (comp === 'blocklist') {
        const ids = [...data.toString().matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)<\//g)].map((m) => m[1]);
        e.data = ids.map((id) => blocks.get(`${blob[1]}:${id}`) ?? Buffer.alloc(0));
      } else e.data = [data];
      res.writeHead(201, azure);
      return res.end();
    }
    const d = /^\/download\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && d) {
      const e = entries.get(Number(d[1]));
      if (!e) return json(res, 404);
      res.writeHead(200, { 'content-length': e.size });
      return res.end(e.data[0]);
    }

    const scopes = scopesOf(req.headers.authorization);
    if (!scopes) return json(res, 401, { message: 'no token' });
    const readable = [...new Set([...(scopes.write ? [scopes.write] : []), ...scopes.read])];

    if (url.pathname.startsWith(SERVICE)) {
      const r = JSON.parse((await body(req)).toString() || '{}') as Record<string, unknown>;
      const method = url.pathname.slice(SERVICE.length);
      if (method === 'GetCacheEntryDownloadURL') {
        const hit = lookup([r.key as string, ...((r.restore_keys as string[]) ?? [])], r.version as string, readable);
        return json(res, 200, hit ? { ok: true, signed_download_url: signed(hit[0]), matched_key: hit[1].key } : { ok: false });
      }
      if (method === 'CreateCacheEntry') {
        if (f?.kind === 'refuse') return json(res, 200, { ok: false, message: f.message });
        if (!scopes.write) return json(res, 403, { code: 'permission_denied', msg: 'cache write denied: read-only token' });
        if ([...entries.values()].some((e) => e.key === r.key && e.version === r.version && e.scope === scopes.write))
          return json(res, 409, { code: 'already_exists', msg: 'cache entry with the same key, version, and scope already exists' });
        const id = nextId++;
        entries.set(id, { key: r.key as string, version: r.version as string, scope: scopes.write, data: [], size: 0, committed: false, at: Date.now() });
        return json(res, 200, { ok: true, signed_upload_url: signed(id) });
      }
      if (method === 'FinalizeCacheEntryUpload') {
        const hit = [...entries.entries()].find(([, e]) => !e.committed && e.key === r.key && e.version === r.version && e.scope === scopes.write);
        if (!hit) return json(res, 404, { code: 'not_found', msg: 'no such upload' });
        const bad = commit(hit[1], Number(r.size_bytes));
        return bad ? json(res, 200, { ok: false, message: bad }) : json(res, 200, { ok: true, entry_id: String(hit[0]) });
      }
      return json(res, 404, { code: 'bad_route', msg: method });
    }

    if (req.method === 'GET' && url.pathname === '/_apis/artifactcache/cache') {
      const hit = lookup((url.searchParams.get('keys') ?? '').split(','), url.searchParams.get('version') ?? '', readable);
      if (!hit) return json(res, 204);
      return json(res, 200, { cacheKey: hit[1].key, scope: hit[1].scope, archiveLocation: `${base}download/${hit[0]}` });
    }
    if (req.method === 'POST' && url.pathname === '/_apis/artifactcache/caches') {
      const r = JSON.parse((await body(req)).toString()) as { key: string; version: string };
      if (!scopes.write) return json(res, 403, { message: 'cache write denied: read-only token' });
      if ([...entries.values()].some((e) => e.key === r.key && e.version === r.version && e.scope === scopes.write))
        return json(res, 409, { message: 'Cache already exists.' });
      const id = nextId++;
      entries.set(id, { key: r.key, version: r.version, scope: scopes.write, data: [], size: 0, committed: false, at: Date.now() });
      return json(res, 201, { cacheId: id });
    }
    if (req.method === 'PATCH' && v1) {
      const e = entries.get(Number(v1[1]));
      const range = /bytes (\d+)-(\d+)/.exec(String(req.headers['content-range']));
      if (!e || !range) return json(res, 400);
      e.data[Number(range[1])] = await body(req);
      return json(res, 204);
    }
    if (req.method === 'POST' && v1) {
      const e = entries.get(Number(v1[1]));
      const { size } = JSON.parse((await body(req)).toString()) as { size: number };
      if (!e) return json(res, 404);
      const bad = commit(e, size);
      return bad ? json(res, 400, { message: bad }) : json(res, 204);
    }
    json(res, 404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    entries: () =>
      [...entries.values()]
        .filter((e) => e.committed)
        .sort((a, b) => a.at - b.at)
        .map((e) => ({ key: e.key, size: e.size, scope: e.scope })),
    env: (scopes, protocol = 'v2') => ({
      ACTIONS_RUNTIME_TOKEN: runtimeToken(scopes),
      ...(protocol === 'v2' ? { ACTIONS_RESULTS_URL: base, ACTIONS_CACHE_SERVICE_V2: 'true' } : { ACTIONS_CACHE_URL: base }),
      // Not a GHES host: @actions/cache speaks v2 only to GitHub.com (and *.ghe.com, and *.localhost).
      GITHUB_SERVER_URL: 'https://github.com',
    }),
    fault: (route, f) => (f ? faults.set(route, f) : faults.delete(route)),
    hits: () => ({ ...hits }),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
