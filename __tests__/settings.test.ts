import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFlags, parseCommandLine } from '../src/model/options.js';
import { firstOf, fromVariables, parseEnvFile, readSettings, variableOf } from '../src/model/settings.js';
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
  ['prune-scope', 'all', () => "is 'all'. Expected one of 'runner', 'host'."],
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

  test('0 stays a number that needs no unit; other bare numbers never pass', () => {
    const s = readSettings((n) => ({ 'lease-wait': '0', 'fail-below': '0' })[n] ?? '', {});
    expect([s.leaseWaitMs, s.failBelowBytes]).toEqual([0, undefined]);
  });
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
});
