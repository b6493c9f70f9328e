import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type FakeCacheService, type Fault, type Route, fakeCacheService } from '../scripts/lib/cache-server.js';
import { scaled } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';
import { DEPENDENCY_CRATES as DEPS, compiled, dependencyMain as MAIN } from './helpers/workspace.js';
import { serveRegistry } from '../scripts/lib/registry.mjs';
import { ensurePackages, makeRealWorkspace, packRegistry } from '../scripts/lib/real-crates.mjs';
import { ARCHIVE_FORMAT, type ArchiveKey, keyDifferences } from '../src/model/archive-key.js';
import { archiveDir, slotDirs } from '../src/model/layout.js';
import { DATA, META, readArchiveMeta } from '../src/store/archive.js';
import { type FleetStore, fleetLine, openFleetStore } from '../src/store/fleet-store.js';
import { type KeyContext, restoreTier, saveTier } from '../src/job/tiers.js';
import { currentIdentity } from '../src/model/identity.js';
import type { Log } from '../src/os/log.js';
import { callWorker } from '../src/store/fleet-worker.js';
import { fetchFromDir, putToDir } from '../src/store/fleet-dir.js';
import { removeHostArchive } from '../src/store/archive-host.js';
import { runGuard } from '../src/pool/guard.js';
import { consoleLog } from '../src/os/log.js';
import { parseLevel } from '../src/model/units.js';
import { unitsSince } from '../src/pool/warmth.js';
import { listHostArchives } from '../src/store/archive-host.js';

/*
 * The fleet tier's two stores, for real: a directory every host mounts (here a tmpfs, as an NFS
 * mount would be on each host) and the Actions cache service through the pinned @actions/cache,
 * against the stand-in of its protocols (scripts/lib/cache-server.ts: v2 twirp and blob as GitHub.com
 * speaks it, v1 as GHES and the Forgejo and Gitea runners' cache servers do).
 *
 * First, across hosts on real cargo, through the job's own restore and save points (job/tiers.ts
 * restoreTier, saveTier): a build on one host, its end saving the dependency archive in that
 * host's tier and sending it to the store; a PR's job on a second host (a second root at the same
 * path, each host's view made with a mount namespace, as the cross-host compile-cache test does)
 * finds nothing in its own tier, fetches its base's archive into it, restores it and builds after a
 * one-line change with no dependency unit rebuilt; a store that fails there is a warning and a
 * cold start. Then, on archives of random bytes (what is checked is
 * the store, not cargo): trust domains and the service's scoping, entries another uid could have
 * written, altered data, races, and every fault a store has: each a warning and a cold start.
 */
const run = promisify(execFile);
const MIN = 60_000;

let scratch: string;
let server: Awaited<ReturnType<typeof serveRegistry>>;
let service: FakeCacheService;
let ws: string;

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-fleet-'));
  service = await fakeCacheService();
  ensurePackages();
  await packRegistry(join(scratch, 'registry'));
  server = await serveRegistry(join(scratch, 'registry'));
  ws = makeRealWorkspace(join(scratch, 'ws'), server.url, { deps: DEPS, main: MAIN(0) });
  await run('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(scratch, 'lock-home') } });
}, 10 * MIN);
afterAll(async () => {
  await service?.close();
  await server?.close();
  await removeScratch(scratch);
});

