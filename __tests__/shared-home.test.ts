// One CARGO_HOME for every trusted job of a uid, shared for speed and isolated in content: what
// one trust domain's job writes there never reaches another's. Real cargo, the bundled action,
// the runner's user (uid 1001, for whom read-only means read-only) on one root, against a
// registry on 127.0.0.1 that also takes `cargo publish`:
// - a PR's job edits an extracted source (by accident: refused; on purpose, same size, mtime put
//   back: repaired), replaces a cached .crate, removes registry/src; the next job of another
//   domain compiles only verified content;
// - a removal of registry/src while another job's build runs fails in the job that tried, and the
//   build goes on;
// - `cargo login` and a config line: the job's own build and publish use them; after it ends no
//   job sees them; a job that ends never removes what a job still running may have just written;
// - a crate whose build script writes next to its sources fails loudly, and builds with
//   writable-sources.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toolchainForAnyUid } from './helpers/anyuid.js';
import { type CrateRegistry, HELD_BUILD, crateRegistry } from './helpers/crate-registry.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { until } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';
import { commitGitDep, makeGitConsumer } from '../scripts/lib/gitdep.mjs';
import { compiled } from './helpers/workspace.js';

const RUNNER = 1001;
const { job, cleanup } = jobPool();
let scratch: string;
let root: string;
let rust: string;
let reg: CrateRegistry;
let ws: string; // numfmt and held
let wsGen: string; // a crate whose build script writes next to its sources
let pub: string; // a crate to publish
let pub2: string; // and its next version
let held: string; // where the held build script says it started, and waits for its release

// As maili-registry's build script did before it learned about read-only sources (op-rs/maili#212):
// it regenerates a file shipped in the crate, next to its sources, which the library then includes.
const GEN_BUILD = `fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let list = std::fs::read_to_string(format!("{dir}/data/list.txt")).unwrap();
    std::fs::write(format!("{dir}/etc/configs.json"), format!("{:?}\\n", list.lines().collect::<Vec<_>>())).unwrap();
}
`;

beforeAll(async () => {
  rust = toolchainForAnyUid();
  scratch = await fs.mkdtemp('/var/tmp/ci-shared-home-'); // /tmp's scratch may be 0700: closed to the runner user
  await fs.chmod(scratch, 0o755);
  root = join(scratch, 'root');
  await fs.mkdir(root);
  await fs.chown(root, RUNNER, RUNNER);
  held = join(scratch, 'held');
  await fs.mkdir(held, { mode: 0o777 });
  await fs.chmod(held, 0o777);
  reg = await crateRegistry(join(scratch, 'registry'), [
    { name: 'numfmt', files: { 'src/lib.rs': 'pub fn v() -> u64 { 1 }\n' } },
    {
      name: 'held',
      files: { 'build.rs': HELD_BUILD, 'src/lib.rs': 'pub fn h() -> &\'static str { include_str!("data.txt") }\n', 'src/data.txt': 'held data\n' },
    },
    {
      name: 'genjson',
      files: {
        'build.rs': GEN_BUILD,
        'data/list.txt': 'mainnet\ntestnet\n',
        'etc/configs.json': '["mainnet", "testnet"]\n',
        'src/lib.rs': 'pub const CONFIGS: &str = include_str!("../etc/configs.json");\n',
      },
    },
  ]);
  const lockgen = { ...process.env, CARGO_HOME: join(scratch, 'lockgen-home') };
  const main = `#![allow(unexpected_cfgs)]\nfn main() { println!("v={} held={} from_pr={}", numfmt::v(), held::h().trim(), cfg!(from_pr)); }\n`;
  ws = await reg.consumer(join(scratch, 'ws'), ['numfmt', 'held'], main);
  await promisify(execFile)('cargo', ['generate-lockfile'], { cwd: ws, env: lockgen });
  wsGen = await reg.consumer(join(scratch, 'ws-gen'), ['genjson', 'numfmt'], 'fn main() { print!("{} {}", genjson::CONFIGS.trim(), numfmt::v()); }\n');
  await promisify(execFile)('cargo', ['generate-lockfile'], { cwd: wsGen, env: lockgen });
  pub = join(scratch, 'pub');
  await fs.mkdir(join(pub, 'src'), { recursive: true });
  await fs.mkdir(join(pub, '.cargo'));
  await fs.writeFile(join(pub, 'Cargo.toml'), '[package]\nname = "pubcrate"\nversion = "0.1.0"\nedition = "2021"\ndescription = "d"\nlicense = "MIT"\n');
  await fs.writeFile(join(pub, 'src', 'lib.rs'), 'pub fn p() {}\n');
  await fs.copyFile(join(ws, '.cargo', 'config.toml'), join(pub, '.cargo', 'config.toml'));
  pub2 = join(scratch, 'pub2');
  execFileSync('cp', ['-a', pub, pub2]);
  await fs.writeFile(join(pub2, 'Cargo.toml'), (await fs.readFile(join(pub, 'Cargo.toml'), 'utf8')).replace('0.1.0', '0.2.0'));
  for (const d of [ws, wsGen, pub, pub2]) execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, d]);
});

