// Section 11 of `npm run bench`: a start without its own warm build, side by side with the layouts
// fleets run instead, on one workspace of real crates (Debian's librust-*-dev packed into a
// loopback registry: scripts/lib/real-crates.mjs), in one run, ratios to a cold build measured
// in the same run:
//   cold                 new target dir and CARGO_HOME, no compile cache
//   seeds' layout        a new target dir per run at the same path, CARGO_HOME kept, sccache warm
//   rust-cache's way     target (without incremental/) and the registry's index and cache archived
//                        as tar+zstd, everything wiped, restored at the same paths, built
//   cargo-isolate, a slot that does not hold the build: with sccache warm from another slot and no
//                        warm build to copy (another PR); with a compatible warm build on the host
//                        (a PR whose own build the guard pruned, its base branch's build idle)
//   a warm slot          the job's own slot
// each with no change and with a one-line change in the workspace. Host jobs through the
// bundled action (dist/main, dist/post), as section 6 runs them. Writes the per-start weights
// (ratios to cold) to scripts/bench/warm-starts.json for the fleet simulation.
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveRegistry } from '../lib/registry.mjs';
import { REAL_MAIN, ensurePackages, makeRealWorkspace, packRegistry } from '../lib/real-crates.mjs';
import { type Row, fileValues, median, note, runnerFiles, sccacheInstalled, spread, stateOf } from './kit.js';

type Env = Record<string, string | undefined>;
const sh = (cmd: string, args: string[], o: { env?: Env } = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...o }).toString();

/** A command to its end; its wall time and stderr (a failure rejects with the stderr's end). */
function timed(cmd: string, args: string[], o: { cwd?: string; env?: Env }): Promise<{ ms: number; stderr: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { ...o, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.stdout.on('data', () => undefined);
    c.on('exit', (code) =>
      code === 0 ? res({ ms: performance.now() - t0, stderr: err }) : rej(new Error(`${cmd} ${args.join(' ')}: ${code}\n${err.slice(-2000)}`)),
    );
  });
}

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

