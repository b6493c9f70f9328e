import { runCommand } from '../os/run.js';
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/*
 * The one reader of Cargo.lock: the registry packages it locks with their checksums, where the
 * workspace's lock file is, and what cargo's index cache says of a locked version.
 */

/** A package of Cargo.lock that came from a registry: the only kind with a checksum. */
export interface LockedCrate {
  name: string;
  version: string;
  source: string;
  checksum: string;
}

/**
 * Pure: the string keys of every `[[package]]` of a Cargo.lock, each package a lookup of its own.
 * Only plain `key = "value"` lines before a package's first sub-table are read: the few keys
 * used here need no TOML library in the bundle. The one Cargo.lock reader of both stores.
 */
export function lockPackages(text: string): ((key: string) => string | undefined)[] {
  return text
    .split(/^\[\[package\]\]\s*$/m)
    .slice(1)
    .map((block) => {
      const head = block.split(/^\[/m)[0];
      return (k: string) => new RegExp(`^${k}\\s*=\\s*"([^"]*)"\\s*$`, 'm').exec(head)?.[1];
    });
}

/**
 * Pure: the registry packages of a Cargo.lock (format v3 and v4; v1/v2 keep checksums in
 * [metadata] and are ignored: nothing is seeded for them).
 */
export function parseLock(text: string): LockedCrate[] {
  const out: LockedCrate[] = [];
  for (const field of lockPackages(text)) {
    const [name, version, source, checksum] = ['name', 'version', 'source', 'checksum'].map(field);
    const fromRegistry = source !== undefined && (source.startsWith('registry+') || source.startsWith('sparse+'));
    if (name && version && fromRegistry && checksum && /^[0-9a-f]{64}$/.test(checksum)) out.push({ name, version, source: source!, checksum });
  }
  return out;
}

/**
 * Pure: a Cargo.lock's packages split in two: `local`, the names of those without a `source`
 * (the workspace's members and path dependencies, which cargo fingerprints by mtime), and
 * `external`, one `name version source checksum` line per other package (what a dependency
 * archive's key hashes).
 */
export function lockDependencies(text: string): { local: string[]; external: string[] } {
  const local: string[] = [];
  const external: string[] = [];
  for (const field of lockPackages(text)) {
    const [name, version, source, checksum] = ['name', 'version', 'source', 'checksum'].map(field);
    if (!name) continue;
    if (source === undefined) local.push(name);
    else external.push([name, version, source, checksum ?? ''].join(' '));
  }
  return { local, external };
}

/**
 * Pure: what a manifest's text says of where its workspace's root is, where that is plain:
 * `here` for a manifest with a `[workspace]` table (a workspace's root is where it is declared);
 * `alone` for one that names no workspace at all (then its directory is the root unless a
 * manifest above claims it); `ask` for a `workspace = ...` key (a package that names its root,
 * or a workspace written inline), which only cargo reads right.
 */
export function workspaceHint(manifest: string): 'here' | 'alone' | 'ask' {
  if (/^\s*workspace\s*=/m.test(manifest)) return 'ask';
  return /^\s*\[\s*workspace\s*(\.[^\]]*)?\]/m.test(manifest) ? 'here' : 'alone';
}

/**
 * The workspace's Cargo.lock, found the way cargo finds the workspace. Where the manifest says it
 * plainly (workspaceHint: a `[workspace]` table, or a package with no manifest above it), from the
 * manifest; otherwise `cargo locate-project --workspace` run where the build will run, which costs
 * a process and rustup's proxy, 10 to 20 ms of every step's start; when cargo cannot say (no
 * Cargo.toml there), the nearest Cargo.lock above the directory.
 */
export async function findLockFile(manifestPath: string | undefined, workingDirectory: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const manifest = manifestPath ? resolve(workingDirectory, manifestPath) : nearestAbove(workingDirectory, 'Cargo.toml');
  if (!manifest) return undefined;
  const text = await fs.readFile(manifest, 'utf8').catch(() => undefined);
  const hint = text === undefined ? 'ask' : workspaceHint(text);
  if (hint === 'here' || (hint === 'alone' && !nearestAbove(dirname(dirname(manifest)), 'Cargo.toml'))) {
    const lock = join(dirname(manifest), 'Cargo.lock');
    return existsSync(lock) ? lock : undefined;
  }
  const args = [
    'locate-project',
    '--workspace',
    '--message-format',
    'plain',
    ...(manifestPath ? ['--manifest-path', resolve(workingDirectory, manifestPath)] : []),
  ];
  const r = await runCommand('cargo', args, 30_000, { cwd: workingDirectory, env });
  if (r.code === 0 && r.stdout.trim()) {
    const lock = join(dirname(r.stdout.trim()), 'Cargo.lock');
    return existsSync(lock) ? lock : undefined;
  }
  for (let d = resolve(workingDirectory); ; d = dirname(d)) {
    if (existsSync(join(d, 'Cargo.lock'))) return join(d, 'Cargo.lock');
    if (dirname(d) === d) return undefined;
  }
}

/** The nearest `name` at or above `dir`, or undefined. */
function nearestAbove(dir: string, name: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, name))) return join(d, name);
    if (dirname(d) === d) return undefined;
  }
}

export async function readLock(path: string): Promise<LockedCrate[]> {
  return parseLock(await fs.readFile(path, 'utf8'));
}

/** cargo's sparse-index path of a crate name (also the layout of registry/index/<dir>/.cache). */
export function indexPath(name: string): string {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/**
 * Pure: does a cached index file (cargo's binary .cache format: a header, then pairs of
 * NUL-terminated version and JSON line) carry this version with this checksum?
 */
export function indexEntryMatches(buf: Buffer, version: string, checksum: string): boolean {
  return indexChecksums(buf, version).includes(checksum);
}

/** Pure: the checksums a cached index file (the format above) gives for one version. */
export function indexChecksums(buf: Buffer, version: string): string[] {
  const parts = buf.toString('latin1').split('\0');
  const out: string[] = [];
  for (let i = 1; i + 1 < parts.length; i++) {
    if (parts[i] !== version) continue;
    try {
      const entry = JSON.parse(Buffer.from(parts[i + 1], 'latin1').toString('utf8')) as { vers?: string; cksum?: string };
      if (entry.vers === version && typeof entry.cksum === 'string') out.push(entry.cksum);
    } catch {
      /* not a JSON line: keep looking */
    }
  }
  return out;
}
