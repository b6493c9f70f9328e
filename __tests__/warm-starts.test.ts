// A start without its own warm build, through the bundled action with real cargo and Debian's
// sccache: compile-cache hits from another slot, and a warm copy of another slot's build. After
// each, what the build and the binary see must be this job's: a build script's and a proc
// macro's CARGO_MANIFEST_DIR and CARGO_TARGET_DIR, include_str! of a CARGO_MANIFEST_DIR path,
// file!() and panic locations, the paths in the debug info; and the binary, which writes into the
// target dir its build script saw, never writes into another slot.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { DIST, type Place, type SimJob, jobPool } from './helpers/runner.js';

const { job, cleanup } = jobPool();
let reg: LocalRegistry;
let ws: string;
let scratch: string;
const sccacheDir = () => join(scratch, 'sccache');
const root = () => join(scratch, 'root');
const ports = new Set<string>();

const hasSccache = (() => {
  try {
    execFileSync('sccache', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const files: Record<string, string> = {
  'Cargo.toml': '[workspace]\nmembers = ["app", "lib1", "macros"]\nresolver = "2"\n',
  'macros/Cargo.toml': '[package]\nname = "macros"\nversion = "0.1.0"\nedition = "2021"\n[lib]\nproc-macro = true\n',
  // Read at expansion time, untracked by cargo: what a cache hit could carry from another slot.
  'macros/src/lib.rs': `use proc_macro::TokenStream;
#[proc_macro] pub fn manifest_dir(_: TokenStream) -> TokenStream { format!("{:?}", std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).parse().unwrap() }
#[proc_macro] pub fn target_dir(_: TokenStream) -> TokenStream { format!("{:?}", std::env::var("CARGO_TARGET_DIR").unwrap_or_default()).parse().unwrap() }
`,
  'lib1/Cargo.toml': '[package]\nname = "lib1"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\nmacros = { path = "../macros" }\ndep0 = "1"\n',
  'lib1/src/lib.rs': `pub fn file() -> &'static str { file!() }
pub fn manifest_seen() -> &'static str { macros::manifest_dir!() }
pub fn target_seen() -> &'static str { macros::target_dir!() }
pub const DATA: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data.txt"));
#[track_caller] pub fn here() -> &'static str { std::panic::Location::caller().file() }
`,
  'lib1/data.txt': 'lib1 data\n',
  'app/Cargo.toml':
    '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\nlib1 = { path = "../lib1" }\ndep0 = "1"\ndep1 = "1"\ndep2 = "1"\n',
  // Runs only when build.rs changes: a warm copy keeps its recorded output unless made stale.
  'app/build.rs': `fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(std::path::Path::new(&out).join("gen.rs"), "pub const GEN: &str = \\"generated\\";\\n").unwrap();
    println!("cargo:rustc-env=BUILD_MANIFEST_DIR={}", std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rustc-env=BUILD_TARGET_DIR={}", std::env::var("CARGO_TARGET_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
}
`,
  'app/src/main.rs': `include!(concat!(env!("OUT_DIR"), "/gen.rs"));
fn main() {
    println!("build-manifest {}", env!("BUILD_MANIFEST_DIR"));
    println!("build-target {}", env!("BUILD_TARGET_DIR"));
    println!("macro-manifest {}", lib1::manifest_seen());
    println!("macro-target {}", lib1::target_seen());
    println!("file {}", file!());
    println!("lib-file {}", lib1::file());
    println!("panic-location {}", lib1::here());
    println!("data {}", lib1::DATA.trim());
    println!("gen {} {}", GEN, dep0::v() + dep1::v() + dep2::v());
    // A program that writes into the target dir it was built for (tests that keep fixtures there).
    let t = env!("BUILD_TARGET_DIR");
    if !t.is_empty() { std::fs::write(format!("{t}/marker-{}", std::env::args().nth(1).unwrap()), "x").unwrap(); }
}
`,
};

beforeAll(async () => {
  reg = await localRegistry('ci-warm-starts-', 3);
  scratch = reg.scratch;
  ws = await reg.checkout('ws', async (dir) => {
    await fs.rm(join(dir, 'src'), { recursive: true, force: true });
    for (const [p, text] of Object.entries(files)) {
      await fs.mkdir(join(dir, p, '..'), { recursive: true });
      await fs.writeFile(join(dir, p), text);
    }
  });
});

afterAll(async () => {
  for (const port of ports) {
    try {
      execFileSync('sccache', ['--stop-server'], { env: { ...process.env, SCCACHE_SERVER_PORT: port }, stdio: 'ignore' });
    } catch {
      // already stopped
    }
  }
  await cleanup();
  await reg?.close();
});

const sccacheEnv = () => ({ RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: sccacheDir(), CARGO_INCREMENTAL: '0' });

function stats(port: string): { hits: number; misses: number } {
  const s = JSON.parse(
    execFileSync('sccache', ['--show-stats', '--stats-format', 'json'], { env: { ...process.env, SCCACHE_SERVER_PORT: port } }).toString(),
  ).stats;
  const n = (o: { counts?: Record<string, number> }) => Object.values(o.counts ?? {}).reduce((a, b) => a + b, 0);
  return { hits: n(s.cache_hits), misses: n(s.cache_misses) };
}

/** main, then a build with the stats zeroed first, then the binary; post comes later. */
async function start(j: SimJob, inputs: Record<string, string> = {}) {
  const m = await j.run('main', { root: root(), 'working-directory': ws, ...inputs });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  const port = m.env.SCCACHE_SERVER_PORT;
  if (port) {
    ports.add(port);
    execFileSync('sccache', ['--zero-stats'], { env: { ...process.env, SCCACHE_SERVER_PORT: port }, stdio: 'ignore' });
  }
  const b = await j.exec(['cargo', 'build', '--locked'], ws);
  expect({ code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ code: 0, stderr: '' });
  const compiledUnits = [...b.stderr.matchAll(/^\s*Compiling (\S+) v/gm)].map((x) => x[1]);
  return { m, b, compiledUnits, sccache: port ? stats(port) : undefined };
}

/** Runs the binary and checks that every path it and its debug info name is this job's own. */
async function checkPaths(j: SimJob, tag: string) {
  const target = j.exported.CARGO_TARGET_DIR;
  const slot = join(target, '..');
  const bin = join(target, 'debug', 'app');
  const r = await j.exec([bin, tag], ws);
  expect(r.code).toBe(0);
  const seen = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]),
  );
  expect(seen['build-manifest']).toBe(join(ws, 'app'));
  expect(seen['build-target']).toBe(target); // the build script saw this job's target dir
  expect(seen['macro-manifest']).toBe(join(ws, 'lib1'));
  expect(['', target]).toContain(seen['macro-target']); // unset for rustc (the key wrapper), never another slot's
  for (const rel of [seen.file, seen['lib-file'], seen['panic-location']]) expect(existsSync(join(ws, rel))).toBe(true);
  expect(seen.data).toBe('lib1 data');
  expect(seen.gen).toBe('generated 3');
  // The binary wrote into this job's target dir, and into no other slot.
  expect(existsSync(join(target, `marker-${tag}`))).toBe(true);
  const elsewhere = execFileSync('find', [join(root(), 'slots'), '-name', `marker-${tag}`], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean);
  expect(elsewhere).toEqual([join(target, `marker-${tag}`)]);
  // Paths in the debug info (compile dirs, source files) under the root: this slot's, or sources
  // in the CARGO_HOME the job used, and all of them exist.
  const text = readFileSync(bin).toString('latin1');
  const named = [...new Set([...text.matchAll(/\/[\x21-\x7e]*?\/(?:slots|homes)\/[\x21-\x7e]+/g)].map((x) => x[0]))].filter((p) => p.startsWith(root()));
  expect(named.length).toBeGreaterThan(0);
  // String literals sit back to back in the binary (`.../targetxinternal`): a path is the
  // longest prefix of a match that exists, and it must reach into the slot or the home.
  const existing = (p: string) => {
    for (let n = p.length; n > 0; n--)
      if (p[n] === undefined || p[n] === '/' || !existsSync(p.slice(0, n + 1))) if (existsSync(p.slice(0, n))) return p.slice(0, n);
    return '';
  };
  for (const p of named) {
    const mine = p.includes('/slots/') ? slot : j.exported.CARGO_HOME;
    expect({ p, mine: p.startsWith(mine + '/') }).toEqual({ p, mine: true });
    expect({ p, exists: existing(p).length > mine.length }).toEqual({ p, exists: true });
  }
  return seen;
}

(hasSccache ? describe : describe.skip)("a start without its own warm build (real cargo, Debian's sccache)", () => {
  test("sccache hits what another slot compiled, and every path the build and binary see is this job's", async () => {
    const main = await job({ branch: 'main', runner: 'r1', extraEnv: sccacheEnv() });
    const first = await start(main);
    expect(first.m.env.CARGO_HOME).toBe(join(root(), 'homes', `u${process.getuid!()}`));
    await checkPaths(main, 'main');
    expect((await main.run('post')).code).toBe(0);

    // Another trust domain, no base in common: a new slot, nothing copied, a clean build.
    const other = await job({ pr: 5, base: 'develop', runner: 'r2', extraEnv: sccacheEnv() });
    const second = await start(other);
    expect(other.exported.CARGO_TARGET_DIR).not.toBe(main.exported.CARGO_TARGET_DIR);
    expect(second.m.stdout).not.toMatch(/Started from a copy/);
    // dep0..dep2 and lib1 (proc macros, build scripts and binaries are never cached): every one a
    // hit although the target dir differs; without the shared home and the wrapper, none is.
    expect(second.sccache).toEqual({ hits: 4, misses: 0 });
    expect(first.m.env.RUSTC_WRAPPER).toBe(join(first.m.env.CARGO_HOME, 'cargo-isolate-rustc'));
    await checkPaths(other, 'pr5');
    expect((await other.run('post')).code).toBe(0);
  });

  test('a fork PR compiles into a cache of its own: trusted jobs never read what it wrote', async () => {
    const count = (d: string) => (existsSync(d) ? execFileSync('find', [d, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean).length : 0);
    const before = count(sccacheDir());
    const fork = await job({ pr: 66, runner: 'r3', fork: true, extraEnv: sccacheEnv() });
    const r = await start(fork);
    expect(r.m.env.SCCACHE_DIR).toBe(join(root(), 'homes', `u${process.getuid!()}-untrusted-sccache`, 'cache'));
    expect(r.m.env.CARGO_HOME).toBe(join(fork.exported.CARGO_TARGET_DIR, '..', 'cargo-home')); // private
    expect(r.sccache!.hits).toBe(0);
    expect(count(sccacheDir())).toBe(before); // nothing written where trusted jobs read
    expect(count(r.m.env.SCCACHE_DIR)).toBeGreaterThan(0);
    expect((await fork.run('post')).code).toBe(0);
  });

  test('a warm copy from an idle slot of the same PR and job is fresh, and leads nothing into that slot', async () => {
    // PR 5 has its build in one slot (the first test). A second run of PR 5, while a later run
    // holds that slot, gets a new one and builds there (hits): PR 5 now has two warm slots.
    const holder = await job({ pr: 5, base: 'develop', runner: 'r2', runId: '9000000', extraEnv: sccacheEnv() });
    const hm = await holder.run('main', { root: root(), 'working-directory': ws });
    const b = await job({ pr: 5, base: 'develop', runner: 'r4', extraEnv: sccacheEnv() });
    await start(b);
    expect(b.exported.CARGO_TARGET_DIR).not.toBe(hm.env.CARGO_TARGET_DIR);
    await checkPaths(b, 'pr5b');
    expect((await b.run('post')).code).toBe(0);
    expect((await holder.run('post')).code).toBe(0);
    // The guard pruned the holder's slot (as it leaves one: target gone, record says so).
    const slot = join(hm.env.CARGO_TARGET_DIR, '..');
    await fs.rm(join(slot, 'target'), { recursive: true });
    await fs.mkdir(join(slot, 'target'));
    const rec = JSON.parse(await fs.readFile(join(slot, 'slot.json'), 'utf8'));
    await fs.writeFile(join(slot, 'slot.json'), JSON.stringify({ ...rec, prunedAt: new Date().toISOString(), sizes: { ...rec.sizes, target: 0 } }));
    // PR 5's next run on that runner comes back to its pruned slot and starts from the other one.
    const c = await job({ pr: 5, base: 'develop', runner: 'r2', extraEnv: sccacheEnv() });
    const third = await start(c);
    expect(c.exported.CARGO_TARGET_DIR).toBe(hm.env.CARGO_TARGET_DIR);
    expect(third.m.stdout).toMatch(new RegExp(`Started from a copy of the warm build of slot ${b.outputs.slot} \\(this PR or branch, the same job`));
    // Fresh but for the build-script run that recorded the source slot's CARGO_TARGET_DIR, and
    // what depends on its output: the binary.
    expect(third.compiledUnits).toEqual(['app']);
    await checkPaths(c, 'pr5c');
    const p = await c.run('post');
    expect(p.code).toBe(0);
    expect(JSON.parse(await fs.readFile(join(slot, 'slot.json'), 'utf8')).copiedFrom).toMatchObject({ slot: b.outputs.slot, key: 'pr-5' });
  });
});

/**
 * A host of its own: every step runs in a new mount namespace where this host's root and checkout
 * are bind-mounted at the paths every host uses (as each container of a fleet sees `/__t` and
 * `/__w`). A server a step starts lives on in that namespace, seeing the same mounts.
 */
function hostPlace(view: { root: string; ws: string }, own: { root: string; ws: string }): Place {
  const binds = `mount --bind "${own.root}" "${view.root}" && mount --bind "${own.ws}" "${view.ws}"`;
  const wrap = (inner: string[], cwd = '/') => [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    `${binds} && cd "$0" && exec "$@"`,
    cwd,
    ...inner,
  ];
  return {
    step: (entry) => wrap([process.execPath, join(DIST, entry, 'index.js')]),
    run: (cmd, cwd) => wrap(cmd, cwd),
  };
}

(hasSccache ? describe : describe.skip)('compile caches across hosts', () => {
  test('two hosts, each with its own root at the same path, one shared cache directory: the second hits what the first compiled', async () => {
    const view = { root: join(scratch, 'view', 'root'), ws: join(scratch, 'view', 'ws') };
    const hosts = ['host-a', 'host-b'].map((h) => ({ root: join(scratch, h, 'root'), ws: join(scratch, h, 'ws') }));
    for (const d of [view.root, view.ws, ...hosts.map((h) => h.root)]) await fs.mkdir(d, { recursive: true });
    // The same checkout on both hosts (its own copy on each), at the same path through the binds.
    for (const h of hosts) execFileSync('cp', ['-a', `${ws}/.`, h.ws]);
    const shared = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(scratch, 'shared-sccache'), CARGO_INCREMENTAL: '0' };
    const results = [];
    // On the second host another job holds the first slot: this job's target dir is another
    // path than on the first host, as it would be on a busy fleet.
    const holder = await job({ pr: 77, base: 'develop', runner: 'r9' });
    holder.place = hostPlace(view, hosts[1]);
    for (const [i, h] of hosts.entries()) {
      if (i === 1) expect((await holder.run('main', { root: view.root, 'working-directory': view.ws })).code).toBe(0);
      const j = await job({ branch: 'main', runner: `r${i}`, extraEnv: shared });
      j.place = hostPlace(view, h);
      const m = await j.run('main', { root: view.root, 'working-directory': view.ws });
      expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
      const port = m.env.SCCACHE_SERVER_PORT;
      ports.add(port);
      const b = await j.exec(['cargo', 'build', '--locked'], view.ws);
      expect({ code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ code: 0, stderr: '' });
      results.push({ port, stats: stats(port), home: m.env.CARGO_HOME, target: m.env.CARGO_TARGET_DIR });
      expect((await j.run('post')).code).toBe(0);
    }
    expect((await holder.run('post')).code).toBe(0);
    expect(results[0].target).not.toBe(results[1].target);
    // Two servers (one per host), one cache: the first host wrote, the second read all of it.
    expect(results[0].port).not.toBe(results[1].port);
    expect(results[0].home).toBe(results[1].home); // the same string, on two different directories
    expect(existsSync(join(hosts[1].root, 'homes'))).toBe(true);
    expect(results[0].stats).toEqual({ hits: 0, misses: 4 });
    expect(results[1].stats).toEqual({ hits: 4, misses: 0 });
  });
});