async function containerRunner(dir: string, ws: string): Promise<ContainerJob | undefined> {
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

export async function warmStartsSection({ scratch, rows, quick }: { scratch: string; rows: Row[]; quick: boolean }) {
  if (!sccacheInstalled()) {
    rows.push(['11', 'a start without its own warm build', 'not measured: no sccache on PATH', '', '']);
    return;
  }
  const reps = Number(process.env.BENCH_WARM_REPS ?? (quick ? 1 : 2));
  const dir = join(scratch, 'warm-starts');
  mkdirSync(dir, { recursive: true });
  note('11. packing the real crates into a loopback registry ...');
  ensurePackages();
  const regDir = join(dir, 'registry');
  await packRegistry(regDir);
  const server = await serveRegistry(regDir);
  const ws = makeRealWorkspace(join(dir, 'ws'), server.url);
  // Not execFileSync: the registry is served by this very process.
  await timed('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(dir, 'lock-home') } });
  const locked = ((await fs.readFile(join(ws, 'Cargo.lock'), 'utf8')).match(/^name = /gm)?.length ?? 0) - 1;
  let n = 0;
  const edit = () => writeFileSync(join(ws, 'src', 'main.rs'), REAL_MAIN(++n)); // a one-line change
  /** Each kind of start `reps` times with no change, then `reps` times after a one-line change (`edited`: '-edit'). */
  const eachStart = async (start: (edited: string, i: number) => Promise<void>) => {
    for (const change of [false, true]) {
      for (let i = 0; i < reps; i++) {
        if (change) edit();
        await start(change ? '-edit' : '', i);
      }
    }
  };
  const units = (stderr: string) => [...stderr.matchAll(/^\s*Compiling \S+ v/gm)].length;
  const sccacheStats = (env: Env) => {
    const s = JSON.parse(sh('sccache', ['--show-stats', '--stats-format', 'json'], { env: { ...process.env, ...env } })).stats;
    const c = (o: { counts?: Record<string, number> }) => Object.values(o.counts ?? {}).reduce((a, b) => a + b, 0);
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
    const r = await timed('cargo', ['build', '--locked'], { cwd: ws, env: { ...process.env, CARGO_INCREMENTAL: '0', ...env } });
    return { ms: r.ms, units: units(r.stderr) };
  };
  type Figures = { ms: number[]; units?: number; hits?: number; misses?: number; restore?: number[] };
  const out: Record<string, Figures> = {};
  const add = (key: string, ms: number, extra: Omit<Figures, 'ms'> = {}) => (out[key] ??= { ms: [], ...extra }).ms.push(ms);

  // cold: nothing on disk, no compile cache.
  note('11. cold builds ...');
  for (let i = 0; i < reps; i++) {
    edit();
    const r = await build({ CARGO_HOME: join(dir, `cold-home-${i}`), CARGO_TARGET_DIR: join(dir, `cold-target-${i}`) });
    add('cold', r.ms, { units: r.units });
  }
  const cold = median(out.cold.ms);

  // The seeds' layout: CARGO_HOME kept, a new target dir per run at one path, sccache warm.
  note("11. the incident fleet's layout ...");
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
  await eachStart(async (edited) => {
    await fs.rm(seedsEnv.CARGO_TARGET_DIR, { recursive: true, force: true });
    sh('sccache', ['--zero-stats'], { env: { ...process.env, ...seedsEnv } });
    const r = await build(seedsEnv);
    add(`seeds${edited}`, r.ms, sccacheStats(seedsEnv));
  });
  stopServer(seedsEnv);

  // rust-cache's way on one host: archive, wipe, restore at the same paths, build.
  note("11. rust-cache's way ...");
  const rc = { CARGO_HOME: join(dir, 'rc-home'), CARGO_TARGET_DIR: join(dir, 'rc-target') };
  await build(rc);
  const archive = join(dir, 'rc.tar.zst');
  await fs.rm(join(rc.CARGO_TARGET_DIR, 'debug', 'incremental'), { recursive: true, force: true });
  const save = await timed('tar', ['--zstd', '-cf', archive, '-C', dir, 'rc-target', 'rc-home/registry/index', 'rc-home/registry/cache'], {});
  const archiveBytes = (await fs.stat(archive)).size;
  await eachStart(async (edited) => {
    await fs.rm(rc.CARGO_TARGET_DIR, { recursive: true, force: true });
    await fs.rm(rc.CARGO_HOME, { recursive: true, force: true });
    const restore = await timed('tar', ['--zstd', '-xf', archive, '-C', dir], {});
    const r = await build(rc);
    add(`rust-cache${edited}`, restore.ms + r.ms, { restore: [] });
    out[`rust-cache${edited}`].restore!.push(restore.ms);
  });

  // cargo-isolate, through the bundled action.
  note('11. cargo-isolate starts ...');
  const root = join(dir, 'root');
  const sccacheEnv = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(dir, 'isolate-sccache'), CARGO_INCREMENTAL: '0' };
  let runId = 800000;
  const isolated = async (o: JobOf) => {
    const jdir = await fs.mkdtemp(join(dir, 'job-'));
    const files = runnerFiles(jdir);
    const event = join(jdir, 'event.json');
    writeFileSync(event, eventPayload(o));
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...identityEnv({ ...o, runId: runId++ }, event),
      INPUT_ROOT: root,
      'INPUT_DISK-THRESHOLD': '99%',
      'INPUT_WORKING-DIRECTORY': ws,
      ...sccacheEnv,
      ...files,
    };
    const t0 = performance.now();
    await timed(process.execPath, ['dist/main/index.js'], { env });
    const mainMs = performance.now() - t0;
    const exported = await fileValues(files.GITHUB_ENV);
    const port = { SCCACHE_SERVER_PORT: exported.SCCACHE_SERVER_PORT };
    sh('sccache', ['--zero-stats'], { env: { ...process.env, ...port } });
    if (o.before) await o.before(exported);
    if (!exported.CARGO_HOME?.includes('/homes/')) throw new Error(`bench 11: a trusted job got CARGO_HOME ${exported.CARGO_HOME}, not the uid's shared one`);
    const r = await build({ ...sccacheEnv, ...exported, PATH: `${exported.CARGO_INSTALL_ROOT}/bin:${process.env.PATH}` });
    const hits = sccacheStats(port);
    const log = (await fs.readFile(files.GITHUB_STEP_SUMMARY, 'utf8').catch(() => '')) + '';
    await timed(process.execPath, ['dist/post/index.js'], { env: { ...env, ...(await stateOf(files.GITHUB_STATE)) } });
    return { ms: mainMs + r.ms, units: r.units, ...hits, exported, port, log };
  };
  // main's push builds first: its build is the base of first runs and the cache's first entries.
  const mainRun = await isolated({});
  // A slot that does not hold the build, nothing to copy: another PR with another base, a new slot.
  let pr = 100;
  await eachStart(async (edited, i) => {
    const r = await isolated({ pr: pr++, base: 'develop', runner: `r${i + 2}` });
    add(`isolate-cold-slot${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
  });
  // With a compatible warm build on the host: a PR whose own slot the guard pruned (as the
  // guard leaves it), its base branch's build idle in another slot: the job copies it.
  await eachStart(async (edited) => {
    const p = pr++;
    prunedSlot(root, p, mainRun.exported.CARGO_HOME);
    const r = await isolated({ pr: p, base: 'main', runner: 'r1' });
    if (!JSON.parse(await fs.readFile(join(root, 'slots', `s9${String(p).padStart(3, '0')}`, 'slot.json'), 'utf8')).copiedFrom)
      throw new Error(`bench 11: PR ${p} did not start from a copy`);
    add(`isolate-copy${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
  });
  // A warm slot: main's next pushes come back to their own slot.
  await eachStart(async (edited) => {
    const r = await isolated({});
    add(`warm-slot${edited}`, r.ms, { units: r.units });
  });
  stopServer(mainRun.port);

  // The same starts for `container:` jobs: real Docker, the job container run as the runner runs
  // it (docker exec as root, node at /__e/node24, file commands in /__w/_temp), the root under the
  // tool cache at /__t, the checkout at /__w/<repo>/<repo>, the host's network (the registry is on
  // 127.0.0.1). A root of its own: container jobs see other paths than host jobs.
  const containerJob = await containerRunner(dir, ws);
  if (containerJob) {
    note('11. container jobs ...');
    const c = (o: JobOf) => containerJob({ ...o, runId: runId++ });
    const cMain = await c({});
    await eachStart(async (edited, i) => {
      const r = await c({ pr: pr++, base: 'develop', runner: `r${i + 2}` });
      add(`container-cold-slot${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
    });
    await eachStart(async (edited) => {
      const p = pr++;
      containerJob.prunedSlot(p, cMain.exported.CARGO_HOME);
      const r = await c({ pr: p, base: 'main', runner: 'r1' });
      if (!/Started from a copy/.test(r.stdout)) note(`11. a container job did not start from a copy: ${r.stdout.slice(-600)}`);
      add(`container-copy${edited}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
    });
    await eachStart(async (edited) => {
      const r = await c({});
      add(`container-warm-slot${edited}`, r.ms, { units: r.units });
    });
    containerJob.close();
  } else {
    rows.push(['11', 'container jobs', 'not measured: no Docker engine (scripts/docker-env.sh failed)', '', '']);
  }
  await server.close();

  // The wrapper's cost per rustc invocation, against rustc's own (`rustc -vV`, cargo's cheapest call).
  const script = join(mainRun.exported.CARGO_HOME, 'cargo-isolate-rustc');
  const rustc = sh('rustup', ['which', 'rustc']).trim();
  const per = async (cmd: string, args: string[], env: Env, k = 40) => {
    const xs: number[] = [];
    for (let i = 0; i < k; i++) xs.push((await timed(cmd, args, { env })).ms);
    return median(xs);
  };
  const direct = await per(rustc, ['-vV'], process.env);
  const wrapped = await per(script, [rustc, '-vV'], { ...process.env, CARGO_ISOLATE_RUSTC_WRAPPER: '' });

  const med = (k: string) => median(out[k].ms);
  const ratio = (k: string) => (med(k) / cold).toFixed(3);
  const hitsOf = (k: string) => (out[k].hits !== undefined ? `${out[k].hits}/${out[k].hits + out[k].misses!}` : '');
  const label: Record<string, string> = {
    cold: `cold build, ${out.cold.units} units, ${locked} locked crates (baseline)`,
    seeds: "the incident fleet's layout: new target at a stable path, CARGO_HOME kept, sccache warm",
    'rust-cache': `rust-cache's way: restore ${Math.round(archiveBytes / 2 ** 20)} MiB tar+zstd at the same paths, build`,
    'isolate-cold-slot': 'cargo-isolate, a slot that does not hold the build, sccache warm from other slots, no warm build to copy',
    'isolate-copy': 'cargo-isolate, a slot that does not hold the build, a compatible warm build on the host (copied)',
    'warm-slot': 'cargo-isolate, a warm slot (its own build)',
  };
  label['container-cold-slot'] = 'cargo-isolate, container job, a slot that does not hold the build, no warm build to copy';
  label['container-copy'] = 'cargo-isolate, container job, a compatible warm build on the host (copied)';
  label['container-warm-slot'] = 'cargo-isolate, container job, a warm slot';
  for (const k of [
    'cold',
    'seeds',
    'rust-cache',
    'isolate-cold-slot',
    'isolate-copy',
    'warm-slot',
    'container-cold-slot',
    'container-copy',
    'container-warm-slot',
  ].filter((x) => out[x])) {
    for (const edited of k === 'cold' ? [''] : ['', '-edit']) {
      const key = k + edited;
      const h = hitsOf(key);
      rows.push([
        '11',
        `${label[k]}${edited ? ', one-line change' : k === 'cold' ? '' : ', no change'}${h ? `; sccache ${h} hits` : ''}`,
        spread(out[key].ms),
        `cold ${spread(out.cold.ms)}`,
        `${ratio(key)}x`,
      ]);
    }
  }
  const restores = out['rust-cache'].restore!;
  rows.push(['11', "rust-cache's way: the restore alone", spread(restores), `cold ${spread(out.cold.ms)}`, `${(median(restores) / cold).toFixed(3)}x`]);
  rows.push(['11', "rust-cache's way: saving the archive (once)", `${Math.round(save.ms)} ms`, '', `${(save.ms / cold).toFixed(3)}x`]);
  rows.push([
    '11',
    'the key wrapper in front of a rustc call (`rustc -vV`)',
    `${wrapped.toFixed(1)} ms`,
    `rustc alone ${direct.toFixed(1)} ms`,
    `+${(wrapped - direct).toFixed(1)} ms`,
  ]);
  const weights = {
    measured: new Date().toISOString().slice(0, 10),
    workspace: `${locked} locked real crates, ${out.cold.units} units compiled`,
    coldMs: Math.round(cold),
    reps,
    ratiosToCold: Object.fromEntries(Object.keys(out).map((k) => [k, Number(ratio(k))])),
    sccacheHits: Object.fromEntries(
      Object.entries(out)
        .filter(([, f]) => f.hits !== undefined)
        .map(([k, f]) => [k, { hits: f.hits, of: f.hits! + f.misses! }]),
    ),
    rustCacheArchiveBytes: archiveBytes,
    copyBytesPerWarmBuild: Number(sh('du', ['-sb', mainRun.exported.CARGO_TARGET_DIR]).split('\t')[0]) || undefined,
    wrapperMsPerRustcCall: Number((wrapped - direct).toFixed(2)),
  };
  writeFileSync(join('scripts', 'bench', 'warm-starts.json'), JSON.stringify(weights, null, 2) + '\n');
  note(`11. weights for the simulation written to scripts/bench/warm-starts.json`);
}
