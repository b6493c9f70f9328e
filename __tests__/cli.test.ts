import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMMANDS, FLAGS, commandUsage, parseCommandLine, usage } from '../src/model/options.js';
import { DiskFullError, runGuard } from '../src/pool/guard.js';
import { consoleLog } from '../src/os/log.js';
import { prepareRoot } from '../src/pool/root.js';
import { formatBytes } from '../src/model/units.js';
import { cli } from './helpers/cli.js';
import { explain } from '../src/model/failure.js';
import { makeWorkspace } from './helpers/workspace.js';
import { removeScratch } from './helpers/scratch.js';

/*
 * The CLI as an operator meets it: flags named as the inputs, the runner's variables read like
 * the hooks read them, a version, dry runs that say what, one total, roots that do not exist yet,
 * and readers that close the pipe early.
 */
const CLI = resolve('dist', 'cli', 'index.js');
const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
let scratch: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-cli-'));
  await fs.mkdir(join(scratch, 'home'));
  // Nothing from the machine's environment decides for these tests.
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CARGO_ISOLATE_') && !k.startsWith('GITHUB_')));
  env.HOME = join(scratch, 'home');
  // Its own HOME; rustup's proxies still need the machine's toolchains.
  env.RUSTUP_HOME = process.env.RUSTUP_HOME ?? join(homedir(), '.rustup');
});
afterAll(async () => {
  await removeScratch(scratch);
});