afterAll(async () => {
  await cleanup();
  await reg?.close();
  if (scratch) execFileSync('chmod', ['-R', 'u+w', scratch]);
  await removeScratch(scratch);
});

/** A job of the runner's user on the host. */
async function hostJob(o: Parameters<typeof job>[0]): Promise<SimJob> {
  const j = await job({ runner: 'r1', ...o, extraEnv: { PATH: `${rust}/bin:/usr/bin:/bin`, ...o?.extraEnv } });
  await fs.chown(j.env.HOME, RUNNER, RUNNER);
  return j;
}

async function start(j: SimJob, dir = ws, inputs: Record<string, string> = {}) {
  const m = await j.run('main', { root, 'working-directory': dir, ...inputs }, { uid: RUNNER });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  return m;
}
const end = async (j: SimJob) => {
  const p = await j.run('post', {}, { uid: RUNNER });
  expect({ code: p.code, errors: p.errors }).toEqual({ code: 0, errors: [] });
  return p;
};
const sh = (j: SimJob, script: string, dir = ws) =>
  j.exec(['sh', '-c', script], dir, { uid: RUNNER, env: { PATH: `${j.exported.CARGO_HOME}/bin:${rust}/bin:/usr/bin:/bin` } });
const cargo = (j: SimJob, args: string[], dir = ws, env: Record<string, string> = {}) =>
  j.exec([`${rust}/bin/cargo`, ...args], dir, { uid: RUNNER, env: { PATH: `${rust}/bin:/usr/bin:/bin`, RUSTC: `${rust}/bin/rustc`, ...env } });
async function build(j: SimJob, dir = ws, env: Record<string, string> = {}) {
  const b = await cargo(j, ['build', '--locked'], dir, env);
  expect({ code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ code: 0, stderr: '' });
  return b;
}
const output = async (j: SimJob) => (await j.exec([join(j.exported.CARGO_TARGET_DIR, 'debug', 'app')], ws, { uid: RUNNER })).stdout.trim();
const srcOf = (j: SimJob, crate: string) =>
  execFileSync('sh', ['-c', `ls -d "$H"/registry/src/*/${crate}`], { env: { H: j.exported.CARGO_HOME } })
    .toString()
    .trim();
/** A job of another trust domain with nothing to start from: it compiles every registry crate from the shared sources. */
const coldDomain = (pr: number) => hostJob({ pr, base: 'develop', runner: `r${pr}` });

