import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFlags, parseCommandLine } from '../src/model/options.js';
import { RUNNER_INPUTS, beyondDisk, firstOf, fromVariables, parseEnvFile, readSettings, variableOf } from '../src/model/settings.js';
import { KNOWN_VARIABLES, envFileProblems, notText, variableProblem } from '../src/model/variables.js';
import { nearest } from '../src/model/spelling.js';
import { formatBytes } from '../src/model/units.js';
import { cli } from './helpers/cli.js';
import { SimJob } from './helpers/runner.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * One configuration, three entry points: the action's inputs, the runner hooks' CARGO_ISOLATE_*
 * variables and the CLI's flags go through one parser with one set of messages; each message names
 * what the user set. The same cases run through each entry point as a user meets it: the bundled
 * action step, the hook script, the bundled CLI.
 */
type Entry = 'input' | 'variable' | 'flag';
const subject = (e: Entry, input: string) => (e === 'input' ? `Input '${input}'` : e === 'variable' ? `Variable ${variableOf(input)}` : `Option '--${input}'`);
/** How a message names a setting the user did not set (the other side of a comparison). */
const unsetRef = (e: Entry, input: string) => (e === 'input' ? `'${input}'` : e === 'variable' ? variableOf(input) : `the default ${input}`);

const LEVEL = 'Expected a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB).';
const CASES: [string, string, (e: Entry) => string][] = [
  ['disk-threshold', '85', () => `is '85': did you mean 85% or 85GiB? ${LEVEL}`],
  ['disk-target', '75', () => `is '75': did you mean 75% or 75GiB? ${LEVEL}`],
  ['disk-threshold', '200', () => `is '200': did you mean 200GiB? ${LEVEL}`],
  ['fail-below', '5', () => "is '5': did you mean 5GiB or 5MiB? Expected a free-space size such as 5GiB, or empty to never fail."],
  ['lease-wait', '60', () => "is '60': did you mean 60s, 60m, 60h or 60d? Expected a duration such as 30s, 5m or 2h."],
  ['cleanup-timeout', '120', () => "is '120': did you mean 120s, 120m, 120h or 120d? Expected a duration such as 30s, 5m or 2h of at least 1s."],
  ['disk-threshold', '150%', () => `is '150%'. ${LEVEL}`],
  ['disk-target', '90%', (e) => `is '90%'. Expected a level at or below ${unsetRef(e, 'disk-threshold')} (85%).`],
  ['max-lease', '10s', () => "is '10s'. Expected a duration such as 30s, 5m or 2h of at least 60s."],
  ['layout', 'pool', () => "is 'pool'. Expected one of 'slot', 'job'."],
  ['disk-threshold', '85G', () => `is '85G': did you mean 85GiB (85x2^30 bytes, as df -h counts) or 85GB (85x10^9 bytes)? ${LEVEL}`],
  [
    'fail-below',
    '5t',
    () => "is '5t': did you mean 5TiB (5x2^40 bytes, as df -h counts) or 5TB (5x10^12 bytes)? Expected a free-space size such as 5GiB, or empty to never fail.",
  ],
  ['prune-scope', 'all', () => "is 'all'. Expected one of 'runner', 'host'."],
  ['disk-hard-threshold', '80%', (e) => `is '80%'. Expected a level at or above ${unsetRef(e, 'disk-threshold')} (85%).`],
  [
    'disk-hard-threshold',
    '5GiB',
    (e) =>
      `is '5GiB': ${unsetRef(e, 'disk-threshold')} is a percentage (85%), and a hard level of another kind cannot be compared with it. ` +
      `Expected a percentage as ${unsetRef(e, 'disk-threshold')} is (e.g. 95%).`,
  ],
  ['host-archives', 'lots', () => "is 'lots'. Expected a share of the root's filesystem (e.g. 10%), a size (e.g. 20GiB), or 'off'."],
  ['host-archives', '150%', () => "is '150%'. Expected a share of the root's filesystem (e.g. 10%), a size (e.g. 20GiB), or 'off'."],
];
const expected = (e: Entry, input: string, tail: (e: Entry) => string) => `${subject(e, input)} ${tail(e)}`;

