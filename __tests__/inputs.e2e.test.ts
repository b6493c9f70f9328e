import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { SimJob } from './helpers/runner.js';
import { forAnyUid } from './helpers/anyuid.js';
import { removeScratch } from './helpers/scratch.js';

// Bad input through the bundled action: the step fails with a message naming the input, the
// value and the accepted form, and nothing is written outside the root.
let scratch: string;
let j: SimJob;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-inputs-'));
  j = await SimJob.create({ branch: 'main' });
});
afterAll(async () => {
  await j.cleanup();
  await removeScratch(scratch);
});

/** A main step of the job, which never prints a stack trace, whatever it was given (a workflow command escapes a line break as %0A). */
async function step(entry: 'main', inputs: Record<string, string>) {
  const r = await j.run(entry, inputs);
  expect(r.stdout + r.stderr).not.toMatch(/(^|%0A)\s+at /m);
  return r;
}

// Workflow commands escape %, CR and LF; the runner shows them decoded.
const errorLine = (stdout: string) =>
  (stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

describe('invalid input values fail the step', () => {
  test.each([
    ['layout', 'pool', "Input 'layout' is 'pool'. Expected one of 'slot', 'job'."],
    ['reuse', 'yes', "Input 'reuse' is 'yes'. Expected one of 'same-key', 'never', 'always'."],
    ['disk-threshold', '150%', "Input 'disk-threshold' is '150%'. Expected a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB)."],
    ['disk-target', 'abc', "Input 'disk-target' is 'abc'."],
    ['prune-scope', 'all', "Input 'prune-scope' is 'all'. Expected one of 'runner', 'host'."],
    ['dry-run', 'perhaps', "Input 'dry-run' is 'perhaps'. Expected 'true' or 'false'."],
    ['fail-below', '-3GiB', "Input 'fail-below' is '-3GiB'."],
    ['lease-wait', '5 minutes', "Input 'lease-wait' is '5 minutes'."],
    ['runner-name', 'build-1\nbuild-2', "Input 'runner-name' is 'build-1\nbuild-2'. Expected one line of at most 200 characters (e.g. build-host-3)."],
    ['key', 'x'.repeat(201), `Input 'key' is '${'x'.repeat(60)}...'. Expected one line of at most 200 characters (e.g. \${{ matrix.target }}).`],
  ])('%s: %s', async (input, value, message) => {
    const root = join(scratch, `root-${input}`);
    const r = await step('main', { root, [input]: value });
    expect(r.code).toBe(1);
    expect(errorLine(r.stdout)).toContain(message);
    expect(r.env.CARGO_TARGET_DIR).toBeUndefined();
    await expect(fs.access(root)).rejects.toThrow(); // nothing created
  });
});

describe('roots that are refused', () => {
  test('a relative root', async () => {
    const r = await step('main', { root: 'cache/here' });
    expect(errorLine(r.stdout)).toContain("Input 'root' is 'cache/here'. Expected an absolute path");
    await expect(fs.access(join(j.dir, 'cache'))).rejects.toThrow();
  });

  test.each(['/', '/etc', '/usr/lib/cargo-isolate', '/proc/self'])('system directory %s', async (root) => {
    const r = await step('main', { root });
    expect(r.code).toBe(1);
    expect(errorLine(r.stdout)).toMatch(/refused because it is a system directory/);
  });

  test('a symlink that resolves to /etc', async () => {
    const link = join(scratch, 'sneaky');
    await fs.symlink('/etc', link);
    const before = (await fs.readdir('/etc')).sort();
    const r = await step('main', { root: join(link, 'ci') });
    expect(errorLine(r.stdout)).toMatch(/resolves to \/etc\/ci.*system directory/);
    expect((await fs.readdir('/etc')).sort()).toEqual(before);
  });

  test('inside RUNNER_TEMP, which the runner empties every job', async () => {
    const r = await step('main', { root: join(j.env.RUNNER_TEMP, 'cache') });
    expect(errorLine(r.stdout)).toMatch(/inside RUNNER_TEMP/);
  });

  test('a root that is a file', async () => {
    const file = join(scratch, 'a-file');
    await fs.writeFile(file, 'keep me');
    const r = await step('main', { root: file });
    expect(errorLine(r.stdout)).toContain('it exists and is not a directory');
    expect(await fs.readFile(file, 'utf8')).toBe('keep me');
  });

  test('a non-empty directory cargo-isolate did not create', async () => {
    const dir = join(scratch, 'home-like');
    await fs.mkdir(dir);
    await fs.writeFile(join(dir, 'notes.txt'), 'mine');
    const r = await step('main', { root: dir });
    expect(errorLine(r.stdout)).toMatch(/not empty and was not created by cargo-isolate.*notes\.txt/);
    expect(await fs.readdir(dir)).toEqual(['notes.txt']);
  });

  // The host's doing, not the workflow's: a warning that says what to do, and the job runs as
  // it would without the action (a bad input above fails the step).
  const warningLine = (stdout: string) =>
    (stdout.split('\n').find((l) => l.startsWith('::warning::')) ?? '').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

  test('an unwritable root (read-only filesystem): a warning, and the job runs without isolation', async () => {
    const mnt = join(scratch, 'ro');
    await fs.mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mnt]);
    try {
      const r = await step('main', { root: join(mnt, 'root') });
      expect([r.code, r.errors]).toEqual([0, []]);
      expect(warningLine(r.stdout)).toBe(
        `::warning::cargo-isolate: Input 'root' is '${join(mnt, 'root')}': cannot create or write it: could not write to ${mnt}: the filesystem is read-only (EROFS). ` +
          'Remount it read-write, or choose a path on a writable filesystem. This job runs without isolation (nothing exported): cargo uses its own directories.',
      );
      expect(r.env.CARGO_TARGET_DIR).toBeUndefined();
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  test('an unwritable root (another user): a warning naming the directory and the fix', async () => {
    const dir = join(scratch, 'not-mine');
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.chmod(scratch, 0o755);
    const any = forAnyUid(); // the checkout's parents may be closed to uid 65534
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', any.node, join(any.dist, 'main', 'index.js')], {
      env: { ...j.env, INPUT_ROOT: join(dir, 'root'), GITHUB_STATE: '/dev/null', GITHUB_ENV: '/dev/null', GITHUB_OUTPUT: '/dev/null' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/(^|%0A)\s+at /m);
    expect(warningLine(r.stdout)).toMatch(
      new RegExp(
        `cannot create or write it: could not write to ${dir}: permission denied \\(EACCES\\)\\. Give the runner user write access, or choose another path\\.`,
      ),
    );
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

test('jobs making the same new root at the same moment all succeed (200 rounds of 4)', async () => {
  const { prepareRoot } = await import('../src/pool/root.js');
  for (let round = 0; round < 200; round++) {
    const root = join(scratch, `fresh-${round}`);
    const made = await Promise.allSettled([1, 2, 3, 4].map(() => prepareRoot(root, {})));
    expect(made.filter((m) => m.status === 'rejected')).toEqual([]);
  }
});

describe('the CLI refuses bad options with messages naming the option', () => {
  test.each([
    [
      ['gc', '--threshold', '150%'],
      "cargo-isolate: Option '--threshold' is '150%'. Expected a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB).",
    ],
    [
      ['gc', '--disk-threshold', '85'],
      "cargo-isolate: Option '--disk-threshold' is '85': did you mean 85% or 85GiB? Expected a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB).",
    ],
    [
      ['gc', '--prune-scope', 'runner'],
      "cargo-isolate: Option '--prune-scope' is 'runner'. Expected 'host', or 'runner' together with --runner-name NAME (or CARGO_ISOLATE_RUNNER).",
    ],
    [['gc', '--max-age', 'soon'], "cargo-isolate: Option '--max-age' is 'soon'. Expected a duration such as 7d or 12h."],
    [['gc', '--max-age', '7'], "cargo-isolate: Option '--max-age' is '7': did you mean 7s, 7m, 7h or 7d? Expected a duration such as 7d or 12h."],
    [['run', '--layout', 'pool', '--', 'true'], "cargo-isolate: Option '--layout' is 'pool'. Expected one of 'slot', 'job'."],
    [['run'], "cargo-isolate: run needs a command after --, e.g. cargo-isolate run -- cargo test. See 'cargo-isolate help run'."],
    [
      ['run', 'cargo', 'test'],
      "cargo-isolate: unexpected argument 'cargo': the command to run goes after --, e.g. cargo-isolate run -- cargo test. See 'cargo-isolate help run'.",
    ],
    [['status', '--bogus'], "cargo-isolate: unknown option '--bogus'. See 'cargo-isolate help status'."],
    [['status', 'extra'], "cargo-isolate: unexpected argument 'extra': status takes no arguments. See 'cargo-isolate help status'."],
    [['status', '--layout', 'job'], "cargo-isolate: option '--layout' does not apply to status (it is for run, demo). See 'cargo-isolate help status'."],
    [['status', '--root'], "cargo-isolate: option '--root' needs a value (DIR). See 'cargo-isolate help status'."],
    [['status', '--json=yes'], "cargo-isolate: option '--json' takes no value (got 'yes'). See 'cargo-isolate help status'."],
    [['status', '--root', '/a', '--root', '/b'], "cargo-isolate: option '--root' is given twice. See 'cargo-isolate help status'."],
    [['status', '--env-file', '/nonexistent/.env'], "cargo-isolate: cannot read --env-file /nonexistent/.env (ENOENT). See 'cargo-isolate help status'."],
    [['status', '--root', 'relative/root'], "cargo-isolate: Option '--root' is 'relative/root'. Expected an absolute path (e.g. /mnt/ci-cache/cargo-isolate)."],
    [['frobnicate'], "cargo-isolate: unknown command 'frobnicate'. See 'cargo-isolate help'."],
    [[], "cargo-isolate: no command given. See 'cargo-isolate help'."],
  ])('%j', async (args, message) => {
    const r = await cli(args, { env: { ...j.env, CARGO_ISOLATE_ROOT: join(scratch, 'cli-root') } });
    expect([r.code, r.stderr]).toEqual([2, `${message}\n`]);
    expect(r.stdout).toBe('');
  });
});
