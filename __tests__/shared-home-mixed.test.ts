// The shared CARGO_HOME where not every job is the runner's user under this release: root
// container jobs (which permissions do not stop), runner hooks (which start before checkout, with
// no Cargo.lock to check against), and jobs of the previous release on the same root (each
// workflow pins its own version). Real cargo, real Docker, the previous release's dist/ from git.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { forAnyUid, toolchainForAnyUid } from './helpers/anyuid.js';
import { type CrateRegistry, HELD_BUILD, crateRegistry } from './helpers/crate-registry.js';
import { type Docker, WORKSPACE, containerize, removeContainer, setupDocker } from './helpers/docker.js';
import { HookWorker, fakeRunner } from './helpers/hooks.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { scaled, until } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';
import { compiled } from './helpers/workspace.js';

/** The release main was at before the shared home's sources were verified (its dist/ is in git). */
const PREVIOUS = 'd04863a';
const RUNNER = 1001;
const { job, cleanup } = jobPool();
const containers: string[] = [];
const workers: HookWorker[] = [];
let d: Docker;
let scratch: string;
let rust: string;
let reg: CrateRegistry;
let ws: string;
let wsHeld: string; // depends on a crate whose build script waits for the test
const MAIN = 'fn main() { println!("v={}", numfmt::v()); }\n';

beforeAll(async () => {
  rust = toolchainForAnyUid();
  scratch = await fs.mkdtemp('/var/tmp/ci-shared-home-mixed-');
  await fs.chmod(scratch, 0o755);
  reg = await crateRegistry(join(scratch, 'registry'), [
    { name: 'numfmt', files: { 'src/lib.rs': 'pub fn v() -> u64 { 1 }\n' } },
    { name: 'held', files: { 'build.rs': HELD_BUILD, 'src/lib.rs': 'pub fn h() -> u8 { 1 }\n' } },
  ]);
  ws = await reg.consumer(join(scratch, 'ws'), ['numfmt'], MAIN);
  wsHeld = await reg.consumer(join(scratch, 'ws-held'), ['held'], 'fn main() { println!("{}", held::h()); }\n');
  for (const w of [ws, wsHeld])
    await promisify(execFile)('cargo', ['generate-lockfile'], { cwd: w, env: { ...process.env, CARGO_HOME: join(scratch, 'lockgen-home') } });
  execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, ws]);
}, scaled(900_000));

afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  for (const c of containers) removeContainer(d, c);
  await cleanup();
  await reg?.close();
  if (scratch) execFileSync('chmod', ['-R', 'u+w', scratch]);
  await removeScratch(scratch);
});

const libOf = (home: string) =>
  execFileSync('sh', ['-c', 'ls "$H"/registry/src/*/numfmt-1.0.0/src/lib.rs'], { env: { H: home } })
    .toString()
    .trim();
/** Same size, mtime put back: what only the change time tells. */
const TAMPER = (lib: string) => `R=$(mktemp) && cp -p "${lib}" "$R" && printf 'pub fn v() -> u64 { 7 }\\n' > "${lib}" && touch -r "$R" "${lib}" && rm -f "$R"`;