/** A shared filesystem of its own (a tmpfs), as every host would mount it. */
async function sharedMount(name: string, opts = 'mode=0755'): Promise<string> {
  const dir = join(scratch, name);
  await fs.mkdir(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', opts, name, dir]);
  return dir;
}

function store(setting: Parameters<typeof openFleetStore>[0], env: Record<string, string | undefined> = process.env): FleetStore {
  const s = openFleetStore(setting, env, 'action');
  if (!s || 'unavailable' in s) throw new Error(`no store: ${JSON.stringify(s)}`);
  return s;
}

/** The environment of an action step whose runner gave it the stand-in service, with a token of these scopes. */
const cacheEnv = (write: string, read: string[] = [], protocol: 'v1' | 'v2' = 'v2', svc = service) => {
  const env: Record<string, string | undefined> = { ...process.env, ...svc.env({ write, read }, protocol) };
  if (protocol === 'v1') delete env.ACTIONS_CACHE_SERVICE_V2;
  return env;
};

describe("a second host restores what the first saved, through each store, at the job's own restore and save points", () => {
  const view = () => join(scratch, 'view');
  /** Runs `cmd` as a job of the host whose root is `hostRoot`: that root at the view's path, as every host has its root. */
  const onHost = (hostRoot: string, cmd: string[], env: Record<string, string>) =>
    run(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$2" && cd "$3" && shift 3 && exec "$@"', 'host', hostRoot, view(), ws, ...cmd],
      {
        env: { ...process.env, ...env },
        maxBuffer: 16 << 20,
      },
    );
  const home = () => join(view(), 'homes', 'u0');
  const cap = { kind: 'share', percent: 50 } as const;
  const ident = (ref: string, event: string, base?: string) =>
    currentIdentity({
      GITHUB_REPOSITORY: 'acme/w',
      GITHUB_WORKFLOW: 'ci',
      GITHUB_JOB: 'test',
      GITHUB_REF: ref,
      GITHUB_EVENT_NAME: event,
      GITHUB_BASE_REF: base,
    });
  /** What both hosts' jobs know of their key: the same workspace, toolchain, CARGO_HOME string and view. */
  const context = (): KeyContext => ({
    identity: ident('refs/heads/main', 'push'),
    env: { ...process.env },
    cargoHome: home(),
    view: 'host',
    search: { workingDirectory: ws },
  });
  const lines: { warning: boolean; text: string }[] = [];
  const log: Log = {
    info: (m) => void lines.push({ warning: false, text: m }),
    warning: (m) => void lines.push({ warning: true, text: m }),
    debug: () => undefined,
    group: (_n, fn) => fn(),
  };
  const stores: Record<'directory' | 'v1' | 'v2', FleetStore> = {} as never;
  const services: FakeCacheService[] = [];

  beforeAll(async () => {
    await fs.mkdir(view(), { recursive: true });
    const a = join(scratch, 'host-a');
    await fs.mkdir(a, { recursive: true });
    // A service of its own for each protocol: one service holds one entry per key and version.
    for (const p of ['v1', 'v2'] as const) {
      const svc = await fakeCacheService();
      services.push(svc);
      stores[p] = store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main', [], p, svc));
    }
    stores.directory = store({ kind: 'directory', path: await sharedMount('shared-cross') });
    // Host A's job on main builds in its slot s000; its end saves the archive in its host tier and sends it to the shared directory.
    const startedAt = new Date(Date.now() - 1000).toISOString();
    const r = await onHost(a, ['cargo', 'build', '--locked'], { CARGO_HOME: home(), CARGO_TARGET_DIR: slotDirs(view(), 's000').target });
    expect(compiled(r.stderr)).toEqual(expect.arrayContaining(['serde', 'serde_derive', 'typenum', 'anyhow', 'app']));
    const saved = await saveTier({
      root: a,
      me: ident('refs/heads/main', 'push'),
      cap,
      layout: 'slot',
      buildDir: slotDirs(a, 's000').target,
      startedAt,
      builtElsewhere: false,
      context: context(),
      timeoutMs: 5 * MIN,
      log,
      fleet: stores.directory,
    });
    expect([saved.outcome, saved.fleet]).toEqual(['saved', expect.stringMatching(/^the shared directory .*: sent the dependency archive/)]);
    // The same archive to the service, as the post step of an action sends it.
    for (const p of ['v1', 'v2'] as const)
      expect(await stores[p].put({ root: a, repository: 'acme/w', domain: 'ref-main', key: keyOfSaved(saved.archive!), dir: saved.archive! })).toMatchObject({
        put: true,
      });
  }, 10 * MIN);
  afterAll(async () => {
    for (const s of services) await s.close();
  });

  test.each<[string, 'directory' | 'v1' | 'v2']>([
    ['the shared directory', 'directory'],
    ['the Actions cache service (v2, as GitHub.com)', 'v2'],
    ['the Actions cache service (v1, as GHES, Forgejo and Gitea)', 'v1'],
  ])("%s: a PR on host B, its host tier empty, restores its base branch's archive and rebuilds no dependency", async (_name, kind) => {
    // Host B: its own root at the same path, nothing in its host tier; its job holds slot s001 (another path than A's build).
    const b = join(scratch, `host-b-${kind}`);
    await fs.mkdir(b, { recursive: true });
    const me = ident('refs/pull/9/merge', 'pull_request', 'main');
    const target = slotDirs(b, 's001').target;
    await fs.mkdir(target, { recursive: true });
    const restore = (buildDir: string) =>
      restoreTier({ root: b, me, cap, buildDir, by: 'key', context: context(), timeoutMs: 5 * MIN, log, mark: async () => undefined, fleet: stores[kind] });
    const t = await restore(target);
    expect([t.tier, t.outcome, t.how, t.domain]).toEqual(['fleet', 'restored', 'exact', 'ref-main']);
    expect(t.archive).toMatch(new RegExp(`^${b}/archives/`)); // in B's host tier now
    // The next start on B finds it in its host tier: the fleet store is not asked.
    const again = join(scratch, `again-${kind}`);
    await fs.mkdir(again);
    expect((await restore(again)).tier).toBe('host');
    await fs.writeFile(join(ws, 'src', 'main.rs'), MAIN(Date.now() % 1000)); // a one-line change
    const startedAt = new Date().toISOString();
    const built = await onHost(b, ['cargo', 'build', '--locked'], { CARGO_HOME: home(), CARGO_TARGET_DIR: slotDirs(view(), 's001').target });
    expect(compiled(built.stderr)).toEqual(['app']);
    expect(unitsSince(target, startedAt).builtCrates).toEqual(['app']);
    expect((await fs.readdir(join(b, 'archives'))).filter((n) => n.startsWith('.'))).toEqual([]); // no staging left
  });

  test('a fetched archive stays in the host tier only while the disk is under its hard level: the room above it is for the build', async () => {
    const me = ident('refs/pull/9/merge', 'pull_request', 'main');
    const at = async (name: string, hard: number) => {
      const r = join(scratch, name);
      const target = slotDirs(r, 's001').target;
      await fs.mkdir(target, { recursive: true });
      const asked: number[] = [];
      const t = await restoreTier({
        ...{ root: r, me, cap, buildDir: target, by: 'key' as const, context: context(), timeoutMs: 5 * MIN, log, mark: async () => undefined },
        fleet: stores.directory,
        hard: async () => (asked.push(1), { kind: 'free', bytes: hard }),
      });
      return { restored: [t.tier, t.outcome], filled: (await fs.readdir(target)).length > 0, kept: (await listHostArchives(r)).length, asked: asked.length };
    };
    // Free space under 1 PiB: over the hard level, the build gets the room and the next start fetches again.
    expect(await at('host-d-full', 2 ** 50)).toEqual({ restored: ['fleet', 'restored'], filled: true, kept: 0, asked: 1 });
    // Room to spare: it stays, as without a hard level.
    expect(await at('host-d-room', 0)).toEqual({ restored: ['fleet', 'restored'], filled: true, kept: 1, asked: 1 });
  });

  test("the runner's hook, which knows only who the job is, finds the job's newest archive in the shared directory", async () => {
    const c = join(scratch, 'host-c');
    const target = slotDirs(c, 's002').target;
    await fs.mkdir(target, { recursive: true });
    const t = await restoreTier({
      root: c,
      me: ident('refs/pull/9/merge', 'pull_request', 'main'),
      cap,
      buildDir: target,
      by: 'identity',
      context: { ...context(), search: { workingDirectory: c } }, // before checkout: no Cargo.lock
      timeoutMs: 5 * MIN,
      log,
      mark: async () => undefined,
      fleet: stores.directory,
    });
    expect([t.tier, t.outcome, t.how, t.domain]).toEqual(['fleet', 'restored', 'newest', 'ref-main']);
    expect(await fs.readdir(target)).not.toEqual([]);
  });

  test('a store that fails: a warning, and the start goes on cold with an empty build dir', async () => {
    const svc = await fakeCacheService();
    services.push(svc);
    svc.fault('all', { kind: 'status', status: 503 });
    const b = join(scratch, 'host-b-down');
    const target = slotDirs(b, 's001').target;
    await fs.mkdir(target, { recursive: true });
    const from = lines.length;
    const t = await restoreTier({
      root: b,
      me: ident('refs/heads/main', 'push'),
      cap,
      buildDir: target,
      by: 'key',
      context: context(),
      timeoutMs: MIN,
      log,
      mark: async () => undefined,
      fleet: store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main', [], 'v2', svc)),
    });
    expect([t.tier, t.outcome]).toEqual(['host', 'missed']);
    expect(t.why).toMatch(/the Actions cache service: /);
    expect(
      lines
        .slice(from)
        .filter((l) => l.warning)
        .map((l) => l.text),
    ).toEqual([expect.stringMatching(/^the Actions cache service: .*This job starts without it\.$/)]);
    expect(await fs.readdir(target)).toEqual([]);
  });
});

/** The key of an archive the host tier holds, as its archive.json names it. */
function keyOfSaved(dir: string): ArchiveKey & { exact: string } {
  const m = readArchiveMeta(dir)!;
  return { exact: m.exact, fallback: m.fallback, parts: m.key };
}

/** An archive of random bytes in a host tier, as saveArchive leaves one (what a store checks is the same). */
async function fakeArchive(root: string, domain: string, key: ArchiveKey & { exact: string }, bytes = 200_000): Promise<string> {
  const dir = archiveDir(root, 'acme/w', domain, key.fallback, key.exact);
  await fs.mkdir(dir, { recursive: true });
  const data = randomBytes(bytes);
  await fs.writeFile(join(dir, DATA), data);
  const meta = {
    format: ARCHIVE_FORMAT,
    exact: key.exact,
    fallback: key.fallback,
    key: key.parts,
    sha256: createHash('sha256').update(data).digest('hex'),
    bytes,
  };
  await fs.writeFile(
    join(dir, META),
    JSON.stringify({ ...meta, compressor: 'zstd', savedAt: new Date().toISOString(), buildDir: '/b', packages: 1, files: 1, sourceBytes: bytes }),
  );
  return dir;
}

let n = 0;
/** A key of its own for each case (random locks under one job's fallback, unless given one). */
function newKey(fallback = randomBytes(16).toString('hex')): ArchiveKey & { exact: string } {
  return { exact: randomBytes(16).toString('hex'), fallback, parts: { case: String(++n) } };
}
const newRoot = async (name: string) => {
  const r = join(scratch, 'roots', `${name}-${++n}`);
  await fs.mkdir(r, { recursive: true });
  return r;
};
const hostEntries = async (root: string) => {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      out.push(join(d, e.name));
      if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(join(root, 'archives'));
  return out;
};

describe('trust domains: a PR reads its base and its own; nothing a PR made reaches its base or another PR', () => {
  test('the shared directory: by the domain in the path', async () => {
    const fleet = store({ kind: 'directory', path: await sharedMount('shared-domains') });
    const a = await newRoot('a');
    const mainKey = newKey();
    const prKey = newKey();
    await fleet.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: mainKey, dir: await fakeArchive(a, 'ref-main', mainKey) });
    await fleet.put({ root: a, repository: 'acme/w', domain: 'pr-7', key: prKey, dir: await fakeArchive(a, 'pr-7', prKey) });
    const b = await newRoot('b');
    expect(await fleet.fetch({ root: b, repository: 'acme/w', domains: ['pr-7', 'ref-main'], key: mainKey })).toMatchObject({
      fetched: true,
      domain: 'ref-main',
    });
    expect(await fleet.fetch({ root: b, repository: 'acme/w', domains: ['pr-7', 'ref-main'], key: prKey })).toMatchObject({ fetched: true, domain: 'pr-7' });
    for (const domains of [['ref-main'], ['pr-8', 'ref-main']]) {
      const c = await newRoot('c');
      expect(await fleet.fetch({ root: c, repository: 'acme/w', domains, key: prKey })).toMatchObject({ fetched: false, reason: 'missing' });
      expect(await hostEntries(c)).toEqual([]);
    }
  });

  test("the Actions cache service: by the domain in the key, and by the service's own scope even for a key that names the base", async () => {
    const svcKey = newKey();
    const a = await newRoot('a');
    const dir = await fakeArchive(a, 'pr-7', svcKey);
    const pr = store({ kind: 'actions-cache' }, cacheEnv('refs/pull/7/merge', ['refs/heads/main']));
    const main = store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main'));
    expect(await pr.put({ root: a, repository: 'acme/w', domain: 'pr-7', key: svcKey, dir })).toMatchObject({ put: true });
    // A job of the PR that names its entry as the base's (a build bent on it could): written in the PR's scope all the same.
    const forged = newKey();
    expect(await pr.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: forged, dir: await fakeArchive(a, 'ref-main', forged) })).toMatchObject({
      put: true,
    });
    expect(
      service
        .entries()
        .filter((e) => e.key.endsWith(forged.exact))
        .map((e) => e.scope),
    ).toEqual(['refs/pull/7/merge']);
    const b = await newRoot('b');
    expect(await main.fetch({ root: b, repository: 'acme/w', domains: ['ref-main'], key: svcKey })).toMatchObject({ fetched: false, reason: 'missing' });
    expect(await main.fetch({ root: b, repository: 'acme/w', domains: ['ref-main'], key: forged })).toMatchObject({ fetched: false, reason: 'missing' });
    expect(await main.fetch({ root: b, repository: 'acme/w', domains: ['pr-7', 'ref-main'], key: svcKey })).toMatchObject({
      fetched: false,
      reason: 'missing',
    });
    const other = store({ kind: 'actions-cache' }, cacheEnv('refs/pull/8/merge', ['refs/heads/main']));
    expect(await other.fetch({ root: b, repository: 'acme/w', domains: ['pr-8', 'ref-main'], key: svcKey })).toMatchObject({
      fetched: false,
      reason: 'missing',
    });
    expect(await hostEntries(b)).toEqual([]);
    // The PR itself finds its own; and a later PR finds its base's.
    expect(await pr.fetch({ root: b, repository: 'acme/w', domains: ['pr-7', 'ref-main'], key: svcKey })).toMatchObject({ fetched: true, domain: 'pr-7' });
    const baseKey = newKey();
    await main.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: baseKey, dir: await fakeArchive(a, 'ref-main', baseKey) });
    expect(await other.fetch({ root: await newRoot('d'), repository: 'acme/w', domains: ['pr-8', 'ref-main'], key: baseKey })).toMatchObject({
      fetched: true,
      domain: 'ref-main',
      how: 'exact',
    });
  });

  test.each<['directory' | 'v2']>([['directory'], ['v2']])('%s: the values of the variables in its key leave the host as digests', async (kind) => {
    const k = { ...newKey(), parts: { repository: 'acme/w', 'env.RUSTFLAGS': '-C link-arg=--token=hunter2' } };
    const a = await newRoot('a');
    const fleet =
      kind === 'directory'
        ? store({ kind: 'directory', path: await sharedMount('shared-redacted') })
        : store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main'));
    expect(await fleet.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: k, dir: await fakeArchive(a, 'ref-main', k) })).toMatchObject({
      put: true,
    });
    const r = await fleet.fetch({ root: await newRoot('b'), repository: 'acme/w', domains: ['ref-main'], key: k });
    if (!r.fetched) throw new Error(r.detail);
    const text = await fs.readFile(join(r.dir, META), 'utf8');
    expect(text).not.toMatch(/hunter2/);
    expect(keyDifferences(readArchiveMeta(r.dir)!.key, k.parts)).toEqual([]);
  });

  test('a near archive: the newest of another lock under the same fallback key, own domain first', async () => {
    const fallback = randomBytes(16).toString('hex');
    const older = newKey(fallback);
    const newer = newKey(fallback);
    const a = await newRoot('a');
    const main = store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main'));
    await main.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: older, dir: await fakeArchive(a, 'ref-main', older) });
    await main.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: newer, dir: await fakeArchive(a, 'ref-main', newer) });
    const r = await main.fetch({ root: await newRoot('b'), repository: 'acme/w', domains: ['ref-main'], key: newKey(fallback) });
    expect(r).toMatchObject({ fetched: true, how: 'fallback' });
    expect(r.fetched && r.dir.endsWith(newer.exact)).toBe(true);
  });
});

