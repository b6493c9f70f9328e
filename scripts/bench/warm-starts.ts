// Section 11 of `npm run bench`: how long a job takes to a built workspace, by where its start
// came from, every start through the bundled action's main and post steps (dist/), beside the
// layouts fleets run instead, in one run, as ratios to a cold build and to rust-cache's restore
// and build measured in the same run. The workspace is the service workspace
// (scripts/lib/service-crates.mjs: real crates from Debian's librust-*-dev packages in a loopback
// registry; a cold build of minutes), per build-dir layout (v1, v2):
//   cold                 new target dir and CARGO_HOME, no compile cache (the baseline)
//   rust-cache's way     the cold build's target cleaned as rust-cache cleans it, with the registry's
//                        index and cache, as tar+zstd; everything wiped, restored at the same paths,
//                        built (scripts/bench/rust-cache.ts)
//   the action, cold     main's first push on a host with nothing: its post step saves the dependency
//                        archive (timed: what the save adds to the post step) and sends it to the
//                        fleet store, a shared directory
//   seeds' layout        a new target dir per run at the same path, CARGO_HOME kept, sccache warm
//   sccache only         a slot that does not hold the build (another PR, another base), nothing to
//                        copy, sccache warm from other slots
//   copy                 a PR whose slot the guard pruned, its base branch's build idle in another slot
//   warm slot            the job's own slot
//   host tier            main's slot pruned as the guard prunes it: no warm build and nothing to copy;
//                        the start restores main's dependency archive from the host's tier
//   fleet tier           a second host: a new root at the same path (as the cross-host tests do) and
//                        its own sccache; the start fetches the archive from the shared directory
// each with no change and with a one-line change in the workspace; the tier rows say which tier the
// start came from and the dependency units rebuilt, from the warm-start metric (<root>/warmth.jsonl).
// Every row runs on the first layout of BENCH_WARM_LAYOUTS (v2 by default); the later ones (v1)
// run cold, rust-cache's and the tier rows (BENCH_WARM_ALL_ROWS=1: every row on each;
// BENCH_WARM_TIERS_ONLY=1: those rows only, on every layout, in half the time; warm-starts.json is
// then left as it was). Container jobs (the same starts in a job container) with
// BENCH_WARM_CONTAINERS=1. BENCH_WARM_WORKSPACE=small: the 53-crate workspace, to try the section in
// minutes (its figures are not written).
// Writes the per-start weights (ratios to cold) to scripts/bench/warm-starts.json for the simulation.
import { execFileSync } from 'node:child_process';
import { promises as fs, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { serveRegistry } from '../lib/registry.mjs';
import { REAL_MAIN, ensurePackages, makeRealWorkspace, packRegistry } from '../lib/real-crates.mjs';
import { SERVICE_CRATE_PACKAGES, SERVICE_MAIN, makeServiceWorkspace } from '../lib/service-crates.mjs';
import { lockDependencies } from '../../src/store/lockfile.js';
import { countUnits, readUnits, readWarmth } from '../../src/pool/warmth.js';
import { listHostArchives } from '../../src/store/archive-host.js';
import { CARGO_LAYOUT_ENV, type Row, fileValues, median, note, runnerFiles, sccacheInstalled, spread, stateOf, timed } from './kit.js';
import { restoreRustCache, saveRustCache } from './rust-cache.js';

type Env = Record<string, string | undefined>;
const sh = (cmd: string, args: string[], o: { env?: Env } = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...o }).toString();

/** A PR's slot as the guard leaves it after pruning its target: the PR's next run comes back cold. */
function prunedSlot(root: string, pr: number, cargoHome: string) {
  const name = `s9${String(pr).padStart(3, '0')}`;
  const slot = join(root, 'slots', name);
  mkdirSync(join(slot, 'target'), { recursive: true });
  mkdirSync(join(root, 'locks'), { recursive: true });
  const t = new Date(Date.now() - 60_000).toISOString();
  writeFileSync(
    join(slot, 'slot.json'),
    JSON.stringify({
      format: 1,
      name,
      layout: 'slot',
      repository: 'b/b',
      key: `pr-${pr}`,
      runnerId: 'r1',
      runnerName: 'r1',
      host: 'h',
      workflow: 'ci',
      runId: '1',
      runAttempt: '1',
      job: 'test',
      jobUid: 'x',
      leasedAt: t,
      lastUsed: t,
      prunedAt: t,
      sizes: { target: 0, cargoHome: 0, tmp: 0, measuredAt: t },
      cargoHome,
    }),
  );
  writeFileSync(join(root, 'locks', `slot-${name}.lock`), '');
}

/** A job of the section: a push to main, or a PR (to `base`, main by default), on a runner. */
interface JobOf {
  pr?: number;
  base?: string;
  runner?: string;
  runId?: number;
  before?: (exported: Record<string, string>) => Promise<void>;
}

