import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { until } from './pace.js';

/** A multi-crate cargo workspace with path dependencies only: builds offline in seconds. */
export async function makeWorkspace(dir: string, crates = 4): Promise<string> {
  const members = Array.from({ length: crates }, (_, i) => `c${i}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, 'Cargo.toml'), `[workspace]\nmembers = [${[...members, 'app'].map((m) => `"${m}"`).join(', ')}]\nresolver = "2"\n`);
  for (const [i, m] of members.entries()) {
    await fs.mkdir(join(dir, m, 'src'), { recursive: true });
    const dep = i > 0 ? `[dependencies]\nc${i - 1} = { path = "../c${i - 1}" }\n` : '';
    await fs.writeFile(join(dir, m, 'Cargo.toml'), `[package]\nname = "${m}"\nversion = "0.1.0"\nedition = "2021"\n\n${dep}`);
    const body = i > 0 ? `c${i - 1}::value() + ${i}` : '1';
    await fs.writeFile(
      join(dir, m, 'src', 'lib.rs'),
      `pub fn value() -> u64 { ${body} }\n#[cfg(test)]\nmod tests { #[test] fn works() { assert!(super::value() > 0); } }\n`,
    );
  }
  await fs.mkdir(join(dir, 'app', 'src'), { recursive: true });
  const last = `c${crates - 1}`;
  await fs.writeFile(
    join(dir, 'app', 'Cargo.toml'),
    `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${last} = { path = "../${last}" }\n`,
  );
  await fs.writeFile(join(dir, 'app', 'src', 'main.rs'), `fn main() { println!("{}", ${last}::value()); }\n`);
  return dir;
}

/** Names of the crates cargo says it compiled ("Compiling c0 v0.1.0 ..."). */
export function compiled(stderr: string): string[] {
  return [...stderr.matchAll(/^\s*Compiling (\S+) v/gm)].map((m) => m[1]);
}

/**
 * One crate whose build script holds cargo's build lock until the test lets it go: it writes
 * `started` in the crate's directory, then waits until a `release` file appears there. A test
 * waits for `started` (failing if cargo ends first), does what it must while cargo runs, then
 * releases; no guess of how long a build takes on this machine today. A script nobody releases
 * (a test that failed) ends by itself after 15 minutes.
 */
export interface HeldBuild {
  dir: string;
  /** Resolves once the build script runs; rejects if `build` (cargo's exit) settles first. */
  started(build?: Promise<unknown>): Promise<void>;
  /** Lets the build script end, so cargo finishes. */
  release(): Promise<void>;
}

export async function makeHeldWorkspace(dir: string): Promise<HeldBuild> {
  await fs.mkdir(join(dir, 'src'), { recursive: true });
  await fs.writeFile(join(dir, 'Cargo.toml'), '[package]\nname = "slow"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n');
  await fs.writeFile(
    join(dir, 'build.rs'),
    `use std::{env, fs, path::PathBuf, thread, time::{Duration, Instant}};
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    fs::write(dir.join("started"), "").unwrap();
    let t0 = Instant::now();
    while !dir.join("release").exists() && t0.elapsed() < Duration::from_secs(900) {
        thread::sleep(Duration::from_millis(50));
    }
}
`,
  );
  await fs.writeFile(join(dir, 'src', 'main.rs'), 'fn main() {}\n');
  const exists = (f: string) =>
    fs.access(join(dir, f)).then(
      () => true,
      () => false,
    );
  return {
    dir,
    started: async (build) => {
      await until('cargo to run the build script that holds its lock', () => exists('started'), { ms: 300_000, unless: build });
    },
    release: () => fs.writeFile(join(dir, 'release'), ''),
  };
}

/** Registry crates cargo built (`Compiling`) or checked (`Checking`, for cargo check). */
export function registryDeps(stderr: string): string[] {
  return [...compiled(stderr), ...[...stderr.matchAll(/^\s*Checking (\S+) v/gm)].map((m) => m[1])].filter((c) => c.startsWith('dep'));
}

/** The registry dependencies of the archive tests' workspace: a proc macro, a build script, plain libraries. */
export const DEPENDENCY_CRATES = `serde = { version = "1", features = ["derive"] }
anyhow = "1"
typenum = "1"
`;

/** That workspace's main.rs, `n` its one line that changes between builds. */
export const dependencyMain = (n: number): string => `use typenum::Unsigned;
#[derive(serde::Serialize)]
struct Row { n: u64 }
fn main() -> anyhow::Result<()> {
    let r = Row { n: ${n} + typenum::U7::to_u64() };
    println!("{}", r.n);
    Ok(())
}
`;