describe('what a job of this uid trusts in the shared directory', () => {
  let dir: string;
  let fleet: FleetStore;
  beforeAll(async () => {
    dir = await sharedMount('shared-trust');
    fleet = store({ kind: 'directory', path: dir });
  });
  /** Puts an archive, spoils it in the store, and fetches it on another host. */
  async function spoiled(spoil: (entry: string) => Promise<void>) {
    const k = newKey();
    const a = await newRoot('a');
    expect(await fleet.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: k, dir: await fakeArchive(a, 'ref-main', k) })).toMatchObject({
      put: true,
    });
    await spoil(archiveDir(join(dir, `u${process.getuid!()}`), 'acme/w', 'ref-main', k.fallback, k.exact));
    const b = await newRoot('b');
    const r = await fleet.fetch({ root: b, repository: 'acme/w', domains: ['ref-main'], key: k });
    return { r, left: await hostEntries(b) };
  }

  test('its own entries, mode 0755 and 0644 whatever the umask', async () => {
    const old = process.umask(0o002);
    try {
      const { r } = await spoiled(async (entry) => {
        for (let d = entry; d !== dir; d = dirname(d)) expect([d, (await fs.stat(d)).mode & 0o777]).toEqual([d, 0o755]);
        for (const f of [DATA, META]) expect((await fs.stat(join(entry, f))).mode & 0o777).toBe(0o644);
      });
      expect(r.fetched).toBe(true);
    } finally {
      process.umask(old);
    }
  });

  test.each([
    ["another uid's archive", (e: string) => fs.chown(join(e, DATA), 4242, 4242), /belongs to uid 4242/],
    ["a directory of another uid's on the way", (e: string) => fs.chown(dirname(e), 4242, 4242), /belongs to uid 4242/],
    ['a group-writable entry', (e: string) => fs.chmod(e, 0o775), /writable by its group/],
    [
      'a symbolic link in place of the data',
      async (e: string) => {
        await fs.rename(join(e, DATA), join(e, 'elsewhere'));
        await fs.symlink('elsewhere', join(e, DATA));
      },
      /not a plain file/,
    ],
  ])('%s: refused with a warning, nothing in the host tier', async (_what, spoil, why) => {
    const { r, left } = await spoiled(spoil);
    expect(r).toMatchObject({ fetched: false, reason: 'refused' });
    expect(!r.fetched && r.detail).toMatch(why);
    expect(fleetLine(fleet.name, 'fetch', r)).toMatchObject({ warning: true });
    expect(left).toEqual([]);
  });

  test.each([
    [
      'a byte altered',
      async (e: string) => {
        const f = await fs.open(join(e, DATA), 'r+');
        await f.write(Buffer.from([0x55]), 0, 1, 1000);
        await f.close();
      },
      /does not match the sha256/,
    ],
    ['truncated', (e: string) => fs.truncate(join(e, DATA), 4096), /has 4096 bytes/],
  ])('an archive %s in the store: refused, nothing half-copied into the host tier', async (_what, spoil, why) => {
    const { r, left } = await spoiled(spoil);
    expect(r).toMatchObject({ fetched: false, reason: 'refused' });
    expect(!r.fetched && r.detail).toMatch(why);
    expect(left).toEqual([]);
  });

  test('an altered archive in the host tier is never sent', async () => {
    const k = newKey();
    const a = await newRoot('a');
    const src = await fakeArchive(a, 'ref-main', k);
    await fs.truncate(join(src, DATA), 10);
    const r = await fleet.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: k, dir: src });
    expect(r).toMatchObject({ put: false, reason: 'refused' });
    expect(existsSync(archiveDir(join(dir, `u${process.getuid!()}`), 'acme/w', 'ref-main', k.fallback, k.exact))).toBe(false);
  });

  test('two hosts sending one key at once leave one whole archive, and no temp dir', async () => {
    const k = newKey();
    const hosts = await Promise.all(
      [0, 1, 2].map(async () => {
        const r = await newRoot('h');
        return { root: r, dir: await fakeArchive(r, 'ref-main', k, 3 << 20) };
      }),
    );
    const puts = await Promise.all(hosts.map((h) => fleet.put({ root: h.root, repository: 'acme/w', domain: 'ref-main', key: k, dir: h.dir })));
    expect(puts.filter((p) => p.put)).toHaveLength(1);
    expect(
      puts
        .filter((p) => !p.put)
        .map((p) => !p.put && p.reason)
        .every((r) => r === 'raced' || r === 'exists'),
    ).toBe(true);
    const parent = dirname(archiveDir(join(dir, `u${process.getuid!()}`), 'acme/w', 'ref-main', k.fallback, k.exact));
    expect(await fs.readdir(parent)).toEqual([k.exact]);
    expect(await fleet.fetch({ root: await newRoot('b'), repository: 'acme/w', domains: ['ref-main'], key: k })).toMatchObject({
      fetched: true,
      bytes: 3 << 20,
    });
  });

  test('the newest two archives of a job are kept; an older one goes with the put that superseded it', async () => {
    const fallback = randomBytes(16).toString('hex');
    const keys = [newKey(fallback), newKey(fallback), newKey(fallback)];
    const a = await newRoot('a');
    for (const k of keys) {
      expect(await fleet.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: k, dir: await fakeArchive(a, 'ref-main', k) })).toMatchObject({
        put: true,
      });
      await new Promise((r) => setTimeout(r, 5)); // savedAt apart
    }
    const parent = dirname(archiveDir(join(dir, `u${process.getuid!()}`), 'acme/w', 'ref-main', fallback, keys[0].exact));
    expect((await fs.readdir(parent)).sort()).toEqual([keys[1].exact, keys[2].exact].sort());
  });
});

