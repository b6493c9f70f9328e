// Section 8 of `npm run bench`: what a job pays in step time for issue 17's host sccache
// server. The same warm slot's main and post steps, alternated in one loop so a busy machine
// weighs on both alike: without sccache in the environment (the baseline), with
// RUSTC_WRAPPER=sccache and the host server already running (every job but the first), and
// with no server yet (the job that starts it).
// Then the evidence against a server per job: two servers on one SCCACHE_DIR (what per-job
// servers are) against one, the same builds through each: bytes on disk against the size
// limit, and the hits a clean rebuild gets for entries written by the *other* server.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Row, fileValues, mainPushEnv, median, note, ratio, runnerFiles, sccacheInstalled, spawnTimed, spread, stateOf } from './kit.js';

/** 12 small crates, unique content (3 KB of random text each): 12 cache entries. */
function workspace(dir: string, tag: string): string {
  const members = Array.from({ length: 12 }, (_, i) => `k${i}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Cargo.toml'), `[workspace]\nmembers = [${members.map((m) => `"${m}"`).join(', ')}]\nresolver = "2"\n`);
  for (const m of members) {
    mkdirSync(join(dir, m, 'src'), { recursive: true });
    writeFileSync(join(dir, m, 'Cargo.toml'), `[package]\nname = "${m}"\nversion = "0.1.0"\nedition = "2021"\n`);
    writeFileSync(join(dir, m, 'src', 'lib.rs'), `pub fn v() -> &'static str { "${tag}-${m}-${randomBytes(2250).toString('base64')}" }\n`);
  }
  return dir;
}
const bytesUnder = (d: string) =>
  readdirSync(d, { recursive: true, encoding: 'utf8' })
    .map((f) => statSync(join(d, f)))
    .filter((s) => s.isFile())
    .reduce((a, s) => a + s.size, 0);

