// Section 10 of `npm run bench`: what the foreign-owner check (src/owners/foreign.ts, issue 19) costs
// on a slot whose target dir holds 100,000 files, laid out as cargo lays them out (deps,
// .fingerprint, build, incremental). Measured in the same run:
//   - the probe alone, in process, against `node -e ''` and against the full walk a naive check
//     would need (`find <slot> ! -uid U -print -quit`, which walks everything when all is clean);
//   - the main and post steps of a job that is not root (they run the probe: main before
//     handing the slot out, post before releasing it), as the probe's share of each step.
// Run as root, the steps run as uid 1001 (setpriv), as the runner's user would; run as another
// user, as that user. The probe is skipped for root jobs, which can write anything.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findForeign, probeOwners } from '../../src/owners/foreign.js';
import { type Row, mainPushEnv, median, note, spread, stateOf } from './kit.js';

const FILES = Number(process.env.BENCH_OWNERSHIP_FILES ?? 100_000);

/** A target dir of `files` empty files in cargo's layout; returns the number made. */
function makeTarget(target: string, files: number): number {
  let n = 0;
  const file = (p: string) => {
    writeFileSync(p, '');
    n++;
  };
  const dbg = join(target, 'debug');
  for (const d of ['deps', '.fingerprint', 'build', 'incremental', 'examples']) mkdirSync(join(dbg, d), { recursive: true });
  file(join(dbg, '.cargo-lock'));
  file(join(target, '.rustc_info.json'));
  file(join(target, 'CACHEDIR.TAG'));
  const units = Math.max(10, Math.round(files / 60));
  for (let u = 0; u < units && n < files; u++) {
    for (const ext of ['.d', '.rlib', '.rmeta']) file(join(dbg, 'deps', `lib-u${u}-0123456789abcdef${ext}`));
    const fp = join(dbg, '.fingerprint', `u${u}-0123456789abcdef`);
    mkdirSync(fp);
    for (const f of ['lib-u', 'lib-u.json', 'dep-lib-u', 'invoked.timestamp']) file(join(fp, f));
    if (u % 5 === 0) {
      const b = join(dbg, 'build', `u${u}-fedcba9876543210`);
      mkdirSync(join(b, 'out'), { recursive: true });
      for (let k = 0; k < 8; k++) file(join(b, 'out', `gen${k}.rs`));
    }
  }
  // incremental/ holds most files of a real debug build: sessions of many small objects.
  for (let s = 0; n < files; s++) {
    const dir = join(dbg, 'incremental', `u${s}-abcdef`, `s-session-${s}`);
    mkdirSync(dir, { recursive: true });
    for (let k = 0; k < 200 && n < files; k++) file(join(dir, `${k}.o`));
  }
  return n;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => (code === 0 ? res(performance.now() - t0) : rej(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.slice(-500)}`))));
  });
}

export async function ownershipBench({ scratch, rows, reps }: { scratch: string; rows: Row[]; reps: number }) {
  note(`10. foreign-owner check on a slot with a ${FILES.toLocaleString('en')}-file target dir ...`);
  const asRoot = process.getuid!() === 0;
  const uid = asRoot ? 1001 : process.getuid!();
  const as = asRoot ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] : [];
  const dir = join(scratch, 'ownership');
  mkdirSync(dir, { recursive: true });
  chmodSync(scratch, 0o755);
  chmodSync(dir, 0o755);
  // The bundles and node where that uid can read them (a checkout under /root is 0700).
  const dist = join(dir, 'dist');
  cpSync('dist', dist, { recursive: true });
  const node = join(dir, 'node');
  cpSync(process.execPath, node);
  chmodSync(node, 0o755);
  const root = join(dir, 'root');
  const home = join(dir, 'home');
  mkdirSync(root);
  mkdirSync(home);
  const base = mainPushEnv({ home, root, workspace: home });
  if (asRoot) execFileSync('chown', ['-R', `${uid}:${uid}`, dir]);
  const files = () => {
    const f: Record<string, string> = {};
    for (const n of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY']) {
      f[n] = join(dir, `${n}-${Math.random().toString(36).slice(2)}`);
      writeFileSync(f[n], '');
      if (asRoot) execFileSync('chown', [`${uid}:${uid}`, f[n]]);
    }
    return f;
  };
  const step = async () => {
    const f = files();
    const env = { ...base, ...f };
    const main = await timed(as[0] ?? node, [...as.slice(1), ...(as.length ? [node] : []), join(dist, 'main', 'index.js')], env);
    const post = await timed(as[0] ?? node, [...as.slice(1), ...(as.length ? [node] : []), join(dist, 'post', 'index.js')], {
      ...env,
      ...(await stateOf(f.GITHUB_STATE)),
    });
    return { main, post };
  };
  // The first job makes the slot; then its target gets the files, owned by that uid.
  await step();
  const slot = join(root, 'slots', 's000');
  const made = makeTarget(join(slot, 'target'), FILES);
  if (asRoot) execFileSync('chown', ['-R', `${uid}:${uid}`, join(slot, 'target')]);
  const clean = (await findForeign({ base: slot }, uid)).length === 0;

  const [probes, walks, nodes, mains, posts]: number[][] = [[], [], [], [], []];
  let seen = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    seen = (await probeOwners({ base: slot })).length;
    probes.push(performance.now() - t0);
    walks.push(await timed('find', [slot, '!', '-uid', String(uid), '-print', '-quit'], process.env));
    nodes.push(await timed(as[0] ?? node, [...as.slice(1), ...(as.length ? [node] : []), '-e', ''], process.env));
    const s = await step();
    mains.push(s.main);
    posts.push(s.post);
  }
  const still = (await findForeign({ base: slot }, uid)).length === 0 && (await fs.readdir(join(slot, 'target', 'debug', 'incremental'))).length > 0;
  const p = median(probes);
  rows.push([
    '10',
    `foreign-owner probe, slot with ${made.toLocaleString('en')} files in target (${seen} entries probed${clean ? '' : ', NOT CLEAN'})`,
    spread(probes),
    `node -e '' ${spread(nodes)}`,
    `${(p / median(nodes)).toFixed(3)}x`,
  ]);
  rows.push([
    '10',
    'the same question by a full walk (find ! -uid -print -quit)',
    spread(walks),
    `probe ${spread(probes)}`,
    `probe is ${(median(walks) / p).toFixed(0)}x cheaper`,
  ]);
  rows.push([
    '10',
    `main step as uid ${uid} on that slot (includes the probe)`,
    spread(mains),
    `probe ${spread(probes)}`,
    `probe = ${((100 * p) / median(mains)).toFixed(1)}% of main`,
  ]);
  rows.push([
    '10',
    `post step as uid ${uid} on that slot (includes the probe)${still ? '' : ' (the slot lost its files!)'}`,
    spread(posts),
    `probe ${spread(probes)}`,
    `probe = ${((100 * p) / median(posts)).toFixed(1)}% of post`,
  ]);
}
