// npm run bench: the cost of isolation, as ratios against baselines measured in the same run.
// Compiles src/ with tsc into .bench/ (to call the modules directly), then measures:
//   1. main and post wall time on a warm slot vs `node -e ''` started the same way
//   2. seeding N crates from the store vs downloading them (throttled registry on 127.0.0.1)
//   3. removing a ~1 GB target dir vs rm -rf of a copy; time until gone from its path
//   4. the guard's decision with 1,000 slots on disk
//   5. a rebuild after a one-line change: shared target dir vs slot, job, reuse: never;
//      with sccache (if installed), the hit rate of a clean rebuild in each layout
// Options (env): BENCH_CRATES=200 BENCH_DELETE_MB=1024 BENCH_QUICK=1 (smaller sizes),
// BENCH_ONLY=2,5 (some sections).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promises as fs, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { makeConsumer, makeRegistry, serveRegistry } from './lib/registry.mjs';

const run = promisify(execFile);
const quick = process.env.BENCH_QUICK === '1';
const N_CRATES = Number(process.env.BENCH_CRATES ?? (quick ? 60 : 200));
const DELETE_MB = Number(process.env.BENCH_DELETE_MB ?? (quick ? 128 : 1024));
const REPS = quick ? 5 : 15;
const here = resolve('.');
const rows = [];
const only = (n) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(String(n));
const note = (s) => process.stderr.write(`${s}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

note('compiling src/ into .bench/ ...');
execFileSync('npx', ['--no-install', 'tsc', '--outDir', '.bench', '--noEmit', 'false', '--rootDir', '.', '--declaration', 'false', '-p', 'tsconfig.json'], { stdio: 'inherit' });
const mod = (m) => import(join(here, '.bench', 'src', `${m}.js`));
const [{ prepareRoot }, { removeTree }, { collectCandidates, planPrune }, crates, { readLock }] = await Promise.all(
  ['root', 'remove', 'guard', 'crates', 'lockfile'].map(mod),
);

const scratch = await fs.mkdtemp(join(tmpdir(), 'cargo-isolate-bench-'));
const cleanup = () => fs.rm(scratch, { recursive: true, force: true });
process.on('exit', () => execFileSync('rm', ['-rf', scratch]));

function runnerFiles(dir) {
  const f = {};
  for (const n of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY']) {
    f[n] = join(dir, n);
    writeFileSync(f[n], '');
  }
  return f;
}
function spawnTimed(cmd, args, env) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { env, stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? res(performance.now() - t0) : rej(new Error(`${cmd} ${args.join(' ')}: ${code}`))));
  });
}
const stateOf = async (file) => {
  const t = (await fs.readFile(file, 'utf8')).split('\n');
  const s = {};
  for (let i = 0; i < t.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(t[i]);
    if (!m) continue;
    const v = [];
    for (i++; t[i] !== m[2]; i++) v.push(t[i]);
    s[`STATE_${m[1]}`] = v.join('\n');
  }
  return s;
};

// 1. Overhead of main and post on a warm slot.
if (only(1)) {
  note('1. main/post overhead ...');
  const dir = join(scratch, 'overhead');
  mkdirSync(dir, { recursive: true });
  const base = { PATH: process.env.PATH, HOME: dir, GITHUB_REPOSITORY: 'b/b', GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_RUN_ID: '1', INPUT_ROOT: join(dir, 'root'), 'INPUT_DISK-THRESHOLD': '99%', 'INPUT_WORKING-DIRECTORY': dir };
  const mains = [], posts = [], nodes = [];
  for (let i = 0; i < REPS + 1; i++) {
    const files = runnerFiles(dir);
    const env = { ...base, ...files };
    const tn = await spawnTimed(process.execPath, ['-e', ''], env);
    const tm = await spawnTimed(process.execPath, ['dist/main/index.js'], env);
    const tp = await spawnTimed(process.execPath, ['dist/post/index.js'], { ...env, ...(await stateOf(files.GITHUB_STATE)) });
    if (i > 0) (nodes.push(tn), mains.push(tm), posts.push(tp)); // the first run makes the slot: not warm
  }
  rows.push(['1', 'main step, warm slot', ms(median(mains)), `node -e '' ${ms(median(nodes))}`, ratio(median(mains), median(nodes))]);
  rows.push(['1', 'post step, warm slot', ms(median(posts)), `node -e '' ${ms(median(nodes))}`, ratio(median(posts), median(nodes))]);
}

// 2. Seeding crates from the store vs downloading them.
if (only(2)) {
  note(`2. seeding ${N_CRATES} crates vs downloading them ...`);
  const regDir = join(scratch, 'registry');
  const list = makeRegistry(regDir, { count: N_CRATES, padBytes: 24_000 });
  const server = await serveRegistry(regDir, { bytesPerSecond: 50e6, latencyMs: 20 });
  const ws = makeConsumer(join(scratch, 'consumer'), server.url, list);
  const home = join(scratch, 'fetch-home');
  await run('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(scratch, 'lock-home') } });
  const download = await time(() => run('cargo', ['fetch', '--locked'], { cwd: ws, env: { ...process.env, CARGO_HOME: home } }));
  const root = await prepareRoot(join(scratch, 'crate-root'), {});
  const locked = await readLock(join(ws, 'Cargo.lock'));
  const version = crates.cargoVersion(ws, process.env);
  await crates.publishCrates(root, home, locked, version);
  const seeds = [];
  let report;
  for (let i = 0; i < 3; i++) {
    const target = join(scratch, `seed-home-${i}`);
    seeds.push(await time(async () => (report = await crates.seedCrates(root, target, locked, version, 'link'))));
  }
  const mb = (report.seededBytes / 1e6).toFixed(1);
  rows.push(['2', `seed ${report.seeded} crates (${mb} MB) from the store`, ms(median(seeds)), `cargo fetch, 50 MB/s + 20 ms/request: ${ms(download)}`, `${(download / median(seeds)).toFixed(1)}x faster`]);
  // Offline proof: the seeded home builds with the registry stopped.
  await server.close();
  const offline = await run('cargo', ['build', '--locked'], { cwd: ws, env: { ...process.env, CARGO_HOME: join(scratch, 'seed-home-0'), CARGO_TARGET_DIR: join(scratch, 'seed-target') } }).then(() => 'builds with the registry stopped', (e) => `FAILED offline: ${e.stderr?.slice(-200)}`);
  rows.push(['2', 'seeded CARGO_HOME, registry stopped', offline, '', '']);
}

// 3. Deletion of a ~1 GB target dir.
if (only(3)) {
  note(`3. deleting a ${DELETE_MB} MB tree ...`);
  const root = await prepareRoot(join(scratch, 'del-root'), {});
  const make = async (dir) => {
    const files = Math.max(1000, Math.round(DELETE_MB * 6.5));
    const per = Math.round((DELETE_MB * 2 ** 20) / files);
    const buf = Buffer.alloc(per, 7);
    for (let d = 0; d < 50; d++) mkdirSync(join(dir, 'debug', 'deps', `d${d}`), { recursive: true });
    for (let i = 0; i < files; i++) writeFileSync(join(dir, 'debug', 'deps', `d${i % 50}`, `f${i}.rlib`), buf);
    return files;
  };
  const target = join(root, 'slots', 's000', 'target');
  const files = await make(target);
  const copy = join(scratch, 'rm-copy');
  await make(copy);
  execFileSync('sync');
  const rm = await time(() => run('rm', ['-rf', copy]));
  let goneAfter = 0;
  const t0 = performance.now();
  const removing = removeTree(root, target);
  while (existsSync(target)) await new Promise((r) => setImmediate(r));
  goneAfter = performance.now() - t0;
  await removing;
  const total = performance.now() - t0;
  rows.push(['3', `remove ${DELETE_MB} MB, ${files} files (rename + rm)`, ms(total), `rm -rf ${ms(rm)}`, ratio(total, rm)]);
  rows.push(['3', 'until the tree is gone from its path', ms(goneAfter), `rm -rf ${ms(rm)}`, ratio(goneAfter, rm)]);
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
    writeFileSync(join(d, 'slot.json'), JSON.stringify({ format: 1, name, layout: 'slot', repository: 'a/b', key: `pr-${i}`, runnerId: `r${i % 16}`, runnerName: `r${i % 16}`, host: 'h', workflow: 'ci', runId: String(i), runAttempt: '1', job: 'build', jobUid: 'u', leasedAt: t, lastUsed: t, sizes: { target: 1e9, cargoHome: 1e8, tmp: 0, measuredAt: t } }));
  }
  const decisions = [];
  for (let i = 0; i < 5; i++) decisions.push(await time(async () => planPrune(await collectCandidates(root), 'runner', 'r3')));
  const nodes = [];
  for (let i = 0; i < 5; i++) nodes.push(await spawnTimed(process.execPath, ['-e', ''], process.env));
  rows.push(['4', 'guard decision, 1,000 slots', ms(median(decisions)), `node -e '' ${ms(median(nodes))}`, ratio(median(decisions), median(nodes))]);
}

// 5. Build cost of isolation.
if (only(5)) {
  note('5. rebuild after a one-line change, per layout ...');
  const ws = join(scratch, 'build-ws');
  const members = Array.from({ length: 12 }, (_, i) => `m${i}`);
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, 'Cargo.toml'), `[workspace]\nmembers = [${[...members, 'app'].map((m) => `"${m}"`).join(',')}]\nresolver = "2"\n`);
  const body = (i) => Array.from({ length: 40 }, (_, f) => `pub fn f${f}(x: u64) -> u64 { let mut v = x; for k in 0..${f + 3} { v = v.wrapping_mul(${i + 7}).rotate_left(k as u32) ^ ${f}; } v }`).join('\n');
  for (const [i, m] of members.entries()) {
    mkdirSync(join(ws, m, 'src'), { recursive: true });
    writeFileSync(join(ws, m, 'Cargo.toml'), `[package]\nname = "${m}"\nversion = "0.1.0"\nedition = "2021"\n${i ? `[dependencies]\nm${i - 1} = { path = "../m${i - 1}" }\n` : ''}`);
    writeFileSync(join(ws, m, 'src', 'lib.rs'), body(i) + '\n');
  }
  mkdirSync(join(ws, 'app', 'src'), { recursive: true });
  writeFileSync(join(ws, 'app', 'Cargo.toml'), `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\nm11 = { path = "../m11" }\n`);
  const main = (n) => `fn main() { println!("{}", m11::f3(${n})); }\n`;
  writeFileSync(join(ws, 'app', 'src', 'main.rs'), main(1));
  const sccache = (() => { try { execFileSync('sccache', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
  const layouts = {
    shared: () => ({ CARGO_TARGET_DIR: join(scratch, 'shared-target'), CARGO_HOME: join(scratch, 'shared-home') }),
    slot: () => ({ CARGO_TARGET_DIR: join(scratch, 'slot', 'target'), CARGO_HOME: join(scratch, 'slot', 'cargo-home') }),
    job: (n) => ({ CARGO_TARGET_DIR: join(scratch, `job-${n}`, 'target'), CARGO_HOME: join(scratch, `job-${n}`, 'cargo-home') }),
    never: () => ({ CARGO_TARGET_DIR: join(scratch, 'never', 'target'), CARGO_HOME: join(scratch, 'never', 'cargo-home'), fresh: true }),
  };
  // sccache does not cache incremental compilations: CI sets CARGO_INCREMENTAL=0 with it.
  const build = async (env, wrapper) => time(() => run('cargo', ['build', '--quiet'], { cwd: ws, env: { ...process.env, ...env, ...(wrapper ? { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(scratch, 'sccache'), SCCACHE_IDLE_TIMEOUT: '0', CARGO_INCREMENTAL: '0' } : {}) } }));
  const results = {};
  for (const [name, paths] of Object.entries(layouts)) {
    writeFileSync(join(ws, 'app', 'src', 'main.rs'), main(1));
    const first = paths(1);
    await build(first);
    writeFileSync(join(ws, 'app', 'src', 'main.rs'), main(2)); // the one-line change
    const second = paths(2);
    if (second.fresh) await fs.rm(join(scratch, 'never'), { recursive: true, force: true }); // reuse: never wipes
    results[name] = await build(second);
  }
  for (const name of ['shared', 'slot', 'job', 'never']) {
    const label = { shared: '(a) one shared target dir (unsafe baseline)', slot: '(b) slot layout', job: '(c) job layout', never: '(d) reuse: never' }[name];
    rows.push(['5', `rebuild after a one-line change: ${label}`, ms(results[name]), `shared ${ms(results.shared)}`, ratio(results[name], results.shared)]);
  }
  if (sccache) {
    const stats = () => JSON.parse(execFileSync('sccache', ['--show-stats', '--stats-format', 'json'], { env: { ...process.env, SCCACHE_DIR: join(scratch, 'sccache') } }).toString()).stats;
    const hitRate = async (name, a, b) => {
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
      const hits = Object.values(s.cache_hits.counts ?? {}).reduce((x, y) => x + y, 0);
      const misses = Object.values(s.cache_misses.counts ?? {}).reduce((x, y) => x + y, 0);
      execFileSync('sccache', ['--stop-server'], { stdio: 'ignore', env: { ...process.env, SCCACHE_DIR: join(scratch, 'sccache') } });
      rows.push(['5', `sccache, clean rebuild: ${name}`, `${hits}/${hits + misses} hits`, '', `${Math.round((100 * hits) / Math.max(1, hits + misses))}%`]);
    };
    try {
      const sc = (p) => ({ CARGO_TARGET_DIR: join(scratch, 'sc', p, 'target'), CARGO_HOME: join(scratch, 'sc', p, 'cargo-home') });
      await hitRate('(b) slot layout (same paths)', sc('s000'), sc('s000'));
      await hitRate('(c) job layout (new paths per job)', sc('job-1'), sc('job-2'));
      await hitRate('(d) reuse: never (same paths, wiped)', sc('s001'), sc('s001'));
    } catch (e) {
      rows.push(['5', 'sccache', `failed: ${e.message.slice(0, 80)}`, '', '']);
    }
  } else {
    rows.push(['5', 'sccache hit rates', 'skipped: sccache not installed (apt-get install sccache)', '', '']);
  }
}

await cleanup();
const head = ['#', 'what', 'measured', 'baseline (same run)', 'ratio'];
const out = [
  `cargo-isolate bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${new Date().toISOString().slice(0, 10)}${quick ? ' (BENCH_QUICK)' : ''}`,
  '',
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];
process.stdout.write(out.join('\n') + '\n');