describe("a guard run during a fleet transfer leaves the host tier's side of it alone", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await sharedMount('shared-guarded');
  });
  const uid = () => process.getuid!();
  /** A guard run that wants everything idle gone (1%: this disk is fuller than that); what it removed. */
  const guardAll = async (r: string) =>
    (
      await runGuard({
        root: r,
        threshold: parseLevel('1%')!,
        target: parseLevel('1%')!,
        scope: 'host',
        runnerId: 'x',
        dryRun: false,
        timeoutMs: MIN,
        log: consoleLog(false, true),
      })
    ).removals
      .filter((x) => x.outcome === 'removed')
      .map((x) => x.path);
  /** What a fetch two minutes long leaves as its temp directory's time (the guard takes an unlocked one after a minute). */
  const aged = (p: string) => fs.utimes(p, new Date(Date.now() - 2 * MIN), new Date(Date.now() - 2 * MIN));

  test('a fetch: its temp directory in the host tier is a copy in progress, not a leftover; the fetch lands whole', async () => {
    const k = newKey();
    const a = await newRoot('a');
    expect((await putToDir({ store: dir, uid: uid(), repository: 'acme/w', domain: 'ref-main', key: k, from: await fakeArchive(a, 'ref-main', k) })).put).toBe(
      true,
    );
    const b = await newRoot('b');
    // Beside it, what a killed fetch left, as old: the guard of this run takes that one.
    const into = archiveDir(b, 'acme/w', 'ref-main', k.fallback, k.exact);
    const leftover = join(dirname(into), `.${k.exact}.0badf00d.tmp`);
    await fs.mkdir(leftover, { recursive: true });
    await fs.writeFile(join(leftover, DATA), 'half');
    let during: { removed: string[]; probe: string; kept: boolean } | undefined;
    const r = await fetchFromDir({
      store: dir,
      uid: uid(),
      root: b,
      repository: 'acme/w',
      domains: ['ref-main'],
      key: k,
      whileHeld: async (tmp) => {
        await aged(leftover);
        await aged(tmp);
        const removed = await guardAll(b);
        const probe = await removeHostArchive(b, tmp, 'test: the remover itself, during a fetch', MIN);
        during = { removed, probe: probe.outcome, kept: existsSync(join(tmp, DATA)) };
      },
    });
    expect(during).toEqual({ removed: [leftover], probe: 'live', kept: true });
    expect(r).toMatchObject({ fetched: true, dir: into, bytes: 200_000 });
    expect(readArchiveMeta(into)?.exact).toBe(k.exact);
    expect(await fs.readdir(dirname(into))).toEqual([k.exact]);
  });

  test('a put: the archive it reads in the host tier stays; once sent, the guard may take it', async () => {
    const k = newKey();
    const a = await newRoot('a');
    const src = await fakeArchive(a, 'ref-main', k);
    let during: { removed: string[]; kept: boolean } | undefined;
    const r = await putToDir({
      store: dir,
      uid: uid(),
      repository: 'acme/w',
      domain: 'ref-main',
      key: k,
      from: src,
      whileHeld: async () => {
        const removed = await guardAll(a);
        during = { removed, kept: existsSync(join(src, DATA)) };
      },
    });
    expect(during).toEqual({ removed: [], kept: true });
    expect(r).toMatchObject({ put: true, bytes: 200_000 });
    expect(await guardAll(a)).toEqual([src]);
  });
});