/** A shell line with the CLI in it, for pipes: `$CLI` is the bundled CLI on this node. */
function sh(line: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn('bash', ['-c', line], { env: { ...env, CLI: `${process.execPath} -- ${CLI}`, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}
const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => cli(args, { env: { ...env, ...extra } });

describe('the command line (pure)', () => {
  test("flags are the action's input names; the older names still work; the usage lists every flag", () => {
    const cl = parseCommandLine(['gc', '--threshold=80%', '--disk-target', '70%', '--scope', 'host', '--runner', 'r1', '--dry-run']);
    expect(Object.fromEntries([...cl.flags].map(([k, v]) => [k, v]))).toEqual({
      'disk-threshold': { value: '80%', spelled: '--threshold' },
      'disk-target': { value: '70%', spelled: '--disk-target' },
      'prune-scope': { value: 'host', spelled: '--scope' },
      'runner-name': { value: 'r1', spelled: '--runner' },
      'dry-run': { value: '', spelled: '--dry-run' },
    });
    const text = COMMANDS.map(commandUsage).join('\n');
    for (const f of FLAGS) expect([f.name, text.includes(`--${f.name}`)]).toEqual([f.name, true]);
    expect(parseCommandLine(['run', '--key', 'x86', '--', 'cargo', 'test', '--', '--nocapture']).rest).toEqual(['cargo', 'test', '--', '--nocapture']);
  });

  test('each command has its own help, with only the options it takes; help CMD is CMD --help', () => {
    for (const c of COMMANDS) {
      const own = commandUsage(c);
      expect(own.split('\n')[0]).toMatch(new RegExp(`^usage: cargo-isolate ${c} `));
      for (const f of FLAGS) {
        const takes = f.commands === 'all' || f.commands.includes(c);
        expect([c, f.name, own.includes(`--${f.name} `) || own.includes(`--${f.name}\n`)]).toEqual([c, f.name, takes]);
      }
      expect(own).toMatch(/\nexamples:\n {2}cargo-isolate /);
      expect(parseCommandLine(['help', c])).toEqual(parseCommandLine([c, '--help']));
    }
    const global = usage();
    for (const c of COMMANDS) expect(global).toMatch(new RegExp(`^ {2}${c} +\\S`, 'm'));
    expect(global).toContain("'cargo-isolate help <command>'");
    expect(global.split('\n').length).toBeLessThan(30);
  });

  test.each([
    [['stauts'], "unknown command 'stauts': did you mean 'status'?"],
    [['help', 'gcc'], "unknown command 'gcc': did you mean 'gc'?"],
    [['gc', '--dry-runn'], "unknown option '--dry-runn': did you mean '--dry-run'?"],
    [['status', '--root', ''], "option '--root' is empty (a variable that is not set?): give DIR, or leave the option out for its default"],
    [
      ['gc', '--disk-threshold=', '--dry-run'],
      "option '--disk-threshold' is empty (a variable that is not set?): give LEVEL, or leave the option out for its default",
    ],
    [['run', '--key', ' ', '--', 'true'], "option '--key' is empty (a variable that is not set?): give TEXT, or leave the option out for its default"],
    [['help', 'gc', 'run'], "unexpected argument 'run': gc takes no arguments"],
  ])('refused: %j', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});

describe('help', () => {
  test('cargo-isolate gc --help and cargo-isolate help gc print the same short page; a usage error points to it', async () => {
    const [a, b] = [await run(['gc', '--help']), await run(['help', 'gc'])];
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, '']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toBe(commandUsage('gc'));
    expect((await run(['help'])).stdout).toBe(usage());
    expect((await run(['--help'])).stdout).toBe(usage());
    const bad = await run(['gc', '--key', 'x']);
    expect([bad.code, bad.stderr]).toEqual([2, "cargo-isolate: option '--key' does not apply to gc (it is for run). See 'cargo-isolate help gc'.\n"]);
    const root = await run(['status', '--root', '']);
    expect([root.code, root.stdout]).toEqual([2, '']);
    expect(root.stderr).toBe(
      "cargo-isolate: option '--root' is empty (a variable that is not set?): give DIR, or leave the option out for its default. See 'cargo-isolate help status'.\n",
    );
  });
});

describe('bad input: one line that names what was given and what to write, exit 2, never a stack trace', () => {
  const random = () => join(scratch, 'random.bin');
  beforeAll(async () => {
    await fs.writeFile(random(), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
  });
  test.each([
    [['status', '--root', ''], "option '--root' is empty"],
    [
      ['gc', '--root', '/tmp/x', '--disk-threshold', '20GiB', '--disk-target', '85%'],
      "Option '--disk-target' is '85%': --disk-threshold is a free-space floor",
    ],
    [['gc', '--root', '/tmp', '--disk-threshold', '85G'], "Option '--disk-threshold' is '85G': did you mean 85GiB"],
    [['forget', '--repository', 'nota repo', '--pr', '1'], "Option '--repository' is 'nota repo'"],
    [['forget', '--repository', 'acme/widgets'], 'forget needs --pr N'],
    [['stauts'], "unknown command 'stauts': did you mean 'status'?"],
    [['help', 'gcc'], "unknown command 'gcc': did you mean 'gc'?"],
    [['gc', '--dry-runn'], "did you mean '--dry-run'?"],
    [['run', '--key', '', '--', 'true'], "option '--key' is empty"],
    [['status', '--env-file', '/nonexistent/.env'], 'cannot read --env-file /nonexistent/.env (ENOENT)'],
    [['status', '--env-file', 'RANDOM'], "Option '--env-file' is 'RANDOM': not a text file"],
  ])('%j', async (argv, says) => {
    const args = argv.map((a) => (a === 'RANDOM' ? random() : a));
    const r = await run(args);
    expect(r.stdout).toBe('');
    saidOnce(r, 2, says.replace('RANDOM', random()));
  });
});

/** A failure as every command reports it: its exit code, one line that says it, never a stack trace. */
function saidOnce(r: { code: number | null; stdout: string; stderr: string }, code: number, message: string | RegExp): void {
  expect(r.code).toBe(code);
  const says = typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('cargo-isolate: '))).toEqual([says]);
  expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
}

describe('a host that is not as it must be: one line naming the path and what to do, exit 3, never a stack trace', () => {
  let ro: string;
  let roRoot: string;
  let root: string;
  beforeAll(async () => {
    // A root made by a job, then its filesystem remounted read-only (a disk the kernel found faulty does that).
    ro = join(scratch, 'ro');
    await fs.mkdir(ro);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', ro]);
    roRoot = join(ro, 'root');
    expect((await run(['run', '--root', roRoot, '--', 'true'])).code).toBe(0);
    await fs.writeFile(join(ro, 'filler'), Buffer.alloc(4 * 2 ** 20, 1)); // over any threshold of 1%
    execFileSync('mount', ['-o', 'remount,ro', ro]);
    root = join(scratch, 'host-root');
    expect((await run(['run', '--root', root, '--', 'true'])).code).toBe(0);
  });
  afterAll(() => {
    spawnSync('umount', ['-l', ro]);
  });
  const EROFS = (path: string) =>
    `could not open ${path}: the filesystem is read-only (EROFS). Remount it read-write, or choose a path on a writable filesystem.`;
  test.each([
    [
      'metrics into a directory that does not exist',
      () => ['metrics', '--root', root, '--output', '/nonexistent/textfile/cargo-isolate.prom'],
      () =>
        "Writing the metrics to /nonexistent/textfile/cargo-isolate.prom: could not write into /nonexistent/textfile: it does not exist (ENOENT). Create the directory (node_exporter's --collector.textfile.directory), or choose another --output.",
    ],
    [
      'metrics into a read-only directory',
      () => ['metrics', '--root', root, '--output', join(ro, 'cargo-isolate.prom')],
      () =>
        `Writing the metrics to ${join(ro, 'cargo-isolate.prom')}: could not write into ${ro}: the filesystem is read-only (EROFS). Remount it read-write, or choose a path on a writable filesystem.`,
    ],
    [
      'gc over its threshold on a read-only root',
      () => ['gc', '--root', roRoot, '--disk-threshold', '1%'],
      () => `The disk guard of ${roRoot} cannot take its lock: ${EROFS(join(roRoot, 'locks', 'guard.lock'))}`,
    ],
    [
      'gc --dry-run over its threshold on a read-only root',
      () => ['gc', '--root', roRoot, '--disk-threshold', '1%', '--dry-run'],
      () => `The disk guard of ${roRoot} cannot take its lock: ${EROFS(join(roRoot, 'locks', 'guard.lock'))}`,
    ],
    [
      'forget on a read-only root',
      () => ['forget', '--root', roRoot, '--repository', 'acme/widgets', '--pr', '7'],
      () =>
        `Option '--root' is '${roRoot}': cannot create or write it: could not write to ${roRoot}: the filesystem is read-only (EROFS). Remount it read-write, or choose a path on a writable filesystem.`,
    ],
    [
      'run on a read-only root',
      () => ['run', '--root', roRoot, '--', 'true'],
      () =>
        `Option '--root' is '${roRoot}': cannot create or write it: could not write to ${roRoot}: the filesystem is read-only (EROFS). Remount it read-write, or choose a path on a writable filesystem.`,
    ],
  ])('%s', async (_what, argv, message) => {
    saidOnce(await run(argv()), 3, `cargo-isolate: ${message()}`);
  });

  test("the timer's unit (docs/operations.md): gc runs when writing the metrics fails; a failing gc fails the unit, after the metrics were written", async () => {
    const ini = /```ini\n([\s\S]*?)```/.exec(readFileSync('docs/operations.md', 'utf8'))![1];
    const units = join(scratch, 'units');
    await fs.mkdir(units, { recursive: true });
    const files = ini.split(/\n(?=# \/etc\/systemd\/system\/)/).map((text) => {
      const file = join(units, /^# \/etc\/systemd\/system\/(\S+)/.exec(text)![1]);
      writeFileSync(file, text.replaceAll('/usr/local/bin/cargo-isolate', resolve('bin', 'cargo-isolate')));
      return file;
    });
    // systemd's own reading of the service and its timer.
    const verify = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
    expect([verify.status, verify.stderr]).toEqual([0, '']);
    // systemd.service(5): a oneshot service runs its ExecStart lines in order; the first that fails
    // ends the run, and the unit fails, unless the line starts with '-' (its failure is logged only).
    const lines = [...ini.matchAll(/^ExecStart=(-?)\/usr\/local\/bin\/cargo-isolate (.*)$/gm)].map((m) => ({
      ignoreFailure: m[1] === '-',
      args: m[2].split(' '),
    }));
    expect(lines.map((l) => l.args[0])).toEqual(['metrics', 'gc']);
    const activate = async (envFile: string, output: string) => {
      const ran: { command: string; code: number | null; stdout: string }[] = [];
      for (const l of lines) {
        const args = l.args.map((a) => (a === '/home/runner/actions-runner/.env' ? envFile : a.endsWith('.prom') ? output : a));
        const r = await run(args);
        ran.push({ command: args[0], code: r.code, stdout: r.stdout });
        if (r.code !== 0 && !l.ignoreFailure) return { failed: true, ran };
      }
      return { failed: false, ran };
    };
    const runnerEnv = async (name: string, text: string) => {
      await fs.writeFile(join(scratch, name), text);
      return join(scratch, name);
    };
    // The textfile directory is missing: metrics fails, gc does its work, the unit succeeds.
    const good = await runnerEnv('timer-good.env', `CARGO_ISOLATE_ROOT=${root}\n`);
    const a = await activate(good, '/nonexistent/textfile/cargo-isolate.prom');
    expect(a.ran.map((x) => [x.command, x.code])).toEqual([
      ['metrics', 3],
      ['gc', 0],
    ]);
    expect(a.ran[1].stdout).toMatch(/^freed .* in \d+ removals?; disk /m);
    expect(a.failed).toBe(false);
    // gc fails (its root became read-only): the metrics were written first, and the unit fails.
    const broken = await runnerEnv('timer-broken.env', `CARGO_ISOLATE_ROOT=${roRoot}\nCARGO_ISOLATE_DISK_THRESHOLD=1%\n`);
    const prom = join(scratch, 'timer.prom');
    const b = await activate(broken, prom);
    expect(b.ran.map((x) => [x.command, x.code])).toEqual([
      ['metrics', 0],
      ['gc', 3],
    ]);
    expect(b.failed).toBe(true);
    expect(readFileSync(prom, 'utf8')).toContain(`cargo_isolate_root_present{root="${roRoot}"} 1`);
  });

  test('a failure the product did not foresee is one sentence too: what, and how to see where (the trace only with --verbose)', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'slot')");
    const quiet = explain(bug, { more: 'run it again with --verbose to see where' });
    expect(quiet).toMatchObject({ kind: 'unexpected', exitCode: 1 });
    expect(quiet.message).toBe(
      "an unexpected failure: Cannot read properties of undefined (reading 'slot'). This is a defect of cargo-isolate: run it again with --verbose to see where, and report it.",
    );
    expect(quiet.stack).toMatch(/^TypeError: .*\n\s+at /);
  });
});

describe('one configuration', () => {
  test('--version; the same version in status, in the summary line of the hooks, in the metrics', async () => {
    // A build between releases (1.0.0-dev) adds the commit it came from, read from the checkout's .git.
    const v = await run(['--version']);
    const commit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim();
    expect([v.code, v.stdout]).toEqual([0, `cargo-isolate ${/-/.test(VERSION) ? `${VERSION}+${commit}` : VERSION}\n`]);
    const root = join(scratch, 'version-root');
    expect((await run(['run', '--root', root, '--', 'true'])).code).toBe(0);
    expect((await run(['status', '--root', root])).stdout.split('\n')[0]).toBe(`cargo-isolate ${VERSION}; root ${root}`);
    expect(JSON.parse((await run(['status', '--root', root, '--json'])).stdout).version).toBe(VERSION);
    expect((await run(['metrics', '--root', root])).stdout).toContain(`cargo_isolate_info{root="${root}",version="${VERSION}"} 1`);
  });

  test("a flag over the runner's .env over the environment over the default", async () => {
    const root = join(scratch, 'env-root');
    await fs.writeFile(join(scratch, 'runner.env'), `RUNNER_ALLOW_RUNASROOT=1\nCARGO_ISOLATE_ROOT=${root}\nCARGO_ISOLATE_DISK_THRESHOLD=11%\n`);
    expect((await run(['run', '--env-file', join(scratch, 'runner.env'), '--', 'true'])).code).toBe(0);
    expect(existsSync(join(root, 'slots', 's000'))).toBe(true); // the root the .env names
    const said = async (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      /threshold ([^,]+), target/.exec((await run(['gc', '--dry-run', ...args], extra)).stdout)?.[1];
    expect(await said(['--root', root], { CARGO_ISOLATE_DISK_THRESHOLD: '33%' })).toBe('33%');
    expect(await said(['--env-file', join(scratch, 'runner.env')], { CARGO_ISOLATE_DISK_THRESHOLD: '33%' })).toBe('11%');
    expect(await said(['--env-file', join(scratch, 'runner.env'), '--disk-threshold', '22%'], { CARGO_ISOLATE_DISK_THRESHOLD: '33%' })).toBe('22%');
    expect(await said(['--root', root])).toBe('85%');
    // The timer's scope is the host's, whatever the runners' .env says.
    await fs.appendFile(join(scratch, 'runner.env'), 'CARGO_ISOLATE_PRUNE_SCOPE=runner\n');
    const gc = await run(['gc', '--env-file', join(scratch, 'runner.env'), '--dry-run', '--json']);
    expect([gc.code, JSON.parse(gc.stdout).scope]).toEqual([0, 'host']);
  });

  test('misspelled CARGO_ISOLATE_* names and .env lines the runner reads otherwise: a warning each; a file that is not text is refused', async () => {
    const root = join(scratch, 'names-root');
    const file = join(scratch, 'names.env');
    await fs.writeFile(file, `CARGO_ISOLATE_ROOT=${root}\nexport CARGO_ISOLATE_DISK_THRESHOLD=50%\nCARGO_ISOLATE_REUSE never\n`);
    const r = await run(['status', '--env-file', file], { CARGO_ISOLATE_DISK_THRESOLD: '50%' });
    expect([r.code, r.stderr.split('\n')]).toEqual([
      0,
      [
        `warning: 'export CARGO_ISOLATE_DISK_THRESHOLD' (line 2 of ${file}) is one name to the runner, 'export ' included, so CARGO_ISOLATE_DISK_THRESHOLD is not set: write CARGO_ISOLATE_DISK_THRESHOLD=value, with nothing before the name and no space before '='.`,
        `warning: 'CARGO_ISOLATE_REUSE never' (line 3 of ${file}) is not NAME=value, so the runner skips it.`,
        'warning: CARGO_ISOLATE_DISK_THRESOLD (in the environment) is not a variable cargo-isolate reads: did you mean CARGO_ISOLATE_DISK_THRESHOLD?',
        '',
      ],
    ]);
    expect(r.stdout).toContain(`no root at ${root} yet`); // the lines it could read still apply
    const binary = join(scratch, 'binary.env');
    await fs.writeFile(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]));
    const b = await run(['gc', '--env-file', binary]);
    expect([b.code, b.stdout, b.stderr]).toEqual([
      2,
      '',
      `cargo-isolate: Option '--env-file' is '${binary}': not a text file (a NUL byte at offset 7). Expected a runner's .env file: lines of NAME=value.\n`,
    ]);
  });

  test('run --key: matrix legs at once get a slot each, and each leg comes back to its own', async () => {
    const root = join(scratch, 'key-root');
    const marks = await fs.mkdtemp(join(scratch, 'marks-'));
    // Each leg holds its lease until the other one holds its own: the two run at the same time.
    const leg = (key: string, mine: string, other: string, runId: string) =>
      run(['run', '--root', root, '--key', key, '--', 'sh', '-c', `touch ${marks}/${mine}; until [ -e ${marks}/${other} ]; do sleep 0.1; done`], {
        GITHUB_RUN_ID: runId,
      });
    const [x, a] = await Promise.all([leg('x86_64', 'x', 'a', '1'), leg('aarch64', 'a', 'x', '1')]);
    expect([x.code, a.code]).toEqual([0, 0]);
    const slotOf = (stderr: string) => /; slot (s\d+) \((\S+):/.exec(stderr)?.slice(1) ?? [];
    const [xSlot] = slotOf(x.stderr);
    expect(slotOf(a.stderr)[0]).not.toBe(xSlot);
    const again = await run(['run', '--root', root, '--key', 'x86_64', '--', 'true'], { GITHUB_RUN_ID: '2' });
    expect(slotOf(again.stderr)).toEqual([xSlot, 'own-job']);
    expect(JSON.parse(await fs.readFile(join(root, 'slots', xSlot, 'slot.json'), 'utf8'))).toMatchObject({ jobKey: 'x86_64', runId: '2' });
  });
});

describe('roots that do not exist yet', () => {
  test('status and gc say so and exit 0, naming where the root came from and blaming no option', async () => {
    const def = join(scratch, 'home', '.cache', 'cargo-isolate');
    for (const cmd of ['status', 'gc']) {
      const r = await run([cmd]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toBe(
        `cargo-isolate ${VERSION}: no root at ${def} yet (the default; set --root or CARGO_ISOLATE_ROOT for another): ${cmd === 'gc' ? 'nothing to prune' : 'nothing to show'}. The first job, or 'cargo-isolate run', makes it.\n`,
      );
    }
    const fromVar = await run(['status'], { CARGO_ISOLATE_ROOT: join(scratch, 'not-yet') });
    expect(fromVar.stdout).toContain(`no root at ${join(scratch, 'not-yet')} yet (from variable CARGO_ISOLATE_ROOT)`);
    expect(JSON.parse((await run(['gc', '--json'])).stdout)).toEqual({ version: VERSION, root: def, present: false });
    expect(existsSync(def)).toBe(false);
  });
});

describe('gc', () => {
  let root: string;
  beforeAll(async () => {
    root = join(scratch, 'gc-root');
    const ws = await makeWorkspace(join(scratch, 'ws'), 3);
    const b = await run(['run', '--root', root, '--working-directory', ws, '--', 'cargo', 'build', '--manifest-path', join(ws, 'Cargo.toml')]);
    expect(b.code).toBe(0);
  });

  test('--dry-run lists what it would remove, and exits as the real run would with --fail-below', async () => {
    const dry = await run(['gc', '--root', root, '--max-age', '0s', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^Would remove target ${root}/slots/s000/target \\(\\d`, 'm'));
    expect(dry.stdout).toMatch(/^would free \S+ \S+ in \d+ removals?; disk /m);
    // A floor just under the whole disk (one at or beyond it is refused as no disk can meet it).
    const st = await fs.statfs(root);
    const floorMiB = Math.floor((st.blocks * st.bsize) / 2 ** 20) - 1;
    const huge = ['--fail-below', `${floorMiB}MiB`];
    const [dryFail, realFail] = [await run(['gc', '--root', root, '--dry-run', ...huge]), await run(['gc', '--root', root, ...huge])];
    expect([dryFail.code, realFail.code]).toEqual([4, 4]); // below fail-below: its own exit code
    expect(dryFail.stderr).toContain(`below 'fail-below' (${formatBytes(floorMiB * 2 ** 20)})`);
    expect(dryFail.stderr).toMatch(/a real run would fail: about .* would be free after pruning, below 'fail-below'/);
    expect((await run(['gc', '--root', root, '--dry-run', '--fail-below', '1KiB'])).code).toBe(0);
    expect(existsSync(join(root, 'slots', 's000', 'target', 'debug'))).toBe(true); // nothing removed
  });

  test('one total: what the report says it removed is what it says it freed, measured where no record can vouch for it', async () => {
    // A record from before the slot's last lease (a job that ended without its post step): its
    // size says nothing of what that job built, so the guard measures the tree, in a dry run as
    // in a real one.
    const rec = join(root, 'slots', 's000', 'slot.json');
    const r0 = JSON.parse(await fs.readFile(rec, 'utf8'));
    const before = new Date(Date.parse(r0.leasedAt) - 60_000).toISOString();
    await fs.writeFile(rec, JSON.stringify({ ...r0, sizes: { ...r0.sizes, target: 1024, measuredAt: before } }));
    const dry = await run(['gc', '--root', root, '--max-age', '0s', '--dry-run']);
    const r = await run(['gc', '--root', root, '--max-age', '0s']);
    expect(r.code).toBe(0);
    const sizes = (out: string) => [...out.matchAll(/^(?:Removed|Would remove) \S+ \S+ \(([^,]+),/gm)].map((m) => m[1]);
    const removed = sizes(r.stdout);
    expect(removed.length).toBe(1); // the target: the slot has no sources of its own (its CARGO_HOME is its uid's)
    expect(removed[0]).not.toBe('1.00 KiB');
    expect(sizes(dry.stdout)).toEqual(removed);
    expect(r.stdout).toMatch(new RegExp(`^freed ${removed[0].replace('.', '\\.')} in 1 removal; disk `, 'm'));
    const again = JSON.parse((await run(['gc', '--root', root, '--max-age', '0s', '--json'])).stdout);
    expect(again.freedBytes).toBe(again.removals.reduce((n: number, x: { bytes: number }) => n + x.bytes, 0));
  });

  test("the guard advises prune-scope: host only when other runners' idle data would free something", async () => {
    const r = join(scratch, 'advice-root');
    await prepareRoot(r, {});
    const log = consoleLog(false, true);
    const err = await runGuard({
      root: r,
      threshold: { kind: 'percent', percent: 99 },
      target: { kind: 'percent', percent: 98 },
      scope: 'runner',
      runnerId: 'me',
      dryRun: false,
      failBelowBytes: 2 ** 60,
      timeoutMs: 10_000,
      log,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as Error).message).toContain("other runners' idle data holds 0 B.");
    expect((err as Error).message).not.toContain('prune-scope');
  });
});

describe('status', () => {
  test('totals of slots, stores and trash; each lease with its age and holder; readable run ids', async () => {
    const root = join(scratch, 'status-root');
    const holder = spawn(process.execPath, ['--', CLI, 'run', '--root', root, '--key', 'leg-a', '--', 'sleep', '120'], {
      env: { ...env, GITHUB_REPOSITORY: 'acme/widgets', GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '2', GITHUB_JOB: 'test' },
      stdio: 'ignore',
    });
    try {
      const leased = async () => (await run(['status', '--root', root, '--json'])).stdout.includes('"live": true');
      for (const end = Date.now() + 60_000; !(await leased());) if (Date.now() > end) throw new Error('the lease never showed');
      expect((await run(['run', '--root', root, '--', 'true'])).code).toBe(0); // another slot: s000 is leased
      const lines = (await run(['status', '--root', root])).stdout.split('\n');
      expect(lines.slice(1, 4).map((l) => l.replace(/[\d.]+ (B|KiB|MiB|GiB)/g, 'N'))).toEqual([
        expect.stringMatching(/^disk: [\d.]+% used, N free, [\d.]+% inodes$/),
        'slots: 2 (1 leased), target dirs N, cargo homes N (as last recorded); 0 job dirs',
        'stores: crates N, git N; trash N in 0 entries',
      ]);
      expect(lines.find((l) => l.startsWith('s000'))).toMatch(/^s000 +leased [\d.]+ (ms|s) +acme\/widgets ref-local +\S.* +4242 attempt 2, test \(leg-a\) /);
      expect(lines.find((l) => l.startsWith('s001'))).toMatch(
        /^s001 +free, idle [\d.]+ (ms|s) +local\/local ref-local +.* +local \(pid \d+, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\), job /,
      );
    } finally {
      holder.kill('SIGTERM');
      await new Promise((r) => holder.once('exit', r));
    }
    expect((await run(['status', '--root', root])).stdout).not.toMatch(/leased \d/);
  });
});

describe('run exits as a shell does', () => {
  // An out-of-memory kill (SIGKILL) must not look like a normal termination (SIGTERM).
  test.each([
    ['KILL', 137],
    ['SEGV', 139],
    ['INT', 130],
    ['TERM', 143],
  ])('a command ended by SIG%s: exit %i, and the job ends whole', async (sig, code) => {
    const root = join(scratch, `signal-root-${sig}`);
    const r = await run(['run', '--root', root, '--', 'sh', '-c', `kill -${sig} $$`]);
    expect(r.code).toBe(code);
    expect(spawnSync('sh', ['-c', `kill -${sig} $$`]).signal).toBe(`SIG${sig}`); // what the shell saw
    expect(JSON.parse(await fs.readFile(join(root, 'slots', 's000', 'slot.json'), 'utf8')).releasedAt).toBeDefined();
  });
});

describe('closed pipes', () => {
  test("run -- true | head -2: the exit code stays the command's, and the job ends whole", async () => {
    const root = join(scratch, 'pipe-root');
    const r = await sh(`$CLI run --root ${root} -- true 2>&1 | head -2 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`);
    expect(r.stdout).toBe('rc=0\n');
    const fail = await sh(`$CLI run --root ${root} -- sh -c 'exit 7' 2>&1 | head -1 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`);
    expect(fail.stdout).toBe('rc=7\n');
    const s = JSON.parse((await run(['status', '--root', root, '--json'])).stdout);
    expect(
      s.slots.map((x: { live: boolean; record: { sizes?: unknown; releasedAt?: string } }) => [
        x.live,
        x.record.sizes !== undefined,
        x.record.releasedAt !== undefined,
      ]),
    ).toEqual([[false, true, true]]);
    const status = await sh(`$CLI status --root ${root} | head -1; echo "rc=\${PIPESTATUS[0]}"`);
    expect(status.stdout).toBe(`cargo-isolate ${VERSION}; root ${root}\nrc=0\n`);
  });

  test('demo | head -1: the demo finishes, exits 0 and leaves no temp workspace', async () => {
    // The reader is gone before the second job's program prints: its line, and the status, are dropped.
    const root = join(scratch, 'demo-pipe-root');
    const errFile = join(scratch, 'demo.err');
    const r = await sh(`$CLI demo --root ${root} 2>${errFile} | head -1 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`);
    expect(r.stdout).toBe('rc=0\n');
    const said = await fs.readFile(errFile, 'utf8');
    const ws = /demo workspace: (\S+)/.exec(said)?.[1];
    expect(ws).toBeDefined();
    expect(existsSync(ws!)).toBe(false);
    expect(said).toMatch(
      /^-- job 2: slot s000 \(own-job: .*\); warm: last used by the same trust domain \(ref-main\); cargo: 0 built, 2 fresh: a warm start, nothing recompiled$/m,
    );
  });
});

test("the README's first command: demo says what happened, job by job, from the numbers", async () => {
  const root = join(scratch, 'demo-root');
  const first = await run(['demo', '--root', root]);
  expect(first.code).toBe(0);
  expect(first.stderr).toMatch(/^-- job 1: slot s000 \(new: a new slot\); nothing in it yet; cargo: 2 built \(app, util\), 0 fresh: a cold start$/m);
  // Again on the same root: the slot's build is kept, but the workspace is new (a new temp dir),
  // so cargo rebuilds it: the words say exactly that, never "warm" and "cold" at once.
  const again = await run(['demo', '--root', root]);
  expect(again.stderr).toMatch(
    /^-- job 1: slot s000 \(own-job: [^)]*\); warm: last used by the same trust domain \(ref-main\); cargo: 2 built \(app, util\), 0 fresh: everything recompiled although the slot's last build was kept/m,
  );
  expect(again.stderr).toMatch(/^-- job 2: .*cargo: 0 built, 2 fresh: a warm start, nothing recompiled$/m);
});
