import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ifPresent, listDir, listDirSync, lstatIfPresent, readTextIfPresent, reportReadsTo } from '../src/os/absent.js';
import { collectCandidates } from '../src/pool/guard.js';
import { cli } from './helpers/cli.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * Reads that may find nothing (os/absent.ts): absence is silent, any other failure is read as
 * absence too but said once, with its path, in the log of the job or command that read. The
 * helper on real files (as root, the failures root gets: a file where a directory should be, a
 * link loop, a directory read as a file), then the one operators meet, EACCES, through the CLI
 * run as uid 65534.
 */
let scratch: string;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-absent-'));
  await fs.writeFile(join(scratch, 'file'), 'x');
  await fs.mkdir(join(scratch, 'dir'));
  await fs.symlink('loop-b', join(scratch, 'loop-a'));
  await fs.symlink('loop-a', join(scratch, 'loop-b'));
});
afterAll(async () => {
  await removeScratch(scratch);
});

/** Runs `fn` with a log of its own and returns what it returned and what was said. */
async function said<T>(fn: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const value = await reportReadsTo({ warning: (m) => void warnings.push(m) }, fn);
  return { value, warnings };
}

describe('absence is silent; anything else is read as absence and said once, with its path', () => {
  test.each<[string, () => Promise<unknown>, unknown, string[]]>([
    ['a missing directory', () => listDir(join(scratch, 'none')), [], []],
    ['a missing file', () => readTextIfPresent(join(scratch, 'none')), undefined, []],
    ['a path through a file, looked up', () => lstatIfPresent(join(scratch, 'file', 'x')), undefined, []],
    ['a file listed where the caller says it means absence', () => listDir(join(scratch, 'file'), { notADirectory: 'absent' }), [], []],
    ['a file listed as a directory', () => listDir(join(scratch, 'file')), [], ['file: ENOTDIR (scandir)']],
    ['a link loop', () => listDir(join(scratch, 'loop-a')), [], ['loop-a: ELOOP (scandir)']],
    ['a directory read as a file', () => readTextIfPresent(join(scratch, 'dir')), undefined, ['dir: EISDIR (read)']],
    [
      'a code the caller says means absence there',
      () => ifPresent('x', () => Promise.reject(Object.assign(new Error('gone'), { code: 'ESRCH' })), { alsoAbsent: ['ESRCH'] }),
      undefined,
      [],
    ],
    ['the synchronous reads alike', () => Promise.resolve(listDirSync(join(scratch, 'file'))), [], ['file: ENOTDIR (scandir)']],
  ])('%s', async (_, read, value, problems) => {
    const r = await said(read);
    expect(r.value).toEqual(value);
    expect(r.warnings.map((w) => /^Could not read .*\/([^/]+: \S+ \(\w+\))\. Carrying on as if it were not there/.exec(w)?.[1] ?? w)).toEqual(problems);
  });
  test('what is there is read', async () => {
    expect((await said(() => listDir(scratch))).value.sort()).toEqual(['dir', 'file', 'loop-a', 'loop-b']);
    expect((await said(() => readTextIfPresent(join(scratch, 'file')))).value).toBe('x');
  });
  test('once per path and error in one run; the outer run keeps them; runs side by side keep their own', async () => {
    const loop = join(scratch, 'loop-a');
    const r = await said(async () => {
      await listDir(loop);
      await said(() => listDir(loop)); // a job's start inside a command: the command's log says it
      await listDir(join(scratch, 'file'));
      return listDir(loop);
    });
    expect(r.warnings.map((w) => w.slice(0, w.indexOf(':', w.indexOf(scratch) + scratch.length)))).toEqual([
      `Could not read ${loop}`,
      `Could not read ${join(scratch, 'file')}`,
    ]);
    const [a, b] = await Promise.all([said(() => listDir(loop)), said(() => listDir(loop))]);
    expect([a.warnings.length, b.warnings.length]).toEqual([1, 1]);
  });
});

test("the guard's candidates: a directory it cannot list is said once; a stray file among the job dirs is no job", async () => {
  const root = join(scratch, 'guard-root');
  await fs.mkdir(join(root, 'jobs', 'acme', 'key', 'run-1'), { recursive: true });
  await fs.writeFile(join(root, 'jobs', 'stray'), 'x');
  await fs.writeFile(join(root, 'jobs', 'acme', 'stray'), 'x');
  // The shared homes' directory, unlistable (a link loop: what root cannot read either).
  await fs.symlink('homes-b', join(root, 'homes'));
  await fs.symlink('homes', join(root, 'homes-b'));
  const r = await said(() => collectCandidates(root));
  expect(r.value.map((c) => [c.kind, c.path])).toEqual([['job-dir', join(root, 'jobs', 'acme', 'key', 'run-1')]]);
  expect(r.warnings.map((w) => w.slice(0, w.indexOf('. Carrying on')))).toEqual([`Could not read ${join(root, 'homes')}: ELOOP (scandir)`]);
});

test('a directory uid 65534 cannot read: status says so on stderr, once, and goes on', async () => {
  const root = join(scratch, 'root');
  const env = { PATH: process.env.PATH, HOME: scratch };
  const made = await cli(['run', '--root', root, '--', 'true'], { env });
  expect(made.code).toBe(0);
  await fs.chown(scratch, 65534, 65534);
  for (const d of [root, ...(await fs.readdir(root, { recursive: true })).map((p) => join(root, String(p)))]) await fs.lchown(d, 65534, 65534);
  // jobs/ left as a root job's could leave it: root's, mode 0700.
  await fs.mkdir(join(root, 'jobs', 'acme'), { recursive: true });
  await fs.chown(join(root, 'jobs'), 0, 0);
  await fs.chmod(join(root, 'jobs'), 0o700);
  const r = await cli(['status', '--root', root], { uid: 65534, env });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/; 0 job dirs/);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
  expect(warnings).toEqual([
    `warning: Could not read ${join(root, 'jobs')}: EACCES (scandir). Carrying on as if it were not there, so nothing in it is used or freed until it can be read: check its owner and mode, or the disk.`,
  ]);
});
