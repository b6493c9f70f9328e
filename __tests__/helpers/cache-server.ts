import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * GitHub's cache service (v1 REST protocol of @actions/cache), faked at the protocol
 * boundary: the one thing that cannot exist here. Entries are matched the way the service
 * does: the primary key exactly, then each restore key as a prefix, newest first.
 */
interface Entry {
  key: string;
  version: string;
  data: Buffer[];
  size: number;
  committed: boolean;
  at: number;
}

export async function fakeCacheService(): Promise<{ url: string; entries: () => { key: string; size: number }[]; close: () => Promise<void> }> {
  const entries = new Map<number, Entry>();
  let nextId = 1;
  let base = '';
  const body = (req: import('node:http').IncomingMessage) =>
    new Promise<Buffer>((r) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => r(Buffer.concat(chunks)));
    });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, value?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(value === undefined ? undefined : JSON.stringify(value));
    };
    if (req.headers.authorization !== 'Bearer fake-runtime-token' && !url.pathname.startsWith('/download/')) return json(401, { message: 'no token' });
    const m = /^\/_apis\/artifactcache\/caches\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/_apis/artifactcache/cache') {
      const keys = (url.searchParams.get('keys') ?? '').split(',');
      const version = url.searchParams.get('version');
      const done = [...entries.entries()].filter(([, e]) => e.committed && e.version === version).sort((a, b) => b[1].at - a[1].at);
      const hit =
        done.find(([, e]) => e.key === keys[0]) ??
        keys
          .slice(1)
          .map((k) => done.find(([, e]) => e.key.startsWith(k)))
          .find(Boolean);
      if (!hit) return json(204);
      return json(200, { cacheKey: hit[1].key, scope: 'refs/heads/main', archiveLocation: `${base}download/${hit[0]}` });
    }
    if (req.method === 'POST' && url.pathname === '/_apis/artifactcache/caches') {
      const r = JSON.parse((await body(req)).toString()) as { key: string; version: string };
      if ([...entries.values()].some((e) => e.key === r.key && e.version === r.version)) return json(409, { message: 'already exists' });
      const id = nextId++;
      entries.set(id, { key: r.key, version: r.version, data: [], size: 0, committed: false, at: Date.now() });
      return json(201, { cacheId: id });
    }
    if (req.method === 'PATCH' && m) {
      const e = entries.get(Number(m[1]));
      const range = /bytes (\d+)-(\d+)/.exec(String(req.headers['content-range']));
      if (!e || !range) return json(400);
      const chunk = await body(req);
      e.data[Number(range[1])] = chunk;
      return json(204);
    }
    if (req.method === 'POST' && m) {
      const e = entries.get(Number(m[1]));
      const { size } = JSON.parse((await body(req)).toString()) as { size: number };
      if (!e) return json(404);
      const data = Buffer.concat(
        Object.keys(e.data)
          .map(Number)
          .sort((a, b) => a - b)
          .map((k) => e.data[k]),
      );
      if (data.length !== size) return json(400, { message: `size ${data.length} != ${size}` });
      e.data = [data];
      e.size = size;
      e.committed = true;
      return json(204);
    }
    const d = /^\/download\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && d) {
      const e = entries.get(Number(d[1]));
      if (!e) return json(404);
      res.writeHead(200, { 'content-length': e.size });
      return res.end(e.data[0]);
    }
    json(404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    entries: () => [...entries.values()].filter((e) => e.committed).map((e) => ({ key: e.key, size: e.size })),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
