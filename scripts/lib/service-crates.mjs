// The bench's big workspace: what a real service or CLI depends on (async runtime, HTTP client
// and server, TLS, serde in five formats, clap, tracing, regex, PostgreSQL and SQLite clients, a
// DNS resolver, D-Bus, rayon, hashing, compression with C libraries, images and their codecs,
// templates, object files and DWARF), from Debian's librust-*-dev packages packed into the loopback
// registry by real-crates.mjs (one registry for both workspaces). 346 crates once resolved; a cold
// build takes 185-187 s of CPU: 71 s on this 2-core machine when quiet, minutes when busy (bench 11),
// against the 48-crate workspace's 15 s, where fixed costs decide every ratio. Build
// scripts (ring compiles C and assembly with cc, serde, proc-macro2, libc, ...) and proc macros
// (serde_derive, clap_derive, tokio-macros, thiserror-impl, async-trait, tracing-attributes,
// pin-project-internal, prost-derive, postgres-derive, futures-macro).
//
//   ensurePackages(SERVICE_CRATE_PACKAGES); await packRegistry(dir); serveRegistry(dir);
//   makeServiceWorkspace(ws, server.url); cargo generate-lockfile; cargo build
import { REAL_CRATE_PACKAGES, makeRealWorkspace } from './real-crates.mjs';

/** Debian packages whose crates (with their dependencies) make the service workspace; a superset of the small one's. */
export const SERVICE_CRATE_PACKAGES = [
  ...new Set([
    ...REAL_CRATE_PACKAGES,
    ...['tokio', 'tokio-util', 'tokio-stream', 'futures', 'hyper', 'reqwest', 'hyper-rustls', 'tokio-rustls', 'rustls', 'ring', 'tower', 'h2', 'bytes']
      .concat(['serde-yaml', 'toml', 'csv', 'clap', 'tracing', 'tracing-subscriber', 'regex', 'tokio-postgres', 'uuid', 'chrono', 'rayon', 'sha2'])
      .concat(['base64', 'rand', 'itertools', 'parking-lot', 'once-cell', 'url', 'flate2', 'anyhow', 'thiserror', 'prost'])
      // What a service adds as it grows: images and their codecs, archives and compressors (two with
      // C libraries), templates and markdown, more formats, a DNS resolver, SQLite, object files and
      // DWARF, D-Bus, plotting, graphs and numbers.
      .concat(['image', 'zip', 'tera', 'pulldown-cmark', 'quick-xml', 'serde-cbor', 'bincode', 'walkdir', 'globset', 'ignore'])
      .concat(['trust-dns-resolver', 'rusqlite', 'object', 'gimli', 'xz2', 'bzip2', 'zstd', 'num', 'petgraph', 'zbus', 'plotters', 'async-std'])
      .map((c) => `librust-${c}-dev`),
  ]),
];

/** The service's direct dependencies (346 crates locked, 331 units compiled). */
export const SERVICE_DEPS = `serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_yaml = "0.8"
toml = "0.5"
csv = "1"
regex = "1"
clap = { version = "4", features = ["derive", "env"] }
tokio = { version = "1", features = ["full"] }
tokio-util = { version = "0.7", features = ["codec"] }
tokio-stream = "0.1"
futures = "0.3"
hyper = { version = "0.14", features = ["full"] }
reqwest = { version = "0.11", default-features = false, features = ["json", "rustls-tls-native-roots", "cookies", "stream"] }
tower = { version = "0.4", features = ["full"] }
tracing = "0.1"
tracing-subscriber = { version = "0.3", features = ["env-filter", "json"] }
tokio-postgres = { version = "0.7", features = ["with-uuid-1", "with-chrono-0_4", "with-serde_json-1"] }
uuid = { version = "1", features = ["v4", "serde"] }
chrono = { version = "0.4", features = ["serde"] }
rustls = "0.20"
ring = "0.16"
flate2 = "1"
rayon = "1"
sha2 = "0.10"
base64 = "0.13"
rand = "0.8"
itertools = "0.10"
parking_lot = "0.12"
once_cell = "1"
url = "2"
bytes = "1"
anyhow = "1"
thiserror = "1"
prost = "0.11"
image = "0.24"
zip = "0.6"
tera = "1"
pulldown-cmark = "0.9"
quick-xml = { version = "0.26", features = ["serialize"] }
serde_cbor = "0.11"
bincode = "1"
walkdir = "2"
ignore = "0.4"
globset = "0.4"
trust-dns-resolver = "0.22"
rusqlite = "0.28"
object = "0.30"
gimli = "0.27"
xz2 = "0.1"
bzip2 = "0.4"
zstd = "0.12"
num = "0.4"
petgraph = "0.6"
zbus = "1.9"
plotters = "0.3"
async-std = "1"
`;

