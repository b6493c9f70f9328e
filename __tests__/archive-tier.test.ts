// The host tier of dependency archives, start to end, with real cargo against a sparse registry
// on 127.0.0.1: a job's end saves an archive of the dependencies it compiled, a start with no warm
// build of its own and nothing to copy restores one before its first build, through the bundled
// action (the runner's protocol) and through the runner's job hooks. Then what must never happen:
// a PR's archive reaching its base or another PR, an archive of another CARGO_HOME, path view or
// toolchain restored, a corrupt archive half-restored, a guard removing an archive a restore reads,
// and a root shared with the previous release (commit d04863a, whose guard and gc know no
// archives) breaking either release.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { HookWorker, fakeRunner } from './helpers/hooks.js';
import { consoleLog } from '../src/os/log.js';
import { archiveDir, slotDirs } from '../src/model/layout.js';
import { DATA, META, restoreArchive } from '../src/store/archive.js';
import { listHostArchives, removeHostArchive } from '../src/store/archive-host.js';
import { currentIdentity } from '../src/model/identity.js';
import { archiveCap } from '../src/model/settings.js';
import { parseLevel } from '../src/model/units.js';
import { collectCandidates, runGuard } from '../src/pool/guard.js';
import { readWarmth } from '../src/pool/warmth.js';
import { parseEvents } from '../src/pool/events.js';
import { type KeyContext, restoreTier, saveTier } from '../src/job/tiers.js';

const { job, cleanup } = jobPool();
const workers: HookWorker[] = [];
let reg: LocalRegistry;
let ws: string;
let scratch: string;
const root = () => join(scratch, 'root');
const log = consoleLog(false, true);
const MIN = 60_000;

beforeAll(async () => {
  reg = await localRegistry('ci-archive-tier-', 3);
  scratch = reg.scratch;
  ws = await reg.checkout('ws');
}, 5 * MIN);

afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await cleanup();
  await reg?.close();
});

/** The crates cargo compiled in a build (its `Compiling` lines). */
const compiled = (stderr: string) => [...stderr.matchAll(/^\s*Compiling (\S+) v/gm)].map((m) => m[1]).sort();

/** main, `cargo build --locked`, post: one job through the bundled action. */
async function fullJob(j: SimJob, r = root(), inputs: Record<string, string> = {}) {
  const m = await j.run('main', { root: r, 'working-directory': ws, ...inputs });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  const targetAfterMain = await fs.readdir(j.exported.CARGO_TARGET_DIR);
  const b = await j.exec(['cargo', 'build', '--locked'], ws);
  expect({ code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ code: 0, stderr: '' });
  const p = await j.run('post');
  expect({ code: p.code, warnings: p.warnings }).toEqual({ code: 0, warnings: [] });
  return { m, p, built: compiled(b.stderr), targetAfterMain };
}

/** What the guard leaves of a slot it pruned: an empty target and a record that says so. */
async function prune(target: string) {
  const slot = join(target, '..');
  await fs.rm(target, { recursive: true, force: true });
  await fs.mkdir(target);
  const rec = JSON.parse(await fs.readFile(join(slot, 'slot.json'), 'utf8'));
  await fs.writeFile(join(slot, 'slot.json'), JSON.stringify({ ...rec, prunedAt: new Date().toISOString(), sizes: { ...rec.sizes, target: 0 } }));
}

const archivesOf = async (r: string) => (await listHostArchives(r)).filter((a) => !a.temp);
/** A guard run that wants everything idle gone (1%: this disk is fuller than that). */
const guardAll = (r: string, dryRun = false) =>
  runGuard({ root: r, threshold: parseLevel('1%')!, target: parseLevel('1%')!, scope: 'host', runnerId: 'x', dryRun, timeoutMs: MIN, log });
const lastWarmth = async (r: string) => (await readWarmth(r)).at(-1)!;
const DEPS = ['dep0', 'dep1', 'dep2'];

