// npm run bench: the cost of isolation, as ratios against baselines measured in the same run.
// Calls src/'s modules directly (run under scripts/lib/typescript.mjs, which says why), and measures:
//   1. main and post wall time on a warm slot of the real-crates workspace vs `node -e ''` started the
//      same way; 1t: where a step's milliseconds go (scripts/bench/steps.ts)
//   2. seeding N crates from the store vs downloading them (throttled registry on 127.0.0.1)
//   3. removing a ~1 GB target dir vs rm -rf of a copy; time until gone from its path
//   4. the guard's decision with 1,000 slots on disk
//   5. a rebuild after a one-line change: shared target dir vs slot, job, reuse: never;
//      with sccache (if installed), the hit rate of a clean rebuild in each layout
//   6. warmth across jobs: a three-job PR's next push on shuffled runners and a new PR's first
//      run after main, against one shared target dir (unsafe) measured in the same run
//   7. fleet simulation (scripts/bench/fleet.ts, docs/simulation.md): warm starts of the
//      shipped slot policy against the clairvoyant reference, plain LRU and the layouts it
//      replaces, with their compile caches (5 seeds, disks from the knee)
//   7u. counting a job's compile units built and fresh (post step) over 3,000 units, vs du of it
//   8. sccache (issue 17): main and post step time with RUSTC_WRAPPER=sccache vs without
//   9. a git dependency of 64 MiB (BENCH_GIT_MB) seeded from the git store vs cloned from a
//      git daemon on 127.0.0.1
//  10. the foreign-owner check (issue 19) on a slot with a 100,000-file target: scripts/bench/ownership.ts
//  11. how long a job takes to a built workspace by the tier its start came from (warm slot, copy, host
//      and fleet archive tiers, sccache), through the action, beside the incident fleet's layout and
//      rust-cache's restore and build, on the 346-crate service workspace, layouts v2 and v1:
//      scripts/bench/warm-starts.ts (writes scripts/bench/warm-starts.json)
//  11a. the archive engine itself on the same workspace (zstd CLI against Node's zlib, the job's save
//      and restore points), layouts v1 and v2: scripts/bench/archives.ts (writes scripts/bench/archives.json)
//  12. the check of a shared CARGO_HOME's sources at a job's start, 200 real crates: scripts/bench/sources.ts
//  11f. one archive put to and fetched from each fleet store, loopback: scripts/bench/fleet-transfer.ts
//      (writes scripts/bench/fleet-transfer.json for the simulator)
// Every timing is repeated and printed as median (min-max, n), so a busy machine shows as
// spread, not as a slower action.
// Options (env): BENCH_CRATES=200 BENCH_DELETE_MB=1024 BENCH_QUICK=1 (smaller sizes),
// BENCH_ONLY=2,5 (some sections).
import { execFile, execFileSync } from 'node:child_process';
import { promises as fs, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { makeConsumer, makeRegistry, serveRegistry } from './lib/registry.mjs';
import { benchSccache } from './bench/sccache.js';
import { type Row, fileValues, median, note, ratio, runnerFiles, sccacheInstalled, spawnTimed, spread, stateOf, time } from './bench/kit.js';
import { prepareRoot } from '../src/pool/root.js';
import { removeTree } from '../src/os/remove.js';
import { collectCandidates, planPrune } from '../src/pool/guard.js';
import * as crates from '../src/store/crates.js';
import { readLock } from '../src/store/lockfile.js';

const run = promisify(execFile);
const quick = process.env.BENCH_QUICK === '1';
const N_CRATES = Number(process.env.BENCH_CRATES ?? (quick ? 60 : 200));
const DELETE_MB = Number(process.env.BENCH_DELETE_MB ?? (quick ? 128 : 1024));
const REPS = quick ? 5 : 15;
const rows: Row[] = [];
const only = (n: number | string) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(String(n));

// How busy the machine was: the load average as the run starts and as it ends, in the header.
const loadAtStart = loadavg();
const scratch = await fs.mkdtemp(join(tmpdir(), 'cargo-isolate-bench-'));
const cleanup = () => fs.rm(scratch, { recursive: true, force: true });
process.on('exit', () => execFileSync('rm', ['-rf', scratch]));

// 1. main and post on a warm slot, and where their milliseconds go: scripts/bench/steps.ts.
if (only(1)) await (await import('./bench/steps.js')).stepsSection({ scratch, rows, reps: REPS });

// 2. Seeding crates from the store vs downloading them.
if (only(2)) {
  note(`2. seeding ${N_CRATES} crates vs downloading them ...`);
  const regDir = join(scratch, 'registry');
  const list = makeRegistry(regDir, { count: N_CRATES, padBytes: 24_000 });
  const server = await serveRegistry(regDir, { bytesPerSecond: 50e6, latencyMs: 20 });
  const ws = makeConsumer(join(scratch, 'consumer'), server.url, list);
  const home = join(scratch, 'fetch-home');
  await run('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(scratch, 'lock-home') } });
  const downloads: number[] = [];
  for (let i = 0; i < 3; i++) {
    await fs.rm(home, { recursive: true, force: true });
    downloads.push(await time(() => run('cargo', ['fetch', '--locked'], { cwd: ws, env: { ...process.env, CARGO_HOME: home } })));
  }
  const download = median(downloads);
  const root = await prepareRoot(join(scratch, 'crate-root'), {});
  const locked = await readLock(join(ws, 'Cargo.lock'));
  const version = await crates.cargoVersion(ws, process.env);
  if (!version) throw new Error('bench 2: cargo --version failed');
  await crates.publishCrates(root, home, locked, version);
  const seeds: number[] = [];
  let report: crates.SeedReport | undefined;
  for (let i = 0; i < 5; i++) {
    const target = join(scratch, `seed-home-${i}`);
    seeds.push(await time(async () => (report = await crates.seedCrates(root, target, locked, version, 'link'))));
  }
  const seeded = report!;
  const mb = (seeded.seededBytes / 1e6).toFixed(1);
  rows.push([
    '2',
    `seed ${seeded.seeded} crates (${mb} MB) from the store`,
    spread(seeds),
    `cargo fetch, 50 MB/s + 20 ms/request: ${spread(downloads)}`,
    `${(download / median(seeds)).toFixed(1)}x faster`,
  ]);
  // Offline proof: the seeded home builds with the registry stopped.
  await server.close();
  const offline = await run('cargo', ['build', '--locked'], {
    cwd: ws,
    env: { ...process.env, CARGO_HOME: join(scratch, 'seed-home-0'), CARGO_TARGET_DIR: join(scratch, 'seed-target') },
  }).then(
    () => 'builds with the registry stopped',
    (e: { stderr?: string }) => `FAILED offline: ${e.stderr?.slice(-200)}`,
  );
  rows.push(['2', 'seeded CARGO_HOME, registry stopped', offline, '', '']);
}

// 3. Deletion of a ~1 GB target dir.
if (only(3)) {
  note(`3. deleting a ${DELETE_MB} MB tree ...`);
  const root = await prepareRoot(join(scratch, 'del-root'), {});
  const make = async (dir: string) => {
    const files = Math.max(1000, Math.round(DELETE_MB * 6.5));
    const per = Math.round((DELETE_MB * 2 ** 20) / files);
    const buf = Buffer.alloc(per, 7);
    for (let d = 0; d < 50; d++) mkdirSync(join(dir, 'debug', 'deps', `d${d}`), { recursive: true });
    for (let i = 0; i < files; i++) writeFileSync(join(dir, 'debug', 'deps', `d${i % 50}`, `f${i}.rlib`), buf);
    return files;
  };
  const target = join(root, 'slots', 's000', 'target');
  const copy = join(scratch, 'rm-copy');
  const rms: number[] = [];
  const totals: number[] = [];
  const gones: number[] = [];
  let files = 0;
  for (let i = 0; i < (quick ? 2 : 3); i++) {
    files = await make(target);
    await make(copy);
    execFileSync('sync');
    rms.push(await time(() => run('rm', ['-rf', copy])));
    const t0 = performance.now();
    const removing = removeTree(root, target, { why: 'bench' });
    while (existsSync(target)) await new Promise((r) => setImmediate(r));
    gones.push(performance.now() - t0);
    await removing;
    totals.push(performance.now() - t0);
  }
  rows.push(['3', `remove ${DELETE_MB} MB, ${files} files (rename + rm)`, spread(totals), `rm -rf ${spread(rms)}`, ratio(median(totals), median(rms))]);
  rows.push(['3', 'until the tree is gone from its path', spread(gones), `rm -rf ${spread(rms)}`, ratio(median(gones), median(rms))]);
}

// 4. The guard's decision with 1,000 slots.
if (only(4)) {
  note('4. guard decision over 1,000 slots ...');
  const root = await prepareRoot(join(scratch, 'guard-root'), {});
  for (let i = 0; i < 1000; i++) {
    const name = `s${String(i).padStart(3, '0')}`;
    const d = join(root, 'slots', name);
    mkdirSync(join(d, 'target', 'debug'), { recursive: true });
    writeFileSync(join(root, 'locks', `slot-${name}.lock`), '');
    const t = new Date(Date.now() - i * 60_000).toISOString();
    writeFileSync(
      join(d, 'slot.json'),
      JSON.stringify({
        format: 1,
        name,
        layout: 'slot',
        repository: 'a/b',
        key: `pr-${i}`,
        runnerId: `r${i % 16}`,
        runnerName: `r${i % 16}`,
        host: 'h',
        workflow: 'ci',
        runId: String(i),
        runAttempt: '1',
        job: 'build',
        jobUid: 'u',
        leasedAt: t,
        lastUsed: t,
        sizes: { target: 1e9, cargoHome: 1e8, tmp: 0, measuredAt: t },
      }),
    );
  }
  const decisions: number[] = [];
  for (let i = 0; i < 5; i++) decisions.push(await time(async () => planPrune(await collectCandidates(root), 'runner', 'r3')));
  const nodes: number[] = [];
  for (let i = 0; i < 5; i++) nodes.push(await spawnTimed(process.execPath, ['-e', ''], process.env));
  rows.push(['4', 'guard decision, 1,000 slots', spread(decisions), `node -e '' ${spread(nodes)}`, ratio(median(decisions), median(nodes))]);
}

// 5. Build cost of isolation.
if (only(5)) {
  note('5. rebuild after a one-line change, per layout ...');
  const ws = join(scratch, 'build-ws');
  const members = Array.from({ length: 12 }, (_, i) => `m${i}`);
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, 'Cargo.toml'), `[workspace]\nmembers = [${[...members, 'app'].map((m) => `"${m}"`).join(',')}]\nresolver = "2"\n`);
  const body = (i: number) =>
    Array.from(
      { length: 40 },
      (_, f) => `pub fn f${f}(x: u64) -> u64 { let mut v = x; for k in 0..${f + 3} { v = v.wrapping_mul(${i + 7}).rotate_left(k as u32) ^ ${f}; } v }`,
    ).join('\n');
  for (const [i, m] of members.entries()) {
    mkdirSync(join(ws, m, 'src'), { recursive: true });
    writeFileSync(
      join(ws, m, 'Cargo.toml'),
      `[package]\nname = "${m}"\nversion = "0.1.0"\nedition = "2021"\n${i ? `[dependencies]\nm${i - 1} = { path = "../m${i - 1}" }\n` : ''}`,
    );
    writeFileSync(join(ws, m, 'src', 'lib.rs'), body(i) + '\n');
  }
  mkdirSync(join(ws, 'app', 'src'), { recursive: true });
  writeFileSync(join(ws, 'app', 'Cargo.toml'), `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\nm11 = { path = "../m11" }\n`);
  const main = (n: number) => `fn main() { println!("{}", m11::f3(${n})); }\n`;
  writeFileSync(join(ws, 'app', 'src', 'main.rs'), main(1));
  const sccache = sccacheInstalled();
  type Paths = { CARGO_TARGET_DIR: string; CARGO_HOME: string; fresh?: boolean };
  const layouts: Record<'shared' | 'slot' | 'job' | 'never', (n: number) => Paths> = {
    shared: () => ({ CARGO_TARGET_DIR: join(scratch, 'shared-target'), CARGO_HOME: join(scratch, 'shared-home') }),
    slot: () => ({ CARGO_TARGET_DIR: join(scratch, 'slot', 'target'), CARGO_HOME: join(scratch, 'slot', 'cargo-home') }),
    job: (n) => ({ CARGO_TARGET_DIR: join(scratch, `job-${n}`, 'target'), CARGO_HOME: join(scratch, `job-${n}`, 'cargo-home') }),
    never: () => ({ CARGO_TARGET_DIR: join(scratch, 'never', 'target'), CARGO_HOME: join(scratch, 'never', 'cargo-home'), fresh: true }),
  };
  // sccache does not cache incremental compilations: CI sets CARGO_INCREMENTAL=0 with it.
  const build = async (env: Paths, wrapper = false) =>
    time(() =>
      run('cargo', ['build', '--quiet'], {
        cwd: ws,
        env: {
          ...process.env,
          CARGO_TARGET_DIR: env.CARGO_TARGET_DIR,
          CARGO_HOME: env.CARGO_HOME,
          ...(wrapper ? { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(scratch, 'sccache'), SCCACHE_IDLE_TIMEOUT: '0', CARGO_INCREMENTAL: '0' } : {}),
        },
      }),
    );
  const results = {} as Record<keyof typeof layouts, number[]>;
  let n = 1;
  for (const [name, paths] of Object.entries(layouts) as [keyof typeof layouts, (n: number) => Paths][]) {
    results[name] = [];
    writeFileSync(join(ws, 'app', 'src', 'main.rs'), main(n));
    await build(paths(n));
    for (let rep = 0; rep < 3; rep++) {
      n++;
      writeFileSync(join(ws, 'app', 'src', 'main.rs'), main(n)); // the one-line change
      const next = paths(n);
      if (next.fresh) await fs.rm(join(scratch, 'never'), { recursive: true, force: true }); // reuse: never wipes
      results[name].push(await build(next));
    }
  }
  for (const name of ['shared', 'slot', 'job', 'never'] as const) {
    const label = { shared: '(a) one shared target dir (unsafe baseline)', slot: '(b) slot layout', job: '(c) job layout', never: '(d) reuse: never' }[name];
    rows.push([
      '5',
      `rebuild after a one-line change: ${label}`,
      spread(results[name]),
      `shared ${spread(results.shared)}`,
      ratio(median(results[name]), median(results.shared)),
    ]);
  }
  if (sccache) {
    const stats = () =>
      JSON.parse(
        execFileSync('sccache', ['--show-stats', '--stats-format', 'json'], { env: { ...process.env, SCCACHE_DIR: join(scratch, 'sccache') } }).toString(),
      ).stats;
    const count = (o: { counts?: Record<string, number> }) => Object.values(o.counts ?? {}).reduce((x, y) => x + y, 0);
    const hitRate = async (name: string, a: Paths, b: Paths) => {
      try {
        execFileSync('sccache', ['--stop-server'], { stdio: 'ignore', env: { ...process.env, SCCACHE_DIR: join(scratch, 'sccache') } });
      } catch {
        /* no server running yet */
      }
      await fs.rm(join(scratch, 'sccache'), { recursive: true, force: true });
      await fs.rm(join(scratch, 'sc'), { recursive: true, force: true });
      await build(a, true); // populate
      await fs.rm(a.CARGO_TARGET_DIR, { recursive: true, force: true });
      execFileSync('sccache', ['--zero-stats'], { stdio: 'ignore', env: { ...process.env, SCCACHE_DIR: join(scratch, 'sccache') } });
      await build(b, true); // clean rebuild in the next job's directories
      const s = stats();
      const hits = count(s.cache_hits);
      const misses = count(s.cache_misses);
      execFileSync('sccache', ['--stop-server'], { stdio: 'ignore', env: { ...process.env, SCCACHE_DIR: join(scratch, 'sccache') } });
      rows.push(['5', `sccache, clean rebuild: ${name}`, `${hits}/${hits + misses} hits`, '', `${Math.round((100 * hits) / Math.max(1, hits + misses))}%`]);
    };
    try {
      const sc = (p: string) => ({ CARGO_TARGET_DIR: join(scratch, 'sc', p, 'target'), CARGO_HOME: join(scratch, 'sc', p, 'cargo-home') });
      await hitRate('(b) slot layout (same paths)', sc('s000'), sc('s000'));
      await hitRate('(c) job layout (new paths per job)', sc('job-1'), sc('job-2'));
      await hitRate('(d) reuse: never (same paths, wiped)', sc('s001'), sc('s001'));
    } catch (e) {
      rows.push(['5', 'sccache', `failed: ${(e as Error).message.slice(0, 80)}`, '', '']);
    }
  } else {
    rows.push(['5', 'sccache hit rates', 'skipped: sccache not installed (apt-get install sccache)', '', '']);
  }
}

