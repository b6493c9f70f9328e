// Real crates for the tests and the bench, offline: Debian's `librust-*-dev` packages put crate
// sources under /usr/share/cargo/registry/<name>-<version>/. This packs them into a sparse
// registry directory in makeRegistry's shape (index/ and crates/), which serveRegistry
// (registry.mjs) serves on 127.0.0.1, and writes a workspace of real dependencies that resolves
// against it. Index entries come from `cargo metadata --no-deps` of each crate's own manifest,
// so dependency requirements, features and optional dependencies are cargo's reading of them.
//
//   node scripts/lib/real-crates.mjs OUT_DIR    # packs once; prints the crate count
//
// CI and a fresh machine get the packages with apt (REAL_CRATE_PACKAGES below); `ensurePackages`
// installs the missing ones.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DEBIAN_REGISTRY = '/usr/share/cargo/registry';

/** Debian packages whose crates (with their dependencies) make the real-crates workspace. */
export const REAL_CRATE_PACKAGES = [
  'librust-serde-json-dev',
  'librust-regex-dev',
  'librust-clap-dev',
  'librust-tokio-dev',
  'librust-chrono-dev',
  'librust-anyhow-dev',
  'librust-thiserror-dev',
  'librust-serde-derive-dev',
];

/** The workspace's direct dependencies: a typical service's (48 crates once resolved). */
export const REAL_DEPS = `serde = { version = "1", features = ["derive"] }
serde_json = "1"
regex = "1"
clap = { version = "4", features = ["derive"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros", "sync", "time"] }
chrono = { version = "0.4", default-features = false, features = ["clock", "std"] }
anyhow = "1"
thiserror = "1"
`;

/** @param {string} name */
const indexPath = (name) => {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
};

/** Installs the packages (REAL_CRATE_PACKAGES, or `packages`) with apt when some are missing (root, Debian). */
export function ensurePackages(packages = REAL_CRATE_PACKAGES) {
  const status = (() => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f', '${Status}\\n', ...packages], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return ''; // some package dpkg does not know
    }
  })();
  if (status.split('\n').filter((l) => l.endsWith(' installed')).length === packages.length) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: 'ignore' });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    install();
  }
}

/**
 * @param {string} d
 * @returns {string[]}
 */
