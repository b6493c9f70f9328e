import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hookSettings, workerPid } from '../src/job/hooks.js';
import { variableOf as hookVariable } from '../src/model/settings.js';
import { hookJobSeenAt, ownPaths } from '../src/job/hook-state.js';
import { slotDirs } from '../src/model/layout.js';
import { KEEPER_POLL_SECONDS, startKeeper } from '../src/pool/lease.js';
import { type Docker, WORKSPACE, containerize, removeContainer, setupDocker } from './helpers/docker.js';
import { HookWorker, fakeRunner } from './helpers/hooks.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { scaled, until as waitUntil } from './helpers/pace.js';
import { removeScratch } from './helpers/scratch.js';
import { compiled, makeHeldWorkspace, makeWorkspace } from './helpers/workspace.js';

/*
 * Runner job hooks (issue 15): every job of a runner isolated and guarded with no `uses:` step,
 * run through the runner's hook protocol (helpers/hooks.ts) with real cargo, flock, signals.
 */
const { job: newJob, cleanup } = jobPool();
const workers: HookWorker[] = [];
const containers: string[] = [];
let scratch: string;
let runnerDir: string;

beforeAll(async () => {
  scratch = await fs.mkdtemp('/var/tmp/ci-hooks-');
  runnerDir = await fakeRunner(join(scratch, 'runner'));
});

afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await cleanup();
  for (const m of ['ro', 'full']) spawnSync('umount', [join(scratch, m)]);
  await removeScratch(scratch);
});

/** A job on the fake runner: its workspace under the runner's _work, the operator's .env variables. */
async function hookedJob(
  o: Parameters<typeof newJob>[0] & { ws?: string; env?: Record<string, string>; runner?: string; runnerDir?: string } = {},
): Promise<{ j: SimJob; w: HookWorker; ws: string }> {
  const repo = o.repo ?? 'acme/widgets';
  const j = await newJob({ ...o, repo, runner: o.runner ?? 'runner-1', extraEnv: { ...o.env } });
  const ws = o.ws ?? join(j.dir, 'work', repo.split('/')[1]);
  await fs.mkdir(ws, { recursive: true });
  j.env.GITHUB_WORKSPACE = ws;
  const w = new HookWorker(j, o.runnerDir ?? runnerDir);
  workers.push(w);
  return { j, w, ws };
}

const lockOf = (root: string, slot: string) => join(root, 'locks', `slot-${slot}.lock`);
const isFree = (lock: string) => spawnSync('flock', ['-n', lock, 'true']).status === 0;
const until = (what: string, ok: () => boolean, ms = 15_000) => waitUntil(what, ok, { ms, every: 100 });
const slotOf = (exports: Record<string, string>) => /slots\/(s\d+)\//.exec(exports.CARGO_TARGET_DIR ?? '')?.[1] ?? '';
const build = (j: SimJob, ws: string) => j.exec(['cargo', 'build'], ws);

