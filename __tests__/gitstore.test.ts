import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Candidate, planPrune } from '../src/pool/guard.js';
import { gitStorePaths } from '../src/model/layout.js';
import { assignDbDirs, entryPath, gitEntries, parseGitLock, publishGit, seedGit, systemGit, urlKey } from '../src/store/gitstore.js';
import { commitGitDep, makeGitConsumer, serveGit } from '../scripts/lib/gitdep.mjs';
import { cli } from './helpers/cli.js';
import { SimJob, jobPool } from './helpers/runner.js';
import { removeScratch } from './helpers/scratch.js';
import { pruneIdle } from './helpers/guard.js';

// Real git repositories served by `git daemon` on 127.0.0.1, real cargo builds against them.
let scratch: string;
let srv: string;
const { job, cleanup: cleanupJobs } = jobPool();
const servers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-gitstore-'));
  srv = join(scratch, 'srv');
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await cleanupJobs();
  await removeScratch(scratch);
});

const sh = (cwd: string, cmd: string, args: string[]) => execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, HOME: scratch } }).trim();
const build = (j: SimJob, ws: string) => j.exec(['cargo', 'build', '--locked'], ws);
const row = (summary: string, what: string) => [...summary.matchAll(new RegExp(`<td>${what}</td><td>([^<]*)</td>`, 'g'))].map((m) => m[1]).join('\n');
const run = async (j: SimJob, ws: string) => (await j.exec(['cargo', 'run', '-q', '--locked'], ws)).stdout.trim();

