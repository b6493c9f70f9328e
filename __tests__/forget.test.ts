import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIST, type SimJob, jobPool } from './helpers/runner.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * A PR that closed: a run of the action on `pull_request: closed` (or `cargo-isolate forget`)
 * tells the host, which from then on takes that PR's builds first, before any build of a PR that
 * is still open, even while the disk has room. Real action, real slots.
 */
const { job, cleanup } = jobPool();
let scratch: string;
const MiB = 2 ** 20;

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-forget-'));
});
afterAll(async () => {
  await cleanup();
  await removeScratch(scratch);
});

/** A job of `pr` that leaves a 2 MiB build in its slot; its slot's name. */
async function built(root: string, pr: number, runner: string): Promise<string> {
  const j = await job({ pr, runner });
  const m = await j.run('main', { root });
  expect(m.code).toBe(0);
  await fs.writeFile(join(m.env.CARGO_TARGET_DIR, 'build.bin'), Buffer.alloc(2 * MiB, 1));
  expect((await j.run('post')).code).toBe(0);
  return m.outputs.slot;
}

const closedEvent = (pr: number) => ({
  name: 'pull_request',
  ref: `refs/pull/${pr}/merge`,
  payload: {
    action: 'closed',
    number: pr,
    pull_request: {
      number: pr,
      merged: true,
      head: { ref: `feature-${pr}`, repo: { full_name: 'acme/widgets' } },
      base: { ref: 'main', repo: { full_name: 'acme/widgets' } },
    },
  },
});
const cli = (args: string[], o: { env?: NodeJS.ProcessEnv } = {}) =>
  promisify(execFile)(process.execPath, ['--', join(DIST, 'cli', 'index.js'), ...args], { env: o.env }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('a PR that closed', () => {
  test("the action's run on the closed PR leases nothing and says so; the next job takes that PR's slot first, even with room", async () => {
    const root = join(scratch, 'root-action');
    const open = await built(root, 1, 'r1');
    const closing = await built(root, 2, 'r2'); // the newest build on the host
    const run: SimJob = await job({ pr: 2, runner: 'r3', event: closedEvent(2) });
    const m = await run.run('main', { root });
    expect(m.code).toBe(0);
    expect(m.outputs.slot).toBeUndefined();
    expect(m.stdout).toContain(
      `pull request #2 of acme/widgets (pr-2) has closed: its builds in ${closing} (2.00 MiB) are now the first to go when the disk needs room. No slot is leased for a run on a closed PR.`,
    );
    expect((await run.run('post')).stdout).toContain('took no lease');
    const log = await fs.readFile(join(root, 'warmth.jsonl'), 'utf8');
    expect(log).toMatch(/"repository":"acme\/widgets","key":"pr-2","closed":true/);
    // With room (the disk far under disk-target) a warm build of an open PR is left alone; the
    // closed PR's is worth nothing and is taken like an empty slot.
    const next = await job({ pr: 3, runner: 'r1' });
    const n = await next.run('main', { root, 'disk-threshold': '99%', 'disk-target': '98%' });
    expect(n.outputs.slot).toBe(closing);
    expect(n.stdout).toMatch(/starting fresh: last used by acme\/widgets#pr-2/);
    await next.run('post');
    const again = await job({ pr: 1, runner: 'r2' });
    expect((await again.run('main', { root })).outputs.slot).toBe(open);
    await again.run('post');
  });

  test('cargo-isolate forget, for a closing workflow of another CI system; bad input is refused naming the option', async () => {
    const root = join(scratch, 'root-cli');
    const slot = await built(root, 7, 'r1');
    const r = await cli(['forget', '--root', root, '--repository', 'acme/widgets', '--pr', '7']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `pull request #7 of acme/widgets (pr-7) has closed: its builds in ${slot} (2.00 MiB) are now the first to go when the disk needs room.`,
    );
    const none = await cli(['forget', '--root', root, '--repository', 'acme/widgets', '--branch', 'feature/gone']);
    // Keyed as its pushes were.
    expect(none.stdout).toMatch(/^branch feature\/gone of acme\/widgets \(ref-feature-gone\+[0-9a-f]+\) was deleted: it holds no build on this host\.$/m);
    expect(none.stderr).toBe('');
    // Each refusal names the option and says what to write instead; nothing is recorded.
    const before = await fs.readFile(join(root, 'warmth.jsonl'), 'utf8');
    const refused = async (args: string[]) => {
      const x = await cli(['forget', '--root', root, ...args]);
      return [x.code, x.stdout, x.stderr.trim()];
    };
    expect(await refused(['--repository', 'acme/widgets', '--pr', 'seven'])).toEqual([
      2,
      '',
      "cargo-isolate: Option '--pr' is 'seven'. Expected a PR number such as 12.",
    ]);
    expect(await refused(['--repository', 'acme/widgets', '--pr', '#12'])).toEqual([
      2,
      '',
      "cargo-isolate: Option '--pr' is '#12': did you mean 12? Expected a PR number such as 12.",
    ]);
    expect(await refused(['--repository', 'acme/widgets'])).toEqual([
      2,
      '',
      "cargo-isolate: forget needs --pr N (a pull request that closed) or --branch NAME (a branch that was deleted). See 'cargo-isolate help forget'.",
    ]);
    expect(await refused(['--repository', 'acme/widgets', '--pr', '3', '--branch', 'x'])).toEqual([
      2,
      '',
      "cargo-isolate: forget takes --pr or --branch, not both (got --pr 3 and --branch x). See 'cargo-isolate help forget'.",
    ]);
    expect(await refused(['--repository', 'nota repo', '--pr', '3'])).toEqual([
      2,
      '',
      "cargo-isolate: Option '--repository' is 'nota repo'. Expected a repository as OWNER/NAME (e.g. acme/widgets).",
    ]);
    expect(await refused(['--repository', 'https://github.com/acme/widgets.git', '--pr', '3'])).toEqual([
      2,
      '',
      "cargo-isolate: Option '--repository' is 'https://github.com/acme/widgets.git': did you mean acme/widgets? Expected a repository as OWNER/NAME (e.g. acme/widgets).",
    ]);
    const fromEnv = await cli(['forget', '--root', root, '--pr', '3'], { env: { ...process.env, GITHUB_REPOSITORY: 'acme' } });
    expect([fromEnv.code, fromEnv.stderr.trim()]).toEqual([
      2,
      "cargo-isolate: Variable GITHUB_REPOSITORY is 'acme'. Expected a repository as OWNER/NAME (e.g. acme/widgets).",
    ]);
    expect(await refused(['--repository', 'acme/widgets', '--branch', 'refs/heads/main'])).toEqual([
      2,
      '',
      "cargo-isolate: Option '--branch' is 'refs/heads/main': did you mean main? Expected a branch name as git allows it (e.g. feature/login).",
    ]);
    expect(await fs.readFile(join(root, 'warmth.jsonl'), 'utf8')).toBe(before);
    // A branch that is usually the base of every first run: done, with a warning that says what it costs.
    const main = await cli(['forget', '--root', root, '--repository', 'acme/widgets', '--branch', 'main']);
    expect([main.code, main.stderr]).toEqual([
      0,
      'warning: main is usually the base branch every first run of acme/widgets starts from; if it was not deleted, its next run makes its builds count again.\n',
    ]);
    expect(main.stdout).toBe('branch main of acme/widgets (ref-main) was deleted: it holds no build on this host.\n');
  });
});