describe('one parser, one set of messages (in process)', () => {
  const sources: Record<Entry, (input: string, value: string) => Parameters<typeof readSettings>[0]> = {
    input: (input, value) => (n: string) => (n === input ? value : ''),
    variable: (input, value) => fromVariables({ [variableOf(input)]: value }),
    flag: (input, value) => firstOf(fromFlags(parseCommandLine(['run', `--${input}`, value, '--', 'true'])), fromVariables({})),
  };
  for (const e of ['input', 'variable', 'flag'] as Entry[]) {
    test.each(CASES)(`${e}: %s %p`, (input, value, tail) => {
      expect(() => readSettings(sources[e](input, value), {})).toThrow(expected(e, input, tail));
    });
  }

  test('a flag over the .env file over the environment over the default; the message names the one that won', () => {
    const flags = fromFlags(parseCommandLine(['gc', '--threshold', '70']));
    const file = fromVariables(parseEnvFile('CARGO_ISOLATE_DISK_THRESHOLD=80\nCARGO_ISOLATE_DISK_TARGET=60%\n'), '/srv/runner-1/.env');
    const env = fromVariables({ CARGO_ISOLATE_DISK_THRESHOLD: '90%', CARGO_ISOLATE_DISK_TARGET: '50%', CARGO_ISOLATE_REUSE: 'never' });
    expect(() => readSettings(firstOf(flags, file, env), {})).toThrow("Option '--threshold' is '70': did you mean 70% or 70GiB?");
    expect(() => readSettings(firstOf(file, env), {})).toThrow(
      "Variable CARGO_ISOLATE_DISK_THRESHOLD (in /srv/runner-1/.env) is '80': did you mean 80% or 80GiB?",
    );
    const s = readSettings(firstOf(fromFlags(parseCommandLine(['gc', '--disk-threshold', '70%'])), file, env), {});
    expect([s.diskThreshold, s.diskTarget, s.reuse]).toEqual([{ kind: 'percent', percent: 70 }, { kind: 'percent', percent: 60 }, 'never']);
    const d = readSettings(firstOf(fromFlags(parseCommandLine(['status'])), fromVariables({})), { HOME: '/home/u' });
    expect([d.root, d.rootOrigin, d.diskThreshold]).toEqual([
      '/home/u/.cache/cargo-isolate',
      { kind: 'default', name: 'root' },
      { kind: 'percent', percent: 85 },
    ]);
  });

  test.each([
    ['NAME=value', { NAME: 'value' }],
    ['A=1\nB==2\n=3\nno equals\nC=\n# D=4', { A: '1', B: '=2', C: '', '# D': '4' }],
    ['CARGO_ISOLATE_ROOT= /srv/x \r\nX=y\r\n', { CARGO_ISOLATE_ROOT: ' /srv/x ', X: 'y' }],
  ])('a runner .env as the runner reads it: %j', (text, vars) => expect(parseEnvFile(text)).toEqual(vars));

  test.each(['input', 'variable', 'flag'] as Entry[])('%s: a threshold and a target of two kinds are refused, naming both', (e) => {
    const pair = (threshold: string, target: string) =>
      e === 'input'
        ? (n: string) => ({ 'disk-threshold': threshold, 'disk-target': target })[n] ?? ''
        : e === 'variable'
          ? fromVariables({ CARGO_ISOLATE_DISK_THRESHOLD: threshold, CARGO_ISOLATE_DISK_TARGET: target })
          : firstOf(fromFlags(parseCommandLine(['gc', '--disk-threshold', threshold, '--disk-target', target])), fromVariables({}));
    const ref = e === 'input' ? "'disk-threshold'" : e === 'variable' ? 'CARGO_ISOLATE_DISK_THRESHOLD' : '--disk-threshold';
    expect(() => readSettings(pair('20GiB', '85%'), {})).toThrow(
      `${subject(e, 'disk-target')} is '85%': ${ref} is a free-space floor (20GiB), and a target of another kind cannot be compared with it. ` +
        `Expected a free-space floor as ${ref} is (e.g. 25GiB), or none: it then stops at the threshold.`,
    );
    expect(() => readSettings(pair('85%', '30GiB'), {})).toThrow(
      `${subject(e, 'disk-target')} is '30GiB': ${ref} is a percentage (85%), and a target of another kind cannot be compared with it.`,
    );
    expect(readSettings(pair('20GiB', '25GiB'), {}).diskTarget).toEqual({ kind: 'free', bytes: 25 * 2 ** 30 });
  });

  test('a level no disk of this size can meet is refused once the disk is measured, naming the filesystem', () => {
    const GiB = 2 ** 30;
    const s = readSettings(fromVariables({ CARGO_ISOLATE_DISK_THRESHOLD: '999999TiB', CARGO_ISOLATE_FAIL_BELOW: '200GiB' }, '/srv/r1/.env'), {});
    expect(beyondDisk(s, 100 * GiB, '/srv/ci')?.message).toBe(
      "Variable CARGO_ISOLATE_DISK_THRESHOLD (in /srv/r1/.env) is '999999TiB': the filesystem of /srv/ci holds 100.0 GiB in all, so every job would find " +
        'the disk over it and prune everything idle. Expected a size under 100.0 GiB, e.g. 20GiB, or a percentage such as 85%.',
    );
    const floor = readSettings((n) => ({ 'fail-below': '200GiB' })[n] ?? '', {});
    expect(beyondDisk(floor, 100 * GiB, '/srv/ci')?.message).toBe(
      "Input 'fail-below' is '200GiB': the filesystem of /srv/ci holds 100.0 GiB in all, so every job would fail. Expected a size under 100.0 GiB (e.g. 5GiB).",
    );
    expect(beyondDisk(floor, 300 * GiB, '/srv/ci')).toBeUndefined();
    expect(
      beyondDisk(
        readSettings(() => '', {}),
        1 * GiB,
        '/srv/ci',
      ),
    ).toBeUndefined(); // the defaults fit any disk
  });

  test('0 stays a number that needs no unit; other bare numbers never pass', () => {
    const s = readSettings((n) => ({ 'lease-wait': '0', 'fail-below': '0' })[n] ?? '', {});
    expect([s.leaseWaitMs, s.failBelowBytes]).toEqual([0, undefined]);
  });
});