describe('what one job changes in the shared sources never reaches another trust domain', () => {
  test('main builds first: its sources are verified and sealed by its end, and its crates go to the store', async () => {
    const m = await hostJob({ branch: 'main' });
    const mm = await start(m);
    expect(mm.env.CARGO_HOME).toBe(join(root, 'homes', `u${RUNNER}`));
    await build(m);
    expect(await output(m)).toBe('v=1 held=held data from_pr=false');
    await end(m);
    const lib = join(srcOf(m, 'numfmt-1.0.0'), 'src', 'lib.rs');
    expect((await fs.stat(lib)).mode & 0o777).toBe(0o444);
    expect((await fs.stat(join(lib, '..'))).mode & 0o777).toBe(0o555);
  });

  test('an edit by accident fails in the job that tried; one on purpose (same size, mtime put back) is repaired before another domain compiles it', async () => {
    const pr = await hostJob({ pr: 20, branch: 'feature-20' });
    const pm = await start(pr);
    const lib = join(srcOf(pr, 'numfmt-1.0.0'), 'src', 'lib.rs');
    const oops = await sh(pr, `echo "// oops" >> "${lib}"`);
    expect(oops.code).not.toBe(0);
    expect(oops.stderr).toMatch(/Permission denied/);
    const ref = join(held, 'ref');
    const tamper = await sh(
      pr,
      `cp -p "${lib}" "${ref}" && chmod u+w "${lib}" && printf 'pub fn v() -> u64 { 7 }\\n' > "${lib}" && touch -r "${ref}" "${lib}" && chmod 444 "${lib}"`,
    );
    expect(tamper.stderr).toBe('');
    await build(pr); // the job's own build goes on
    // Another domain, in a new slot with nothing to copy: it compiles numfmt from the shared sources.
    const other = await coldDomain(21);
    const om = await start(other);
    expect(om.env.CARGO_HOME).toBe(pm.env.CARGO_HOME); // one path string for every trusted domain
    expect(om.warnings.join('\n')).toMatch(/the sources of .*numfmt-1\.0\.0 were changed since they were verified \(src\/lib\.rs \(content\)\); repaired/);
    const b = await build(other);
    expect(compiled(b.stderr)).toContain('numfmt');
    expect(await output(other)).toBe('v=1 held=held data from_pr=false');
    expect(await fs.readFile(lib, 'utf8')).toBe('pub fn v() -> u64 { 1 }\n');
    await end(other);
    await end(pr);
  });

  test('a replaced .crate with its sources removed: the next job gets the verified one back from the store', async () => {
    const pr = await hostJob({ pr: 30 });
    await start(pr);
    const src = srcOf(pr, 'numfmt-1.0.0');
    const crate = join(src, '..', '..', '..', 'cache', src.split('/').slice(-2)[0], 'numfmt-1.0.0.crate');
    // A .crate of the same name whose library says something else, renamed over the cached one.
    const evil = join(scratch, 'evil');
    await fs.mkdir(join(evil, 'numfmt-1.0.0', 'src'), { recursive: true });
    await fs.writeFile(join(evil, 'numfmt-1.0.0', 'Cargo.toml'), '[package]\nname = "numfmt"\nversion = "1.0.0"\nedition = "2021"\n');
    await fs.writeFile(join(evil, 'numfmt-1.0.0', 'src', 'lib.rs'), 'pub fn v() -> u64 { 666 }\n');
    execFileSync('tar', ['czf', join(evil, 'evil.crate'), '-C', evil, 'numfmt-1.0.0']);
    execFileSync('chmod', ['-R', 'a+rX', evil]);
    const r = await sh(pr, `cp "${join(evil, 'evil.crate')}" "${crate}.new" && mv -f "${crate}.new" "${crate}" && chmod -R u+w "${src}" && rm -rf "${src}"`);
    expect(r.stderr).toBe('');
    // Its post step never runs (the job was killed): the next start finds it as it was left.
    const other = await coldDomain(31);
    const om = await start(other);
    expect(om.warnings.join('\n')).toMatch(/numfmt-1\.0\.0\.crate was not what its checksum says: replaced from the crate store/);
    const before = reg.stats.downloads;
    await build(other);
    expect(reg.stats.downloads).toBe(before);
    expect(await output(other)).toBe('v=1 held=held data from_pr=false');
    await end(other);
    await end(pr);
  });

  test('registry/src removed on purpose: the next job extracts the locked crates from their verified .crate and builds offline', async () => {
    const pr = await hostJob({ pr: 35 });
    const pm = await start(pr);
    const all = join(pm.env.CARGO_HOME, 'registry', 'src');
    const r = await sh(pr, `chmod -R u+w "${all}" && rm -rf "${all}"`);
    expect(r.stderr).toBe('');
    await end(pr);
    const other = await coldDomain(36);
    const om = await start(other);
    expect(om.stdout).toMatch(/CARGO_HOME .*: \d+ crates checked in \d+ ms; \d+ verified against their .crate; 2 extracted from their verified .crate/);
    const b = await build(other, ws, { CARGO_NET_OFFLINE: 'true' });
    expect(compiled(b.stderr)).toEqual(expect.arrayContaining(['numfmt', 'held']));
    expect(await output(other)).toBe('v=1 held=held data from_pr=false');
    await end(other);
  });

  test("a removal of registry/src while another domain's build runs fails in the job that tried; the build goes on", async () => {
    const building = await coldDomain(10);
    await start(building);
    const b = build(building, ws, { HELD_DIR: held });
    await until('the held build script to start', () => existsSync(join(held, 'started')), { ms: 300_000, unless: b });
    // held's library is compiled only after its build script: its sources are read from now on.
    const pr = await hostJob({ pr: 11 });
    const pm = await start(pr);
    const rm = await sh(pr, `rm -rf "${join(pm.env.CARGO_HOME, 'registry', 'src')}"`);
    expect(rm.code).not.toBe(0);
    expect(rm.stderr).toMatch(/cannot remove .*held-1\.0\.0.*: Permission denied/);
    await fs.writeFile(join(held, 'release'), '');
    await b;
    expect(await output(building)).toBe('v=1 held=held data from_pr=false');
    await end(pr);
    await end(building);
  });
});

