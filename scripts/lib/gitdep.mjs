// A git dependency for tests and the bench: a real repository holding a library crate, a
// workspace that depends on it by URL, and `git daemon` serving it on 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './free-port.mjs';
import { currentPace } from './pace.mjs';

/** @type {(cwd: string, args: string[], input?: string) => string} */
const git = (cwd, args, input) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    input,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd },
  }).trim();

/**
 * Makes (or adds a commit to) a repository at `dir` with crate `name`: `answer()` returns
 * `answer`, and `padMiB` of incompressible data (random bytes) sit beside it. `orphan` starts
 * a history that shares nothing with the existing one. Returns the new commit's sha.
 */
/**
 * @param {string} dir
 * @param {{ name: string, answer: number, init?: boolean, orphan?: boolean, padMiB?: number }} o
 * @returns {string}
 */
export function commitGitDep(dir, o) {
  mkdirSync(join(dir, 'src'), { recursive: true });
  if (o.init) git(dir, ['init', '-q']);
  if (o.orphan) git(dir, ['checkout', '-q', '--orphan', `orphan-${randomBytes(3).toString('hex')}`]);
  writeFileSync(join(dir, 'Cargo.toml'), `[package]\nname = "${o.name}"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\npath = "src/lib.rs"\n`);
  writeFileSync(join(dir, 'src', 'lib.rs'), `pub fn answer() -> u32 { ${o.answer} }\n`);
  for (let i = 0; i < (o.padMiB ?? 0); i++) {
    mkdirSync(join(dir, 'pad'), { recursive: true });
    writeFileSync(join(dir, 'pad', `blob${i}-${randomBytes(4).toString('hex')}.bin`), randomBytes(2 ** 20));
  }
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', `answer ${o.answer}`]);
  return git(dir, ['rev-parse', 'HEAD']);
}

/**
 * A workspace whose one dependency is the git repository at `url`, branch `branch`.
 * @param {string} dir
 * @param {string} name
 * @param {string} url
 * @returns {string}
 */
export function makeGitConsumer(dir, name, url, branch = 'main') {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'Cargo.toml'),
    `[package]\nname = "consumer"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${name} = { git = "${url}", branch = "${branch}" }\n`,
  );
  writeFileSync(join(dir, 'src', 'main.rs'), `fn main() { println!("{}", ${name.replace(/-/g, '_')}::answer()); }\n`);
  return dir;
}

/**
 * `git daemon` serving every repository under `base` at git://127.0.0.1:<port>/<name>.
 * @param {string} base
 * @returns {Promise<{ url(name: string): string, close(): Promise<void> }>}
 */
export async function serveGit(base) {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'git',
      ['daemon', '--reuseaddr', '--export-all', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, '--informative-errors', base],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // Ready once it accepts a connection; an exit first means the port was taken meanwhile.
    // On a busy machine that can take a while: the wait ends on the outcome, with a guard
    // against a hang that grows with the run's pace (pace.mjs).
    let exited = false;
    child.on('exit', () => (exited = true));
    let ready = false;
    const end = Date.now() + 30_000 * currentPace();
    while (!exited && !ready && Date.now() < end) {
      ready = await new Promise((/** @type {(ok: boolean) => void} */ res) => {
        const c = connect(port, '127.0.0.1', () => (c.end(), res(true)));
        c.on('error', () => setTimeout(() => res(false), 25));
      });
    }
    if (!ready && !exited) child.kill('SIGKILL');
    if (ready) {
      return {
        url: (/** @type {string} */ name) => `git://127.0.0.1:${port}/${name}`,
        /** @returns {Promise<void>} */
        close: () =>
          new Promise((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res();
            child.once('exit', () => res());
            child.kill('SIGTERM');
          }),
      };
    }
    if (attempt > 5) throw new Error(`git daemon did not start on 127.0.0.1 (port ${port})`);
  }
}