describe('through the bundled action', () => {
  let mainTarget: string;

  test("main's end saves an archive; a PR with no slot of its own and nothing to copy restores it and compiles no dependency", async () => {
    const main = await job({ branch: 'main', runner: 'r1' });
    const first = await fullJob(main);
    expect(first.built).toEqual(['consumer', ...DEPS]);
    expect(first.p.stdout).toMatch(/Saved a dependency archive to the host's tier \(3 dependency packages, 3 compiled by this job/);
    expect(first.p.summary).toMatch(/Archive save<\/td><td>Saved a dependency archive/);
    const saved = await archivesOf(root());
    expect(saved.map((a) => a.domain)).toEqual(['ref-main']);
    expect(saved[0].meta?.key.cargoHome).toBe(join(root(), 'homes', `u${process.getuid!()}`));
    // The domain as the job's key spells it, for the guard's history (a merge queue's key is re-hashed in the path).
    expect(saved[0].meta?.domain).toBe('ref-main');
    mainTarget = main.exported.CARGO_TARGET_DIR;
    expect((await lastWarmth(root())).from).toBe('cold');

    // The guard pruned main's build: nothing to copy from.
    await prune(mainTarget);
    const pr = await job({ pr: 5, base: 'main', runner: 'r2' });
    const second = await fullJob(pr);
    expect(second.m.stdout).toMatch(/Restored a dependency archive from the host's tier \(its exact key, saved by ref-main, /);
    expect(second.targetAfterMain).toEqual(['debug']);
    // The warm-start metric: only the workspace's own package built, every dependency fresh.
    expect(second.built).toEqual(['consumer']);
    const w = await lastWarmth(root());
    expect({ from: w.from, key: w.key, built: w.built }).toEqual({ from: 'host-archive', key: 'pr-5', built: 1 });
    expect(w.fresh).toBeGreaterThanOrEqual(DEPS.length);
    expect(second.p.summary).toMatch(/Started from.*host-archive/);
    // Its base's archive of the exact key is there: the PR saves none.
    expect(second.p.stdout).toMatch(/No dependency archive saved: it compiled no dependency/);
    expect((await archivesOf(root())).map((a) => a.domain)).toEqual(['ref-main']);
    const events = parseEvents(await fs.readFile(join(root(), 'events.jsonl'), 'utf8')).filter((e) => e.event === 'archive');
    expect(events.map((e) => (e.event === 'archive' ? `${e.op} ${e.result}` : ''))).toEqual(['restore missed', 'save saved', 'restore restored']);
  });

  test("a PR's archive never reaches its base or another PR; a fork PR writes none", async () => {
    const r = join(scratch, 'root-trust');
    // PR 7 runs first on this host: it compiles everything and saves under its own domain.
    const seven = await fullJob(await job({ pr: 7, base: 'main', runner: 'r1' }), r);
    expect(seven.built).toEqual(['consumer', ...DEPS]);
    expect((await archivesOf(r)).map((a) => a.domain)).toEqual(['pr-7']);
    // main (its base) and PR 8 find nothing they may read: both build cold, and say why.
    const main = await fullJob(await job({ branch: 'main', runner: 'r2' }), r);
    expect(main.m.stdout).toMatch(/No dependency archive restored: no dependency archive of acme\/widgets for ref-main\./);
    expect(main.built).toEqual(['consumer', ...DEPS]);
    expect(main.p.summary).toMatch(/Started from.*cold[\s\S]*host-archive: no dependency archive of acme\/widgets for ref-main/);
    const fork = await fullJob(await job({ pr: 9, base: 'main', runner: 'r4', fork: true }), r);
    // The fork's private CARGO_HOME is in its slot: no archive (main's neither) is for it.
    expect(fork.m.stdout).toMatch(
      /No dependency archive restored: the newest dependency archive of acme\/widgets \(ref-main, saved .*\) was built with another cargoHome\./,
    );
    expect(fork.p.stdout).toMatch(/No dependency archive saved: a fork PR never writes/);
    expect((await archivesOf(r)).map((a) => a.domain).sort()).toEqual(['pr-7', 'ref-main']);
    // PR 8, with main's slot busy with a later run of main, reads main's archive and never PR 7's.
    const holder = await job({ branch: 'main', runner: 'r2' });
    expect((await holder.run('main', { root: r, 'working-directory': ws })).code).toBe(0);
    const eight = await fullJob(await job({ pr: 8, base: 'main', runner: 'r3' }), r);
    expect(eight.m.stdout).toMatch(/saved by ref-main/);
    expect(eight.built).toEqual(['consumer']);
    expect((await holder.run('post')).code).toBe(0);
  });

  test('a truncated archive is refused with a warning and removed: the job builds cold, nothing half-restored in its slot', async () => {
    const [a] = await archivesOf(root());
    await fs.truncate(join(a.dir, DATA), 1000);
    const pr = await job({ pr: 11, base: 'main', runner: 'r5' });
    const m = await pr.run('main', { root: root(), 'working-directory': ws });
    expect(m.code).toBe(0);
    expect(m.warnings).toEqual([expect.stringMatching(/^The dependency archive .* was refused \(truncated\).*It was removed; this job builds without it/)]);
    expect(await fs.readdir(pr.exported.CARGO_TARGET_DIR)).toEqual([]);
    expect(existsSync(a.dir)).toBe(false);
    const b = await pr.exec(['cargo', 'build', '--locked'], ws);
    expect(compiled(b.stderr)).toEqual(['consumer', ...DEPS]);
    const p = await pr.run('post');
    expect(p.code).toBe(0);
    // Its base has none now: the PR saves its own (for itself; never read by main).
    expect((await archivesOf(root())).map((x) => x.domain)).toEqual(['pr-11']);
    const events = parseEvents(await fs.readFile(join(root(), 'events.jsonl'), 'utf8'));
    expect(events.some((e) => e.event === 'archive' && e.op === 'restore' && e.result === 'refused')).toBe(true);
  });
});

describe('what a key keeps apart, at the restore point', () => {
  let r: string;
  let context: KeyContext;
  const me = () => currentIdentity({ GITHUB_REPOSITORY: 'acme/keys', GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: 'push', GITHUB_JOB: 'build' });
  beforeAll(async () => {
    r = join(scratch, 'root-keys');
    const target = join(scratch, 'keys-build', 'target');
    const home = join(r, 'homes', 'u0');
    const env = { ...process.env, CARGO_HOME: home, CARGO_TARGET_DIR: target };
    const startedAt = new Date(Date.now() - 1000).toISOString();
    // Not execFileSync: the registry is served by this process.
    await promisify(execFile)('cargo', ['build', '--locked'], { cwd: ws, env });
    context = { identity: me(), env, cargoHome: home, view: 'host', search: { workingDirectory: ws } };
    const s = await saveTier({
      root: r,
      me: me(),
      cap: { kind: 'share', percent: 50 },
      layout: 'slot',
      buildDir: target,
      startedAt,
      builtElsewhere: false,
      context,
      timeoutMs: 5 * MIN,
    });
    expect(s.outcome).toBe('saved');
  }, 5 * MIN);

  const restoreWith = async (change: Partial<KeyContext>, name: string) => {
    const buildDir = join(scratch, 'keys-restore', name);
    const t = await restoreTier({
      root: r,
      me: me(),
      cap: { kind: 'share', percent: 50 },
      buildDir,
      by: 'key',
      context: { ...context, ...change },
      timeoutMs: MIN,
      log,
      mark: async () => undefined,
    });
    return { t, left: await fs.readdir(buildDir).catch(() => [] as string[]) };
  };

  test.each([
    ['another CARGO_HOME string', { cargoHome: '/srv/other/homes/u0' }, 'cargoHome'],
    ['another path view (a container)', { view: 'container' }, 'view'],
    ['another toolchain', { env: { ...process.env, RUSTUP_TOOLCHAIN: 'nightly' } }, 'rustc'],
  ])('%s: never restored, and the miss names the part', async (name, change, part) => {
    const { t, left } = await restoreWith(change as Partial<KeyContext>, part);
    expect(t.outcome).toBe('missed');
    expect(t.why).toMatch(new RegExp(`was built with another .*\\b${part}\\b`));
    expect(left).toEqual([]);
  });

  test('the same key restores (the control)', async () => {
    expect((await restoreWith({}, 'same')).t.outcome).toBe('restored');
  });

  test('an altered archive (its size kept, one byte flipped) is refused with a warning and removed; nothing is left in the build dir', async () => {
    const r3 = join(scratch, 'root-altered');
    const target = join(scratch, 'keys-build', 'target');
    const s = await saveTier({
      root: r3,
      me: me(),
      cap: { kind: 'share', percent: 50 },
      layout: 'slot',
      buildDir: target,
      startedAt: new Date(0).toISOString(),
      builtElsewhere: false,
      context,
      timeoutMs: 5 * MIN,
    });
    expect(s.outcome).toBe('saved');
    const [a] = await archivesOf(r3);
    const data = join(a.dir, DATA);
    const bytes = await fs.readFile(data);
    const at = Math.floor(bytes.length / 2);
    bytes[at] ^= 0xff;
    await fs.writeFile(data, bytes);
    const warnings: string[] = [];
    const buildDir = join(scratch, 'keys-restore', 'altered');
    const t = await restoreTier({
      root: r3,
      me: me(),
      cap: { kind: 'share', percent: 50 },
      buildDir,
      by: 'key',
      context,
      timeoutMs: MIN,
      log: { ...log, warning: (m) => void warnings.push(m) },
      mark: async () => undefined,
    });
    expect(t.outcome).toBe('refused');
    expect(warnings).toEqual([expect.stringMatching(/^The dependency archive .* was refused \(altered\).*It was removed; this job builds without it/)]);
    expect(await fs.readdir(buildDir).catch(() => [] as string[])).toEqual([]);
    expect(existsSync(a.dir)).toBe(false);
    const events = parseEvents(await fs.readFile(join(r3, 'events.jsonl'), 'utf8'));
    expect(events.filter((e) => e.event === 'archive' && e.op === 'restore').map((e) => (e.event === 'archive' ? e.result : ''))).toEqual(['refused']);
  });

  test('two jobs saving one key at once leave one whole archive', async () => {
    const r2 = join(scratch, 'root-race');
    const target = join(scratch, 'keys-build', 'target');
    const startedAt = new Date(0).toISOString();
    const both = await Promise.all(
      [0, 1].map(() =>
        saveTier({
          root: r2,
          me: me(),
          cap: { kind: 'share', percent: 50 },
          layout: 'slot',
          buildDir: target,
          startedAt,
          builtElsewhere: false,
          context,
          timeoutMs: 5 * MIN,
        }),
      ),
    );
    expect(both.map((s) => s.outcome).sort()).toEqual(['saved', 'skipped']);
    const all = await listHostArchives(r2);
    expect(all.map((a) => [Boolean(a.temp), a.meta?.packages])).toEqual([[false, 3]]);
    const got = await restoreArchive({ dir: all[0].dir, buildDir: join(scratch, 'keys-restore', 'race'), timeoutMs: MIN });
    expect(got.restored).toBe(true);
  });

  test('a guard run during a restore leaves the archive in place; the restore completes', async () => {
    const [a] = await archivesOf(r);
    const buildDir = join(scratch, 'keys-restore', 'guarded');
    let during: { removed: string[]; probe: string; kept: boolean } | undefined;
    const got = await restoreArchive({
      dir: a.dir,
      buildDir,
      timeoutMs: MIN,
      whileHeld: async () => {
        // Everything idle goes: but not what a restore reads.
        const g = await guardAll(r);
        const probe = await removeHostArchive(r, a.dir, 'test: the remover itself, during a restore', MIN);
        during = { removed: g.removals.filter((x) => x.outcome === 'removed').map((x) => x.path), probe: probe.outcome, kept: existsSync(join(a.dir, DATA)) };
      },
    });
    expect(during).toEqual({ removed: expect.not.arrayContaining([a.dir]), probe: 'live', kept: true });
    expect(got.restored).toBe(true);
    // Once nobody reads it, the guard may take it.
    const g = await guardAll(r);
    expect(g.removals.filter((x) => x.kind === 'archive').map((x) => [x.path, x.outcome])).toEqual([[a.dir, 'removed']]);
  });
});

describe('a root shared with the previous release', () => {
  test("its gc and status meet archives and leftovers they do not know and leave them; this release's guard removes the dead ones first", async () => {
    const r = join(scratch, 'root-previous');
    const main = await job({ branch: 'main', runner: 'r1' });
    await fullJob(main, r);
    const [a] = await archivesOf(r);
    // A save killed midway, and an archive whose archive.json a crash left unreadable.
    const fallback = join(a.dir, '..');
    const leftover = join(fallback, '.0123456789abcdef0123456789abcdef.deadbeef.tmp');
    await fs.mkdir(leftover);
    await fs.writeFile(join(leftover, DATA), 'half');
    const past = new Date(Date.now() - 3_600_000);
    await fs.utimes(leftover, past, past);
    const broken = join(fallback, 'fedcba9876543210fedcba9876543210');
    await fs.mkdir(broken);
    await fs.writeFile(join(broken, META), '{"format": 1, "sha');
    await fs.writeFile(join(broken, DATA), 'x');

    // The previous release's bundled CLI, from git.
    const prev = join(scratch, 'previous');
    await fs.mkdir(prev, { recursive: true });
    execFileSync('sh', ['-c', `git archive d04863a dist package.json | tar -x -C ${prev}`]);
    const old = (args: string[]) =>
      spawnSync(process.execPath, [join(prev, 'dist', 'cli', 'index.js'), ...args], { encoding: 'utf8', env: { ...process.env, CARGO_ISOLATE_ROOT: r } });
    const st = old(['status', '--root', r]);
    expect({ code: st.status, err: st.stderr }).toEqual({ code: 0, err: '' });
    const gc = old(['gc', '--root', r, '--disk-threshold', '1%', '--prune-scope', 'host']);
    expect({ code: gc.status, err: gc.status ? gc.stderr : '' }).toEqual({ code: 0, err: '' });
    for (const d of [a.dir, leftover, broken]) expect([d, existsSync(d)]).toEqual([d, true]);

    // This release restores what the previous one left in place...
    await prune(main.exported.CARGO_TARGET_DIR);
    const pr = await fullJob(await job({ pr: 21, base: 'main', runner: 'r2' }), r);
    expect(pr.built).toEqual(['consumer']);
    // ...and its guard takes the dead entries before any archive or build.
    const dry = await guardAll(r, true);
    const archives = dry.removals.filter((x) => x.kind === 'archive').map((x) => x.path);
    expect(archives.slice(0, 2).sort()).toEqual([broken, leftover].sort());
    expect(archives).toContain(a.dir);
    const first = dry.removals.findIndex((x) => x.kind === 'archive');
    expect(dry.removals.slice(0, first).every((x) => x.kind === 'trash' || x.kind === 'job-dir' || x.kind === 'target')).toBe(true);
  });
});

describe('through the runner hooks', () => {
  test('the completed hook saves, the started hook of a job with nothing to copy restores by its identity: no dependency compiled', async () => {
    const r = join(scratch, 'root-hooks');
    const runnerDir = await fakeRunner(join(scratch, 'runner'));
    const hooked = async (o: Parameters<typeof job>[0]) => {
      const j = await job({ ...o, extraEnv: { CARGO_ISOLATE_ROOT: r } });
      j.env.GITHUB_WORKSPACE = ws;
      const w = new HookWorker(j, runnerDir);
      workers.push(w);
      return { j, w };
    };
    const run = async (o: Parameters<typeof job>[0]) => {
      const { j, w } = await hooked(o);
      const s = await w.hook('started');
      expect({ code: s.code, warnings: s.warnings }).toEqual({ code: 0, warnings: [] });
      const target = await fs.readdir(s.env.CARGO_TARGET_DIR);
      const b = await j.exec(['cargo', 'build', '--locked'], ws);
      expect({ code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ code: 0, stderr: '' });
      const c = await w.hook('completed');
      expect({ code: c.code, warnings: c.warnings }).toEqual({ code: 0, warnings: [] });
      await w.completeJob();
      return { s, c, target, built: compiled(b.stderr) };
    };
    const main = await run({ branch: 'main', runner: 'h1' });
    expect(main.built).toEqual(['consumer', ...DEPS]);
    expect(main.c.output).toMatch(/dependency archive saved/);
    expect((await archivesOf(r)).map((a) => a.domain)).toEqual(['ref-main']);
    await prune(main.s.env.CARGO_TARGET_DIR);
    const pr = await run({ pr: 31, base: 'main', runner: 'h2' });
    expect(pr.s.output).toMatch(/Restored a dependency archive from the host's tier \(the job's newest, saved by ref-main/);
    expect(pr.target).toEqual(['debug']);
    expect(pr.built).toEqual(['consumer']);
    expect(pr.c.output).toMatch(/units 1 built, \d+ fresh; started from host-archive;/);
    expect((await lastWarmth(r)).from).toBe('host-archive');
  });
});

test('the cap: a value refused with its form, and the share of the disk computed', () => {
  expect(archiveCap('10%')).toEqual({ kind: 'share', percent: 10 });
  expect(archiveCap('20GiB')).toEqual({ kind: 'size', bytes: 20 * 2 ** 30 });
  expect(archiveCap('off')).toEqual({ kind: 'off' });
  expect(archiveCap('10')).toBeUndefined();
  expect(archiveCap('150%')).toBeUndefined();
  expect(slotDirs('/r', 's000').target).toBe('/r/slots/s000/target');
  expect(archiveDir('/r', 'a/b', 'pr-1', 'f', 'e')).toBe('/r/archives/a__b/pr-1/f/e');
});

test('a transfer to the Actions cache service that a killed job left is removed an hour on, never a running one', async () => {
  const root = join(scratch, 'staging-root');
  const archives = join(root, 'archives');
  const old = join(archives, '.fleet-00aa11bb.tmp');
  const running = join(archives, '.fleet-22cc33dd.tmp');
  for (const d of [old, running]) {
    await fs.mkdir(join(d, 'entry'), { recursive: true });
    await fs.writeFile(join(d, 'entry', DATA), Buffer.alloc(64 * 1024, 7));
  }
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  await fs.utimes(old, twoHoursAgo, twoHoursAgo);
  const found = (await collectCandidates(root)).filter((c) => c.kind === 'archive');
  expect(found.map((c) => [c.path, c.value, c.live])).toEqual([[old, 0, false]]);
  expect(found[0].bytes).toBeGreaterThanOrEqual(64 * 1024);
  // Not an archive of any repository: the host tier's listing does not take it for one.
  expect(await listHostArchives(root)).toEqual([]);
  expect((await removeHostArchive(root, old, 'test', 10_000)).outcome).toBe('removed');
  expect([existsSync(old), existsSync(running)]).toEqual([false, true]);
});
