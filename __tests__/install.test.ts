import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isRelease } from '../src/model/version.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * docs/install.md, as written: the release tarball made by scripts/pack.sh from this checkout,
 * installed on a "fresh host" (a temp prefix standing for / : nothing of the repository, no npm),
 * a symlink on PATH, the CLI and the hooks run from the install, and an upgrade that flips one
 * symlink. The page's command blocks are the ones run here, with only the prefix changed.
 */
const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
const COMMIT = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
/** What --version says of a version: a release alone, a build between releases with the commit the tarball records. */
const shown = (v: string) => `cargo-isolate ${isRelease(v) ? v : `${v}+${COMMIT.slice(0, 7)}`}\n`;
let scratch: string;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-install-'));
});
afterAll(async () => {
  await removeScratch(scratch);
});

/** A fenced sh block of a page, found by the comment line just before it. */
function block(page: string, marker: string): string {
  const text = readFileSync(page, 'utf8');
  const m = new RegExp(`<!-- ${marker} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!m) throw new Error(`${page} has no sh block after <!-- ${marker} -->`);
  return m[1];
}

function sh(script: string, env: NodeJS.ProcessEnv, cwd: string): { code: number | null; out: string } {
  const r = spawnSync('bash', ['-e', '-c', script], { env, cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('pack, install on a fresh host, run the CLI and the hooks from the install, upgrade by one symlink', async () => {
  // The tarball, from this checkout.
  const pack = spawnSync('bash', ['scripts/pack.sh', '--out', scratch], { encoding: 'utf8' });
  expect([pack.status, pack.stderr]).toEqual([0, '']);
  const tarball = join(scratch, `cargo-isolate-${VERSION}.tar.gz`);
  expect(pack.stdout.trim()).toBe(tarball);
  const listing = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
  for (const f of [
    'bin/cargo-isolate',
    'dist/cli/index.js',
    'dist/hook/index.js',
    'hooks/job-started.sh',
    'hooks/job-completed.sh',
    'hooks/run.sh',
    'docs/monitoring/grafana-dashboard.json',
    'docs/monitoring/alerts.yml',
    'package.json',
    'COMMIT',
  ]) {
    expect([f, listing.includes(`cargo-isolate-${VERSION}/${f}`)]).toEqual([f, true]);
  }
  expect(listing.some((f) => f.includes('src/') || f.includes('node_modules'))).toBe(false);

  // The page's install commands, with / moved to a temp prefix.
  const prefix = join(scratch, 'host');
  await fs.mkdir(join(prefix, 'opt'), { recursive: true });
  await fs.mkdir(join(prefix, 'usr', 'local', 'bin'), { recursive: true });
  const onHost = (script: string, version: string) =>
    script
      .replace(/^version=.*$/m, `version=${version}`)
      .replace(/ \/opt\b/g, ` ${prefix}/opt`)
      .replace(/ \/usr\/local\/bin\b/g, ` ${prefix}/usr/local/bin`);
  const env = { PATH: `${prefix}/usr/local/bin:${process.env.PATH}`, HOME: join(scratch, 'home'), CARGO_ISOLATE_NODE: process.execPath };
  const install = block('docs/install.md', 'tested: install');
  const first = sh(onHost(install, VERSION), env, scratch);
  expect(first).toEqual({ code: 0, out: shown(VERSION) });
  expect(realpathSync(join(prefix, 'usr', 'local', 'bin', 'cargo-isolate'))).toBe(join(prefix, 'opt', `cargo-isolate-${VERSION}`, 'bin', 'cargo-isolate'));

  // What a timer runs, from the install: a dry run on a root that does not exist yet, then on one that does.
  const root = join(scratch, 'root');
  const cmd = (args: string) => sh(`cargo-isolate ${args}`, env, scratch);
  expect(cmd(`gc --dry-run --root ${root}`)).toEqual({ code: 0, out: expect.stringContaining(`no root at ${root} yet`) });
  expect(cmd(`run --root ${root} -- true`).code).toBe(0);
  const dry = cmd(`gc --dry-run --max-age 0s --root ${root}`);
  expect(dry.code).toBe(0);
  expect(dry.out).toContain(`Would remove target ${root}/slots/s000/target`);

  // The hooks, from the install, through the symlink the runner's .env names.
  const hook = async (version: string) => {
    // Both hooks under one parent, as under the runner's worker: the lease lives as long as it does.
    const temp = await fs.mkdtemp(join(scratch, 'runner-temp-'));
    const hooks = `${prefix}/opt/cargo-isolate/hooks`;
    for (const f of ['env', 'env2', 'path', 'summary']) await fs.writeFile(join(temp, f), ''); // the runner makes them
    const r = sh(
      `bash -e ${hooks}/job-started.sh && GITHUB_ENV=$RUNNER_TEMP/env2 bash -e ${hooks}/job-completed.sh`,
      {
        ...env,
        RUNNER_TEMP: temp,
        GITHUB_ENV: join(temp, 'env'),
        GITHUB_PATH: join(temp, 'path'),
        GITHUB_STEP_SUMMARY: join(temp, 'summary'),
        CARGO_ISOLATE_ROOT: root,
      },
      scratch,
    );
    expect(r.code).toBe(0);
    const v = version.replace(/\./g, '\\.');
    expect(r.out).toMatch(new RegExp(`^cargo-isolate ${v}: local/local ref-local in slot s\\d+`, 'm'));
    expect(r.out).toMatch(new RegExp(`^cargo-isolate ${v}: .*lease released\\.$`, 'm'));
  };
  await hook(VERSION);

  // A new release: the same install commands; the next job and the next CLI call run it.
  const next = `${VERSION}-next`;
  const stage = join(scratch, 'stage');
  await fs.mkdir(stage);
  expect(spawnSync('tar', ['-xzf', tarball, '-C', stage]).status).toBe(0);
  await fs.rename(join(stage, `cargo-isolate-${VERSION}`), join(stage, `cargo-isolate-${next}`));
  for (const f of ['cli', 'hook']) {
    const p = join(stage, `cargo-isolate-${next}`, 'dist', f, 'index.js');
    const text = await fs.readFile(p, 'utf8');
    expect(text).toContain(`VERSION = '${VERSION}';`);
    await fs.writeFile(p, text.replace(`VERSION = '${VERSION}';`, `VERSION = '${next}';`));
  }
  expect(spawnSync('tar', ['-czf', join(scratch, `cargo-isolate-${next}.tar.gz`), '-C', stage, `cargo-isolate-${next}`]).status).toBe(0);
  expect(sh(onHost(install, next), env, scratch)).toEqual({ code: 0, out: shown(next) });
  await hook(next);
  // The old release stays on disk until removed: a job that started with it ends with the new hooks.
  expect((await fs.readdir(join(prefix, 'opt'))).sort()).toEqual(['cargo-isolate', `cargo-isolate-${VERSION}`, `cargo-isolate-${next}`].sort());
});

test('the CLI refuses a node older than 20 with a message that says what to set; options reach the CLI, not node', async () => {
  const old = join(scratch, 'node18');
  await fs.writeFile(old, '#!/bin/sh\necho 18\n', { mode: 0o755 });
  const r = spawnSync(resolve('bin', 'cargo-isolate'), ['--version'], { env: { PATH: process.env.PATH, CARGO_ISOLATE_NODE: old }, encoding: 'utf8' });
  expect([r.status, r.stderr]).toEqual([
    1,
    `cargo-isolate: ${old} is Node 18; cargo-isolate runs on Node 24: set CARGO_ISOLATE_NODE to one (a runner has externals/node24/bin/node)\n`,
  ]);
  const ok = spawnSync(resolve('bin', 'cargo-isolate'), ['--version'], {
    env: { PATH: process.env.PATH, CARGO_ISOLATE_NODE: process.execPath },
    encoding: 'utf8',
  });
  expect([ok.status, ok.stdout]).toEqual([0, shown(VERSION)]);
  // Node reads `--env-file FILE` after a script as its own option (`node: x: not found`, exit 9); bin/ passes `--`.
  const missing = join(scratch, 'no-such.env');
  const env = spawnSync(resolve('bin', 'cargo-isolate'), ['status', '--env-file', missing], {
    env: { PATH: process.env.PATH, CARGO_ISOLATE_NODE: process.execPath },
    encoding: 'utf8',
  });
  expect([env.status, env.stderr]).toEqual([2, `cargo-isolate: cannot read --env-file ${missing} (ENOENT). See 'cargo-isolate help status'.\n`]);
});