describe('root container jobs: permissions do not stop root, the check at every start does', () => {
  let root: string;
  beforeAll(async () => {
    d = setupDocker();
    root = join(scratch, 'croot');
    await fs.mkdir(root);
    await fs.chown(root, RUNNER, RUNNER); // the runner user's root, bind-mounted into every job container
  }, scaled(900_000));

  async function containerJob(pr: number | undefined, branch?: string): Promise<SimJob> {
    const j = await job(pr !== undefined ? { pr, base: 'develop', runner: `c${pr}`, job: 'test' } : { branch, runner: 'c0', job: 'test' });
    containers.push(
      containerize(d, j, {
        mounts: [
          { host: root, at: root },
          { host: ws, at: WORKSPACE },
        ],
        network: 'host',
      }),
    );
    return j;
  }
  const run = async (j: SimJob, entry: 'main' | 'post') => {
    const r = await j.run(entry, { root });
    expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
    return r;
  };
  const notRunners = () => execFileSync('find', [root, '!', '-uid', String(RUNNER)], { encoding: 'utf8' }).trim();

  test("a root job's edit of a sealed source succeeds; the next root job's start repairs it before it compiles; everything goes back to the runner's user", async () => {
    const first = await containerJob(undefined, 'main');
    const m = await run(first, 'main');
    expect(m.env.CARGO_HOME).toBe(join(root, 'homes', 'u0'));
    expect((await first.exec(['cargo', 'build', '--locked'], WORKSPACE)).code).toBe(0);
    await run(first, 'post');
    expect(notRunners()).toBe(''); // root's home and its record of verified sources too
    const lib = libOf(m.env.CARGO_HOME);
    expect((await fs.stat(lib)).mode & 0o777).toBe(0o444);

    const pr = await containerJob(70);
    await run(pr, 'main');
    const t = await pr.exec(['sh', '-c', TAMPER(lib)], WORKSPACE);
    expect(t.code).toBe(0);
    expect(await fs.readFile(lib, 'utf8')).toMatch(/7/); // root wrote through the read-only mode
    removeContainer(d, containers.pop()!); // cancelled: no post step

    const next = await containerJob(71);
    const nm = await run(next, 'main');
    expect(nm.warnings.join('\n')).toMatch(/numfmt-1\.0\.0 were changed since they were verified \(src\/lib\.rs \(content\)\); repaired/);
    const b = await next.exec(['cargo', 'build', '--locked'], WORKSPACE);
    expect(compiled(b.stderr)).toContain('numfmt');
    expect((await next.exec([join(nm.env.CARGO_TARGET_DIR, 'debug', 'app')], WORKSPACE)).stdout.trim()).toBe('v=1');
    await run(next, 'post');
    // The cancelled job's slot waits for root's gc, as before; the home is the runner user's again.
    expect(execFileSync('find', [join(root, 'homes'), '!', '-uid', String(RUNNER)], { encoding: 'utf8' }).trim()).toBe('');
  });

  test("a root job's credentials are gone for the next root job; registry/src removed by root is extracted again", async () => {
    const a = await containerJob(72);
    const am = await run(a, 'main');
    expect((await a.exec(['cargo', 'login', '--registry', 'testreg', 'root-secret'], WORKSPACE)).code).toBe(0);
    expect((await a.exec(['rm', '-rf', join(am.env.CARGO_HOME, 'registry', 'src')], WORKSPACE)).code).toBe(0);
    await run(a, 'post');
    const b = await containerJob(73);
    const bm = await run(b, 'main');
    expect(existsSync(join(bm.env.CARGO_HOME, 'credentials.toml'))).toBe(false);
    expect(bm.stdout).toMatch(/1 extracted from their verified \.crate/);
    expect((await b.exec(['cargo', 'build', '--locked', '--offline'], WORKSPACE)).code).toBe(0);
    await run(b, 'post');
  });
});

describe('runner hooks as root: the started hook checks what was verified, before any checkout', () => {
  test('sources changed after the last job are repaired by the next job-started hook, without a lock file', async () => {
    const root = join(scratch, 'hroot');
    const runnerDir = await fakeRunner(join(scratch, 'runner'));
    const hooked = async (pr: number) => {
      const j = await job({ pr, base: 'develop', runner: `h${pr}`, extraEnv: { CARGO_ISOLATE_ROOT: root } });
      const hws = join(j.dir, 'work', 'widgets');
      await fs.mkdir(hws, { recursive: true });
      j.env.GITHUB_WORKSPACE = hws;
      const w = new HookWorker(j, runnerDir);
      workers.push(w);
      return { j, w, hws };
    };
    const one = await hooked(80);
    expect((await one.w.hook('started')).code).toBe(0);
    execFileSync('cp', ['-a', `${ws}/.`, one.hws]); // checkout
    expect((await one.j.exec(['cargo', 'build', '--locked'], one.hws)).code).toBe(0);
    const c = await one.w.hook('completed');
    expect(c.code).toBe(0);
    await one.w.completeJob();
    const home = join(root, 'homes', 'u0');
    const lib = libOf(home);
    expect((await fs.stat(lib)).mode & 0o777).toBe(0o444); // sealed by the completed hook, from the checkout's lock
    execFileSync('sh', ['-c', TAMPER(lib)]); // a job whose completed hook never ran

    const two = await hooked(81);
    const s = await two.w.hook('started');
    expect(s.code).toBe(0);
    expect(s.output).toMatch(/no Cargo\.lock yet: against what each crate was verified as/);
    expect(s.warnings.join('\n')).toMatch(/numfmt-1\.0\.0 were changed since they were verified/);
    expect(await fs.readFile(lib, 'utf8')).toBe('pub fn v() -> u64 { 1 }\n');
    execFileSync('cp', ['-a', `${ws}/.`, two.hws]);
    expect((await two.j.exec(['cargo', 'build', '--locked'], two.hws)).code).toBe(0);
    expect((await two.w.hook('completed')).code).toBe(0);
    await two.w.completeJob();
  });
});

