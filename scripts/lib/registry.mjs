// A cargo sparse registry on 127.0.0.1 for tests and the benchmark: an index and .crate
// files generated here, served by a small HTTP server that can be throttled to a realistic
// link. Shared by __tests__ and scripts/bench.ts.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';

/** @param {string} name */
const indexPath = (name) => {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
};

/** @typedef {{ name: string, vers: string, cksum: string }} Crate */

/**
 * Writes `count` crates named `<prefix><i>` 1.0.0 (each `padBytes` of incompressible data).
 * @param {string} dir
 * @param {{ count: number, prefix?: string, padBytes?: number }} o
 * @returns {Crate[]}
 */
export function makeRegistry(dir, { count, prefix = 'dep', padBytes = 0 }) {
  mkdirSync(join(dir, 'index'), { recursive: true });
  mkdirSync(join(dir, 'crates'), { recursive: true });
  /** @type {Crate[]} */
  const crates = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${i}`;
    const vers = '1.0.0';
    const src = join(dir, 'build', `${name}-${vers}`);
    mkdirSync(join(src, 'src'), { recursive: true });
    writeFileSync(join(src, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "${vers}"\nedition = "2021"\n`);
    writeFileSync(join(src, 'src', 'lib.rs'), `pub fn v() -> u64 { ${i} }\n`);
    // Incompressible padding, so a crate's size on the wire is padBytes, as with real crates.
    if (padBytes) writeFileSync(join(src, 'pad.bin'), randomBytes(padBytes));
    const crate = join(dir, 'crates', `${name}-${vers}.crate`);
    execFileSync('tar', ['czf', crate, '--owner=0', '--group=0', '--mtime=2020-01-01', '-C', join(dir, 'build'), `${name}-${vers}`]);
    const cksum = createHash('sha256').update(readFileSync(crate)).digest('hex');
    const p = join(dir, 'index', indexPath(name));
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, JSON.stringify({ name, vers, deps: [], cksum, features: {}, yanked: false }) + '\n');
    crates.push({ name, vers, cksum });
  }
  return crates;
}

/**
 * Serves a registry made by makeRegistry. `bytesPerSecond` and `latencyMs` throttle every
 * response like a real link; counts requests so tests can prove nothing was downloaded.
 * @param {string} dir
 * @param {{ bytesPerSecond?: number, latencyMs?: number }} o
 * @returns {Promise<{ port: number, url: string, stats: { requests: number, downloads: number }, close(): Promise<void> }>}
 */
export async function serveRegistry(dir, { bytesPerSecond = 0, latencyMs = 0 } = {}) {
  const stats = { requests: 0, downloads: 0 };
  let port = 0;
  const server = createServer(async (req, res) => {
    stats.requests++;
    const url = (req.url ?? '').split('?')[0];
    if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
    /** @type {Buffer | undefined} */
    let body;
    if (url === '/index/config.json') body = Buffer.from(JSON.stringify({ dl: `http://127.0.0.1:${port}/crates/{crate}-{version}.crate` }));
    else if (url.startsWith('/index/') || url.startsWith('/crates/')) body = await readFile(join(dir, url.slice(1))).catch(() => undefined);
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (url.startsWith('/crates/')) stats.downloads++;
    const bytes = body.length;
    if (bytesPerSecond) await new Promise((r) => setTimeout(r, (bytes / bytesPerSecond) * 1000));
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    port,
    url: `sparse+http://127.0.0.1:${port}/index/`,
    stats,
    /** @returns {Promise<void>} */
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r(undefined));
      }),
  };
}

/**
 * A workspace whose crates.io dependencies are replaced by the local registry.
 * @param {string} dir
 * @param {string} registryUrl
 * @param {Crate[]} crates
 * @returns {string}
 */
export function makeConsumer(dir, registryUrl, crates) {
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, '.cargo'), { recursive: true });
  const deps = crates.map((c) => `${c.name} = "1"`).join('\n');
  writeFileSync(join(dir, 'Cargo.toml'), `[package]\nname = "consumer"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${deps}\n`);
  writeFileSync(join(dir, 'src', 'main.rs'), `fn main() { println!("{}", 0${crates.map((c) => ` + ${c.name}::v()`).join('')}); }\n`);
  writeFileSync(join(dir, '.cargo', 'config.toml'), `[source.crates-io]\nreplace-with = "local"\n\n[source.local]\nregistry = "${registryUrl}"\n`);
  return dir;
}