/** What the runner passes to a job's steps: the identity of a push to main or a PR. */
function identityEnv(o: JobOf, event: string) {
  return {
    GITHUB_REPOSITORY: 'b/b',
    GITHUB_RUN_ID: String(o.runId),
    GITHUB_JOB: 'test',
    GITHUB_WORKFLOW: 'ci',
    RUNNER_NAME: o.runner ?? 'r1',
    GITHUB_EVENT_PATH: event,
    GITHUB_EVENT_NAME: o.pr ? 'pull_request' : 'push',
    ...(o.pr
      ? { GITHUB_REF: `refs/pull/${o.pr}/merge`, GITHUB_BASE_REF: o.base ?? 'main', GITHUB_HEAD_REF: `f${o.pr}` }
      : { GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' }),
  };
}
// A PR from a branch of the same repository (head and base repository named: otherwise a fork).
const eventPayload = (o: JobOf) =>
  JSON.stringify(
    o.pr
      ? {
          number: o.pr,
          pull_request: { number: o.pr, head: { ref: `f${o.pr}`, repo: { full_name: 'b/b' } }, base: { ref: o.base ?? 'main', repo: { full_name: 'b/b' } } },
          repository: { default_branch: 'main' },
        }
      : { repository: { default_branch: 'main' } },
  );

/**
 * Runs a job (main, build, post) in a fresh job container, or undefined without Docker. Every
 * container job of the fleet sees the same paths: the root at /__t/cargo-isolate, the checkout at
 * /__w/ws/ws, the host-wide sccache directory at /__t/sccache.
 */
interface ContainerJob {
  (o: JobOf): Promise<{ ms: number; units: number; hits: number; misses: number; exported: Record<string, string>; stdout: string }>;
  prunedSlot(pr: number, cargoHome: string): void;
  close(): void;
}

async function containerRunner(dir: string, ws: string, extraEnv: Record<string, string>): Promise<ContainerJob | undefined> {
  let d: Record<string, string>;
  try {
    const out = execFileSync('bash', ['scripts/docker-env.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 900_000 });
    d = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } catch {
    return undefined;
  }
  const toolCache = join(dir, 'tool-cache');
  mkdirSync(join(toolCache, 'cargo-isolate'), { recursive: true });
  mkdirSync(join(toolCache, 'sccache'), { recursive: true });
  const dockerArgs = (args: string[]) => ['-H', d.DOCKER_HOST, ...args];
  const sysroot = execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
  const made: string[] = [];
  const fn = async (o: JobOf) => {
    const jdir = await fs.mkdtemp(join(dir, 'cjob-'));
    const name = `cargo-isolate-bench-${process.pid}-${o.runId}`;
    made.push(name);
    const mounts: [string, string, string?][] = [
      [toolCache, '/__t'],
      [ws, '/__w/ws/ws'],
      [jdir, '/__w/_temp'],
      [process.execPath, '/__e/node24/bin/node', 'ro'],
      [join(process.cwd(), 'dist'), '/__a/dist', 'ro'],
      [sysroot, '/opt/rust', 'ro'],
      ['/usr/bin/sccache', '/usr/local/bin/sccache', 'ro'],
    ];
    execFileSync(
      d.DOCKER,
      dockerArgs([
        'run',
        '-d',
        '--init',
        '--network',
        'host',
        '--name',
        name,
        ...mounts.flatMap(([h, c, ro]) => ['-v', `${h}:${c}${ro ? ':ro' : ''}`]),
        d.IMAGE,
        'sh',
        '-c',
        'mkdir -p /github/home && exec sleep infinity',
      ]),
      { stdio: 'ignore' },
    );
    const files: Record<string, string> = {};
    for (const n of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY']) writeFileSync(join(jdir, n), '');
    for (const n of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY']) files[n] = `/__w/_temp/${n}`;
    writeFileSync(join(jdir, 'event.json'), eventPayload(o));
    const base = {
      ...identityEnv(o, '/__w/_temp/event.json'),
      ...files,
      RUNNER_TEMP: '/__w/_temp',
      GITHUB_WORKSPACE: '/__w/ws/ws',
      HOME: '/github/home',
      PATH: '/opt/rust/bin:/usr/local/bin:/usr/bin:/bin',
      RUNNER_TRACKING_ID: `github_bench_${o.runId}`,
      INPUT_ROOT: '/__t/cargo-isolate',
      'INPUT_DISK-THRESHOLD': '99%',
      'INPUT_WORKING-DIRECTORY': '/__w/ws/ws',
      RUSTC_WRAPPER: 'sccache',
      SCCACHE_DIR: '/__t/sccache',
      CARGO_INCREMENTAL: '0',
      ...extraEnv,
    };
    const exec = (env: Env, argv: string[], cwd = '/') =>
      timed(d.DOCKER, dockerArgs(['exec', '-w', cwd, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), name, ...argv]), {});
    try {
      const t0 = performance.now();
      const main = await exec(base, ['/__e/node24/bin/node', '/__a/dist/main/index.js']).catch((e: Error) => ({ err: e }));
      const mainMs = performance.now() - t0;
      const stdout = await fs.readFile(join(jdir, 'GITHUB_STEP_SUMMARY'), 'utf8').catch(() => '');
      const parse = (f: string) => fileValues(join(jdir, f));
      const exported = await parse('GITHUB_ENV');
      if (!exported.CARGO_TARGET_DIR) throw new Error(`the container job's main step exported nothing: ${'err' in main ? main.err.message : ''}`);
      const port = { SCCACHE_SERVER_PORT: exported.SCCACHE_SERVER_PORT };
      await exec({ ...base, ...port }, ['sccache', '--zero-stats']);
      const b = await exec({ ...base, ...exported, PATH: `${exported.CARGO_INSTALL_ROOT}/bin:${base.PATH}` }, ['cargo', 'build', '--locked'], '/__w/ws/ws');
      const statsOut = execFileSync(
        d.DOCKER,
        dockerArgs(['exec', '-e', `SCCACHE_SERVER_PORT=${port.SCCACHE_SERVER_PORT}`, name, 'sccache', '--show-stats', '--stats-format', 'json']),
        { encoding: 'utf8' },
      );
      const st = JSON.parse(statsOut).stats;
      const cnt = (x: { counts?: Record<string, number> }) => Object.values(x.counts ?? {}).reduce((a, y) => a + y, 0);
      const state = await parse('GITHUB_STATE');
      await exec({ ...base, ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])) }, [
        '/__e/node24/bin/node',
        '/__a/dist/post/index.js',
      ]);
      const log = (await fs.readFile(join(jdir, 'GITHUB_STEP_SUMMARY'), 'utf8').catch(() => '')) + stdout;
      return {
        ms: mainMs + b.ms,
        units: [...b.stderr.matchAll(/^\s*Compiling \S+ v/gm)].length,
        hits: cnt(st.cache_hits),
        misses: cnt(st.cache_misses),
        exported,
        stdout: log,
      };
    } finally {
      execFileSync(d.DOCKER, dockerArgs(['rm', '-f', name]), { stdio: 'ignore' });
    }
  };
  const close = () => {
    for (const n of made) {
      try {
        execFileSync(d.DOCKER, dockerArgs(['rm', '-f', n]), { stdio: 'ignore' });
      } catch {
        // gone
      }
    }
  };
  return Object.assign(fn, { prunedSlot: (pr: number, cargoHome: string) => prunedSlot(join(toolCache, 'cargo-isolate'), pr, cargoHome), close });
}

type Figures = {
  ms: number[];
  units?: number;
  hits?: number;
  misses?: number;
  restore?: number[];
  deps?: number[];
  metric?: string[];
  post?: number[];
  /** The main step alone (the archive's look-up, fetch and restore happen in it). */
  main?: number[];
};

/** The figures of one layout, for warm-starts.json. */
interface LayoutFigures {
  coldMs: number;
  units: number;
  lockedCrates: number;
  ratiosToCold: Record<string, number>;
  ratiosToRustCache: Record<string, number>;
  sccacheHits: Record<string, { hits: number; of: number }>;
  targetBytes: number;
  hostArchiveBytes: number;
  rustCacheArchiveBytes: number;
  postWithSaveMs: number;
  saveAsPostSays?: string;
  dependencyUnitsRebuilt: Record<string, number>;
  copyBytesPerWarmBuild?: number;
  wrapperMsPerRustcCall?: number;
  load: string;
}

export async function warmStartsSection({ scratch, rows, quick }: { scratch: string; rows: Row[]; quick: boolean }) {
  if (!sccacheInstalled()) {
    rows.push(['11', 'a start without its own warm build', 'not measured: no sccache on PATH', '', '']);
    return;
  }
  const reps = Number(process.env.BENCH_WARM_REPS ?? (quick ? 1 : 2));
  const small = process.env.BENCH_WARM_WORKSPACE === 'small';
  const layouts = (process.env.BENCH_WARM_LAYOUTS ?? 'v2,v1')
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const l of layouts) if (!CARGO_LAYOUT_ENV[l]) throw new Error(`BENCH_WARM_LAYOUTS: '${l}' is not a build-dir layout (v1, v2)`);
  const dir = join(scratch, 'warm-starts');
  mkdirSync(dir, { recursive: true });
  note(`11. packing the ${small ? 'real-crates' : 'service'} workspace's crates into a loopback registry ...`);
  ensurePackages(small ? undefined : SERVICE_CRATE_PACKAGES);
  const regDir = join(dir, 'registry');
  await packRegistry(regDir);
  // One server for the whole section: the registry's URL (its port) is part of every unit's identity.
  const server = await serveRegistry(regDir);
  const load = () => loadavg()[0].toFixed(1);
  const figures: Record<string, LayoutFigures> = {};
  let workspace = '';
  try {
    for (const [i, layout] of layouts.entries()) {
      const every = process.env.BENCH_WARM_TIERS_ONLY !== '1' && (i === 0 || process.env.BENCH_WARM_ALL_ROWS === '1');
      const f = await layoutStarts({ dir: join(dir, layout), layout, every, registryUrl: server.url, small, reps, rows, load });
      figures[layout] = f;
      workspace = `${f.lockedCrates} locked real crates, ${f.units} units compiled`;
    }
  } finally {
    await server.close();
  }
  // The simulation reads every kind of start: a run of the tier rows alone leaves the file as it was.
  if (small || process.env.BENCH_WARM_TIERS_ONLY === '1') return;
  const first = figures[layouts[0]];
  const weights = {
    measured: new Date().toISOString().slice(0, 10),
    workspace,
    reps,
    // The first layout's, where every row ran: what the simulation reads.
    layout: layouts[0],
    coldMs: first.coldMs,
    ratiosToCold: first.ratiosToCold,
    sccacheHits: first.sccacheHits,
    rustCacheArchiveBytes: first.rustCacheArchiveBytes,
    copyBytesPerWarmBuild: first.copyBytesPerWarmBuild,
    wrapperMsPerRustcCall: first.wrapperMsPerRustcCall,
    layouts: figures,
  };
  writeFileSync(join('scripts', 'bench', 'warm-starts.json'), JSON.stringify(weights, null, 2) + '\n');
  note(`11. weights for the simulation written to scripts/bench/warm-starts.json`);
}

/** The section's starts on one build-dir layout; `every`: all rows, else cold, rust-cache's and the tiers'. */
async function layoutStarts(o: {
  dir: string;
  layout: string;
  every: boolean;
  registryUrl: string;
  small: boolean;
  reps: number;
  rows: Row[];
  load: () => string;
}): Promise<LayoutFigures> {
  const { dir, layout, every, small, reps, rows, load } = o;
  const L = `layout ${layout}`;
  const layoutEnv = CARGO_LAYOUT_ENV[layout];
  mkdirSync(dir, { recursive: true });
  const ws = small ? makeRealWorkspace(join(dir, 'ws'), o.registryUrl) : makeServiceWorkspace(join(dir, 'ws'), o.registryUrl);
  // Not execFileSync: the registry is served by this very process.
  await timed('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(dir, 'lock-home') } });
  const { local, external } = lockDependencies(await fs.readFile(join(ws, 'Cargo.lock'), 'utf8'));
  let n = 0;
  const edit = () => writeFileSync(join(ws, 'src', 'main.rs'), (small ? REAL_MAIN : SERVICE_MAIN)(++n)); // a one-line change
  // Starts that take seconds, not a build's minutes, at least three times: their spread shows.
  const fewSeconds = Math.max(reps, 3);
  /** Each kind of start `k` times with no change, then `k` times after a one-line change (`edited`: '-edit'). */
  const eachStart = async (what: string, start: (edited: string, i: number) => Promise<void>, k = reps) => {
    for (const change of [false, true]) {
      for (let i = 0; i < k; i++) {
        note(`11. ${L}: ${what}, ${change ? 'one-line change' : 'no change'} ${i + 1}/${k} (load ${load()}) ...`);
        if (change) edit();
        await start(change ? '-edit' : '', i);
      }
    }
  };
  const notLocal = (u: { name: string }) => !local.some((p) => u.name.startsWith(`${p}-`) || u.name.startsWith(`${p.replace(/-/g, '_')}-`));
  /** Dependency units cargo compiled into `target` since `sinceMs` (pool/warmth.ts's counting, the workspace's own left out). */
  const depsBuilt = (target: string, sinceMs: number) => countUnits(readUnits(target).filter(notLocal), sinceMs).built;
  const units = (stderr: string) => [...stderr.matchAll(/^\s*Compiling \S+ v/gm)].length;
  const sccacheStats = (env: Env) => {
    const s = JSON.parse(sh('sccache', ['--show-stats', '--stats-format', 'json'], { env: { ...process.env, ...env } })).stats;
    const c = (x: { counts?: Record<string, number> }) => Object.values(x.counts ?? {}).reduce((a, b) => a + b, 0);
    return { hits: c(s.cache_hits), misses: c(s.cache_misses) };
  };
  const stopServer = (env: Env) => {
    try {
      sh('sccache', ['--stop-server'], { env: { ...process.env, ...env } });
    } catch {
      // not running
    }
  };
  const build = async (env: Env) => {
    const startedAt = Date.now();
    const r = await timed('cargo', ['build', '--locked'], { cwd: ws, env: { ...process.env, CARGO_INCREMENTAL: '0', ...layoutEnv, ...env } });
    return { ms: r.ms, units: units(r.stderr), deps: env.CARGO_TARGET_DIR ? depsBuilt(env.CARGO_TARGET_DIR, startedAt) : 0 };
  };
  const out: Record<string, Figures> = {};
  const add = (
    key: string,
    ms: number,
    extra: Omit<Figures, 'ms' | 'deps' | 'metric' | 'post' | 'main'> & { deps?: number; metric?: string; post?: number; main?: number } = {},
  ) => {
    const { deps, metric, post, main, ...rest } = extra;
    const f = (out[key] ??= { ms: [], ...rest });
    f.ms.push(ms);
    if (deps !== undefined) (f.deps ??= []).push(deps);
    if (metric !== undefined) (f.metric ??= []).push(metric);
    if (post !== undefined) (f.post ??= []).push(post);
    if (main !== undefined) (f.main ??= []).push(main);
  };

  // cold: nothing on disk, no compile cache; the last one's target is what rust-cache archives.
  const coldDir = join(dir, 'cold');
  const coldEnv = { CARGO_HOME: join(coldDir, 'home'), CARGO_TARGET_DIR: join(coldDir, 'target') };
  for (let i = 0; i < reps; i++) {
    note(`11. ${L}: cold build ${i + 1}/${reps} (load ${load()}) ...`);
    await fs.rm(coldDir, { recursive: true, force: true });
    edit();
    const r = await build(coldEnv);
    add('cold', r.ms, { units: r.units });
  }
  const coldLoad = load();
  if (
    (layout === 'v1') !==
    (await fs.stat(join(coldEnv.CARGO_TARGET_DIR, 'debug', '.fingerprint')).then(
      () => true,
      () => false,
    ))
  ) {
    throw new Error(`bench 11: cargo did not write layout ${layout} in ${coldEnv.CARGO_TARGET_DIR}`);
  }
  const cold = median(out.cold.ms);

  // rust-cache's way on one host: its archive of the cold build, wiped, restored at the same paths, built.
  note(`11. ${L}: rust-cache's way (load ${load()}) ...`);
  const rc = await saveRustCache({ base: coldDir, target: coldEnv.CARGO_TARGET_DIR, home: coldEnv.CARGO_HOME, local, file: join(dir, 'rust-cache.tar.zst') });
  await eachStart(
    "rust-cache's restore and build",
    async (edited) => {
      const restore = await restoreRustCache(rc, [coldEnv.CARGO_TARGET_DIR, coldEnv.CARGO_HOME]);
      const r = await build(coldEnv);
      add(`rust-cache${edited}`, restore + r.ms, { restore: [], deps: r.deps });
      out[`rust-cache${edited}`].restore!.push(restore);
    },
    fewSeconds,
  );
  await fs.rm(coldDir, { recursive: true, force: true });

  // The seeds' layout: CARGO_HOME kept, a new target dir per run at one path, sccache warm.
  if (every) {
    note(`11. ${L}: the incident fleet's layout (load ${load()}) ...`);
    const seedsEnv = {
      CARGO_HOME: join(dir, 'seeds-home'),
      CARGO_TARGET_DIR: join(dir, 'seeds-target'),
      RUSTC_WRAPPER: 'sccache',
      SCCACHE_DIR: join(dir, 'seeds-sccache'),
      SCCACHE_SERVER_PORT: '31971',
      SCCACHE_IDLE_TIMEOUT: '0',
    };
    stopServer(seedsEnv);
    await build(seedsEnv); // populates the cache (the first run at a path)
    await eachStart("the incident fleet's layout", async (edited) => {
      await fs.rm(seedsEnv.CARGO_TARGET_DIR, { recursive: true, force: true });
      sh('sccache', ['--zero-stats'], { env: { ...process.env, ...seedsEnv } });
      const r = await build(seedsEnv);
      add(`seeds${edited}`, r.ms, sccacheStats(seedsEnv));
    });
    stopServer(seedsEnv);
    await fs.rm(seedsEnv.CARGO_TARGET_DIR, { recursive: true, force: true });
    await fs.rm(seedsEnv.SCCACHE_DIR, { recursive: true, force: true });
  }

  // cargo-isolate, through the bundled action; the fleet store is a directory every host mounts.
  const root = join(dir, 'root');
  const fleetStore = join(dir, 'fleet-store');
  mkdirSync(fleetStore, { recursive: true });
  let sccacheDir = join(dir, 'isolate-sccache');
  const ports = new Set<string>();
  let runId = 800000;
  const isolated = async (o: JobOf) => {
    const jdir = await fs.mkdtemp(join(dir, 'job-'));
    const files = runnerFiles(jdir);
    const event = join(jdir, 'event.json');
    writeFileSync(event, eventPayload(o));
    const sccacheEnv = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: sccacheDir, CARGO_INCREMENTAL: '0' };
    // The layout's variables are the workflow's: every step sees them, the archive key among them.
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...identityEnv({ ...o, runId: runId++ }, event),
      INPUT_ROOT: root,
      'INPUT_DISK-THRESHOLD': '99%',
      'INPUT_WORKING-DIRECTORY': ws,
      'INPUT_ARCHIVE-STORE': fleetStore,
      ...layoutEnv,
      ...sccacheEnv,
      ...files,
    };
    const main = await timed(process.execPath, ['dist/main/index.js'], { env });
    const exported = await fileValues(files.GITHUB_ENV);
    const port = { SCCACHE_SERVER_PORT: exported.SCCACHE_SERVER_PORT };
    ports.add(exported.SCCACHE_SERVER_PORT);
    sh('sccache', ['--zero-stats'], { env: { ...process.env, ...sccacheEnv, ...port } });
    if (o.before) await o.before(exported);
    if (!exported.CARGO_HOME?.includes('/homes/')) throw new Error(`bench 11: a trusted job got CARGO_HOME ${exported.CARGO_HOME}, not the uid's shared one`);
    const startedAt = Date.now();
    const r = await build({ ...sccacheEnv, ...exported, PATH: `${exported.CARGO_INSTALL_ROOT}/bin:${process.env.PATH}` });
    const hits = sccacheStats(port);
    const post = await timed(process.execPath, ['dist/post/index.js'], { env: { ...env, ...(await stateOf(files.GITHUB_STATE)) } });
    // The warm-start metric: the line the post step appended for this job.
    const w = (await readWarmth(root)).at(-1);
    return {
      ms: main.ms + r.ms,
      mainMs: main.ms,
      postMs: post.ms,
      postOut: main.stdout + post.stdout,
      units: r.units,
      ...hits,
      exported,
      port,
      from: w?.from,
      metric: w ? `from ${w.from ?? '?'}, ${w.built} built / ${w.fresh} fresh` : 'no line',
      deps: depsBuilt(exported.CARGO_TARGET_DIR, startedAt),
    };
  };

  // main's first push on a host with nothing: a cold build through the action; its post step saves
  // the archive on the host and puts it in the fleet store.
  note(`11. ${L}: cargo-isolate, main's first push (load ${load()}) ...`);
  const mainRun = await isolated({});
  add('isolate-first', mainRun.ms, { units: mainRun.units, post: mainRun.postMs, metric: mainRun.metric });
  const saveLine = /Saved a dependency archive to the host's tier \(.*; ([^;)]+ in [^;)]+)[;)]/.exec(mainRun.postOut)?.[1];
  const archives = (await listHostArchives(root)).filter((a) => a.meta && !a.temp);
  if (!saveLine || archives.length !== 1)
    throw new Error(`bench 11: main's first push saved no archive (${archives.length} on the host):\n${mainRun.postOut.slice(-3000)}`);
  const fleetFiles = sh('find', [fleetStore, '-type', 'f']).trim();
  if (!fleetFiles) throw new Error(`bench 11: main's first push put nothing in the fleet store ${fleetStore}:\n${mainRun.postOut.slice(-3000)}`);
  const mainTarget = mainRun.exported.CARGO_TARGET_DIR;
  const targetBytes = Number(sh('du', ['-sb', mainTarget]).split('\t')[0]);

  let pr = 100;
  if (every) {
    // A slot that does not hold the build, nothing to copy: another PR with another base, a new slot.
    await eachStart('cargo-isolate, sccache only', async (edited, i) => {
      const r = await isolated({ pr: pr++, base: 'develop', runner: `r${i + 2}` });
      add(`isolate-cold-slot${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units, post: r.postMs });
    });
    // With a compatible warm build on the host: a PR whose own slot the guard pruned (as the
    // guard leaves it), its base branch's build idle in another slot: the job copies it.
    await eachStart(
      'cargo-isolate, a copy',
      async (edited) => {
        const p = pr++;
        prunedSlot(root, p, mainRun.exported.CARGO_HOME);
        const r = await isolated({ pr: p, base: 'main', runner: 'r1' });
        if (r.from !== 'copy') throw new Error(`bench 11: PR ${p} did not start from a copy (${r.metric})`);
        add(`isolate-copy${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units, post: r.postMs });
      },
      fewSeconds,
    );
    // A warm slot: main's next pushes come back to their own slot.
    await eachStart(
      'cargo-isolate, a warm slot',
      async (edited) => {
        const r = await isolated({});
        add(`warm-slot${edited}`, r.ms, { units: r.units, post: r.postMs });
      },
      fewSeconds,
    );
  }

  // The host tier: main's slot pruned as the guard prunes it (the target dir emptied, the record
  // saying so), so the next push finds no warm build and nothing to copy (no other slot of main).
  const mainSlot = join(mainTarget, '..');
  const prune = async () => {
    await fs.rm(mainTarget, { recursive: true, force: true });
    mkdirSync(mainTarget);
    const rec = JSON.parse(await fs.readFile(join(mainSlot, 'slot.json'), 'utf8'));
    const t = new Date().toISOString();
    writeFileSync(join(mainSlot, 'slot.json'), JSON.stringify({ ...rec, prunedAt: t, sizes: rec.sizes && { ...rec.sizes, target: 0 } }));
  };
  await eachStart(
    'cargo-isolate, the host tier',
    async (edited) => {
      await prune();
      const r = await isolated({});
      if (r.from !== 'host-archive') throw new Error(`bench 11: main's push did not start from the host tier (${r.metric}):\n${r.postOut.slice(-3000)}`);
      add(`host-tier${edited}`, r.ms, { units: r.units, deps: r.deps, metric: r.metric, post: r.postMs, main: r.mainMs });
    },
    fewSeconds,
  );
  for (const p of ports) stopServer({ SCCACHE_SERVER_PORT: p });

  // The fleet tier: a second host, a new root at the same path (the CARGO_HOME string is the
  // same, as on hosts set up alike) with its own compile cache, the archive in the shared directory.
  await fs.rename(root, `${root}-host1`);
  let host = 2;
  await eachStart(
    'cargo-isolate, the fleet tier',
    async (edited) => {
      await fs.rm(root, { recursive: true, force: true });
      sccacheDir = join(dir, `sccache-host${host++}`);
      const r = await isolated({});
      stopServer(r.port);
      if (r.from !== 'fleet-archive')
        throw new Error(`bench 11: a second host's push did not start from the fleet tier (${r.metric}):\n${r.postOut.slice(-3000)}`);
      add(`fleet-tier${edited}`, r.ms, { units: r.units, deps: r.deps, metric: r.metric, post: r.postMs, main: r.mainMs });
    },
    fewSeconds,
  );
  await fs.rm(root, { recursive: true, force: true });
  await fs.rename(`${root}-host1`, root);

  // The same starts for `container:` jobs: real Docker, the job container run as the runner runs
  // it (docker exec as root, node at /__e/node24, file commands in /__w/_temp), the root under the
  // tool cache at /__t, the checkout at /__w/<repo>/<repo>, the host's network (the registry is on
  // 127.0.0.1). A root of its own: container jobs see other paths than host jobs.
  if (every && process.env.BENCH_WARM_CONTAINERS === '1') {
    const containerJob = await containerRunner(dir, ws, layoutEnv);
    if (containerJob) {
      note(`11. ${L}: container jobs (load ${load()}) ...`);
      const c = (j: JobOf) => containerJob({ ...j, runId: runId++ });
      const cMain = await c({});
      await eachStart('container jobs, sccache only', async (edited, i) => {
        const r = await c({ pr: pr++, base: 'develop', runner: `r${i + 2}` });
        add(`container-cold-slot${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
      });
      await eachStart('container jobs, a copy', async (edited) => {
        const p = pr++;
        containerJob.prunedSlot(p, cMain.exported.CARGO_HOME);
        const r = await c({ pr: p, base: 'main', runner: 'r1' });
        if (!/Started from a copy|copy \(a copy/.test(r.stdout)) note(`11. a container job did not start from a copy: ${r.stdout.slice(-600)}`);
        add(`container-copy${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
      });
      await eachStart('container jobs, a warm slot', async (edited) => {
        const r = await c({});
        add(`container-warm-slot${edited}`, r.ms, { units: r.units });
      });
      containerJob.close();
    } else {
      rows.push(['11', `${L}: container jobs`, 'not measured: no Docker engine (scripts/docker-env.sh failed)', '', '']);
    }
  }

  // The wrapper's cost per rustc invocation, against rustc's own (`rustc -vV`, cargo's cheapest call).
  let wrapper: { direct: number; wrapped: number } | undefined;
  if (every) {
    const script = join(mainRun.exported.CARGO_HOME, 'cargo-isolate-rustc');
    const rustc = sh('rustup', ['which', 'rustc']).trim();
    const per = async (cmd: string, args: string[], env: Env, k = 40) => {
      const xs: number[] = [];
      for (let i = 0; i < k; i++) xs.push((await timed(cmd, args, { env })).ms);
      return median(xs);
    };
    wrapper = {
      direct: await per(rustc, ['-vV'], process.env),
      wrapped: await per(script, [rustc, '-vV'], { ...process.env, CARGO_ISOLATE_RUSTC_WRAPPER: '' }),
    };
  }
  const copyBytes = every ? Number(sh('du', ['-sb', mainTarget]).split('\t')[0]) || undefined : undefined;

  const med = (k: string) => median(out[k].ms);
  const ratio = (k: string) => (med(k) / cold).toFixed(3);
  const rcOf = (k: string) => `rust-cache${k.endsWith('-edit') ? '-edit' : ''}`;
  const hitsOf = (k: string) => (out[k].hits !== undefined ? `${out[k].hits}/${out[k].hits + out[k].misses!}` : '');
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const coldCell = `cold ${spread(out.cold.ms)}`;
  const label: Record<string, string> = {
    cold: `cold build, ${out.cold.units} units, ${external.length} locked crates (baseline)`,
    seeds: "the incident fleet's layout: new target at a stable path, CARGO_HOME kept, sccache warm",
    'rust-cache': `rust-cache's way: restore ${mib(rc.bytes)} tar+zstd at the same paths, build`,
    'isolate-first': "cargo-isolate, main's first push on a host with nothing (sccache empty): a cold build through the action",
    'isolate-cold-slot': 'cargo-isolate, a slot that does not hold the build, sccache warm from other slots, no warm build to copy',
    'isolate-copy': 'cargo-isolate, a slot that does not hold the build, a compatible warm build on the host (copied)',
    'warm-slot': 'cargo-isolate, a warm slot (its own build)',
    'host-tier': 'cargo-isolate, no warm build and nothing to copy: restored from the host tier',
    'fleet-tier': "cargo-isolate, a second host (a new root at the same path): restored from the fleet tier's shared directory",
    'container-cold-slot': 'cargo-isolate, container job, a slot that does not hold the build, no warm build to copy',
    'container-copy': 'cargo-isolate, container job, a compatible warm build on the host (copied)',
    'container-warm-slot': 'cargo-isolate, container job, a warm slot',
  };
  const once = new Set(['cold', 'isolate-first']);
  for (const k of Object.keys(label).filter((x) => out[x])) {
    for (const edited of once.has(k) ? [''] : ['', '-edit']) {
      const key = k + edited;
      const f = out[key];
      const h = hitsOf(key);
      const tier = k === 'host-tier' || k === 'fleet-tier';
      const deps = f.deps ? `; dependency units rebuilt: ${Math.max(...f.deps)}` : '';
      const metric = f.metric && tier ? `; warm-start metric: ${[...new Set(f.metric)].join(', ')}` : '';
      const what = `${L}: ${label[k]}${edited ? ', one-line change' : once.has(k) ? '' : ', no change'}${h ? `; sccache ${h} hits` : ''}${deps}${metric}`;
      if (k === 'cold') rows.push(['11', what, spread(f.ms), `load ${coldLoad}`, '1x']);
      else if (tier) {
        const rcKey = rcOf(key);
        rows.push([
          '11',
          what,
          spread(f.ms),
          `main step alone (look-up, fetch, restore) ${spread(f.main ?? [])}; rust-cache ${spread(out[rcKey].ms)}; ${coldCell}`,
          `${(med(key) / med(rcKey)).toFixed(2)}x rust-cache, ${ratio(key)}x cold`,
        ]);
      } else rows.push(['11', what, spread(f.ms), coldCell, `${ratio(key)}x`]);
    }
  }
  const restores = [...out['rust-cache'].restore!, ...out['rust-cache-edit'].restore!];
  rows.push(['11', `${L}: rust-cache's way: the restore alone`, spread(restores), coldCell, `${(median(restores) / cold).toFixed(3)}x`]);
  rows.push(['11', `${L}: rust-cache's way: saving the archive (once)`, `${Math.round(rc.saveMs)} ms`, coldCell, `${(rc.saveMs / cold).toFixed(3)}x`]);
  // What the save adds to a post step: the first push's post (it saved) against the posts that saved nothing.
  const noSave = [...(out['host-tier'].post ?? []), ...(out['host-tier-edit'].post ?? [])];
  const postWithSave = out['isolate-first'].post![0];
  rows.push([
    '11',
    `${L}: the post step that saved the archive (as it says: ${saveLine}), main's first push`,
    `${Math.round(postWithSave)} ms (n=1)`,
    `post steps that saved none (host-tier starts) ${spread(noSave)}; ${coldCell}`,
    `+${Math.round(postWithSave - median(noSave))} ms, ${(postWithSave / cold).toFixed(3)}x cold`,
  ]);
  const archiveBytes = archives[0].bytes;
  rows.push([
    '11',
    `${L}: the host tier's archive bytes (${archives[0].meta?.packages ?? '?'} packages)`,
    mib(archiveBytes),
    `target ${mib(targetBytes)}; rust-cache's archive ${mib(rc.bytes)}`,
    `${(archiveBytes / targetBytes).toFixed(3)}x`,
  ]);
  if (wrapper)
    rows.push([
      '11',
      'the key wrapper in front of a rustc call (`rustc -vV`)',
      `${wrapper.wrapped.toFixed(1)} ms`,
      `rustc alone ${wrapper.direct.toFixed(1)} ms`,
      `+${(wrapper.wrapped - wrapper.direct).toFixed(1)} ms`,
    ]);
  await fs.rm(dir, { recursive: true, force: true });
  return {
    coldMs: Math.round(cold),
    units: out.cold.units ?? 0,
    lockedCrates: external.length,
    ratiosToCold: Object.fromEntries(Object.keys(out).map((k) => [k, Number(ratio(k))])),
    ratiosToRustCache: Object.fromEntries(
      Object.keys(out)
        .filter((k) => k.startsWith('host-tier') || k.startsWith('fleet-tier'))
        .map((k) => [k, Number((med(k) / med(rcOf(k))).toFixed(3))]),
    ),
    sccacheHits: Object.fromEntries(
      Object.entries(out)
        .filter(([, f]) => f.hits !== undefined)
        .map(([k, f]) => [k, { hits: f.hits!, of: f.hits! + f.misses! }]),
    ),
    targetBytes,
    hostArchiveBytes: archiveBytes,
    rustCacheArchiveBytes: rc.bytes,
    postWithSaveMs: Math.round(postWithSave),
    saveAsPostSays: saveLine,
    dependencyUnitsRebuilt: Object.fromEntries(
      Object.entries(out)
        .filter(([, f]) => f.deps)
        .map(([k, f]) => [k, Math.max(...f.deps!)]),
    ),
    copyBytesPerWarmBuild: copyBytes,
    wrapperMsPerRustcCall: wrapper && Number((wrapper.wrapped - wrapper.direct).toFixed(2)),
    load: load(),
  };
}
