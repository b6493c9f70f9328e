import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { join } from 'node:path';

/*
 * A sparse registry on 127.0.0.1 for crates a test writes itself (build scripts that wait, that
 * write next to their sources), which also takes `cargo publish`: its config.json names an API,
 * PUT /api/v1/crates/new stores the upload with the token it came with and adds it to the index,
 * so cargo's wait for the new version ends. (scripts/lib/registry.mjs serves generated crates and
 * has no API.)
 */

/**
 * A registry crate's build script that holds its build until the test lets it go (as
 * workspace.ts's makeHeldWorkspace does for a workspace crate): with HELD_DIR set, it writes
 * `started` there and waits for a `release` file; without it, it ends at once. Its library is
 * compiled after it, so its sources are read only once the test has done what it must meanwhile.
 */
export const HELD_BUILD = `fn main() {
    println!("cargo:rerun-if-env-changed=HELD_DIR");
    let Ok(dir) = std::env::var("HELD_DIR") else { return };
    let dir = std::path::PathBuf::from(dir);
    std::fs::write(dir.join("started"), "").unwrap();
    let t0 = std::time::Instant::now();
    while !dir.join("release").exists() && t0.elapsed() < std::time::Duration::from_secs(900) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
`;

export interface TestCrate {
  name: string;
  version?: string;
  /** path -> text, relative to the crate's directory; Cargo.toml is written unless given. */
  files: Record<string, string>;
  build?: boolean;
}

export interface Upload {
  name: string;
  vers: string;
  token: string | undefined;
}

export interface CrateRegistry {
  /** `sparse+http://127.0.0.1:<port>/index/` */
  url: string;
  /** sha256 of each crate's .crate, by name. */
  cksum: Record<string, string>;
  /** The .crate bytes as served, by name. */
  crate: Record<string, Buffer>;
  uploads: Upload[];
  stats: { downloads: number };
  /** Writes a consumer workspace depending on `deps` (name -> requirement), with `.cargo/config.toml` pointing at this registry. */
  consumer(dir: string, deps: string[], main: string, extra?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

const indexPath = (name: string) =>
  name.length <= 2 ? `${name.length}/${name}` : name.length === 3 ? `3/${name[0]}/${name}` : `${name.slice(0, 2)}/${name.slice(2, 4)}/${name}`;

/** Packs each crate as cargo would find it in a registry: a gzipped tar of `<name>-<version>/`, fixed owner and mtime. */
async function pack(dir: string, c: TestCrate): Promise<Buffer> {
  const top = `${c.name}-${c.version ?? '1.0.0'}`;
  const src = join(dir, 'build', top);
  const files = { 'Cargo.toml': `[package]\nname = "${c.name}"\nversion = "${c.version ?? '1.0.0'}"\nedition = "2021"\n`, ...c.files };
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(join(src, p, '..'), { recursive: true });
    await fs.writeFile(join(src, p), text);
  }
  const out = join(dir, 'crates', `${top}.crate`);
  await fs.mkdir(join(dir, 'crates'), { recursive: true });
  execFileSync('tar', ['czf', out, '--owner=0', '--group=0', '--numeric-owner', '--mtime=2020-01-01', '--sort=name', '-C', join(dir, 'build'), top]);
  return fs.readFile(out);
}

export async function crateRegistry(dir: string, crates: TestCrate[]): Promise<CrateRegistry> {
  const index = new Map<string, string[]>();
  const bytes = new Map<string, Buffer>();
  const cksum: Record<string, string> = {};
  const crate: Record<string, Buffer> = {};
  const add = (name: string, vers: string, b: Buffer) => {
    const sum = createHash('sha256').update(b).digest('hex');
    bytes.set(`${name}/${vers}`, b);
    index.set(name, [...(index.get(name) ?? []), JSON.stringify({ name, vers, deps: [], cksum: sum, features: {}, yanked: false })]);
    return sum;
  };
  for (const c of crates) {
    const b = await pack(dir, c);
    crate[c.name] = b;
    cksum[c.name] = add(c.name, c.version ?? '1.0.0', b);
  }
  const uploads: Upload[] = [];
  const stats = { downloads: 0 };
  let port = 0;
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method === 'PUT' && url === '/api/v1/crates/new') {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const n = body.readUInt32LE(0);
        const meta = JSON.parse(body.subarray(4, 4 + n).toString('utf8')) as { name: string; vers: string };
        const len = body.readUInt32LE(4 + n);
        add(meta.name, meta.vers, body.subarray(8 + n, 8 + n + len));
        uploads.push({ name: meta.name, vers: meta.vers, token: req.headers.authorization });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ warnings: { invalid_categories: [], invalid_badges: [], other: [] } }));
      });
      return;
    }
    let body: Buffer | undefined;
    if (url === '/index/config.json')
      body = Buffer.from(JSON.stringify({ dl: `http://127.0.0.1:${port}/dl/{crate}/{version}`, api: `http://127.0.0.1:${port}` }));
    else if (url.startsWith('/index/')) {
      const name = url.split('/').pop()!;
      const lines = index.get(name);
      if (lines && url === `/index/${indexPath(name)}`) body = Buffer.from(lines.join('\n') + '\n');
    } else if (url.startsWith('/dl/')) {
      const [, , name, vers] = url.split('/');
      body = bytes.get(`${name}/${vers}`);
      if (body) stats.downloads++;
    }
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  const url = `sparse+http://127.0.0.1:${port}/index/`;
  return {
    url,
    cksum,
    crate,
    uploads,
    stats,
    async consumer(ws, deps, main, extra = {}) {
      const files: Record<string, string> = {
        'Cargo.toml': `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n${deps.map((d) => `${d} = "1"`).join('\n')}\n`,
        'src/main.rs': main,
        '.cargo/config.toml': `[source.crates-io]\nreplace-with = "testsrc"\n\n[source.testsrc]\nregistry = "${url}"\n\n[registries.testreg]\nindex = "${url}"\n`,
        ...extra,
      };
      for (const [p, text] of Object.entries(files)) {
        await fs.mkdir(join(ws, p, '..'), { recursive: true });
        await fs.writeFile(join(ws, p), text);
      }
      return ws;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
