import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findLockFile, workspaceHint } from '../src/store/lockfile.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * store/lockfile.ts finds a workspace's Cargo.lock from its manifests where they say it plainly,
 * without running cargo (a process and rustup's proxy at every step's start), and asks cargo
 * otherwise. Each layout below is checked against `cargo locate-project --workspace` itself, and
 * the plain ones again with no cargo on PATH, which shows that no process was needed.
 */
let scratch: string;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-lockfile-'));
});
afterAll(async () => {
  await removeScratch(scratch);
});

describe('workspaceHint (pure)', () => {
  test.each([
    ['[package]\nname = "a"\nversion = "0.1.0"\n', 'alone'],
    ['[workspace]\nmembers = ["a"]\n', 'here'],
    ['[package]\nname = "a"\nversion = "0.1.0"\n\n[workspace]\n', 'here'],
    ['[workspace.dependencies]\nserde = "1"\n', 'here'],
    ['[ workspace ]\nresolver = "2"\n', 'here'],
    ['[package]\nname = "a"\nversion = "0.1.0"\nworkspace = "../.."\n', 'ask'],
    ['workspace = { members = ["a"] }\n', 'ask'],
    ['[package]\nname = "workspace-tools"\nversion = "0.1.0"\n# [workspace] is not declared here\n', 'alone'],
  ])('%j: %s', (text, hint) => expect(workspaceHint(text)).toBe(hint));
});

const pkg = (name: string, extra = '') => `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n${extra}`;

/** A layout of files under its own directory; every package gets a lib.rs, every Cargo.lock is cargo's own. */
async function layout(name: string, files: Record<string, string>): Promise<string> {
  const base = join(scratch, name);
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(dirname(join(base, p)), { recursive: true });
    await fs.writeFile(join(base, p), text);
    if (p.endsWith('Cargo.toml') && text.includes('[package]')) {
      await fs.mkdir(join(base, dirname(p), 'src'), { recursive: true });
      await fs.writeFile(join(base, dirname(p), 'src', 'lib.rs'), '');
    }
  }
  return base;
}

/** What cargo itself says: the root manifest's directory's Cargo.lock, if there is one. */
async function cargosAnswer(cwd: string, manifest?: string): Promise<string | undefined> {
  const out = execFileSync('cargo', ['locate-project', '--workspace', '--message-format', 'plain', ...(manifest ? ['--manifest-path', manifest] : [])], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CARGO_HOME: join(scratch, 'cargo-home') },
  }).trim();
  const lock = join(dirname(out), 'Cargo.lock');
  return (await fs.stat(lock).catch(() => undefined)) ? lock : undefined;
}

const noCargo = { ...process.env, PATH: '/nonexistent' };

describe('findLockFile, against cargo locate-project', () => {
  test.each([
    ['a package of its own', { 'Cargo.toml': pkg('a'), 'Cargo.lock': '' }, '.', true],
    ['a workspace root', { 'Cargo.toml': '[workspace]\nmembers = ["m"]\n', 'm/Cargo.toml': pkg('m'), 'Cargo.lock': '' }, '.', true],
    ['a root package with [workspace]', { 'Cargo.toml': pkg('r', '[workspace]\nmembers = ["m"]\n'), 'm/Cargo.toml': pkg('m'), 'Cargo.lock': '' }, '.', true],
    ['a member, from its directory', { 'Cargo.toml': '[workspace]\nmembers = ["m"]\n', 'm/Cargo.toml': pkg('m'), 'Cargo.lock': '' }, 'm', false],
    [
      'a package below a workspace that excludes it, with its own lock',
      { 'Cargo.toml': '[workspace]\nmembers = []\nexclude = ["tool"]\n', 'Cargo.lock': '', 'tool/Cargo.toml': pkg('tool'), 'tool/Cargo.lock': '' },
      'tool',
      false,
    ],
    [
      'a package that names its root',
      { 'Cargo.toml': '[workspace]\nmembers = ["deep/p"]\n', 'Cargo.lock': '', 'deep/p/Cargo.toml': pkg('p', 'workspace = "../.."\n') },
      'deep/p',
      false,
    ],
    ['a package without a lock yet', { 'Cargo.toml': pkg('a') }, '.', true],
  ])('%s', async (name, files, from, plain) => {
    const base = await layout(name.replace(/\W+/g, '-'), files);
    const cwd = join(base, from);
    const cargo = await cargosAnswer(cwd);
    expect(await findLockFile(undefined, cwd, process.env)).toBe(cargo);
    // Where the manifests say it plainly, no cargo is needed to find it.
    if (plain) expect(await findLockFile(undefined, cwd, noCargo)).toBe(cargo);
  });

  test('manifest-path names the manifest: the same answer as cargo from anywhere', async () => {
    const base = await layout('manifest-path', { 'ws/Cargo.toml': '[workspace]\nmembers = ["m"]\n', 'ws/m/Cargo.toml': pkg('m'), 'ws/Cargo.lock': '' });
    expect(await findLockFile('ws/Cargo.toml', base, noCargo)).toBe(await cargosAnswer(base, join(base, 'ws', 'Cargo.toml')));
    expect(await findLockFile('ws/m/Cargo.toml', base, process.env)).toBe(await cargosAnswer(base, join(base, 'ws', 'm', 'Cargo.toml')));
  });

  test('no manifest anywhere above: no lock file, and no cargo run', async () => {
    const base = await layout('nothing', { 'README.md': 'not rust\n' });
    expect(await findLockFile(undefined, base, noCargo)).toBeUndefined();
  });
});