describe("cargo's own clean-up (1.88+) in the shared home", () => {
  const sqlite = (db: string, sql: string) => execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, sql]);
  const makeOld = (home: string, crate: string) =>
    sqlite(
      join(home, '.global-cache'),
      `update registry_src set timestamp = timestamp - 40*86400 where name = '${crate}'; update global_data set last_auto_gc = 0;`,
    );

  test("never removes sources under another job's build (every build holds cargo's mutate lock shared); once no build runs, it removes what nobody used for a month", async () => {
    const root = join(scratch, 'gcroot');
    const held = join(scratch, 'gc-held');
    await fs.mkdir(held);
    const a = await job({ pr: 100, base: 'develop', runner: 'g1' });
    const am = await a.run('main', { root, 'working-directory': wsHeld });
    expect(am.code).toBe(0);
    const home = am.env.CARGO_HOME;
    const building = a.exec(['cargo', 'build', '--locked'], wsHeld, { env: { HELD_DIR: held } });
    await until('the held build script to start', () => existsSync(join(held, 'started')), { ms: 300_000, unless: building });
    const src = execFileSync('sh', ['-c', 'ls -d "$H"/registry/src/*/held-1.0.0'], { env: { H: home } })
      .toString()
      .trim();
    // held's sources look unused for 40 days, and cargo is due to clean: every run cleans.
    makeOld(home, 'held-1.0.0');
    const b = await job({ pr: 101, base: 'develop', runner: 'g2' });
    expect((await b.run('main', { root, 'working-directory': ws })).code).toBe(0);
    const clean = { CARGO_CACHE_AUTO_CLEAN_FREQUENCY: 'always' };
    const other = await b.exec(['cargo', 'build', '--locked'], ws, { env: { ...clean, CARGO_LOG: 'gc=debug' } });
    expect({ code: other.code, stderr: other.code ? other.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(other.stderr).toMatch(/unable to acquire mutate lock, auto gc disabled/); // cargo's own words (core/gc.rs)
    expect(existsSync(join(src, 'src', 'lib.rs'))).toBe(true);
    await fs.writeFile(join(held, 'release'), '');
    const done = await building;
    expect({ code: done.code, stderr: done.code ? done.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect((await a.run('post')).code).toBe(0);
    // No build runs now: the same clean-up removes what nobody used for a month (root ignores the
    // read-only modes; for the runner's user, sealed sources unused for three weeks are unsealed first).
    makeOld(home, 'held-1.0.0');
    expect((await b.exec(['cargo', 'build', '--locked'], ws, { env: clean })).code).toBe(0);
    expect(existsSync(src)).toBe(false);
    expect((await b.run('post')).code).toBe(0);
  });
});

describe('the previous release beside this one, on one root', () => {
  test("its jobs build on the sealed home; this release verifies what they left once, replaces their links to the runner's config, and repairs what they changed", async () => {
    const root = join(scratch, 'proot');
    await fs.mkdir(root);
    await fs.chown(root, RUNNER, RUNNER);
    const any = forAnyUid();
    const prev = join(scratch, 'previous');
    await fs.mkdir(prev);
    const present = spawnSync('git', ['cat-file', '-e', `${PREVIOUS}^{commit}`]).status === 0;
    expect({ previous: PREVIOUS, inThisClone: present }).toEqual({ previous: PREVIOUS, inThisClone: true });
    execFileSync('sh', ['-c', `git archive ${PREVIOUS} dist | tar -x -C "${prev}"`]);
    execFileSync('chmod', ['-R', 'a+rX', prev]);
    const as = ['setpriv', `--reuid=${RUNNER}`, `--regid=${RUNNER}`, '--clear-groups'];
    const make = async (o: Parameters<typeof job>[0], previous: boolean) => {
      const j = await job({ runner: 'p1', ...o, extraEnv: { PATH: `${rust}/bin:/usr/bin:/bin` } });
      await fs.chown(j.env.HOME, RUNNER, RUNNER);
      await fs.mkdir(join(j.env.HOME, '.cargo'));
      await fs.writeFile(join(j.env.HOME, '.cargo', 'config.toml'), '[net]\nretry = 3\n');
      execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, j.env.HOME]);
      if (previous)
        j.place = {
          step: (entry) => [...as, any.node, join(prev, 'dist', entry, 'index.js')],
          run: (cmd, cwd) => [...as, 'sh', '-c', 'cd "$0" && exec "$@"', cwd, ...cmd],
        };
      return j;
    };
    const start = async (j: SimJob) => {
      const m = await j.run('main', { root, 'working-directory': ws }, { uid: RUNNER });
      expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
      return m;
    };
    const build = (j: SimJob) =>
      j.exec([`${rust}/bin/cargo`, 'build', '--locked'], ws, { uid: RUNNER, env: { PATH: `${rust}/bin:/usr/bin:/bin`, RUSTC: `${rust}/bin/rustc` } });
    const out = async (j: SimJob) => (await j.exec([join(j.exported.CARGO_TARGET_DIR, 'debug', 'app')], ws, { uid: RUNNER })).stdout.trim();
    const post = async (j: SimJob) => expect((await j.run('post', {}, { uid: RUNNER })).code).toBe(0);

    const old = await make({ branch: 'main' }, true);
    const om = await start(old);
    const home = om.env.CARGO_HOME;
    expect(home).toBe(join(root, 'homes', `u${RUNNER}`));
    expect((await fs.lstat(join(home, 'config.toml'))).isSymbolicLink()).toBe(true); // the previous release links it
    expect((await build(old)).code).toBe(0);
    await post(old);
    const lib = libOf(home);
    expect((await fs.stat(lib)).mode & 0o222).not.toBe(0); // extracted by cargo, never sealed

    const now = await make({ pr: 90, base: 'develop', runner: 'p2' }, false);
    const nm = await start(now);
    expect(nm.stdout).toMatch(/CARGO_HOME .*: 1 crates checked in \d+ ms; 1 verified against their .crate/); // once, on upgrade
    expect((await fs.lstat(join(home, 'config.toml'))).isSymbolicLink()).toBe(false);
    expect((await fs.stat(lib)).mode & 0o777).toBe(0o444);
    expect((await build(now)).code).toBe(0);
    await post(now);

    // The previous release on the sealed home: a cold build compiles from the sealed sources.
    const oldPr = await make({ pr: 91, base: 'develop', runner: 'p3' }, true);
    await start(oldPr);
    const ob = await build(oldPr);
    expect({ code: ob.code, compiled: compiled(ob.stderr).includes('numfmt') }).toEqual({ code: 0, compiled: true });
    expect(await out(oldPr)).toBe('v=1');
    const t = await oldPr.exec(['sh', '-c', `chmod u+w "${lib}" && ${TAMPER(lib)}`], ws, { uid: RUNNER });
    expect(t.code).toBe(0);
    await post(oldPr); // the previous release checks nothing

    const next = await make({ pr: 92, base: 'develop', runner: 'p4' }, false);
    const xm = await start(next);
    expect(xm.warnings.join('\n')).toMatch(/were changed since they were verified/);
    expect((await build(next)).code).toBe(0);
    expect(await out(next)).toBe('v=1');
    await post(next);
  });
});
