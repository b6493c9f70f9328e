import { promises as fs } from 'node:fs';
import { join } from 'node:path';

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
    await fs.writeFile(join(dir, m, 'src', 'lib.rs'), `pub fn value() -> u64 { ${body} }\n#[cfg(test)]\nmod tests { #[test] fn works() { assert!(super::value() > 0); } }\n`);
  }
  await fs.mkdir(join(dir, 'app', 'src'), { recursive: true });
  const last = `c${crates - 1}`;
  await fs.writeFile(join(dir, 'app', 'Cargo.toml'), `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${last} = { path = "../${last}" }\n`);
  await fs.writeFile(join(dir, 'app', 'src', 'main.rs'), `fn main() { println!("{}", ${last}::value()); }\n`);
  return dir;
}

/** Names of the crates cargo says it compiled ("Compiling c0 v0.1.0 ..."). */
export function compiled(stderr: string): string[] {
  return [...stderr.matchAll(/^\s*Compiling (\S+) v/gm)].map((m) => m[1]);
}

/** One crate whose build script sleeps: cargo holds its build lock for that long. */
export async function makeSlowWorkspace(dir: string, seconds: number): Promise<string> {
  await fs.mkdir(join(dir, 'src'), { recursive: true });
  await fs.writeFile(join(dir, 'Cargo.toml'), '[package]\nname = "slow"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n');
  await fs.writeFile(join(dir, 'build.rs'), `fn main() { std::thread::sleep(std::time::Duration::from_millis(${Math.round(seconds * 1000)})); }\n`);
  await fs.writeFile(join(dir, 'src', 'main.rs'), 'fn main() {}\n');
  return dir;
}

/** Registry crates cargo built (`Compiling`) or checked (`Checking`, for cargo check). */
export function registryDeps(stderr: string): string[] {
  return [...compiled(stderr), ...[...stderr.matchAll(/^\s*Checking (\S+) v/gm)].map((m) => m[1])].filter((c) => c.startsWith('dep'));
}