describe('a store that fails gives a warning and a cold start, within its time bound', () => {
  const fast = { lookupMs: scaled(20_000), fetchMs: scaled(30_000), putMs: scaled(30_000) };
  /** One archive in the service per protocol, for the fetches that meet a fault. */
  const saved = {} as Record<'v1' | 'v2', ArchiveKey & { exact: string }>;
  beforeAll(async () => {
    for (const protocol of ['v1', 'v2'] as const) {
      const k = (saved[protocol] = newKey());
      const a = await newRoot('a');
      const r = await store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main', [], protocol)).put({
        root: a,
        repository: 'acme/w',
        domain: 'ref-main',
        key: k,
        dir: await fakeArchive(a, 'ref-main', k),
      });
      expect(r).toMatchObject({ put: true });
    }
  }, 10 * MIN);

  test('the shared directory: not mounted (a line, not a warning); mounted read-only (no put); a server that stops answering (stopped at the bound)', async () => {
    const k = newKey();
    const a = await newRoot('a');
    const src = await fakeArchive(a, 'ref-main', k);
    const gone = store({ kind: 'directory', path: join(scratch, 'not-mounted') });
    const r = await gone.fetch({ root: a, repository: 'acme/w', domains: ['ref-main'], key: k });
    expect(r).toMatchObject({ fetched: false, reason: 'unavailable' });
    expect(fleetLine(gone.name, 'fetch', r)).toMatchObject({ warning: false });
    expect(await gone.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: k, dir: src })).toMatchObject({ put: false, reason: 'unavailable' });
    expect(existsSync(join(scratch, 'not-mounted'))).toBe(false); // never created: an unmounted mount point must not fill the host's disk

    const ro = await sharedMount('shared-ro', 'ro,mode=0755');
    expect(await store({ kind: 'directory', path: ro }).put({ root: a, repository: 'acme/w', domain: 'ref-main', key: k, dir: src })).toMatchObject({
      put: false,
      reason: 'read-only',
    });

    // A read that never returns, as on a hard NFS mount whose server is down: a FIFO no one writes.
    const hung = await sharedMount('shared-hung');
    const entry = archiveDir(join(hung, `u${process.getuid!()}`), 'acme/w', 'ref-main', k.fallback, k.exact);
    await fs.mkdir(entry, { recursive: true });
    execFileSync('mkfifo', [join(entry, META)]);
    const b = await newRoot('b');
    const stuck = await store({ kind: 'directory', path: hung }).fetch({
      root: b,
      repository: 'acme/w',
      domains: ['ref-main'],
      key: k,
      bounds: { fetchMs: scaled(8000) },
    });
    expect(stuck).toMatchObject({ fetched: false, reason: 'timeout' });
    expect(fleetLine('s', 'fetch', stuck)).toMatchObject({ warning: true });
    expect(await hostEntries(b)).toEqual([]);
  });

  type Case = [Route, Fault, 'v1' | 'v2', 'error' | 'timeout'];
  test.each<Case>([
    ['lookup', { kind: 'status', status: 401, body: '{"msg":"bad token"}' }, 'v2', 'error'],
    ['lookup', { kind: 'status', status: 429, headers: { 'retry-after': '60' }, body: '{"msg":"slow down"}' }, 'v2', 'error'],
    ['lookup', { kind: 'reset' }, 'v2', 'error'],
    ['lookup', { kind: 'status', status: 503 }, 'v1', 'error'],
    ['lookup', { kind: 'stall' }, 'v2', 'timeout'],
    ['download', { kind: 'status', status: 500 }, 'v2', 'error'],
    ['download', { kind: 'stall' }, 'v1', 'timeout'],
  ])('fetch, %s answers %j (%s): %s', async (route, fault, protocol, reason) => {
    const k = saved[protocol];
    const fleet = store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main', [], protocol));
    service.fault(route, fault);
    try {
      const b = await newRoot('b');
      const r = await fleet.fetch({
        root: b,
        repository: 'acme/w',
        domains: ['ref-main'],
        key: k,
        // A stall waits out a short bound; an error needs room for the client's own retries
        // (@actions/cache retries a 5xx after 5 s and more), else it would read as a timeout.
        bounds:
          reason === 'timeout'
            ? { ...fast, fetchMs: scaled(10_000), lookupMs: scaled(10_000) }
            : { ...fast, fetchMs: scaled(120_000), lookupMs: scaled(120_000) },
      });
      expect(r).toMatchObject({ fetched: false });
      expect([!r.fetched && r.reason, fleetLine(fleet.name, 'fetch', r).warning]).toEqual([reason, true]);
      expect(await hostEntries(b)).toEqual([]);
      expect((await fs.readdir(join(b, 'archives')).catch(() => [])).filter((x) => x.startsWith('.'))).toEqual([]);
    } finally {
      service.fault(route, undefined);
    }
  });

  test.each<Case>([
    ['reserve', { kind: 'refuse', message: 'cache storage quota exceeded' }, 'v2', 'error'],
    ['reserve', { kind: 'status', status: 429, body: '{"msg":"rate limited"}' }, 'v2', 'error'],
    ['upload', { kind: 'status', status: 500 }, 'v2', 'error'],
    ['upload', { kind: 'status', status: 500 }, 'v1', 'error'],
    ['upload', { kind: 'stall' }, 'v2', 'timeout'],
  ])('put, %s answers %j (%s): %s, and the host tier keeps the archive', async (route, fault, protocol, reason) => {
    const k = newKey();
    const a = await newRoot('a');
    const src = await fakeArchive(a, 'ref-main', k);
    const fleet = store({ kind: 'actions-cache' }, cacheEnv('refs/heads/main', [], protocol));
    service.fault(route, fault);
    try {
      // As for a fetch: the blob client retries a 5xx with growing delays (up to about 30 s in all).
      const putMs = scaled(reason === 'timeout' ? 20_000 : 120_000);
      const r = await fleet.put({ root: a, repository: 'acme/w', domain: 'ref-main', key: k, dir: src, bounds: { ...fast, putMs } });
      expect([!r.put && r.reason, fleetLine(fleet.name, 'put', r).warning]).toEqual([reason, true]);
      expect(readArchiveMeta(src)).toBeDefined();
    } finally {
      service.fault(route, undefined);
    }
    expect(service.entries().some((e) => e.key.endsWith(k.exact))).toBe(false);
  });

  test('an entry of the service whose data does not match its checksum is refused, nothing left in the host tier', async () => {
    const k = newKey();
    const stage = join(await newRoot('stage'), 'ws');
    const bad = join(stage, 'cargo-isolate-archive');
    await fs.mkdir(bad, { recursive: true });
    const src = await fakeArchive(await newRoot('a'), 'ref-main', k);
    await fs.copyFile(join(src, META), join(bad, META));
    await fs.writeFile(join(bad, DATA), randomBytes(200_000)); // same size, other bytes
    // Saved straight through the client, as a job that does not check would.
    const env = cacheEnv('refs/heads/main');
    await fs.mkdir(join(stage, '.t'));
    const saved = await callWorker(
      { op: 'cache-save', paths: ['cargo-isolate-archive'], key: `cargo-isolate-deps/v1/ref-main/${k.fallback}/${k.exact}` },
      { timeoutMs: scaled(60_000), cwd: stage, env: { ...env, GITHUB_WORKSPACE: stage, RUNNER_TEMP: join(stage, '.t') } as NodeJS.ProcessEnv },
    );
    expect(saved.ok && saved.result).toMatchObject({ available: true });
    const b = await newRoot('b');
    const r = await store({ kind: 'actions-cache' }, env).fetch({ root: b, repository: 'acme/w', domains: ['ref-main'], key: k });
    expect(r).toMatchObject({ fetched: false, reason: 'refused' });
    expect(!r.fetched && r.detail).toMatch(/does not match the sha256/);
    expect(await hostEntries(b)).toEqual([]);
  });

  test('no runtime token (the hooks, the CLI): no fleet store, said once as a line', () => {
    const r = openFleetStore({ kind: 'actions-cache' }, { ...process.env, ACTIONS_RUNTIME_TOKEN: '' }, 'action');
    expect(r && 'unavailable' in r && r.unavailable).toMatch(/no Actions cache service/);
  });
});
