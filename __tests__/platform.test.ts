import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notOnLinux } from '../src/model/platform.js';
import { jobPool } from './helpers/runner.js';
import { removeScratch } from './helpers/scratch.js';

describe('the platform decision', () => {
  test.each([
    ['darwin', 'macOS'],
    ['win32', 'Windows'],
    ['freebsd', 'FreeBSD'],
    ['openbsd', 'OpenBSD'],
    ['sunos', 'SunOS'],
    ['aix', 'AIX'],
    ['android', 'Android'],
    ['haiku', 'haiku'],
  ])('%s: one notice naming %s, for main and post', (platform, name) => {
    const main = notOnLinux(platform, 'main');
    const post = notOnLinux(platform, 'post');
    expect(main).toBe(
      `cargo-isolate: isolation needs a Linux runner (flock, /proc), and this one runs ${name}: nothing isolated or exported; cargo uses its own defaults.`,
    );
    expect(post).toBe(`cargo-isolate: isolation needs a Linux runner (flock, /proc), and this one runs ${name}: nothing to release.`);
  });
  test('linux runs', () => {
    expect([notOnLinux('linux', 'main'), notOnLinux('linux', 'post')]).toEqual([undefined, undefined]);
  });
});

/*
 * The bundles on another OS. This machine is Linux; a preload (`node --import`, through
 * NODE_OPTIONS as a runner would pass any node option) makes process.platform report another
 * one before the bundle loads, so nothing in the action reads a knob only tests set.
 */
describe('the bundles on a macOS or Windows leg of a matrix', () => {
  let scratch: string;
  let preload: string;
  const { job, cleanup } = jobPool();
  beforeAll(async () => {
    scratch = await fs.mkdtemp(join(tmpdir(), 'platform-'));
    preload = join(scratch, 'fake-platform.mjs');
    await fs.writeFile(preload, "Object.defineProperty(process, 'platform', { value: process.env.FAKE_PLATFORM });\n");
  });
  afterAll(async () => {
    await cleanup();
    await removeScratch(scratch);
  });
  const faked = (platform: string) => ({ NODE_OPTIONS: `--import=${preload}`, FAKE_PLATFORM: platform });
  // On Windows @actions/core ends commands with \r\n.
  const notices = (stdout: string) => stdout.split(/\r?\n/).filter((l) => l.startsWith('::notice'));

  test('the preload does make node report the faked platform', () => {
    const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.platform)'], {
      env: { ...process.env, ...faked('darwin') },
      encoding: 'utf8',
    });
    expect(out).toBe('darwin');
  });

  test.each([
    ['darwin', 'macOS', 'macOS'],
    ['win32', 'Windows', 'Windows'],
  ])('%s: main and post give one notice each, export nothing and exit 0', async (platform, runnerOs, name) => {
    const root = join(scratch, `root-${platform}`);
    const j = await job({ pr: 5, extraEnv: { ...faked(platform), RUNNER_OS: runnerOs } });
    const main = await j.run('main', { root });
    expect([main.code, main.errors, main.warnings]).toEqual([0, [], []]);
    expect(notices(main.stdout)).toEqual([`::notice::${notOnLinux(platform, 'main')}`]);
    expect(notices(main.stdout)[0]).toContain(name);
    expect([main.env, main.outputs, main.state, main.path, main.summary]).toEqual([{}, {}, {}, [], '']);
    expect(existsSync(root)).toBe(false);
    const post = await j.run('post');
    expect([post.code, post.errors, post.warnings]).toEqual([0, [], []]);
    expect(notices(post.stdout)).toEqual([`::notice::${notOnLinux(platform, 'post')}`]);
    expect([post.env, post.outputs, post.state, post.path, post.summary]).toEqual([{}, {}, {}, [], '']);
  });

  test('the same harness on linux: main exports and post releases (the notice is not the harness)', async () => {
    const root = join(scratch, 'root-linux');
    const j = await job({ pr: 6, extraEnv: faked('linux') });
    const main = await j.run('main', { root });
    expect([main.code, main.errors]).toEqual([0, []]);
    expect(notices(main.stdout)).toEqual([]);
    expect(main.env.CARGO_TARGET_DIR.startsWith(root)).toBe(true);
    const post = await j.run('post');
    expect(post.code).toBe(0);
    expect(post.summary).toContain('cargo-isolate');
  });
});