function readdirSafe(d) {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/**
 * One index line from `cargo metadata` of a crate's manifest (the registry's JSON format).
 * @param {any} pkg a package of `cargo metadata`'s output
 * @param {string} cksum
 */
function indexEntry(pkg, cksum) {
  const deps = pkg.dependencies.map((/** @type {any} */ d) => ({
    name: d.rename ?? d.name,
    req: d.req,
    features: d.features,
    optional: d.optional,
    default_features: d.uses_default_features,
    target: d.target ?? null,
    kind: d.kind ?? 'normal',
    ...(d.rename ? { package: d.name } : {}),
  }));
  return { name: pkg.name, vers: pkg.version, deps, cksum, features: pkg.features, yanked: false, ...(pkg.links ? { links: pkg.links } : {}) };
}

/**
 * Packs every crate under `from` into `dir` (index/ and crates/, makeRegistry's shape).
 * Idempotent: a `dir/packed.json` listing the same source dirs means nothing to do.
 */
/**
 * @param {string} dir
 * @param {{ from?: string }} o
 * @returns {Promise<number>}
 */
export async function packRegistry(dir, { from = DEBIAN_REGISTRY } = {}) {
  const srcs = readdirSafe(from)
    .filter((d) => /^[A-Za-z0-9_-]+-\d+\.\d+\.\d+/.test(d))
    .sort();
  if (srcs.length === 0) throw new Error(`No crates under ${from}: install ${REAL_CRATE_PACKAGES.join(' ')} (apt-get), or call ensurePackages().`);
  const stamp = join(dir, 'packed.json');
  const want = JSON.stringify(srcs);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return srcs.length;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'crates'), { recursive: true });
  mkdirSync(join(dir, 'index'), { recursive: true });
  // Manifests are read with an empty CARGO_HOME of our own: no config of the machine applies.
  const home = join(dir, '.meta-home');
  mkdirSync(home, { recursive: true });
  /** @type {Map<string, ReturnType<typeof indexEntry>[]>} */
  const entries = new Map();
  /** @param {string} d */
  const one = async (d) => {
    const { stdout } = await run('cargo', ['metadata', '--no-deps', '--offline', '--format-version', '1', '--manifest-path', join(from, d, 'Cargo.toml')], {
      env: { ...process.env, CARGO_HOME: home },
      maxBuffer: 64 << 20,
    }).catch(() => ({ stdout: '' }));
    if (!stdout) return; // a manifest cargo cannot read (a crate Debian patched for itself): left out
    const pkg = JSON.parse(stdout).packages[0];
    const top = `${pkg.name}-${pkg.version}`;
    const crate = join(dir, 'crates', `${top}.crate`);
    // A .crate is a gzipped tar of <name>-<version>/; fixed owner and mtime, so packing twice
    // gives the same checksums. Debian's checksum file is for vendored sources, not registries.
    await run('tar', [
      'czf',
      crate,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mtime=2020-01-01',
      '--sort=name',
      '--exclude=.cargo-checksum.json',
      `--transform=s,^${d.replace(/[.]/g, '\\.')},${top},`,
      '-C',
      from,
      d,
    ]);
    const cksum = createHash('sha256').update(readFileSync(crate)).digest('hex');
    const list = entries.get(pkg.name) ?? [];
    list.push(indexEntry(pkg, cksum));
    entries.set(pkg.name, list);
  };
  // Two at a time: the machine has two cores and other work.
  const queue = [...srcs];
  await Promise.all(
    [0, 1].map(async () => {
      for (let d = queue.shift(); d; d = queue.shift()) await one(d);
    }),
  );
  for (const [name, list] of entries) {
    const p = join(dir, 'index', indexPath(name));
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, list.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }
  rmSync(home, { recursive: true, force: true });
  writeFileSync(`${stamp}.tmp`, want);
  renameSync(`${stamp}.tmp`, stamp);
  return entries.size;
}

/**
 * A workspace depending on REAL_DEPS (or `deps`), resolved against `registryUrl`: a binary
 * `app` using them, so every dependency is compiled. `extraFiles` adds files (path -> text).
 */
/**
 * @param {string} dir
 * @param {string} registryUrl
 * @param {{ deps?: string, main?: string, extraFiles?: Record<string, string> }} o
 * @returns {string}
 */
export function makeRealWorkspace(dir, registryUrl, { deps = REAL_DEPS, main, extraFiles = {} } = {}) {
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, '.cargo'), { recursive: true });
  writeFileSync(join(dir, 'Cargo.toml'), `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${deps}`);
  writeFileSync(join(dir, 'src', 'main.rs'), main ?? REAL_MAIN(0));
  writeFileSync(join(dir, '.cargo', 'config.toml'), `[source.crates-io]\nreplace-with = "local"\n\n[source.local]\nregistry = "${registryUrl}"\n`);
  for (const [p, text] of Object.entries(extraFiles)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

/** main.rs using every direct dependency; `n` is the one-line change. */
export const REAL_MAIN = (/** @type {number} */ n) => `use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = ${n})]
    n: u64,
}

#[derive(Serialize, Deserialize, Debug)]
struct Row {
    n: u64,
    at: String,
}

#[derive(thiserror::Error, Debug)]
enum E {
    #[error("bad {0}")]
    Bad(u64),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let re = regex::Regex::new(r"^\\d+$")?;
    let row = Row { n: a.n, at: chrono::Utc::now().to_rfc3339() };
    let s = serde_json::to_string(&row)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move { tx.send(s).await.ok() });
    let got = rx.recv().await.ok_or(E::Bad(a.n))?;
    println!("{} {}", re.is_match(&a.n.to_string()), got);
    Ok(())
}
`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node scripts/lib/real-crates.mjs OUT_DIR');
  ensurePackages();
  process.stdout.write(`${await packRegistry(out)} crates packed into ${out}\n`);
}
