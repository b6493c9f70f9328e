import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { CrateEntry } from './tar.js';

/*
 * The tree of a locked commit, read from a git database (`CARGO_HOME/git/db/<name>`) with every
 * object checked against its name: the commit's own hash is the one Cargo.lock pins, and each
 * tree and blob read below it is hashed again here (git's `cat-file` returns what the object store
 * holds without checking it; libgit2, which cargo checks out with, checks every object it reads).
 * So what a checkout is compared with is the commit the lock names, whatever else a job put in
 * the database. SHA-1 repositories only (what cargo's git sources are).
 */

export interface GitEntry {
  kind: 'file' | 'symlink' | 'dir' | 'submodule';
  /** Permission bits a checkout gives it: 0o755 for an executable blob, else 0o644. */
  mode: number;
  sha: string;
}

export class GitObjectError extends Error {}

const SHA = /^[0-9a-f]{40}$/;

/** git as a child process without the job's GIT_* variables (they could point it at other objects). */
function catFile(db: string, shas: string[], env: NodeJS.ProcessEnv): Promise<Buffer> {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('GIT_')));
  return new Promise((res, rej) => {
    const child = spawn('git', ['-c', 'safe.directory=*', '--git-dir', db, 'cat-file', '--batch'], { env: clean, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => rej(new GitObjectError(`git cat-file in ${db}: ${e.message}`)));
    child.on('close', (code) =>
      code === 0 ? res(Buffer.concat(out)) : rej(new GitObjectError(`git cat-file in ${db} exited ${code}: ${err.trim().slice(0, 200)}`)),
    );
    child.stdin.end(shas.join('\n') + '\n');
  });
}

/** Pure: the objects of a `cat-file --batch` answer, each checked against its name. */
export function parseBatch(buf: Buffer): Map<string, { type: string; data: Buffer }> {
  const out = new Map<string, { type: string; data: Buffer }>();
  for (let at = 0; at < buf.length;) {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) break;
    const [sha, type, size] = buf.subarray(at, nl).toString('latin1').split(' ');
    if (type === 'missing' || size === undefined) throw new GitObjectError(`object ${sha} is missing`);
    const data = buf.subarray(nl + 1, nl + 1 + Number(size));
    const actual = createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
    if (actual !== sha) throw new GitObjectError(`object ${sha} holds content whose hash is ${actual}`);
    out.set(sha, { type, data });
    at = nl + 1 + Number(size) + 1;
  }
  return out;
}

/** Pure: the entries of a tree object: mode, name, object name. */
function treeEntries(data: Buffer): { mode: string; name: string; sha: string }[] {
  const out = [];
  for (let at = 0; at < data.length;) {
    const sp = data.indexOf(0x20, at);
    const nul = data.indexOf(0, sp);
    out.push({
      mode: data.subarray(at, sp).toString('latin1'),
      name: data.subarray(sp + 1, nul).toString('utf8'),
      sha: data.subarray(nul + 1, nul + 21).toString('hex'),
    });
    at = nul + 21;
  }
  return out;
}

async function objects(db: string, shas: string[], env: NodeJS.ProcessEnv) {
  return shas.length ? parseBatch(await catFile(db, [...new Set(shas)], env)) : new Map<string, { type: string; data: Buffer }>();
}

/** Every path of `commit`'s tree, level by level (one `cat-file` per level), every object checked. */
export async function commitTree(db: string, commit: string, env: NodeJS.ProcessEnv = process.env): Promise<Map<string, GitEntry>> {
  if (!SHA.test(commit)) throw new GitObjectError(`${commit} is not a SHA-1 commit name`);
  const c = (await objects(db, [commit], env)).get(commit)!;
  const tree = /^tree ([0-9a-f]{40})$/m.exec(c.data.toString('latin1'))?.[1];
  if (c.type !== 'commit' || !tree) throw new GitObjectError(`${commit} is not a commit`);
  const out = new Map<string, GitEntry>();
  let level: { path: string; sha: string }[] = [{ path: '', sha: tree }];
  while (level.length) {
    const got = await objects(
      db,
      level.map((l) => l.sha),
      env,
    );
    const next: { path: string; sha: string }[] = [];
    for (const l of level) {
      const t = got.get(l.sha)!;
      if (t.type !== 'tree') throw new GitObjectError(`${l.sha} (${l.path || 'the top'}) is not a tree`);
      for (const e of treeEntries(t.data)) {
        const path = l.path ? `${l.path}/${e.name}` : e.name;
        if (e.mode === '40000') {
          out.set(path, { kind: 'dir', mode: 0o755, sha: e.sha });
          next.push({ path, sha: e.sha });
        } else if (e.mode === '160000') out.set(path, { kind: 'submodule', mode: 0o755, sha: e.sha });
        else if (e.mode === '120000') out.set(path, { kind: 'symlink', mode: 0o777, sha: e.sha });
        else out.set(path, { kind: 'file', mode: e.mode === '100755' ? 0o755 : 0o644, sha: e.sha });
      }
    }
    level = next;
  }
  return out;
}

/**
 * Pure and effect: the tree as crate-tree.ts compares it, with the bytes of `paths` (all files and
 * links when undefined) read from `db` and checked. Submodules are left out (their checkouts are
 * other repositories); cargo's marker is an empty `.cargo-ok`.
 */
export async function checkoutTree(
  db: string,
  tree: Map<string, GitEntry>,
  paths: string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Map<string, CrateEntry>> {
  const wanted = (p: string) => paths === undefined || paths.includes(p);
  const blobs = await objects(
    db,
    [...tree].filter(([p, e]) => (e.kind === 'file' || e.kind === 'symlink') && wanted(p)).map(([, e]) => e.sha),
    env,
  );
  const out = new Map<string, CrateEntry>();
  for (const [p, e] of tree) {
    if (e.kind === 'submodule') continue;
    const data = blobs.get(e.sha)?.data;
    if (e.kind === 'dir') out.set(p, { path: p, kind: 'dir', mode: 0o755, mtime: 0 });
    else if (e.kind === 'symlink') out.set(p, { path: p, kind: 'symlink', mode: 0o777, mtime: 0, target: data?.toString('utf8') });
    else out.set(p, { path: p, kind: 'file', mode: e.mode, mtime: 0, data });
  }
  out.set('.cargo-ok', { path: '.cargo-ok', kind: 'file', mode: 0o644, mtime: 0, data: Buffer.alloc(0) });
  return out;
}