/** main.rs of a small service using its dependencies; `n` is the one-line change. @param {number} n */
export const SERVICE_MAIN = (n) => `use clap::Parser;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = ${n})]
    n: u64,
    #[arg(long, env = "APP_DB", default_value = "host=127.0.0.1 user=app")]
    db: String,
}

#[derive(Serialize, Deserialize, Debug)]
struct Row {
    id: uuid::Uuid,
    n: u64,
    at: chrono::DateTime<chrono::Utc>,
    digest: String,
}

#[derive(thiserror::Error, Debug)]
enum E {
    #[error("bad {0}")]
    Bad(u64),
}

async fn hello(_: hyper::Request<hyper::Body>) -> Result<hyper::Response<hyper::Body>, Infallible> {
    Ok(hyper::Response::new(hyper::Body::from("ok")))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let a = Args::parse();
    let config: tokio_postgres::Config = a.db.parse()?;
    let re = regex::Regex::new(r"^\\d+$")?;
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(a.n.to_le_bytes()));
    let row = Row { id: uuid::Uuid::new_v4(), n: a.n, at: chrono::Utc::now(), digest: format!("{:x}", digest) };
    let json = serde_json::to_string(&row)?;
    let yaml = serde_yaml::to_string(&row)?;
    let sum: u64 = rayon::iter::ParallelIterator::sum(rayon::iter::IntoParallelIterator::into_par_iter(0..a.n));
    let encoded = serde_cbor::to_vec(&row)?.len() + bincode::serialize(&row)?.len();
    let mut graph = petgraph::Graph::<u64, ()>::new();
    graph.add_node(a.n);
    let rs = globset::Glob::new("*.rs")?.compile_matcher().is_match("main.rs");
    let files = walkdir::WalkDir::new(".").max_depth(1).into_iter().count();
    let headings = pulldown_cmark::Parser::new("# service").count();
    let client = reqwest::Client::builder().build()?;
    let make = hyper::service::make_service_fn(|_| async { Ok::<_, Infallible>(hyper::service::service_fn(hello)) });
    let server = hyper::Server::bind(&([127, 0, 0, 1], 0).into()).serve(make);
    tracing::info!(addr = %server.local_addr(), ?config, "listening");
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move { tx.send(json).await.ok() });
    let got = rx.recv().await.ok_or(E::Bad(a.n))?;
    println!("{} {} {} {} {:?}", re.is_match(&a.n.to_string()), got, yaml.len(), sum, client);
    println!("{} {} {} {} {}", encoded, graph.node_count(), rs, files, headings);
    Ok(())
}
`;

/**
 * The service workspace at `dir`, resolving against `registryUrl` (makeRealWorkspace's shape).
 * @param {string} dir
 * @param {string} registryUrl
 * @param {{ main?: string, extraFiles?: Record<string, string> }} [o]
 */
export const makeServiceWorkspace = (dir, registryUrl, { main, extraFiles } = {}) =>
  makeRealWorkspace(dir, registryUrl, { deps: SERVICE_DEPS, main: main ?? SERVICE_MAIN(0), extraFiles });
