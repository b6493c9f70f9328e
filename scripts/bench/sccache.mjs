// Section 8 of `npm run bench`: what a job pays in step time for issue 17's host sccache
// server. The same warm slot's main and post steps, alternated in one loop so a busy machine
// weighs on both alike: without sccache in the environment (the baseline), with
// RUSTC_WRAPPER=sccache and the host server already running (every job but the first), and
// with no server yet (the job that starts it).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export async function benchSccache({ scratch, reps, rows, note, runnerFiles, spawnTimed, stateOf, spread, ratio, median }) {
  try {
    execFileSync('sccache', ['--version'], { stdio: 'ignore' });
  } catch {
    note('8. skipped: no sccache on PATH');
    rows.push(['8', 'sccache host server', 'not measured: no sccache on PATH', '', '']);
    return;
  }
  note('8. sccache host server: main/post step time ...');
  const dir = join(scratch, 'sccache-steps');
  mkdirSync(dir, { recursive: true });
  const base = { PATH: process.env.PATH, HOME: dir, GITHUB_REPOSITORY: 'b/b', GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_RUN_ID: '1', RUNNER_TRACKING_ID: 'github_bench', INPUT_ROOT: join(dir, 'root'), 'INPUT_DISK-THRESHOLD': '99%', 'INPUT_WORKING-DIRECTORY': dir };
  const wrap = { RUSTC_WRAPPER: 'sccache', SCCACHE_DIR: join(dir, 'cache') };
  let port;
  const stop = () => {
    if (!port) return;
    try {
      execFileSync('sccache', ['--stop-server'], { env: { ...process.env, SCCACHE_SERVER_PORT: port }, stdio: 'ignore' });
    } catch {
      // not running
    }
  };
  const step = async (extra) => {
    const files = runnerFiles(dir);
    const env = { ...base, ...extra, ...files };
    const main = await spawnTimed(process.execPath, ['dist/main/index.js'], env);
    const exported = await stateOf(files.GITHUB_ENV);
    port ??= exported.STATE_SCCACHE_SERVER_PORT;
    const post = await spawnTimed(process.execPath, ['dist/post/index.js'], { ...env, ...(await stateOf(files.GITHUB_STATE)) });
    return { main, post };
  };
  const t = { plain: [], reuse: [], start: [] };
  for (let i = 0; i < reps + 1; i++) {
    const plain = await step({});
    const reuse = await step(wrap); // the first round starts the server: not counted
    stop();
    const start = await step(wrap);
    if (i > 0) (t.plain.push(plain), t.reuse.push(reuse), t.start.push(start));
  }
  stop();
  const m = (k, s) => t[k].map((x) => x[s]);
  rows.push(['8', 'main step, RUSTC_WRAPPER=sccache, host server running', spread(m('reuse', 'main')), `no sccache ${spread(m('plain', 'main'))}`, ratio(median(m('reuse', 'main')), median(m('plain', 'main')))]);
  rows.push(['8', 'main step, RUSTC_WRAPPER=sccache, this job starts the server', spread(m('start', 'main')), `no sccache ${spread(m('plain', 'main'))}`, ratio(median(m('start', 'main')), median(m('plain', 'main')))]);
  rows.push(['8', 'post step, RUSTC_WRAPPER=sccache', spread(m('reuse', 'post')), `no sccache ${spread(m('plain', 'post'))}`, ratio(median(m('reuse', 'post')), median(m('plain', 'post')))]);
}