describe('CARGO_ISOLATE_* names as the runner set them (pure)', () => {
  const walkFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walkFiles(join(dir, e.name)) : [join(dir, e.name)]));
  test('every name cargo-isolate reads (src/, hooks/, bin/, scripts/, the test setup) is known, and no other', () => {
    const files = [...walkFiles('src'), ...walkFiles('hooks'), ...walkFiles('bin'), ...walkFiles('scripts'), 'jest.config.js'].filter((f) =>
      /\.(ts|mjs|js|sh)$|\/cargo-isolate$/.test(f),
    );
    // scripts/ is TypeScript (the simulator, the bench) beside the .mjs helpers: both are read.
    expect(['scripts/sim/run.ts', 'scripts/lib/pace.mjs'].filter((f) => !files.includes(f))).toEqual([]);
    const read = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\bCARGO_ISOLATE_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0])));
    expect(read.size).toBeGreaterThan(8);
    expect([...read].filter((n) => KNOWN_VARIABLES[n] === undefined)).toEqual([]);
    const runnerVariables = RUNNER_INPUTS.map(variableOf);
    expect(Object.keys(KNOWN_VARIABLES).filter((n) => !read.has(n) && !runnerVariables.includes(n))).toEqual([]);
  });

  const ENV = '/home/runner/actions-runner/.env';
  test.each([
    ['CARGO_ISOLATE_ROOT', '/srv/ci', undefined],
    ['PATH', '/usr/bin', undefined],
    [
      'CARGO_ISOLATE_DISK_THRESOLD',
      '50%',
      'CARGO_ISOLATE_DISK_THRESOLD (in the environment) is not a variable cargo-isolate reads: did you mean CARGO_ISOLATE_DISK_THRESHOLD?',
    ],
    ['cargo_isolate_root', '/srv/ci', 'cargo_isolate_root (in the environment) is not a variable cargo-isolate reads: did you mean CARGO_ISOLATE_ROOT?'],
    ['CARGO_ISOLATE_FROBNICATE', '1', 'CARGO_ISOLATE_FROBNICATE (in the environment) is not a variable cargo-isolate reads (docs/runner-hooks.md lists them)'],
    [
      'export CARGO_ISOLATE_ROOT',
      '/srv/ci',
      "'export CARGO_ISOLATE_ROOT' (in the environment) is one name to the runner, 'export ' included, so CARGO_ISOLATE_ROOT is not set: write CARGO_ISOLATE_ROOT=value, with nothing before the name and no space before '='",
    ],
    [
      'CARGO_ISOLATE_ROOT ',
      ' /srv/ci',
      "'CARGO_ISOLATE_ROOT ' (in the environment) is one name to the runner, the spaces included, so CARGO_ISOLATE_ROOT is not set: write CARGO_ISOLATE_ROOT=value, with nothing before the name and no space before '='",
    ],
    [
      'CARGO_ISOLATE_ROOT',
      '"/srv/ci"',
      'CARGO_ISOLATE_ROOT (in the environment) is "/srv/ci", quotes included (the runner keeps them): write CARGO_ISOLATE_ROOT=/srv/ci',
    ],
    ['CARGO_ISOLATE_KEY', 'x86', "CARGO_ISOLATE_KEY (in the environment) is not read: 'key' is set per job: the action's input, or 'cargo-isolate run --key'"],
    [
      'CARGO_ISOLATE_CACHE',
      'true',
      "CARGO_ISOLATE_CACHE (in the environment) is not read: 'cache' is the action's input: it needs the job's token, which the hooks do not get",
    ],
  ])('%s=%s', (name, value, problem) => expect(variableProblem(name, value, 'in the environment')).toBe(problem));

  test("a .env file's lines: what the runner skips or reads otherwise, each with its line; comments and other variables left alone", () => {
    const text =
      '\uFEFFCARGO_ISOLATE_ROOT=/srv/ci\r\n# CARGO_ISOLATE_LAYOUT=job\r\nCARGO_ISOLATE_REUSE never\n=CARGO_ISOLATE_X\rLANG C\nexport CARGO_ISOLATE_LAYOUT=job\n';
    expect(envFileProblems(text, ENV)).toEqual([
      `'CARGO_ISOLATE_REUSE never' (line 3 of ${ENV}) is not NAME=value, so the runner skips it`,
      `'=CARGO_ISOLATE_X' (line 4 of ${ENV}) is not NAME=value, so the runner skips it`,
      `'export CARGO_ISOLATE_LAYOUT' (line 6 of ${ENV}) is one name to the runner, 'export ' included, so CARGO_ISOLATE_LAYOUT is not set: write CARGO_ISOLATE_LAYOUT=value, with nothing before the name and no space before '='`,
    ]);
    expect(parseEnvFile(text)).toEqual({ CARGO_ISOLATE_ROOT: '/srv/ci', '# CARGO_ISOLATE_LAYOUT': 'job', 'export CARGO_ISOLATE_LAYOUT': 'job' });
  });

  test.each([
    ['text', Buffer.from('CARGO_ISOLATE_ROOT=/srv/ci\tx\n'), undefined],
    ['a NUL', Buffer.from('A=1\n\0B=2'), 'a NUL byte at offset 4'],
    ['not UTF-8', Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0x0a]), 'bytes that are not UTF-8'],
    ['a control character', Buffer.from('A=1\nB=\u0007\n'), 'a control character (0x07) on line 2'],
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)), 'a NUL byte at offset 61'],
  ])('notText: %s', (_what, bytes, why) => expect(notText(bytes)).toBe(why));

  test.each([
    ['stauts', ['status', 'gc', 'run'], 'status'],
    ['CARGO_ISOLATE_DISK_TRESHOLD', ['CARGO_ISOLATE_DISK_THRESHOLD', 'CARGO_ISOLATE_DISK_TARGET'], 'CARGO_ISOLATE_DISK_THRESHOLD'],
    ['gcc', ['status', 'gc'], 'gc'],
    ['frobnicate', ['status', 'gc'], undefined],
    ['x', ['gc'], undefined],
  ])('nearest(%p)', (word, known, found) => expect(nearest(word, known)).toBe(found));
});