describe('pure parts', () => {
  test.each([
    ['disk-threshold', 'CARGO_ISOLATE_DISK_THRESHOLD'],
    ['fail-below', 'CARGO_ISOLATE_FAIL_BELOW'],
    ['root', 'CARGO_ISOLATE_ROOT'],
    ['runner-name', 'CARGO_ISOLATE_RUNNER'],
  ])('input %s is the runner variable %s', (input, variable) => expect(hookVariable(input)).toBe(variable));

  test.each([
    [
      'the worker is the parent',
      [
        { pid: 50, comm: 'bash' },
        { pid: 40, comm: 'Runner.Worker' },
        { pid: 30, comm: 'Runner.Listener' },
      ],
      40,
    ],
    [
      'an operator wrapper between',
      [
        { pid: 60, comm: 'bash' },
        { pid: 50, comm: 'bash' },
        { pid: 40, comm: 'Runner.Worker' },
      ],
      40,
    ],
    [
      "no worker: the script's parent",
      [
        { pid: 60, comm: 'bash' },
        { pid: 50, comm: 'act_runner' },
      ],
      50,
    ],
    ['nothing known', [], 0],
  ])('the keeper watches %s', (_, chain, pid) => expect(workerPid(chain)).toBe(pid));

  test.each([
    [
      { CARGO_ISOLATE_DISK_THRESHOLD: '150%' },
      "Variable CARGO_ISOLATE_DISK_THRESHOLD is '150%'. Expected a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB).",
    ],
    [{ CARGO_ISOLATE_MAX_LEASE: '10s' }, "Variable CARGO_ISOLATE_MAX_LEASE is '10s'. Expected a duration such as 30s, 5m or 2h of at least 60s."],
    [{ CARGO_ISOLATE_LAYOUT: 'pool' }, "Variable CARGO_ISOLATE_LAYOUT is 'pool'. Expected one of 'slot', 'job'."],
  ])("%j is refused with the input's message, naming the variable", (env, message) => expect(() => hookSettings(env)).toThrow(message));

  const slot = { layout: 'slot' as const, root: '/srv/ci', slot: 's004', dirs: slotDirs('/srv/ci', 's004'), identity: undefined as never };
  test.each([
    ["the slot's own paths", slot, true],
    ['tmp aimed at another slot', { ...slot, dirs: { ...slot.dirs, tmp: slotDirs('/srv/ci', 's001').tmp } }, false],
    ['another lock', { ...slot, dirs: { ...slot.dirs, lock: '/srv/ci/locks/slot-s001.lock' } }, false],
    ["a slot name that is no slot's", { ...slot, slot: '../s004', dirs: slotDirs('/srv/ci', '../s004') }, false],
    ['a relative root', { ...slot, root: 'srv/ci', dirs: slotDirs('srv/ci', 's004') }, false],
    ['an extra path', { ...slot, dirs: { ...slot.dirs, extra: '/etc' } }, false],
  ])("the completed hook acts only on its slot's own paths: %s", (_, job, ok) => {
    expect(ownPaths(job as Parameters<typeof ownPaths>[0])).toBe(ok);
  });
  const hooked = {
    root: '/home/runner/_work/_tool/ci',
    dirs: slotDirs('/home/runner/_work/_tool/ci', 's002'),
    exports: { CARGO_HOME: '/home/runner/_work/_tool/ci/homes/u1001', RUSTFLAGS: '-C x', CARGO_TARGET_DIR: '/home/runner/_work/_tool/ci/slots/s002/target' },
  };
  test.each([
    ['the host, at the same path', '/home/runner/_work/_tool/ci/homes/u1001', '/home/runner/_work/_tool/ci'],
    ["a container, under the runner's tool cache", '/__t/ci/homes/u1001', '/__t/ci'],
    ['another CARGO_HOME', '/__t/ci/homes/u0', undefined],
    ['a CARGO_HOME with no root above it', '/homes/u1001', '/'],
    ['the home at another depth', '/x/homes/u1001/more', undefined],
  ])("a joining step sees the hook's slot from %s", (_, home, root) => {
    const seen = hookJobSeenAt(hooked, home);
    expect(seen?.root).toBe(root);
    if (seen) {
      expect(seen.dirs).toEqual(slotDirs(root!, 's002'));
      expect(seen.exports).toEqual({ CARGO_HOME: home, RUSTFLAGS: '-C x', CARGO_TARGET_DIR: `${root === '/' ? '' : root}/slots/s002/target` });
    }
  });
  test('per-job inputs are not runner variables: CARGO_ISOLATE_KEY does not set the key', () => {
    expect(hookSettings({ CARGO_ISOLATE_KEY: 'x', CARGO_ISOLATE_ROOT: '/srv/ci' })).toMatchObject({ jobKey: '', root: '/srv/ci' });
  });
});

