import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeWorkspace } from './helpers/workspace.js';
import { scaled } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * docs/runner-hooks.md, "Try the hooks by hand": the page's lines, run as written (the install
 * directory, the root and the workspace moved to this test's), keep the lease through a build that
 * outlasts the keeper's checks, and release it at the completed hook. The naive way (the hook run
 * from a process that ends with it) loses the lease: the reason the page gives for its stand-in.
 */
let scratch: string;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-by-hand-'));
});
afterAll(async () => {
  await removeScratch(scratch);
});

function recipe(): string {
  const m = /<!-- tested: hooks by hand -->\n```sh\n([\s\S]*?)```/.exec(readFileSync('docs/runner-hooks.md', 'utf8'));
  if (!m) throw new Error('docs/runner-hooks.md has no "hooks by hand" block');
  return m[1];
}

function bash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const child = spawn('bash', ['-e', '-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => res({ code, out }));
  });
}

const env = () => ({
  PATH: `${resolve('bin')}:${process.env.PATH}`,
  HOME: join(scratch, 'home'),
  RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(process.env.HOME ?? '/root', '.rustup'),
  CARGO_ISOLATE_NODE: process.execPath,
});

test("the page's recipe: the lease outlives a build and ends at the completed hook", async () => {
  const ws = await makeWorkspace(join(scratch, 'my-crate'), 3);
  // A build script that sleeps past the keeper's checks (2 s): a lease tied to a dead process would end meanwhile.
  await fs.writeFile(join(ws, 'c0', 'build.rs'), 'fn main() { std::thread::sleep(std::time::Duration::from_secs(5)); }\n');
  const root = join(scratch, 'try-root');
  const lines = recipe()
    .replace('cd /opt/cargo-isolate ', `cd ${resolve('.')} `)
    .replace('CARGO_ISOLATE_ROOT=/tmp/cargo-isolate-try ', `CARGO_ISOLATE_ROOT=${root} `)
    .replace('~/src/my-crate/Cargo.toml', join(ws, 'Cargo.toml'));
  await fs.mkdir(join(scratch, 'home'));
  // If a line fails, bash -e stops before the page's `kill $worker`: the stand-in must not outlive the test.
  const r = await bash(`trap 'kill "$worker" 2>/dev/null || true' EXIT\n${lines}`, env());
  if (r.code !== 0) throw new Error(r.out);
  expect(r.out).toMatch(/^s000 +leased /m); // status, while the stand-in holds the lease
  expect(r.out).toMatch(/Compiling c0 v0\.1\.0/);
  expect(r.out).toMatch(
    /^cargo-isolate \S+: local\/local ref-local, slot s000 \(new\); target [^;]+; built as uid \d+ under [^;]+; units \d+ built, 0 fresh; .*lease released\.$/m,
  );
  expect(r.out).not.toMatch(/ended before the job did/);
  await fs.access(join(root, 'slots', 's000', 'target', 'debug', 'app'));
});

test('without the stand-in, the lease ends with the process that ran the hook', async () => {
  const root = join(scratch, 'naive-root');
  const temp = await fs.mkdtemp(join(scratch, 'temp-'));
  const vars = {
    ...env(),
    CARGO_ISOLATE_ROOT: root,
    RUNNER_TEMP: temp,
    GITHUB_ENV: join(temp, 'env'),
    GITHUB_PATH: join(temp, 'path'),
    GITHUB_STEP_SUMMARY: join(temp, 'summary'),
  };
  for (const f of ['env', 'path', 'summary']) await fs.writeFile(join(temp, f), '');
  // `bash -c` stands for sudo, su or a script: it ends with the hook (`; true` keeps bash from exec'ing it).
  expect((await bash('bash -e hooks/job-started.sh; true', vars)).code).toBe(0);
  const lock = join(root, 'locks', 'slot-s000.lock');
  const free = () => new Promise<boolean>((res) => spawn('flock', ['-n', lock, 'true']).on('exit', (c) => res(c === 0)));
  for (const end = Date.now() + scaled(30_000); !(await free());) {
    if (Date.now() > end) throw new Error('the lease outlived its watched process');
    await new Promise((r) => setTimeout(r, 200));
  }
  const done = await bash('bash -e hooks/job-completed.sh', vars);
  expect(done.out).toMatch(/the lease on \S+ ended before the job did/);
});