describe('the same cases through the action, the hook and the CLI as users run them', () => {
  let scratch: string;
  let j: SimJob;
  beforeAll(async () => {
    scratch = await fs.mkdtemp(join(tmpdir(), 'ci-settings-'));
    j = await SimJob.create({ branch: 'main' });
  });
  afterAll(async () => {
    await j.cleanup();
    await removeScratch(scratch);
  });
  const decode = (v: string) => v.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

  /** hooks/job-started.sh with one variable set, as the runner runs it; its warning, decoded. */
  async function hook(variable: string, value: string, root: string): Promise<{ code: number | null; warning: string; env: string }> {
    const temp = await fs.mkdtemp(join(scratch, 'temp-'));
    const envFile = join(temp, 'env');
    await fs.writeFile(envFile, '');
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: scratch,
      RUNNER_TEMP: temp,
      GITHUB_ENV: envFile,
      GITHUB_PATH: join(temp, 'path'),
      CARGO_ISOLATE_NODE: process.execPath,
      CARGO_ISOLATE_ROOT: root,
      [variable]: value,
    };
    return new Promise((res) => {
      const child = spawn('bash', ['-e', 'hooks/job-started.sh'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('exit', async (code) =>
        res({ code, warning: decode(out.split('\n').find((l) => l.startsWith('::warning::')) ?? ''), env: await fs.readFile(envFile, 'utf8') }),
      );
    });
  }

  test.each(CASES)('%s %p', async (input, value, tail) => {
    const root = join(scratch, `root-${input}-${value.replace(/\W/g, '')}`);
    const [action, hooked, cmd] = await Promise.all([
      j.run('main', { root, [input]: value }),
      hook(variableOf(input), value, root),
      cli(['run', '--root', root, `--${input}`, value, '--', 'true'], { env: { ...process.env, CARGO_ISOLATE_ROOT: '' } }),
    ]);
    // The action fails the step; the hook fails open (the job runs without isolation); the CLI exits 2.
    expect([action.code, decode(action.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '')]).toEqual([
      1,
      `::error::${expected('input', input, tail)}`,
    ]);
    expect([hooked.code, hooked.env]).toEqual([0, '']);
    expect(hooked.warning).toBe(
      `::warning::cargo-isolate job-started hook: ${expected('variable', input, tail).replace(/\.$/, '')}. This job runs without isolation (nothing exported).`,
    );
    expect([cmd.code, cmd.stderr]).toEqual([2, `cargo-isolate: ${expected('flag', input, tail)}\n`]);
    await expect(fs.access(root)).rejects.toThrow(); // refused before anything was made
  });

  test('a free-space floor beyond the whole disk: refused by each, naming the filesystem; nothing leased', async () => {
    const root = join(scratch, 'root-beyond');
    await fs.mkdir(root);
    const total = (await fs.statfs(root)).blocks * (await fs.statfs(root)).bsize;
    const [action, hooked, cmd, gc] = await Promise.all([
      j.run('main', { root, 'disk-threshold': '999999TiB' }),
      hook('CARGO_ISOLATE_DISK_THRESHOLD', '999999TiB', root),
      cli(['run', '--root', root, '--disk-threshold', '999999TiB', '--', 'true'], { env: { ...process.env, CARGO_ISOLATE_ROOT: '' } }),
      cli(['gc', '--root', root, '--disk-threshold', '999999TiB', '--dry-run'], { env: { ...process.env, CARGO_ISOLATE_ROOT: '' } }),
    ]);
    const why = (subject: string) =>
      `${subject} is '999999TiB': the filesystem of ${root} holds ${formatBytes(total)} in all, so every job would find the disk over it and prune everything idle. ` +
      `Expected a size under ${formatBytes(total)}, e.g. 20GiB, or a percentage such as 85%.`;
    expect([action.code, decode(action.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '')]).toEqual([
      1,
      `::error::${why("Input 'disk-threshold'")}`,
    ]);
    expect([hooked.code, hooked.env, hooked.warning]).toEqual([
      0,
      '',
      `::warning::cargo-isolate job-started hook: ${why('Variable CARGO_ISOLATE_DISK_THRESHOLD').replace(/\.$/, '')}. This job runs without isolation (nothing exported).`,
    ]);
    // run logs who the runner is before it measures the root's disk; gc says nothing else.
    expect([cmd.code, cmd.stderr.split('\n').slice(-2)]).toEqual([2, [`cargo-isolate: ${why("Option '--disk-threshold'")}`, '']]);
    expect([gc.code, gc.stderr]).toEqual([2, `cargo-isolate: ${why("Option '--disk-threshold'")}\n`]);
    expect(await fs.readdir(join(root, 'slots'))).toEqual([]);
  });
});
