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

const sh = (cmd, args, o = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...o }).toString();

function timed(cmd, args, o) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { ...o, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.stdout.on('data', () => undefined);
    c.on('exit', (code) => (code === 0 ? res({ ms: performance.now() - t0, stderr: err }) : rej(new Error(`${cmd} ${args.join(' ')}: ${code}\n${err.slice(-2000)}`))));
  });
}

export async function warmStartsSection({ scratch, rows, note, spread, median, runnerFiles, stateOf, quick }) {
  try {
    execFileSync('sccache', ['--version'], { stdio: 'ignore' });
  } catch {
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
  sh('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(dir, 'lock-home') } });
  const locked = (await fs.readFile(join(ws, 'Cargo.lock'), 'utf8')).match(/^name = /gm).length - 1;
  let n = 0;
  const edit = () => writeFileSync(join(ws, 'src', 'main.rs'), REAL_MAIN(++n)); // a one-line change
  const units = (stderr) => [...stderr.matchAll(/^\s*Compiling \S+ v/gm)].length;
  const sccacheStats = (env) => {
    const s = JSON.parse(sh('sccache', ['--show-stats', '--stats-format', 'json'], { env: { ...process.env, ...env } })).stats;
    const c = (o) => Object.values(o.counts ?? {}).reduce((a, b) => a + b, 0);
    return { hits: c(s.cache_hits), misses: c(s.cache_misses) };
  };
  const stopServer = (env) => {
    try {
      sh('sccache', ['--stop-server'], { env: { ...process.env, ...env } });
    } catch {
      // not running
    }
  };
  const build = async (env) => {
    const r = await timed('cargo', ['build', '--locked'], { cwd: ws, env: { ...process.env, CARGO_INCREMENTAL: '0', ...env } });
    return { ms: r.ms, units: units(r.stderr) };
  };
  const out = {};
  const add = (key, ms, extra = {}) => (out[key] ??= { ms: [], ...extra }).ms.push(ms);

  // cold: nothing on disk, no compile cache.
  note('11. cold builds ...');
  for (let i = 0; i < reps; i++) {
    edit();
    const r = await build({ CARGO_HOME: join(dir, `cold-home-${i}`), CARGO_TARGET_DIR: join(dir, `cold-target-${i}`) });
    add('cold', r.ms, { units: r.units });
  }
  const cold = median(out.cold.ms);

  // The seeds' layout: CARGO_HOME kept, a new target dir per run at one path, sccache warm.
  note('11. the incident fleet\'s layout ...');
  const seedsEnv = { CARGO_HOME: join(dir, 'seeds-home'), CARGO_TARGET_DIR: join(dir, 'seeds-target'), RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(dir, 'seeds-sccache'), SCCACHE_SERVER_PORT: '31971', SCCACHE_IDLE_TIMEOUT: '0' };
  stopServer(seedsEnv);
  await build(seedsEnv); // populates the cache (the first run at a path)
  for (const change of [false, true]) {
    for (let i = 0; i < reps; i++) {
      if (change) edit();
      await fs.rm(seedsEnv.CARGO_TARGET_DIR, { recursive: true, force: true });
      sh('sccache', ['--zero-stats'], { env: { ...process.env, ...seedsEnv } });
      const r = await build(seedsEnv);
      add(`seeds${change ? '-edit' : ''}`, r.ms, sccacheStats(seedsEnv));
    }
  }
  stopServer(seedsEnv);

  // rust-cache's way on one host: archive, wipe, restore at the same paths, build.
  note('11. rust-cache\'s way ...');
  const rc = { CARGO_HOME: join(dir, 'rc-home'), CARGO_TARGET_DIR: join(dir, 'rc-target') };
  await build(rc);
  const archive = join(dir, 'rc.tar.zst');
  await fs.rm(join(rc.CARGO_TARGET_DIR, 'debug', 'incremental'), { recursive: true, force: true });
  const save = await timed('tar', ['--zstd', '-cf', archive, '-C', dir, 'rc-target', 'rc-home/registry/index', 'rc-home/registry/cache'], {});
  const archiveBytes = (await fs.stat(archive)).size;
  for (const change of [false, true]) {
    for (let i = 0; i < reps; i++) {
      if (change) edit();
      await fs.rm(rc.CARGO_TARGET_DIR, { recursive: true, force: true });
      await fs.rm(rc.CARGO_HOME, { recursive: true, force: true });
      const restore = await timed('tar', ['--zstd', '-xf', archive, '-C', dir], {});
      const r = await build(rc);
      add(`rust-cache${change ? '-edit' : ''}`, restore.ms + r.ms, { restore: [] });
      out[`rust-cache${change ? '-edit' : ''}`].restore.push(restore.ms);
    }
  }

  // cargo-isolate, through the bundled action.
  note('11. cargo-isolate starts ...');
  const root = join(dir, 'root');
  const sccacheEnv = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(dir, 'isolate-sccache'), CARGO_INCREMENTAL: '0' };
  let runId = 800000;
  const isolated = async (o) => {
    const jdir = await fs.mkdtemp(join(dir, 'job-'));
    const files = runnerFiles(jdir);
    const event = join(jdir, 'event.json');
    writeFileSync(event, JSON.stringify(o.pr ? { number: o.pr, pull_request: { number: o.pr, base: { ref: o.base ?? 'main' } }, repository: { default_branch: 'main' } } : { repository: { default_branch: 'main' } }));
    const env = {
      PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_REPOSITORY: 'b/b', GITHUB_RUN_ID: String(runId++), GITHUB_JOB: 'test', GITHUB_WORKFLOW: 'ci', RUNNER_NAME: o.runner ?? 'r1', GITHUB_EVENT_PATH: event,
      GITHUB_EVENT_NAME: o.pr ? 'pull_request' : 'push',
      ...(o.pr ? { GITHUB_REF: `refs/pull/${o.pr}/merge`, GITHUB_BASE_REF: o.base ?? 'main', GITHUB_HEAD_REF: `f${o.pr}` } : { GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' }),
      INPUT_ROOT: root, 'INPUT_DISK-THRESHOLD': '99%', 'INPUT_WORKING-DIRECTORY': ws, ...sccacheEnv, ...files,
    };
    const t0 = performance.now();
    await timed(process.execPath, ['dist/main/index.js'], { env });
    const mainMs = performance.now() - t0;
    const exported = Object.fromEntries(Object.entries(await stateOf(files.GITHUB_ENV)).map(([k, v]) => [k.slice(6), v]));
    const port = { SCCACHE_SERVER_PORT: exported.SCCACHE_SERVER_PORT };
    sh('sccache', ['--zero-stats'], { env: { ...process.env, ...port } });
    if (o.before) await o.before(exported);
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
  for (const change of [false, true]) {
    for (let i = 0; i < reps; i++) {
      if (change) edit();
      const r = await isolated({ pr: pr++, base: 'develop', runner: `r${i + 2}` });
      add(`isolate-cold-slot${change ? '-edit' : ''}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
    }
  }
  // With a compatible warm build on the host: a PR whose own slot the guard pruned (as the
  // guard leaves it), its base branch's build idle in another slot: the job copies it.
  for (const change of [false, true]) {
    for (let i = 0; i < reps; i++) {
      if (change) edit();
      const p = pr++;
      const slot = join(root, 'slots', `s9${String(p).padStart(2, '0')}`);
      mkdirSync(join(slot, 'target'), { recursive: true });
      const t = new Date(Date.now() - 60_000).toISOString();
      writeFileSync(join(slot, 'slot.json'), JSON.stringify({ format: 1, name: slot.split('/').pop(), layout: 'slot', repository: 'b/b', key: `pr-${p}`, runnerId: 'r1', runnerName: 'r1', host: 'h', workflow: 'ci', runId: '1', runAttempt: '1', job: 'test', jobUid: 'x', leasedAt: t, lastUsed: t, prunedAt: t, sizes: { target: 0, cargoHome: 0, tmp: 0, measuredAt: t }, cargoHome: mainRun.exported.CARGO_HOME }));
      writeFileSync(join(root, 'locks', `slot-${slot.split('/').pop()}.lock`), '');
      const r = await isolated({ pr: p, base: 'main', runner: 'r1' });
      add(`isolate-copy${change ? '-edit' : ''}`, r.ms, { hits: r.hits, misses: r.misses, units: r.units });
    }
  }
  // A warm slot: main's next pushes come back to their own slot.
  for (const change of [false, true]) {
    for (let i = 0; i < reps; i++) {
      if (change) edit();
      const r = await isolated({});
      add(`warm-slot${change ? '-edit' : ''}`, r.ms, { units: r.units });
    }
  }
  stopServer(mainRun.port);
  await server.close();

  // The wrapper's cost per rustc invocation, against rustc's own (`rustc -vV`, cargo's cheapest call).
  const script = join(mainRun.exported.CARGO_HOME, 'cargo-isolate-rustc');
  const rustc = sh('rustup', ['which', 'rustc']).trim();
  const per = async (cmd, args, env, k = 40) => {
    const xs = [];
    for (let i = 0; i < k; i++) xs.push((await timed(cmd, args, { env })).ms);
    return median(xs);
  };
  const direct = await per(rustc, ['-vV'], process.env);
  const wrapped = await per(script, [rustc, '-vV'], { ...process.env, CARGO_ISOLATE_RUSTC_WRAPPER: '' });

  const med = (k) => median(out[k].ms);
  const ratio = (k) => (med(k) / cold).toFixed(3);
  const hitsOf = (k) => (out[k].hits !== undefined ? `${out[k].hits}/${out[k].hits + out[k].misses}` : '');
  const label = {
    cold: `cold build, ${out.cold.units} units, ${locked} locked crates (baseline)`,
    seeds: "the incident fleet's layout: new target at a stable path, CARGO_HOME kept, sccache warm",
    'rust-cache': `rust-cache's way: restore ${Math.round(archiveBytes / 2 ** 20)} MiB tar+zstd at the same paths, build`,
    'isolate-cold-slot': 'cargo-isolate, a slot that does not hold the build, sccache warm from other slots, no warm build to copy',
    'isolate-copy': 'cargo-isolate, a slot that does not hold the build, a compatible warm build on the host (copied)',
    'warm-slot': 'cargo-isolate, a warm slot (its own build)',
  };
  for (const k of ['cold', 'seeds', 'rust-cache', 'isolate-cold-slot', 'isolate-copy', 'warm-slot']) {
    for (const edited of k === 'cold' ? [''] : ['', '-edit']) {
      const key = k + edited;
      const h = hitsOf(key);
      rows.push(['11', `${label[k]}${edited ? ', one-line change' : k === 'cold' ? '' : ', no change'}${h ? `; sccache ${h} hits` : ''}`, spread(out[key].ms), `cold ${spread(out.cold.ms)}`, `${ratio(key)}x`]);
    }
  }
  rows.push(['11', 'rust-cache\'s way: the restore alone', spread(out['rust-cache'].restore), `cold ${spread(out.cold.ms)}`, `${(median(out['rust-cache'].restore) / cold).toFixed(3)}x`]);
  rows.push(['11', 'rust-cache\'s way: saving the archive (once)', `${Math.round(save.ms)} ms`, '', `${(save.ms / cold).toFixed(3)}x`]);
  rows.push(['11', 'the key wrapper in front of a rustc call (`rustc -vV`)', `${wrapped.toFixed(1)} ms`, `rustc alone ${direct.toFixed(1)} ms`, `+${(wrapped - direct).toFixed(1)} ms`]);
  const weights = {
    measured: new Date().toISOString().slice(0, 10),
    workspace: `${locked} locked real crates, ${out.cold.units} units compiled`,
    coldMs: Math.round(cold),
    reps,
    ratiosToCold: Object.fromEntries(Object.keys(out).map((k) => [k, Number(ratio(k))])),
    sccacheHits: Object.fromEntries(Object.keys(out).filter((k) => out[k].hits !== undefined).map((k) => [k, { hits: out[k].hits, of: out[k].hits + out[k].misses }])),
    rustCacheArchiveBytes: archiveBytes,
    copyBytesPerWarmBuild: Number(sh('du', ['-sb', mainRun.exported.CARGO_TARGET_DIR]).split('\t')[0]) || undefined,
    wrapperMsPerRustcCall: Number((wrapped - direct).toFixed(2)),
  };
  writeFileSync(join('scripts', 'bench', 'warm-starts.json'), JSON.stringify(weights, null, 2) + '\n');
  note(`11. weights for the simulation written to scripts/bench/warm-starts.json`);
}