describe('git checkouts', () => {
  test("an edit of a locked git dependency's checkout is repaired, from its commit's objects, before another domain compiles it", async () => {
    const repo = join(scratch, 'forked');
    const commit = commitGitDep(repo, { init: true, name: 'forked', answer: 42 });
    const wsGit = makeGitConsumer(join(scratch, 'ws-git'), 'forked', `file://${repo}`);
    await promisify(execFile)('cargo', ['generate-lockfile'], { cwd: wsGit, env: { ...process.env, CARGO_HOME: join(scratch, 'lockgen-home') } });
    execFileSync('chown', ['-R', `${RUNNER}:${RUNNER}`, wsGit]);
    execFileSync('chmod', ['-R', 'a+rX', repo]);
    const run = (j: SimJob) => j.exec([join(j.exported.CARGO_TARGET_DIR, 'debug', 'consumer')], wsGit, { uid: RUNNER });
    const first = await hostJob({ branch: 'main', runner: 'rgit' });
    await start(first, wsGit);
    await build(first, wsGit);
    await end(first);
    const co = execFileSync('sh', ['-c', `ls -d "$H"/git/checkouts/forked-*/${commit.slice(0, 7)}*`], { env: { H: first.exported.CARGO_HOME } })
      .toString()
      .trim();
    const lib = join(co, 'src', 'lib.rs');
    expect((await fs.stat(lib)).mode & 0o777).toBe(0o444); // sealed at the end of the job whose cargo made it
    const pr = await hostJob({ pr: 60 });
    await start(pr, wsGit);
    const ref = join(held, 'ref-git');
    expect(
      (
        await sh(
          pr,
          `cp -p "${lib}" "${ref}" && chmod u+w "${lib}" && printf 'pub fn answer() -> u32 { 99 }\\n' > "${lib}" && touch -r "${ref}" "${lib}"`,
          wsGit,
        )
      ).stderr,
    ).toBe('');
    const other = await coldDomain(61);
    const om = await start(other, wsGit);
    expect(om.warnings.join('\n')).toMatch(
      /the sources of git\/forked-[0-9a-f]+\/[0-9a-f]+ were changed since they were verified \(src\/lib\.rs \(content\)\); repaired/,
    );
    await build(other, wsGit);
    expect((await run(other)).stdout.trim()).toBe('42');
    await end(other);
    await end(pr);
  });
});