/** A repository `name` under srv/, served, and a workspace locked to its current commit. */
async function dependency(
  name: string,
  answer: number,
  padMiB = 0,
): Promise<{ url: string; commit: string; ws: string; server: Awaited<ReturnType<typeof serveGit>> }> {
  const commit = commitGitDep(join(srv, name), { name, answer, init: true, padMiB });
  const server = await serveGit(srv);
  servers.push(server);
  const ws = makeGitConsumer(join(scratch, `ws-${name}`), name, server.url(name));
  await promisify(execFile)('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(scratch, 'lockgen-home') } });
  return { url: server.url(name), commit, ws, server };
}

describe('pure decisions', () => {
  test('the git packages of a Cargo.lock, one per repository and commit', () => {
    const c1 = 'a'.repeat(40);
    const c2 = 'b'.repeat(40);
    const lock = `version = 4\n\n[[package]]\nname = "app"\nversion = "0.1.0"\n\n[[package]]\nname = "x"\nversion = "1.0.0"\nsource = "git+https://example.invalid/me/x?branch=main#${c1}"\n\n[[package]]\nname = "x-macros"\nversion = "1.0.0"\nsource = "git+https://example.invalid/me/x?branch=main#${c1}"\n\n[[package]]\nname = "y"\nversion = "0.2.0"\nsource = "git+ssh://git@example.invalid/y.git#${c2}"\n\n[[package]]\nname = "z"\nversion = "0.3.0"\nsource = "git+https://example.invalid/z?branch=main"\n\n[[package]]\nname = "r"\nversion = "1.0.0"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "${'c'.repeat(64)}"\n`;
    expect(parseGitLock(lock)).toEqual([
      { name: 'x', version: '1.0.0', url: 'https://example.invalid/me/x', commit: c1 },
      { name: 'y', version: '0.2.0', url: 'ssh://git@example.invalid/y.git', commit: c2 },
    ]);
  });

  test('store keys are distinct per URL and safe as a path component', () => {
    expect(urlKey('https://example.invalid/me/x')).toMatch(/^x-[0-9a-f]{16}$/);
    expect(urlKey('https://example.invalid/you/x')).not.toBe(urlKey('https://example.invalid/me/x'));
    expect(urlKey('https://example.invalid/../..')).not.toMatch(/\//);
  });

  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  test.each([
    [
      'one dir, one URL',
      [{ name: 'x-0123456789abcdef', commits: [A], fetchedFrom: [] }],
      [{ url: 'https://h/me/x', commit: A }],
      { 'x-0123456789abcdef': 'https://h/me/x' },
      [],
    ],
    [
      "a dir with no locked commit is nobody's",
      [{ name: 'old-0123456789abcdef', commits: [], fetchedFrom: [] }],
      [{ url: 'https://h/me/x', commit: A }],
      {},
      [],
    ],
    [
      'fork and upstream at one commit: FETCH_HEAD decides',
      [
        { name: 'x-0123456789abcdef', commits: [A], fetchedFrom: ['https://h/me/x'] },
        { name: 'x-fedcba9876543210', commits: [A], fetchedFrom: ['https://h/up/x.git'] },
      ],
      [
        { url: 'https://h/me/x', commit: A },
        { url: 'https://h/up/x', commit: A },
      ],
      { 'x-0123456789abcdef': 'https://h/me/x', 'x-fedcba9876543210': 'https://h/up/x' },
      [],
    ],
    [
      'no FETCH_HEAD: the name prefix decides',
      [{ name: 'fork-0123456789abcdef', commits: [A], fetchedFrom: [] }],
      [
        { url: 'https://h/me/fork', commit: A },
        { url: 'https://h/up/x', commit: A },
      ],
      { 'fork-0123456789abcdef': 'https://h/me/fork' },
      [],
    ],
    [
      'still two candidates: ambiguous, not published',
      [{ name: 'x-0123456789abcdef', commits: [A], fetchedFrom: [] }],
      [
        { url: 'https://h/me/x', commit: A },
        { url: 'https://h/up/x', commit: A },
      ],
      {},
      ['x-0123456789abcdef'],
    ],
    [
      'two commits of two URLs in two dirs',
      [
        { name: 'x-0123456789abcdef', commits: [A], fetchedFrom: [] },
        { name: 'y-0123456789abcdef', commits: [B], fetchedFrom: [] },
      ],
      [
        { url: 'https://h/x', commit: A },
        { url: 'https://h/y', commit: B },
      ],
      { 'x-0123456789abcdef': 'https://h/x', 'y-0123456789abcdef': 'https://h/y' },
      [],
    ],
  ])('assignDbDirs: %s', (_n, dirs, locked, assigned, ambiguous) => {
    const r = assignDbDirs(dirs, locked);
    expect(Object.fromEntries(r.assigned)).toEqual(assigned);
    expect(r.ambiguous).toEqual(ambiguous);
  });

  test('the guard prunes git store entries last, least recently used first, in any scope', () => {
    const c = (kind: Candidate['kind'], path: string, lastUsedMs: number, owner?: string): Candidate => ({ kind, path, lastUsedMs, owner, live: false });
    const cands = [c('git', 'g-new', 30), c('git', 'g-old', 10), c('crate', 'c', 40), c('target', 't', 50, 'other'), c('target', 'mine', 60, 'me')];
    expect(planPrune(cands, 'host', 'me').ordered.map((x) => x.path)).toEqual(['t', 'mine', 'c', 'g-old', 'g-new']);
    // Runner scope: the stores are no runner's; another runner's idle build is left to the gc timer.
    expect(planPrune(cands, 'runner', 'me').ordered.map((x) => x.path)).toEqual(['mine', 'c', 'g-old', 'g-new']);
  });
});

describe('the git store through the action', () => {
  const root = () => join(scratch, 'root');

  test('a job on main publishes; with the git server gone, another PR in another slot builds --locked', async () => {
    const dep = await dependency('forked', 41);
    const one = await job({ branch: 'main', runner: 'r1' });
    const m1 = await one.run('main', { root: root(), 'working-directory': dep.ws });
    expect(m1.code).toBe(0);
    const b1 = await build(one, dep.ws);
    expect(b1.stderr).toMatch(/Updating git repository/);
    expect(b1.code).toBe(0);
    const p1 = await one.run('post');
    expect(p1.code).toBe(0);
    expect(row(p1.summary, 'Git deps published')).toMatch(/^1 new \([\d.]+ KiB\), 0 already stored/);
    const entry = entryPath(root(), dep.url, dep.commit);
    expect((await fs.readdir(entry)).filter((f) => /^pack-.*\.(pack|idx)$/.test(f))).toHaveLength(2);
    expect((await fs.stat(join(entry, 'entry.json'))).mode & 0o222).toBe(0);

    // Keep main's slot leased (a PR may take a base-branch slot without a wipe), then stop the
    // server: the second job gets another, empty CARGO_HOME and nothing to fetch from.
    const holder = await job({ branch: 'main', runner: 'r1' });
    expect((await holder.run('main', { root: root(), 'working-directory': dep.ws })).outputs.slot).toBe(m1.outputs.slot);
    await dep.server.close();
    await fs.rm(join(root(), 'homes', `u${process.getuid!()}`, 'git'), { recursive: true, force: true }); // a home that never fetched it
    const two = await job({ pr: 2, runner: 'r2' });
    const m2 = await two.run('main', { root: root(), 'working-directory': dep.ws });
    expect(m2.code).toBe(0);
    expect(m2.outputs.slot).not.toBe(m1.outputs.slot);
    expect(m2.stdout).toMatch(/Git: 1 locked git dependencies; seeded 1 \([\d.]+ KiB, link\)/);
    const b2 = await build(two, dep.ws);
    expect(b2.stderr).not.toMatch(/Updating git repository|failed to clone/);
    expect(b2.code).toBe(0);
    expect(await run(two, dep.ws)).toBe('41');
    const p2 = await two.run('post');
    expect(row(p2.summary, 'Git deps seeded')).toMatch(/^1 of 1 locked \([\d.]+ KiB not fetched, link\); 0 already there/);
    expect(row(p2.summary, 'Git deps published')).toMatch(/^0 new .*, 1 already stored/);
    // The PR's next run takes its own warm slot: the database is there, nothing to place.
    const again = await job({ pr: 2, runner: 'r2' });
    const m3 = await again.run('main', { root: root(), 'working-directory': dep.ws });
    expect(m3.outputs.slot).toBe(m2.outputs.slot);
    expect(m3.stdout).toMatch(/seeded 0 \(0 B, link\), 1 already there/);
    expect((await build(again, dep.ws)).code).toBe(0);
    await again.run('post');
    await holder.run('post');
  });

  /**
   * The git databases in the CARGO_HOME the uid's trusted jobs share go, as in a home that never
   * fetched them (another uid's, a new machine): the store is what fills such a home.
   */
  const emptyHomeGit = () => fs.rm(join(root(), 'homes', `u${process.getuid!()}`, 'git'), { recursive: true, force: true });

  /** A PR job in a slot of its own (wiped: another trust domain), with the server up, whose home lacks the git dependency. */
  async function seededJob(pr: number, ws: string) {
    await emptyHomeGit();
    const j = await job({ pr, runner: `r${pr}` });
    const m = await j.run('main', { root: root(), 'working-directory': ws });
    expect(m.code).toBe(0);
    return { j, m };
  }

  test('a corrupted object in the store is refused and refetched, never built from; a trusted post replaces the entry', async () => {
    // 1 MiB of random bytes beside the code: the middle of the pack lies inside that blob, which
    // the commit and its tree resolve without reading. Only hashing every object finds it.
    const dep = await dependency('patched', 7, 1);
    const pub = await seededJob(10, dep.ws);
    expect((await build(pub.j, dep.ws)).code).toBe(0);
    expect(row((await pub.j.run('post')).summary, 'Git deps published')).toMatch(/^1 new/);
    const entry = entryPath(root(), dep.url, dep.commit);
    const pack = join(
      entry,
      (await fs.readdir(entry)).find((f) => f.endsWith('.pack'))!,
    );
    const good = await fs.readFile(pack);
    const bad = Buffer.from(good);
    bad[Math.floor(bad.length / 2)] ^= 0xff; // one flipped byte inside the blob
    await fs.chmod(pack, 0o644);
    await fs.writeFile(pack, bad);
    await fs.chmod(pack, 0o444);

    const { j, m } = await seededJob(11, dep.ws);
    expect(m.stdout).toMatch(/Git: 1 locked git dependencies; seeded 0/);
    expect(m.stdout).toMatch(/::warning::Git: patched [0-9a-f]{8}: store entry .* refused: git fsck failed/);
    // Nothing of the refused entry is in the slot: cargo must fetch, and does.
    expect((await fs.readdir(join(m.env.CARGO_HOME, 'git', 'db')).catch(() => [] as string[])).filter((d) => d.startsWith('patched-'))).toEqual([]);
    const b = await build(j, dep.ws);
    expect(b.stderr).toMatch(/Updating git repository/);
    expect(b.code).toBe(0);
    expect(await run(j, dep.ws)).toBe('7');
    const p = await j.run('post');
    expect(row(p.summary, 'Git dep not seeded')).toMatch(/refused/);
    expect(row(p.summary, 'Git deps published')).toMatch(/^1 new/); // the damaged entry, replaced
    const [again] = (await fs.readdir(entry)).filter((f) => f.endsWith('.pack'));
    expect((await fs.readFile(join(entry, again))).equals(bad)).toBe(false);

    // With the server gone the replaced entry serves the next PR.
    await dep.server.close();
    const next = await seededJob(12, dep.ws);
    expect(next.m.stdout).toMatch(/seeded 1 /);
    expect((await build(next.j, dep.ws)).code).toBe(0);
    expect(await run(next.j, dep.ws)).toBe('7');
    await next.j.run('post');
  });

  test('an entry that holds another commit (its ref moved) or names another one is refused, and with the server gone the build fails rather than use it', async () => {
    const dep = await dependency('moved', 1);
    const pub = await seededJob(20, dep.ws);
    expect((await build(pub.j, dep.ws)).code).toBe(0);
    await pub.j.run('post');
    // Another history, without the locked commit, packed the way the store packs.
    const other = commitGitDep(join(srv, 'moved'), { name: 'moved', answer: 666, orphan: true });
    const entry = entryPath(root(), dep.url, dep.commit);
    for (const f of await fs.readdir(entry)) if (f.startsWith('pack-')) await fs.rm(join(entry, f), { force: true });
    sh(join(srv, 'moved'), 'sh', ['-c', `echo ${other} | git pack-objects -q --revs ${join(entry, 'pack')}`]);
    await dep.server.close();

    const { j, m } = await seededJob(21, dep.ws);
    expect(m.stdout).toMatch(/store entry .* refused: the locked commit [0-9a-f]{12} or its tree is not in it/);
    const b = await build(j, dep.ws);
    expect(b.code).not.toBe(0); // nothing to fetch from and nothing seeded: never the other commit
    expect(b.stderr).toMatch(/failed to (clone|fetch|load)|Could not|unable to connect|Connection refused/i);
    await j.run('post');

    // entry.json naming another commit: refused before anything is placed.
    await fs.chmod(join(entry, 'entry.json'), 0o644);
    await fs.writeFile(join(entry, 'entry.json'), JSON.stringify({ url: dep.url, commit: other }));
    const k = await seededJob(22, dep.ws);
    expect(k.m.stdout).toMatch(/entry.json does not name/);
    await k.j.run('post');
  });

  test('a fork PR seeds by copy and publishes nothing to the git store', async () => {
    const dep = await dependency('forkonly', 3);
    const fork = await job({ pr: 30, runner: 'r30', fork: true });
    expect((await fork.run('main', { root: root(), 'working-directory': dep.ws })).code).toBe(0);
    expect((await build(fork, dep.ws)).code).toBe(0);
    const p = await fork.run('post');
    expect(row(p.summary, 'Git deps published')).toBe("none: publish-crates is 'trusted' and this job is not trusted (fork PR)");
    expect(await fs.readdir(join(gitStorePaths(root()).db, urlKey(dep.url))).catch(() => [])).toEqual([]);

    // Once a trusted job published it, a fork gets private copies, never links to the store.
    const pub = await seededJob(31, dep.ws);
    expect((await build(pub.j, dep.ws)).code).toBe(0);
    await pub.j.run('post');
    const fork2 = await job({ pr: 32, runner: 'r32', fork: true });
    const m = await fork2.run('main', { root: root(), 'working-directory': dep.ws });
    expect(m.stdout).toMatch(/seeded 1 \([\d.]+ KiB, copy\)/);
    const db = (await fs.readdir(join(m.env.CARGO_HOME, 'git', 'db'))).find((d) => d.startsWith('forkonly-'))!;
    const packDir = join(m.env.CARGO_HOME, 'git', 'db', db, 'objects', 'pack');
    for (const f of await fs.readdir(packDir)) expect((await fs.stat(join(packDir, f))).nlink).toBe(1);
    await fork2.run('post');
  });

  test('gc prunes entries no slot links, and keeps a linked one', async () => {
    const r = join(scratch, 'gc-root');
    await fs.mkdir(r, { recursive: true });
    await fs.writeFile(join(r, '.cargo-isolate-root'), '{"format":1}\n');
    // Publish two real entries from the lock-generation CARGO_HOME's databases.
    const home = join(scratch, 'lockgen-home');
    const locked = [];
    for (const name of ['forked', 'patched']) locked.push(...parseGitLock(await fs.readFile(join(scratch, `ws-${name}`, 'Cargo.lock'), 'utf8')));
    const pub = await publishGit(r, home, locked, 'test', systemGit());
    expect(pub.notPublished).toEqual([]);
    expect(pub.published).toHaveLength(2);
    const [keep, drop] = locked.map((g) => entryPath(r, g.url, g.commit));
    const slotPack = join(r, 'slots', 's000', 'cargo-home', 'git', 'db', 'x', 'objects', 'pack');
    await fs.mkdir(slotPack, { recursive: true });
    for (const f of await fs.readdir(keep)) if (f.startsWith('pack-')) await fs.link(join(keep, f), join(slotPack, f));
    expect((await gitEntries(r)).map((e) => [e.path, e.linked]).sort()).toEqual(
      [
        [keep, true],
        [drop, false],
      ].sort(),
    );
    await new Promise((res) => setTimeout(res, 1100));
    const g = await cli(['gc', '--root', r, '--max-age', '1s', '--json']);
    expect(g.code).toBe(0);
    const removals = JSON.parse(g.stdout).removals.filter((x: { kind: string }) => x.kind === 'git');
    expect(removals).toEqual([expect.objectContaining({ kind: 'git', path: drop, outcome: 'removed' })]);
    await fs.access(keep);
    await expect(fs.access(drop)).rejects.toThrow();
  });
});

describe('links planted in the git store', () => {
  test("a symlink a build put in the git store never leads the guard into a live job's slot", async () => {
    const r = join(scratch, 'planted-root');
    const j = await job({ pr: 40, runner: 'r40' });
    const m = await j.run('main', { root: r });
    expect(m.code).toBe(0);
    const target = m.env.CARGO_TARGET_DIR;
    await fs.writeFile(join(target, 'artifact'), 'live build output');
    const slot = join(target, '..');
    // The build runs as the runner's user, which owns the store: a key dir (and the store's
    // own dirs) replaced by links into its slot, or another job's.
    const { base, db } = gitStorePaths(r);
    await fs.mkdir(db, { recursive: true });
    await fs.symlink(slot, join(db, 'evil-0123456789abcdef'));
    const other = join(scratch, 'planted-other');
    await fs.mkdir(join(other, 'db', 'k', 'c'), { recursive: true });
    await fs.writeFile(join(other, 'db', 'k', 'c', 'keep'), 'outside the store');
    await fs.symlink(other, join(db, 'away-0123456789abcdef'));
    await new Promise((res) => setTimeout(res, 1100));
    const log = { info: () => undefined, warning: () => undefined, debug: () => undefined, group: <T>(_n: string, fn: () => Promise<T>) => fn() };
    await pruneIdle(r, log);
    expect(await fs.readFile(join(target, 'artifact'), 'utf8')).toBe('live build output');
    expect(await fs.readFile(join(other, 'db', 'k', 'c', 'keep'), 'utf8')).toBe('outside the store');
    expect((await gitEntries(r)).map((e) => e.path)).toEqual([]);

    // Publishing through such a link would write outside the root: it is refused.
    const dep = await dependency('planted', 9);
    const locked = parseGitLock(await fs.readFile(join(dep.ws, 'Cargo.lock'), 'utf8'));
    const away = join(scratch, 'planted-away');
    await fs.mkdir(away);
    await fs.symlink(away, join(db, urlKey(dep.url)));
    const pub = await publishGit(r, join(scratch, 'lockgen-home'), locked, 'test', systemGit());
    expect(pub.published).toEqual([]);
    expect(pub.notPublished).toEqual([expect.objectContaining({ why: expect.stringMatching(/not a directory of the store/) })]);
    expect(await fs.readdir(away)).toEqual([]);
    // The whole store a link to a slot's git dir: its databases are not store entries either.
    await fs.rm(base, { recursive: true });
    await fs.mkdir(join(m.env.CARGO_HOME, 'git', 'db', 'dep-0123456789abcdef', 'objects'), { recursive: true });
    await fs.symlink(m.env.CARGO_HOME, base);
    expect((await gitEntries(r)).map((e) => e.path)).toEqual([]);
    expect((await j.run('post')).code).toBe(0);
  });
});

test("a slot's cargo-home/git a build replaced by a link into another slot: seeding writes nothing there", async () => {
  const dep = await dependency('linkedhome', 11);
  const locked = parseGitLock(await fs.readFile(join(dep.ws, 'Cargo.lock'), 'utf8'));
  const r = join(scratch, 'linked-home-root');
  await fs.mkdir(r, { recursive: true });
  expect((await publishGit(r, join(scratch, 'lockgen-home'), locked, 'test', systemGit())).published).toHaveLength(1);
  const mine = join(r, 'slots', 's000', 'cargo-home');
  const theirs = join(r, 'slots', 's001', 'cargo-home');
  await fs.mkdir(join(theirs, 'git', 'db'), { recursive: true });
  await fs.mkdir(mine, { recursive: true });
  await fs.symlink(join(theirs, 'git'), join(mine, 'git'));
  const seed = await seedGit(r, mine, locked, 'test', 'link', systemGit());
  expect(await fs.readdir(join(theirs, 'git', 'db'))).toEqual([]);
  expect(seed.seeded).toEqual([]);
  expect(seed.notSeeded).toEqual([expect.objectContaining({ why: expect.stringMatching(/not a directory of this CARGO_HOME/) })]);
});