// 6. Warmth across jobs: a three-job PR on shuffled runners, and a new PR after main.
if (only(6)) {
  note('6. warmth across jobs ...');
  const regDir = join(scratch, 'warm-registry');
  const list = makeRegistry(regDir, { count: quick ? 12 : 30, prefix: 'dep' });
  const server = await serveRegistry(regDir);
  const checkouts: Record<string, string> = {};
  const checkout = async (runner: string) => {
    if (!checkouts[runner]) {
      checkouts[runner] = makeConsumer(join(scratch, `warm-ws-${runner}`), server.url, list);
      await run('cargo', ['generate-lockfile'], { cwd: checkouts[runner], env: { ...process.env, CARGO_HOME: join(scratch, 'warm-lock-home') } });
    }
    return checkouts[runner];
  };
  const edit = async (n: number) => {
    for (const r of ['r1', 'r2', 'r3']) {
      const f = join(await checkout(r), 'src', 'main.rs');
      await fs.writeFile(f, (await fs.readFile(f, 'utf8')).replace(/println!\("\{\}", \d+/, `println!("{}", ${n}`));
    }
  };
  type Built = { ms: number; deps: number };
  const depsIn = (stderr: string) => [...stderr.matchAll(/^\s*(?:Compiling|Checking) (dep\d+) v/gm)].length;
  const cargo = (args: string[], cwd: string, env: Record<string, string>) =>
    new Promise<Built>((res, rej) => {
      const t0 = performance.now();
      execFile('cargo', [...args, '--locked'], { cwd, env: { ...process.env, ...env } }, (e, _out, stderr) =>
        e ? rej(new Error(stderr)) : res({ ms: performance.now() - t0, deps: depsIn(stderr) }),
      );
    });
  const root = join(scratch, 'warm-root');
  let runId = 7000;
  /** One job through the bundled action: main, the build, post. */
  type Job = { pr?: number; job: string; cmd: string[]; runner: string };
  const isolated = async (o: Job, extraEnv: Record<string, string> = {}) => {
    const dir = await fs.mkdtemp(join(scratch, 'warm-job-'));
    const files = runnerFiles(dir);
    const event = join(dir, 'event.json');
    writeFileSync(event, '{}');
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_REPOSITORY: 'b/b',
      GITHUB_RUN_ID: String(runId++),
      GITHUB_JOB: o.job,
      GITHUB_WORKFLOW: 'ci',
      RUNNER_NAME: o.runner,
      GITHUB_EVENT_PATH: event,
      ...(o.pr
        ? { GITHUB_REF: `refs/pull/${o.pr}/merge`, GITHUB_BASE_REF: 'main', GITHUB_HEAD_REF: `f${o.pr}` }
        : { GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' }),
      INPUT_ROOT: root,
      'INPUT_DISK-THRESHOLD': '99%',
      'INPUT_WORKING-DIRECTORY': await checkout(o.runner),
      ...files,
    };
    await spawnTimed(process.execPath, ['dist/main/index.js'], env);
    const exported = await fileValues(files.GITHUB_ENV);
    const r = await cargo(o.cmd, await checkout(o.runner), { ...exported, ...extraEnv });
    await spawnTimed(process.execPath, ['dist/post/index.js'], { ...env, ...(await stateOf(files.GITHUB_STATE)) });
    return r;
  };
  const sharedEnv = { CARGO_TARGET_DIR: join(scratch, 'warm-shared', 'target'), CARGO_HOME: join(scratch, 'warm-shared', 'home') };
  const shared = (o: Job, extraEnv: Record<string, string> = {}) => cargo(o.cmd, checkouts[o.runner], { ...sharedEnv, ...extraEnv });
  const jobs: [string, string[]][] = [
    ['test', ['build']],
    ['lint', ['check']],
    ['bench', ['build', '--release']],
  ];
  const orders = [
    ['r1', 'r2', 'r3'],
    ['r3', 'r1', 'r2'],
    ['r2', 'r3', 'r1'],
    ['r1', 'r3', 'r2'],
  ];
  const pushOf = (pr: number, order: string[]): Job[] => jobs.map(([job, cmd], i) => ({ pr, job, cmd, runner: order[i] }));
  const sum = (rs: Built[]) => ({ ms: rs.reduce((a, r) => a + r.ms, 0), deps: rs.reduce((a, r) => a + r.deps, 0) });
  // (a) the first push is cold everywhere; each later push lands its jobs on other runners.
  const a: { iso: Built[]; shared: Built[] } = { iso: [], shared: [] };
  for (const [i, order] of orders.entries()) {
    await edit(i);
    const iso = [];
    for (const j of pushOf(7, order)) iso.push(await isolated(j));
    const sh = [];
    for (const j of pushOf(7, order)) sh.push(await shared(j));
    if (i === 0) continue;
    a.iso.push(sum(iso));
    a.shared.push(sum(sh));
  }
  const med = (rs: Built[]) => median(rs.map((r) => r.ms));
  rows.push([
    '6',
    `(a) next push of a 3-job PR on shuffled runners (${orders.length - 1} pushes): wall time`,
    spread(a.iso.map((r) => r.ms)),
    `shared target dir ${spread(a.shared.map((r) => r.ms))}`,
    ratio(med(a.iso), med(a.shared)),
  ]);
  rows.push([
    '6',
    '(a) dependencies recompiled per push',
    `${median(a.iso.map((r) => r.deps))} of ${list.length * 3}`,
    `shared: ${median(a.shared.map((r) => r.deps))}`,
    '',
  ]);
  // (b) a push to main, then a new PR's first run of the same job on the same runner.
  const b: { iso: number[]; shared: number[]; deps: number[] } = { iso: [], shared: [], deps: [] };
  for (let i = 0; i < 3; i++) {
    // The same sources and the same one-line change (the PR's) on both sides.
    await edit(100 + i);
    await isolated({ job: 'test', cmd: ['build'], runner: 'r1' });
    await shared({ job: 'test', cmd: ['build'], runner: 'r1' });
    await edit(200 + i);
    const pr = await isolated({ pr: 100 + i, job: 'test', cmd: ['build'], runner: 'r1' });
    const sh = await shared({ job: 'test', cmd: ['build'], runner: 'r1' });
    b.iso.push(pr.ms);
    b.deps.push(pr.deps);
    b.shared.push(sh.ms);
  }
  rows.push([
    '6',
    "(b) a new PR's first run after a push to main: wall time",
    spread(b.iso),
    `shared target dir ${spread(b.shared)}`,
    ratio(median(b.iso), median(b.shared)),
  ]);
  rows.push(['6', '(b) dependencies recompiled', `${median(b.deps)} of ${list.length}`, '', '']);
  // sccache: (a)'s next push after the guard pruned every target dir (a clean rebuild in the
  // chosen slots). Hits need the same CARGO_HOME and CARGO_TARGET_DIR as a cached build.
  if (sccacheInstalled()) {
    const scDir = join(scratch, 'warm-sccache');
    const wrap = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: scDir, SCCACHE_IDLE_TIMEOUT: '0', CARGO_INCREMENTAL: '0' };
    const sc = (args: string[]) =>
      execFileSync('sccache', args, { env: { ...process.env, SCCACHE_DIR: scDir }, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const hits = () => {
      const s = JSON.parse(sc(['--show-stats', '--stats-format', 'json'])).stats;
      const n = (o: { counts?: Record<string, number> }) => Object.values(o.counts ?? {}).reduce((x, y) => x + y, 0);
      return { hits: n(s.cache_hits), all: n(s.cache_hits) + n(s.cache_misses) };
    };
    const pruneTargets = async () => {
      for (const d of await fs.readdir(join(root, 'slots'))) await fs.rm(join(root, 'slots', d, 'target'), { recursive: true, force: true });
      await fs.rm(sharedEnv.CARGO_TARGET_DIR, { recursive: true, force: true });
    };
    const rate = async (go: (j: Job) => Promise<Built>) => {
      try {
        sc(['--stop-server']);
      } catch {
        /* none running */
      }
      await fs.rm(scDir, { recursive: true, force: true });
      for (const j of pushOf(8, orders[0])) await go(j); // populate
      await pruneTargets();
      sc(['--zero-stats']);
      for (const j of pushOf(8, orders[1])) await go(j); // the next push, shuffled, clean
      const h = hits();
      sc(['--stop-server']);
      return h;
    };
    const hi = await rate((j) => isolated(j, wrap));
    const hs = await rate((j) => shared(j, wrap));
    rows.push([
      '6',
      '(a) sccache, next push after the guard pruned the targets (CARGO_INCREMENTAL=0)',
      `${hi.hits}/${hi.all} hits`,
      `shared target dir ${hs.hits}/${hs.all}`,
      `${Math.round((100 * hi.hits) / Math.max(1, hi.all))}%`,
    ]);
  }
  await server.close();
}

if (only(7)) await (await import('./bench/fleet.js')).fleetSection(rows);
if (only('7u')) {
  note('7u. compile units built and fresh over 3,000 units, build-dir layouts v1 and v2 ...');
  for (const layout of ['v1', 'v2'] as const) {
    const w = await (await import('./bench/warmth.js')).benchWarmth({ scratch, reps: REPS, layout });
    rows.push([
      '7u',
      `post: units built/fresh, ${w.units.toLocaleString('en')} units, layout ${layout}`,
      spread(w.count),
      `du of the same target ${spread(w.du)}`,
      ratio(median(w.count), median(w.du)),
    ]);
  }
}
if (only(8)) await benchSccache({ scratch, reps: REPS, rows });
// 9. A large git dependency: seeded from the git store vs cloned (scripts/bench/gitstore.ts).
if (only(9)) {
  const { benchGitStore } = await import('./bench/gitstore.js');
  await benchGitStore({ scratch, rows, quick });
}
// 10. The foreign-owner check: its own file.
if (only(10)) await (await import('./bench/ownership.js')).ownershipBench({ scratch, rows, reps: REPS });

if (only(11)) await (await import('./bench/warm-starts.js')).warmStartsSection({ scratch, rows, quick });
if (only('11a')) {
  // The section runs the engine in its own process too (Node's zstd), so it names modules by path.
  const where: Record<string, string> = {
    archive: 'store/archive.ts',
    'archive-key': 'model/archive-key.ts',
    layout: 'model/layout.ts',
    lockfile: 'store/lockfile.ts',
    warmth: 'pool/warmth.ts',
  };
  const modulePath = (m: string) => resolve('src', where[m]);
  await (await import('./bench/archives.js')).archivesSection({ scratch, rows, quick, modulePath });
}
if (only(12)) await (await import('./bench/sources.js')).sourcesSection({ scratch, rows, reps: REPS });
if (only('11f')) await (await import('./bench/fleet-transfer.js')).fleetTransferSection({ scratch, rows, quick });

await cleanup();
const head = ['#', 'what', 'measured', 'baseline (same run)', 'ratio'];
const out = [
  `cargo-isolate bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${new Date().toISOString().slice(0, 10)}${quick ? ' (BENCH_QUICK)' : ''}; load average (1, 5, 15 min) ` +
    `${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at the start, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end`,
  '',
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];
process.stdout.write(out.join('\n') + '\n');
