// Section 1 of `npm run bench`: what the action's main and post steps cost on a warm slot, and where
// their milliseconds go, on the real-crates workspace (scripts/lib/real-crates.mjs) with its
// Cargo.lock, served from 127.0.0.1, against `node -e ''` started the same way in the same run:
//   1    main, post, and main+post against two bare Node starts; the same without the shared
//        CARGO_HOME's check at the start, and without it at both ends against the aim of 3x two
//        bare starts (its cost is its own: section 12 measures it);
//   1t   each part of a step (its debug line, timingsLine in src/job/summary.ts): Node's start and
//        the bundle's loading, the guard, the chooser (slot), the stores (crates), the shared
//        home's check, the exports; the post's release step by step and its summary.
// The first job makes the slot, fetches the workspace's crates and checks it (so the post publishes
// them to the store and the target holds its fingerprints); the measured jobs reuse that slot, as
// the next push of the same branch does.
import { spawn } from 'node:child_process';
import { promises as fs, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { serveRegistry } from '../lib/registry.mjs';
import { ensurePackages, makeRealWorkspace, packRegistry } from '../lib/real-crates.mjs';
import { type Row, fileValues, mainPushEnv, median, ms, note, ratio, runnerFiles, spread, stateOf } from './kit.js';

/** A process's wall time and its stdout; a failure rejects with its output. */
function timedOutput(cmd: string, args: string[], o: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<{ ms: number; stdout: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { env: o.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) =>
      code === 0 ? res({ ms: performance.now() - t0, stdout }) : rej(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${stdout}${stderr}`)),
    );
  });
}

/** The parts of a step's debug line `Where the main step's time went: a 1 ms, b 2 ms; ...`, by name. */
export function partsOf(stdout: string): Record<string, number> {
  const line = /^::debug::Where the \w+ step's time went: ([^;]*);/m.exec(stdout)?.[1];
  if (!line) throw new Error(`bench 1: the step printed no timings line:\n${stdout}`);
  return Object.fromEntries([...line.matchAll(/([^,]+?) (\d+) ms(?:, |$)/g)].map((m) => [m[1].trim(), Number(m[2])]));
}

export async function stepsSection(o: { scratch: string; rows: Row[]; reps: number }): Promise<void> {
  const { scratch, rows, reps } = o;
  note('1. main/post on a warm slot of the real-crates workspace ...');
  const dir = join(scratch, 'overhead');
  mkdirSync(dir, { recursive: true });
  ensurePackages();
  const regDir = join(dir, 'registry');
  await packRegistry(regDir);
  const server = await serveRegistry(regDir);
  try {
    const ws = makeRealWorkspace(join(dir, 'ws'), server.url);
    // The runner's HOME is the scratch dir: rustup's toolchains stay where they are installed.
    const rustup = process.env.RUSTUP_HOME ?? join(homedir(), '.rustup');
    const base = { ...mainPushEnv({ home: dir, root: join(dir, 'root'), workspace: ws }), CARGO_HOME: join(dir, 'runner-home'), RUSTUP_HOME: rustup };
    // Not execFileSync: the registry is served by this very process.
    await timedOutput('cargo', ['generate-lockfile'], { env: base, cwd: ws });
    const mains: number[] = [];
    const posts: number[] = [];
    const nodes: number[] = [];
    const homes: number[] = [];
    const postHomes: number[] = [];
    // BENCH_BASELINE_DIST=<dir with main/ and post/> (another build, say the last release's dist/,
    // `git archive v1.2.3 dist | tar -x -C /tmp/old`): its steps too, on a root of their own, in the same run.
    const other = process.env.BENCH_BASELINE_DIST;
    const others: number[] = [];
    const parts: Record<'main' | 'post', Record<string, number[]>> = { main: {}, post: {} };
    const add = (step: 'main' | 'post', stdout: string) => {
      for (const [k, v] of Object.entries(partsOf(stdout))) (parts[step][k] ??= []).push(v);
      return partsOf(stdout);
    };
    // The other build's parts too, to say in the same run which part moved.
    const otherParts: Record<'main' | 'post', Record<string, number[]>> = { main: {}, post: {} };
    const addOther = (step: 'main' | 'post', stdout: string) => {
      for (const [k, v] of Object.entries(partsOf(stdout))) (otherParts[step][k] ??= []).push(v);
    };
    for (let i = 0; i < reps + 1; i++) {
      const files = runnerFiles(dir);
      const env = { ...base, ...files };
      const tn = await timedOutput(process.execPath, ['-e', ''], { env });
      const tm = await timedOutput(process.execPath, ['dist/main/index.js'], { env });
      if (i === 0) {
        // The first job: its crates fetched and checked in the slot, for its post to publish.
        const jobEnv = { ...env, ...(await fileValues(files.GITHUB_ENV)) };
        await timedOutput('cargo', ['check', '--locked', '-q'], { env: jobEnv, cwd: ws });
      }
      const tp = await timedOutput(process.execPath, ['dist/post/index.js'], { env: { ...env, ...(await stateOf(files.GITHUB_STATE)) } });
      if (other) {
        const oenv = { ...env, ...runnerFiles(dir), INPUT_ROOT: join(dir, 'baseline-root') };
        const om = await timedOutput(process.execPath, [join(other, 'main', 'index.js')], { env: oenv });
        if (i === 0) await timedOutput('cargo', ['check', '--locked', '-q'], { env: { ...oenv, ...(await fileValues(oenv.GITHUB_ENV)) }, cwd: ws });
        const op = await timedOutput(process.execPath, [join(other, 'post', 'index.js')], { env: { ...oenv, ...(await stateOf(oenv.GITHUB_STATE)) } });
        if (i > 0) {
          others.push(om.ms + op.ms);
          addOther('main', om.stdout);
          addOther('post', op.stdout);
        }
      }
      if (i === 0) continue; // the first run makes the slot: not warm
      nodes.push(tn.ms);
      mains.push(tm.ms);
      posts.push(tp.ms);
      homes.push(add('main', tm.stdout).home ?? 0);
      postHomes.push(add('post', tp.stdout).home ?? 0);
    }
    // A part under half a millisecond is left out of its line: it counts as 0 ms in that run.
    for (const step of [...Object.values(parts), ...Object.values(otherParts)]) for (const v of Object.values(step)) while (v.length < mains.length) v.push(0);
    const both = mains.map((m, i) => m + posts[i]);
    const twice = nodes.map((n) => 2 * n);
    const n2 = `2 x node -e '' ${spread(twice)}`;
    rows.push(['1', 'main step, warm slot', spread(mains), `node -e '' ${spread(nodes)}`, ratio(median(mains), median(nodes))]);
    rows.push(['1', 'post step, warm slot', spread(posts), `node -e '' ${spread(nodes)}`, ratio(median(posts), median(nodes))]);
    rows.push(['1', 'main + post, warm slot', spread(both), n2, ratio(median(both), median(twice))]);
    if (other) rows.push(['1', `main + post, warm slot, ${other}`, spread(others), n2, ratio(median(others), median(twice))]);
    const without = both.map((b, i) => b - homes[i]);
    rows.push(['1', `main + post without the shared home's check (${ms(median(homes))})`, spread(without), n2, ratio(median(without), median(twice))]);
    // The aim: both steps within 3x two bare Node starts, plus only what the home's checks cost at
    // both ends (their own price, section 12), each run against its own two starts.
    const neither = both.map((b, i) => b - homes[i] - postHomes[i]);
    const aim = `${n2}; the aim: 3x`;
    const checks = `${ms(median(homes))}, ${ms(median(postHomes))}`;
    rows.push(['1', `main + post without the home's checks at both ends (${checks})`, spread(neither), aim, ratio(median(neither), median(twice))]);
    for (const step of ['main', 'post'] as const) {
      for (const [k, v] of Object.entries(parts[step])) {
        const o = otherParts[step][k];
        const theirs = other ? `; ${other}: ${o ? ms(median(o)) : 'not timed'}` : '';
        rows.push(['1t', `${step}: ${k}`, spread(v), `node -e '' ${ms(median(nodes))}${theirs}`, ratio(median(v), median(nodes))]);
      }
    }
  } finally {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