describe('what a job writes at the top of the home is its own, and it goes with the job', () => {
  test('cargo login and a config line: the job builds and publishes with them; after its end no job sees them', async () => {
    const pr = await hostJob({ pr: 40 });
    const pm = await start(pr);
    const home = pm.env.CARGO_HOME;
    expect((await cargo(pr, ['login', '--registry', 'testreg', 'pr40-secret'])).code).toBe(0);
    expect((await sh(pr, `printf '[build]\\nrustflags = ["--cfg", "from_pr"]\\n' >> "${join(home, 'config.toml')}"`)).code).toBe(0);
    await build(pr);
    expect(await output(pr)).toMatch(/from_pr=true$/);
    const p = await cargo(pr, ['publish', '--registry', 'testreg', '--no-verify', '--allow-dirty'], pub);
    expect({ code: p.code, stderr: p.code ? p.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(reg.uploads).toContainEqual({ name: 'pubcrate', vers: '0.1.0', token: 'pr40-secret' });
    await end(pr);

    const next = await hostJob({ branch: 'main' });
    const nm = await start(next);
    expect(nm.env.CARGO_HOME).toBe(home);
    const seen = spawnSync('grep', ['-rl', '-e', 'pr40-secret', '-e', 'from_pr', home, '--exclude-dir=registry'], { encoding: 'utf8' });
    expect({ found: seen.stdout, code: seen.status }).toEqual({ found: '', code: 1 });
    await build(next);
    expect(await output(next)).toBe('v=1 held=held data from_pr=false');
    await end(next);
  });

  test('a job that ends never removes what a job still running may have just written; the last of them does', async () => {
    const a = await hostJob({ pr: 41 });
    const am = await start(a);
    const b = await hostJob({ pr: 42 });
    await start(b);
    expect((await cargo(a, ['login', '--registry', 'testreg', 'a41-secret'])).code).toBe(0);
    const creds = join(am.env.CARGO_HOME, 'credentials.toml');
    await end(b); // b ran when the token was written: it may be b's as well as a's
    expect(await fs.readFile(creds, 'utf8')).toMatch(/a41-secret/);
    const p = await cargo(a, ['publish', '--registry', 'testreg', '--no-verify', '--allow-dirty'], pub2);
    expect({ code: p.code, stderr: p.code ? p.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(reg.uploads[reg.uploads.length - 1].token).toBe('a41-secret');
    await end(a);
    expect(existsSync(creds)).toBe(false);
  });
});

describe('a crate whose build script writes next to its own sources', () => {
  test('fails loudly once its sources are sealed, builds with writable-sources, and the other crates stay sealed', async () => {
    const first = await hostJob({ branch: 'main', runner: 'rg1' });
    await start(first, wsGen);
    await build(first, wsGen); // downloaded and extracted by cargo in this job: not sealed yet
    await end(first);
    const sealed = await coldDomain(50);
    await start(sealed, wsGen);
    const b = await cargo(sealed, ['build', '--locked'], wsGen);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/etc\/configs\.json.*Permission denied|Permission denied/);
    await end(sealed);
    const opted = await coldDomain(51);
    const om = await start(opted, wsGen, { 'writable-sources': 'genjson' });
    expect(om.stdout).toMatch(/unsealed/);
    await build(opted, wsGen);
    expect((await opted.exec([join(opted.exported.CARGO_TARGET_DIR, 'debug', 'app')], wsGen, { uid: RUNNER })).stdout).toBe('["mainnet", "testnet"] 1');
    expect((await fs.stat(join(srcOf(opted, 'numfmt-1.0.0'), 'src'))).mode & 0o777).toBe(0o555);
    expect((await fs.stat(join(srcOf(opted, 'genjson-1.0.0'), 'etc'))).mode & 0o777).toBe(0o755);
    await end(opted);
  });
});