describe('host jobs with hooks, no uses: step', () => {
  test("two repositories at once: separate slots, built in isolation, warm on their next push; the runner's own node is found", async () => {
    const root = join(scratch, 'two');
    const env = { CARGO_ISOLATE_ROOT: root };
    const a1 = await hookedJob({ repo: 'acme/widgets', runId: '1', env });
    const b1 = await hookedJob({ repo: 'acme/gadgets', runId: '2', env, runner: 'runner-2' });
    await makeWorkspace(a1.ws);
    await makeWorkspace(b1.ws, 2);
    const [sa, sb] = await Promise.all([a1.w.hook('started'), b1.w.hook('started')]);
    for (const s of [sa, sb]) expect({ code: s.code, warnings: s.warnings, errors: s.errors }).toEqual({ code: 0, warnings: [], errors: [] });
    expect(sa.output).toContain(`job-started hook: ${runnerDir}/externals/node24/bin/node\n`);
    expect(slotOf(sa.env)).not.toBe(slotOf(sb.env));
    for (const s of [sa, sb]) {
      const slot = join(root, 'slots', slotOf(s.env));
      // Hooks run as root here: every job of the runner is root's, so they share root's CARGO_HOME.
      expect(s.env).toMatchObject({
        CARGO_TARGET_DIR: join(slot, 'target'),
        CARGO_BUILD_BUILD_DIR: join(slot, 'target'),
        CARGO_HOME: join(root, 'homes', 'u0'),
        CARGO_INSTALL_ROOT: join(slot, 'install'),
        TMPDIR: join(slot, 'tmp'),
        TMP: join(slot, 'tmp'),
        TEMP: join(slot, 'tmp'),
      });
      expect(s.path).toEqual([join(slot, 'install', 'bin')]);
    }
    const [ba, bb] = await Promise.all([build(a1.j, a1.ws), build(b1.j, b1.ws)]);
    expect([ba.code, bb.code]).toEqual([0, 0]);
    await fs.access(join(sa.env.CARGO_TARGET_DIR, 'debug', 'app'));
    await expect(fs.access(join(a1.ws, 'target'))).rejects.toThrow(); // nothing in the shared checkout
    const [ca, cb] = await Promise.all([a1.w.hook('completed'), b1.w.hook('completed')]);
    for (const c of [ca, cb]) {
      expect({ code: c.code, warnings: c.warnings, env: c.env }).toEqual({ code: 0, warnings: [], env: {} });
      expect(c.summary).toMatch(/lease released/);
    }
    await Promise.all([a1.w.completeJob(), b1.w.completeJob()]);
    expect(readdirLocks(root).every((l) => isFree(l))).toBe(true);

    // The next push of each: the same slot, nothing recompiled.
    const a2 = await hookedJob({ repo: 'acme/widgets', runId: '3', env, ws: a1.ws, runner: 'runner-2' });
    const b2 = await hookedJob({ repo: 'acme/gadgets', runId: '4', env, ws: b1.ws });
    const [sa2, sb2] = await Promise.all([a2.w.hook('started'), b2.w.hook('started')]);
    expect([slotOf(sa2.env), slotOf(sb2.env)]).toEqual([slotOf(sa.env), slotOf(sb.env)]);
    const [ba2, bb2] = await Promise.all([build(a2.j, a2.ws), build(b2.j, b2.ws)]);
    expect([ba2.code, compiled(ba2.stderr), bb2.code, compiled(bb2.stderr)]).toEqual([0, [], 0, []]);
    await Promise.all([a2.w.hook('completed'), b2.w.hook('completed')]);
    await Promise.all([a2.w.completeJob(), b2.w.completeJob()]);
  });

  test("where no node is on PATH: the runner's own, else CARGO_ISOLATE_NODE; with neither, a warning and the job runs", async () => {
    const tools = join(scratch, 'tools');
    await fs.mkdir(tools, { recursive: true });
    for (const t of ['bash', 'sh', 'env', 'dirname', 'readlink', 'cat', 'flock', 'sleep', 'du'])
      await fs.symlink(execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim(), join(tools, t)).catch(() => undefined);
    const bare = await fakeRunner(join(scratch, 'runner-without-node'), { node: false });
    const root = join(scratch, 'nonode');
    const cases: [string, string | undefined, string | undefined, boolean][] = [
      ["the runner's externals", runnerDir, undefined, true],
      ['CARGO_ISOLATE_NODE', bare, process.execPath, true],
      ['none', bare, undefined, false],
    ];
    for (const [what, dir, node, isolated] of cases) {
      const { w } = await hookedJob({
        runId: `n-${what}`,
        runnerDir: dir,
        env: { CARGO_ISOLATE_ROOT: root, PATH: tools, ...(node ? { CARGO_ISOLATE_NODE: node } : {}) },
      });
      const s = await w.hook('started');
      expect({ what, code: s.code, isolated: Boolean(s.env.CARGO_TARGET_DIR) }).toEqual({ what, code: 0, isolated });
      if (!isolated) expect(s.warnings).toEqual([expect.stringMatching(/^cargo-isolate job-started hook: no node found \(set CARGO_ISOLATE_NODE/)]);
      const c = await w.hook('completed');
      expect(c.code).toBe(0);
      await w.completeJob();
    }
  });

  test('a worker killed with SIGKILL (no completed hook, no Complete job) frees the slot through the worker watch', async () => {
    const root = join(scratch, 'sigkill');
    const { w } = await hookedJob({ pr: 5, runId: '10', env: { CARGO_ISOLATE_ROOT: root } });
    const s = await w.hook('started');
    expect(s.code).toBe(0);
    const lock = lockOf(root, slotOf(s.env));
    // The hook and node are gone; the keeper alone holds the lease, for as long as the worker
    // lives: still after one of its polls has passed.
    await new Promise((r) => setTimeout(r, KEEPER_POLL_SECONDS * 1000 + 500));
    expect(isFree(lock)).toBe(false);
    await w.stop('SIGKILL');
    await until('the keeper to see its worker gone', () => isFree(lock), 10_000);
    const next = await hookedJob({ pr: 5, runId: '11', env: { CARGO_ISOLATE_ROOT: root } });
    const s2 = await next.w.hook('started');
    expect(slotOf(s2.env)).toBe(slotOf(s.env));
    await next.w.hook('completed');
    await next.w.completeJob();
  });

  test('no completed hook configured: "Complete job" kills the keeper by RUNNER_TRACKING_ID; max-lease reaches the keeper', async () => {
    const root = join(scratch, 'tracking');
    const { w } = await hookedJob({ runId: '20', env: { CARGO_ISOLATE_ROOT: root, CARGO_ISOLATE_MAX_LEASE: '90s' } });
    const s = await w.hook('started');
    const lock = lockOf(root, slotOf(s.env));
    const keeper = JSON.parse(readFileSync(join(w.job.env.RUNNER_TEMP, 'cargo-isolate-hook.json'), 'utf8')).job.keeperPid as number;
    // flock -x -n <lock> sh -c KEEPER sh <watch-pid> <watch-start> <max-seconds> <poll>
    const argv = readFileSync(`/proc/${keeper}/cmdline`, 'utf8').split('\0');
    expect(argv[argv.length - 3]).toBe('90');
    expect(Number(argv[argv.length - 5])).toBe(w.pid); // the worker, not the hook that started it
    expect(isFree(lock)).toBe(false);
    const killed = await w.completeJob();
    expect(killed).toContain(keeper);
    await until('the lease to end', () => isFree(lock), 5000);
  });

  test('a hung worker: the keeper the hook starts ends at max-lease while the worker lives', async () => {
    // The hook passes CARGO_ISOLATE_MAX_LEASE to this keeper (argv checked above); the input's
    // 60 s minimum is the hook's, the countdown is the keeper's, shortened here.
    const lock = join(scratch, 'max-lease.lock');
    const worker = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const t0 = Date.now();
      const h = await startKeeper(lock, worker.pid!, 3000);
      expect(h).toBeDefined();
      expect(isFree(lock)).toBe(false);
      await until('max-lease to pass', () => isFree(lock), 10_000);
      // Not before max-lease (less the keeper's first poll); after it, however busy the machine.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
      expect(worker.exitCode).toBeNull(); // the worker still runs: only max-lease ended it
    } finally {
      worker.kill();
    }
  });

  test('cancelled mid-build: the completed hook still runs and releases; the next run of the PR gets the slot', async () => {
    const root = join(scratch, 'cancel');
    const env = { CARGO_ISOLATE_ROOT: root };
    const { j, w, ws } = await hookedJob({ pr: 6, runId: '30', env });
    const slow = await makeHeldWorkspace(ws);
    const s = await w.hook('started');
    const step = spawn('cargo', ['build'], { cwd: ws, env: j.stepEnv(), stdio: 'ignore' });
    const stepDone = new Promise((r) => step.once('exit', r));
    await slow.started(stepDone);
    // The runner's cancel: SIGINT to the step, then SIGKILL, then post steps and the completed hook.
    step.kill('SIGINT');
    await stepDone;
    await slow.release(); // the build script cargo left behind ends too
    const c = await w.hook('completed');
    expect({ code: c.code, warnings: c.warnings }).toEqual({ code: 0, warnings: [] });
    expect(isFree(lockOf(root, slotOf(s.env)))).toBe(true);
    await w.completeJob();
    const next = await hookedJob({ pr: 6, runId: '31', env, ws });
    const s2 = await next.w.hook('started');
    expect(slotOf(s2.env)).toBe(slotOf(s.env));
    await next.w.hook('completed');
    await next.w.completeJob();
  });
});