async function serversOnOneDir(dir: string, nServers: number) {
  const cache = join(dir, `cache-${nServers}`);
  const ports = Array.from({ length: nServers }, () => String(30000 + Math.floor(Math.random() * 2000)));
  const env = (p: string) => ({
    ...process.env,
    RUSTC_WRAPPER: 'sccache',
    SCCACHE_DIR: cache,
    SCCACHE_CACHE_SIZE: '300K',
    SCCACHE_SERVER_PORT: p,
    SCCACHE_IDLE_TIMEOUT: '0',
    CARGO_INCREMENTAL: '0',
  });
  const sc = (p: string, args: string[]) => execFileSync('sccache', args, { env: env(p), stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  for (const p of ports) sc(p, ['--start-server']);
  const build = (ws: string, p: string, target: string) =>
    execFileSync('cargo', ['build', '-q'], { cwd: ws, env: { ...env(p), CARGO_TARGET_DIR: target }, stdio: 'ignore' });
  // Six workspaces, alternately through each server (one server: all through it).
  const wss = ['a', 'b', 'c', 'd', 'e', 'f'].map((t) => workspace(join(dir, `ws-${nServers}-${t}`), `${nServers}${t}`));
  wss.forEach((ws, i) => build(ws, ports[i % nServers], join(dir, `t-${nServers}-${i}`)));
  const onDisk = bytesUnder(cache);
  // A clean rebuild of the fifth workspace (written through server 0) through the last server.
  const last = ports[nServers - 1];
  sc(last, ['--zero-stats']);
  // The same target dir as its first build: sccache's key includes CARGO_TARGET_DIR.
  execFileSync('rm', ['-rf', join(dir, `t-${nServers}-4`)]);
  build(wss[4], last, join(dir, `t-${nServers}-4`));
  const hits = Number(/^Cache hits\s+(\d+)/m.exec(sc(last, ['--show-stats']))?.[1] ?? NaN);
  for (const p of ports) sc(p, ['--stop-server']);
  return { onDisk, hits };
}

export async function benchSccache({ scratch, reps, rows }: { scratch: string; reps: number; rows: Row[] }) {
  if (!sccacheInstalled()) {
    note('8. skipped: no sccache on PATH');
    rows.push(['8', 'sccache host server', 'not measured: no sccache on PATH', '', '']);
    return;
  }
  note('8. sccache host server: main/post step time ...');
  const dir = join(scratch, 'sccache-steps');
  mkdirSync(dir, { recursive: true });
  const base = { ...mainPushEnv({ home: dir, root: join(dir, 'root'), workspace: dir }), RUNNER_TRACKING_ID: 'github_bench' };
  const wrap = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(dir, 'cache') };
  let port: string | undefined;
  const stop = () => {
    if (!port) return;
    try {
      execFileSync('sccache', ['--stop-server'], { env: { ...process.env, SCCACHE_SERVER_PORT: port }, stdio: 'ignore' });
    } catch {
      // not running
    }
  };
  // main with its output kept: a start that fell back to a warning must show in the table.
  const warned: string[] = [];
  const timedMain = (env: NodeJS.ProcessEnv) =>
    new Promise<number>((res) => {
      const t0 = performance.now();
      let out = '';
      const c = spawn(process.execPath, ['dist/main/index.js'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', () => {
        for (const w of out.match(/^::warning::.*sccache.*$/gm) ?? []) warned.push(w);
        res(performance.now() - t0);
      });
    });
  type Step = { main: number; post: number };
  const step = async (extra: Record<string, string>): Promise<Step> => {
    const files = runnerFiles(dir);
    const env = { ...base, ...extra, ...files };
    const main = await timedMain(env);
    const exported = await fileValues(files.GITHUB_ENV);
    port ??= exported.SCCACHE_SERVER_PORT;
    const post = await spawnTimed(process.execPath, ['dist/post/index.js'], { ...env, ...(await stateOf(files.GITHUB_STATE)) });
    return { main, post };
  };
  const t: Record<'plain' | 'reuse' | 'start', Step[]> = { plain: [], reuse: [], start: [] };
  for (let i = 0; i < reps + 1; i++) {
    const plain = await step({});
    const reuse = await step(wrap); // the first round starts the server: not counted
    stop();
    const start = await step(wrap);
    if (i === 0) continue;
    t.plain.push(plain);
    t.reuse.push(reuse);
    t.start.push(start);
  }
  stop();
  for (const w of warned) note(`8. a main step warned: ${w.slice(0, 400)}`);
  const m = (k: keyof typeof t, s: keyof Step) => t[k].map((x) => x[s]);
  /** A row of one step's times with sccache (`k`) against the same step without it. */
  const against = (what: string, k: 'reuse' | 'start', s: keyof Step): Row => [
    '8',
    what,
    spread(m(k, s)),
    `no sccache ${spread(m('plain', s))}`,
    ratio(median(m(k, s)), median(m('plain', s))),
  ];
  const fellBack = warned.length ? ` (${warned.length} fell back with a warning)` : '';
  rows.push(
    against('main step, RUSTC_WRAPPER=sccache, host server running', 'reuse', 'main'),
    against(`main step, RUSTC_WRAPPER=sccache, this job starts the server${fellBack}`, 'start', 'main'),
    against('post step, RUSTC_WRAPPER=sccache', 'reuse', 'post'),
  );
  note('8. one SCCACHE_DIR, one server vs two ...');
  const one = await serversOnOneDir(dir, 1);
  const two = await serversOnOneDir(dir, 2);
  const kb = (b: number) => `${Math.round(b / 1024)} KiB`;
  rows.push([
    '8',
    'two servers on one SCCACHE_DIR (per-job servers), SCCACHE_CACHE_SIZE=300K: bytes on disk',
    kb(two.onDisk),
    `one server ${kb(one.onDisk)}`,
    ratio(two.onDisk, one.onDisk),
  ]);
  rows.push([
    '8',
    "two servers on one SCCACHE_DIR: clean rebuild's hits on entries the other server wrote",
    `${two.hits}/12 hits`,
    `one server ${one.hits}/12`,
    '',
  ]);
}