describe("the hook's state file is the job's to write", () => {
  test('a step that rewrites it cannot aim the completed hook at another slot', async () => {
    const root = join(scratch, 'forged');
    const env = { CARGO_ISOLATE_ROOT: root };
    const other = await hookedJob({ pr: 8, runId: '40', env });
    const so = await other.w.hook('started');
    const canary = join(so.env.TMPDIR, 'canary');
    await fs.writeFile(canary, 'the other job is still using this');
    const { w } = await hookedJob({ pr: 9, runId: '41', env });
    const s = await w.hook('started');
    const file = s.env.CARGO_ISOLATE_HOOK_STATE;
    const st = JSON.parse(await fs.readFile(file, 'utf8'));
    st.job.dirs.tmp = so.env.TMPDIR; // a build's edit: "empty this tmp for me"
    await fs.writeFile(file, JSON.stringify(st));
    const c = await w.hook('completed');
    expect(c.code).toBe(0);
    expect(c.warnings).toEqual([expect.stringMatching(/names directories that are not slot s\d+'s own under .* releasing nothing/)]);
    expect(await fs.readFile(canary, 'utf8')).toBe('the other job is still using this');
    await w.completeJob(); // the runner's tracking-id kill still ends this job's lease
    expect(isFree(lockOf(root, slotOf(s.env)))).toBe(true);
    expect(isFree(lockOf(root, slotOf(so.env)))).toBe(false);
    await other.w.hook('completed');
    await other.w.completeJob();
  });
});

describe('a hook that cannot isolate warns, exports nothing, and the job still runs', () => {
  /** The whole job: started hook, a real build in the checkout, completed hook. */
  async function degradedJob(env: Record<string, string>, runId: string) {
    const { j, w, ws } = await hookedJob({ runId, env });
    await makeWorkspace(ws, 1);
    const s = await w.hook('started');
    const b = await build(j, ws);
    const c = await w.hook('completed');
    await w.completeJob();
    return { s, b, c };
  }

  // Each warning names what was set or the path, and what to do; never a stack trace in the hook's output.
  test.each([
    [
      'a bad variable',
      () => ({ CARGO_ISOLATE_ROOT: join(scratch, 'bad'), CARGO_ISOLATE_DISK_THRESHOLD: '150%' }),
      /Variable CARGO_ISOLATE_DISK_THRESHOLD is '150%'\. Expected a percentage below 100%/,
    ],
    [
      'a read-only root',
      () => ({ CARGO_ISOLATE_ROOT: join(scratch, 'ro', 'root') }),
      /ro\/root'?: cannot create or write it: could not write to \S*\/ro: the filesystem is read-only \(EROFS\)\. Remount it read-write/,
    ],
    [
      'a system directory as root',
      () => ({ CARGO_ISOLATE_ROOT: '/usr/lib' }),
      /'\/usr\/lib': refused because it is a system directory\. Choose a dedicated directory/,
    ],
    ['a full disk', () => ({ CARGO_ISOLATE_ROOT: join(scratch, 'full', 'root') }), /full\/root.*the filesystem is full \(ENOSPC\)\. Free space/],
  ])('%s', async (what, env, message) => {
    if (what === 'a read-only root') {
      await fs.mkdir(join(scratch, 'ro'), { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', join(scratch, 'ro')]);
    }
    if (what === 'a full disk') {
      await fs.mkdir(join(scratch, 'full'), { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', join(scratch, 'full')]);
      spawnSync('sh', ['-c', `cat /dev/zero > ${join(scratch, 'full', 'filler')}`]); // stops at ENOSPC
    }
    const { s, b, c } = await degradedJob(env(), `bad-${what}`);
    expect({ code: s.code, env: s.env, path: s.path }).toEqual({ code: 0, env: {}, path: [] });
    expect(s.warnings).toEqual([expect.stringMatching(/^cargo-isolate job-started hook: /)]);
    expect(s.warnings[0]).toMatch(message);
    expect(s.warnings[0]).toMatch(/This job runs without isolation \(nothing exported\)\.$/);
    expect(s.warnings[0]).not.toMatch(/\.\. This job/); // one sentence end, whatever the cause's message ends with
    expect(s.output).not.toMatch(/^\s+at /m);
    expect(b.code).toBe(0);
    expect({ code: c.code, warnings: c.warnings }).toEqual({ code: 0, warnings: [] });
    expect(c.output).toMatch(/the job-started hook took no lease for this job; nothing to release/);
  });

  test("fail-below set by the operator is the one failure: the hook exits non-zero with the guard's message", async () => {
    // A floor just under the whole disk: more than will ever be free, yet one a disk of this size could meet.
    const st = await fs.statfs(scratch);
    const floor = `${Math.floor((st.blocks * st.bsize) / 2 ** 20) - 1}MiB`;
    const { w } = await hookedJob({ runId: 'fail-below', env: { CARGO_ISOLATE_ROOT: join(scratch, 'fb'), CARGO_ISOLATE_FAIL_BELOW: floor } });
    const s = await w.hook('started');
    expect(s.code).not.toBe(0);
    expect(s.errors).toEqual([expect.stringMatching(/free on .*fb after pruning, below 'fail-below' \([\d.]+ [GT]iB\)/)]);
    expect(s.env).toEqual({});
    await w.completeJob();
  });
});

describe("the runner's variables as the runner read them", () => {
  test("a misspelled name, an 'export' line, a line without '=': a warning each, naming the line; the job is isolated", async () => {
    const dir = await fakeRunner(join(scratch, 'runner-env'));
    const root = join(scratch, 'env-root');
    const dotenv = join(dir, '.env');
    await fs.writeFile(
      dotenv,
      [
        `CARGO_ISOLATE_ROOT=${root}`,
        'CARGO_ISOLATE_DISK_THRESOLD=50%',
        'export CARGO_ISOLATE_PRUNE_SCOPE=host',
        'CARGO_ISOLATE_REUSE never',
        '# CARGO_ISOLATE_LAYOUT=job, switched off',
        'LANG=C.UTF-8',
        '',
      ].join('\n'),
    );
    // What the runner made of that file (actions/runner's LoadAndSetEnv), plus one from elsewhere (a systemd unit).
    const env = {
      CARGO_ISOLATE_ROOT: root,
      CARGO_ISOLATE_DISK_THRESOLD: '50%',
      'export CARGO_ISOLATE_PRUNE_SCOPE': 'host',
      '# CARGO_ISOLATE_LAYOUT': 'job, switched off',
      CARGO_ISOLATE_LAYOT: 'job',
    };
    const { w } = await hookedJob({ runId: 'env-lines', env, runnerDir: dir });
    const s = await w.hook('started');
    expect({ code: s.code, isolated: slotOf(s.env) !== '' }).toEqual({ code: 0, isolated: true });
    expect(s.warnings).toEqual([
      `cargo-isolate job-started hook: CARGO_ISOLATE_DISK_THRESOLD (line 2 of ${dotenv}) is not a variable cargo-isolate reads: did you mean CARGO_ISOLATE_DISK_THRESHOLD?`,
      `cargo-isolate job-started hook: 'export CARGO_ISOLATE_PRUNE_SCOPE' (line 3 of ${dotenv}) is one name to the runner, 'export ' included, so CARGO_ISOLATE_PRUNE_SCOPE is not set: write CARGO_ISOLATE_PRUNE_SCOPE=value, with nothing before the name and no space before '='.`,
      `cargo-isolate job-started hook: 'CARGO_ISOLATE_REUSE never' (line 4 of ${dotenv}) is not NAME=value, so the runner skips it.`,
      "cargo-isolate job-started hook: CARGO_ISOLATE_LAYOT (in the runner's environment) is not a variable cargo-isolate reads: did you mean CARGO_ISOLATE_LAYOUT?",
    ]);
    expect((await w.hook('completed')).code).toBe(0);
    await w.completeJob();
  });

  test('a .env that is not text is refused like a bad variable: the job runs without isolation, and says why', async () => {
    const dir = await fakeRunner(join(scratch, 'runner-binary-env'));
    await fs.writeFile(join(dir, '.env'), randomBytes(4096));
    const { w } = await hookedJob({ runId: 'env-binary', env: { CARGO_ISOLATE_ROOT: join(scratch, 'binary-env-root') }, runnerDir: dir });
    const s = await w.hook('started');
    expect({ code: s.code, env: s.env }).toEqual({ code: 0, env: {} });
    expect(s.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^cargo-isolate job-started hook: The runner's \\.env file ${join(dir, '.env')} is not a text file \\((a NUL byte at offset \\d+|bytes that are not UTF-8)\\): ` +
            'the runner took its variables from whatever lines it found\\. Fix the file, then restart the runner\\. This job runs without isolation \\(nothing exported\\)\\.$',
        ),
      ),
    ]);
    await w.completeJob();
  });
});

describe('the runner hook and the action in one job', () => {
  test("one lease: the action joins the hook's slot, seeds from the checked-out lock, and the completed hook publishes and releases", async () => {
    const root = join(scratch, 'joined');
    const { j, w, ws } = await hookedJob({ pr: 12, runId: '40', env: { CARGO_ISOLATE_ROOT: root } });
    const s = await w.hook('started');
    await makeWorkspace(ws, 2); // actions/checkout, after the hook
    execFileSync('cargo', ['generate-lockfile', '--offline'], { cwd: ws, env: j.stepEnv() });
    const m = await j.run('main', { key: 'leg-a' });
    expect({ code: m.code, warnings: m.warnings, errors: m.errors }).toEqual({ code: 0, warnings: [], errors: [] });
    expect(m.stdout).toMatch(/Joining the runner's job-started hook: slot s000 is this job's/);
    expect(m.stdout).not.toMatch(/Disk guard/); // one guard: the hook's
    expect(m.stdout).toMatch(/Crates: .*Cargo\.lock locks 0 registry crates/);
    expect(m.outputs['target-dir']).toBe(s.env.CARGO_TARGET_DIR);
    expect(m.env).toEqual({}); // nothing re-exported: the hook's values stand
    expect((await fs.readdir(join(root, 'slots'))).length).toBe(1);
    expect((await build(j, ws)).code).toBe(0);
    const p = await j.run('post');
    expect({ code: p.code, warnings: p.warnings }).toEqual({ code: 0, warnings: [] });
    expect(p.stdout).toMatch(/its job-completed hook releases the lease/);
    expect(isFree(lockOf(root, 's000'))).toBe(false); // post left it to the hook
    const c = await w.hook('completed');
    expect({ code: c.code, warnings: c.warnings }).toEqual({ code: 0, warnings: [] });
    expect(c.summary).toMatch(/slot s000 \(new\); target .*; 0 crates published; lease released/);
    expect(isFree(lockOf(root, 's000'))).toBe(true);
    await w.completeJob();
  });

  test('a hook lease that already ended (keeper killed) is not joined: the action warns and leases its own', async () => {
    const root = join(scratch, 'ended');
    const { j, w } = await hookedJob({ runId: '42', env: { CARGO_ISOLATE_ROOT: root } });
    const s = await w.hook('started');
    const keeper = JSON.parse(readFileSync(join(w.job.env.RUNNER_TEMP, 'cargo-isolate-hook.json'), 'utf8')).job.keeperPid as number;
    process.kill(-keeper, 'SIGKILL');
    await until('the lease to end', () => isFree(lockOf(root, slotOf(s.env))), 5000);
    const m = await j.run('main', { root });
    expect(m.warnings).toEqual([expect.stringMatching(/but that lease has ended .* Taking a lease of this step's own\.$/)]);
    expect(m.outputs.slot).toBe('s000'); // free again, and this job's own
    expect(isFree(lockOf(root, 's000'))).toBe(false); // now held by the action's keeper
    expect((await j.run('post')).code).toBe(0);
    expect(isFree(lockOf(root, 's000'))).toBe(true);
    // Another job takes the slot before the completed hook: the hook must leave it alone.
    const other = await hookedJob({ runId: '43', env: { CARGO_ISOLATE_ROOT: root, CARGO_ISOLATE_LEASE_WAIT: '3s' } });
    const os = await other.w.hook('started');
    expect(slotOf(os.env)).toBe('s000');
    await fs.writeFile(join(os.env.TMPDIR, 'in-use'), '');
    const c = await w.hook('completed');
    expect(c.warnings).toEqual([expect.stringMatching(/the lease on .*s000 ended before the job did/)]);
    await fs.access(join(os.env.TMPDIR, 'in-use'));
    expect(isFree(lockOf(root, 's000'))).toBe(false);
    await w.completeJob();
    await other.w.hook('completed');
    await other.w.completeJob();
  });

  test('the action alone (the hook exported nothing) takes its own lease as before', async () => {
    const root = join(scratch, 'alone');
    const { j, w } = await hookedJob({ runId: '41', env: { CARGO_ISOLATE_ROOT: root, CARGO_ISOLATE_LAYOUT: 'bad' } });
    const s = await w.hook('started');
    expect(s.env).toEqual({});
    const m = await j.run('main', { root });
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/Disk guard/);
    expect(m.outputs.slot).toBe('s000');
    expect((await j.run('post')).code).toBe(0);
    expect(isFree(lockOf(root, 's000'))).toBe(true);
    await w.hook('completed');
    await w.completeJob();
  });
});

describe('container: jobs with hooks, real Docker', () => {
  let d: Docker;
  beforeAll(() => {
    d = setupDocker();
  }, scaled(900_000));
  afterAll(() => {
    for (const c of containers) removeContainer(d, c);
  });

  test("a root under the runner's tool cache: the container gets /__t paths, the action in it joins, the next container job is warm", async () => {
    const toolCache = join(scratch, 'tool');
    const root = join(toolCache, 'cargo-isolate');
    const cws = await makeWorkspace(join(scratch, 'cws'), 3);
    execFileSync('cargo', ['generate-lockfile', '--offline'], { cwd: cws });
    const env = { CARGO_ISOLATE_ROOT: root, RUNNER_TOOL_CACHE: toolCache };
    const containerJob = async (runId: string) => {
      const h = await hookedJob({ pr: 21, runId, env, ws: cws });
      const s = await h.w.hook('started'); // before "Initialize containers"
      expect({ code: s.code, warnings: s.warnings }).toEqual({ code: 0, warnings: [] });
      const name = containerize(d, h.j, { mounts: [{ host: cws, at: WORKSPACE }], toolCache });
      containers.push(name);
      return { ...h, s, name };
    };

    const first = await containerJob('50');
    expect(first.s.env.CARGO_TARGET_DIR).toBe(join(root, 'slots', 's000', 'target'));
    const m = await first.j.run('main', {});
    expect({ code: m.code, warnings: m.warnings, errors: m.errors }).toEqual({ code: 0, warnings: [], errors: [] });
    expect(m.outputs['target-dir']).toBe('/__t/cargo-isolate/slots/s000/target');
    expect(m.stdout).toMatch(/Crates: \/__w\/widgets\/widgets\/Cargo\.lock locks 0 registry crates/);
    const env1 = await first.j.exec(['sh', '-c', 'echo $CARGO_TARGET_DIR $CARGO_HOME $TMPDIR; command -v cargo'], WORKSPACE);
    expect(env1.stdout.split('\n')[0]).toBe('/__t/cargo-isolate/slots/s000/target /__t/cargo-isolate/homes/u0 /__t/cargo-isolate/slots/s000/tmp');
    const b = await first.j.exec(['cargo', 'build'], WORKSPACE);
    expect(b.code).toBe(0);
    await fs.access(join(root, 'slots', 's000', 'target', 'debug', 'app')); // on the host, in the slot
    expect((await first.j.run('post')).code).toBe(0);
    removeContainer(d, first.name); // "Stop containers", then the completed hook
    const c = await first.w.hook('completed');
    expect({ code: c.code, warnings: c.warnings }).toEqual({ code: 0, warnings: [] });
    expect(c.summary).toMatch(/0 crates published; lease released/);
    await first.w.completeJob();

    // Hooks only, no uses: step: the same slot, at the same /__t paths, nothing recompiled.
    const second = await containerJob('51');
    expect(slotOf(second.s.env)).toBe('s000');
    const b2 = await second.j.exec(['cargo', 'build'], WORKSPACE);
    expect({ code: b2.code, compiled: compiled(b2.stderr) }).toEqual({ code: 0, compiled: [] });
    removeContainer(d, second.name);
    expect((await second.w.hook('completed')).code).toBe(0);
    await second.w.completeJob();
    expect(isFree(lockOf(root, 's000'))).toBe(true);
  });

  test('a root the container does not see (not under the tool cache, not mounted): the action warns and leases in its own mounted root', async () => {
    const hookRoot = join(scratch, 'host-only');
    const mounted = join(scratch, 'mounted-root');
    await fs.mkdir(mounted, { recursive: true });
    const cws = await makeWorkspace(join(scratch, 'cws2'), 1);
    const h = await hookedJob({ pr: 22, runId: '60', env: { CARGO_ISOLATE_ROOT: hookRoot, RUNNER_TOOL_CACHE: join(scratch, 'tool2') }, ws: cws });
    const s = await h.w.hook('started');
    expect(s.env.CARGO_HOME).toBe(join(hookRoot, 'homes', 'u0'));
    const name = containerize(d, h.j, {
      mounts: [
        { host: cws, at: WORKSPACE },
        { host: mounted, at: mounted },
      ],
      toolCache: join(scratch, 'tool2'),
    });
    containers.push(name);
    const m = await h.j.run('main', { root: mounted });
    expect(m.code).toBe(0);
    expect(m.warnings).toEqual([
      expect.stringMatching(
        /^The runner's job-started hook leased .*host-only\/slots\/s000, which this step does not see at .*; mount the hook's root at the same path, or put it under the runner's tool cache/,
      ),
    ]);
    expect(m.outputs['target-dir']).toBe(join(mounted, 'slots', 's000', 'target'));
    expect((await h.j.run('post')).code).toBe(0);
    removeContainer(d, name);
    expect((await h.w.hook('completed')).code).toBe(0);
    await h.w.completeJob();
    expect([isFree(lockOf(hookRoot, 's000')), isFree(lockOf(mounted, 's000'))]).toEqual([true, true]);
  });
});

function readdirLocks(root: string): string[] {
  return execFileSync('sh', ['-c', `ls ${root}/locks/slot-*.lock`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}
