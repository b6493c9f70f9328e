import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { type SimEvent, type SimJob, jobPool } from './helpers/runner.js';
import { compiled } from './helpers/workspace.js';

/*
 * Issue 20: the first run of a merge-queue entry, a new branch and a tag starts warm from its
 * base (a push to main), and content never flows back. Real cargo through the bundled action,
 * real registry dependencies from a sparse registry on 127.0.0.1. Each test has its own root.
 */
const { job, cleanup } = jobPool();
let reg: LocalRegistry;
let scratch: string;
let crates: LocalRegistry['crates'];
let ws: string;

beforeAll(async () => {
  reg = await localRegistry('ci-first-runs-');
  ({ scratch, crates } = reg);
  ws = await reg.checkout('repo');
});
afterAll(async () => {
  await cleanup();
  await reg.close();
});

const SHA = '9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e';
const repository = { full_name: 'acme/widgets', default_branch: 'main' };
const queueRef = (pr: number) => `refs/heads/gh-readonly-queue/main/pr-${pr}-${SHA}`;
const mergeGroup = (pr: number): SimEvent => ({
  name: 'merge_group',
  ref: queueRef(pr),
  payload: { action: 'checks_requested', merge_group: { head_sha: SHA, head_ref: queueRef(pr), base_sha: SHA, base_ref: 'refs/heads/main' }, repository },
});
const newBranch = (name: string): SimEvent => ({
  name: 'push',
  ref: `refs/heads/${name}`,
  payload: { ref: `refs/heads/${name}`, before: '0'.repeat(40), after: SHA, created: true, base_ref: null, repository },
});
const tag = (name: string): SimEvent => ({
  name: 'push',
  ref: `refs/tags/${name}`,
  payload: { ref: `refs/tags/${name}`, before: '0'.repeat(40), after: SHA, created: true, base_ref: 'refs/heads/main', repository },
});

type Run = { j: SimJob; slot: string; tier: string; deps: string[]; stdout: string; summary: string; target: string; installRoot: string };

/** One job of one run: main step, `cargo build`, an optional step that plants files, post. */
async function run(root: string, o: { event?: SimEvent; runId: string; runner: string }, plant = false): Promise<Run> {
  const j = await job({ event: o.event, runId: o.runId, job: 'test', runner: o.runner });
  const m = await j.run('main', { root });
  expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
  const b = await j.exec(['cargo', 'build', '--locked'], ws);
  if (b.code !== 0) throw new Error(b.stderr);
  // What any build of a new trust domain could leave for the next user of the slot.
  if (plant) {
    await fs.writeFile(join(m.env.CARGO_TARGET_DIR, 'planted'), 'x');
    await fs.writeFile(join(m.env.CARGO_INSTALL_ROOT, 'bin', 'cargo-planted'), 'x');
  }
  const p = await j.run('post');
  expect(p.code).toBe(0);
  return {
    j,
    slot: m.outputs.slot,
    tier: /slot \S+ \((own-job|own-key|base|same-job|lru|new)/.exec(m.stdout)?.[1] ?? '?',
    deps: compiled(b.stderr).filter((c) => c.startsWith('dep')),
    stdout: m.stdout,
    summary: p.summary,
    target: m.env.CARGO_TARGET_DIR,
    installRoot: m.env.CARGO_INSTALL_ROOT,
  };
}

/** Pushes to main that ran at once (matrix-like siblings of one run): one warm slot each. */
async function mainSlots(root: string, n: number): Promise<string[]> {
  const runs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const j = await job({ branch: 'main', runId: '600', job: 'test', runner: `m${i}` });
      const m = await j.run('main', { root });
      expect(m.code).toBe(0);
      return { j, slot: m.outputs.slot };
    }),
  );
  for (const r of runs) {
    const b = await r.j.exec(['cargo', 'build', '--locked'], ws);
    expect([b.code, compiled(b.stderr).filter((c) => c.startsWith('dep')).length]).toEqual([0, crates.length]); // cold
  }
  for (const r of runs) expect((await r.j.run('post')).code).toBe(0);
  return runs.map((r) => r.slot);
}

const neverSees = (r: Run) => {
  expect(existsSync(join(r.target, 'planted'))).toBe(false);
  expect(existsSync(join(r.installRoot, 'bin', 'cargo-planted'))).toBe(false);
};

test("two merge-queue runs after main start warm; main's next push is warm and never sees what they planted", async () => {
  const root = join(scratch, 'root-queue');
  const main = await mainSlots(root, 3);
  const q1 = await run(root, { event: mergeGroup(31), runId: '610', runner: 'q1' }, true);
  const q2 = await run(root, { event: mergeGroup(32), runId: '611', runner: 'q2' }, true);
  for (const q of [q1, q2]) {
    expect([q.tier, q.deps]).toEqual(['base', []]);
    expect(main).toContain(q.slot);
    expect(q.stdout).toContain('Base: a first run from main (merge queue; merge_group.base_ref).');
    expect(q.summary).toMatch(/<td>Base<\/td><td>a first run from main \(merge queue; merge_group.base_ref\)<\/td>/);
  }
  expect(q1.slot).not.toBe(q2.slot);

  const next = await run(root, { runId: '612', runner: 'm0' });
  expect([next.tier, next.deps]).toEqual(['own-job', []]);
  expect([q1.slot, q2.slot]).not.toContain(next.slot);
  neverSees(next);
});

test("a new branch's first push and a tag build start warm from main; main stays warm, and once its slots are gone it starts clean", async () => {
  const root = join(scratch, 'root-branch-tag');
  await mainSlots(root, 3);
  const branch = await run(root, { event: newBranch('feature/login'), runId: '620', runner: 'b1' }, true);
  expect([branch.tier, branch.deps]).toEqual(['base', []]);
  expect(branch.stdout).toContain('Base: a first run from main (new branch; repository.default_branch).');
  const release = await run(root, { event: tag('v1.2.0'), runId: '621', runner: 't1' }, true);
  expect([release.tier, release.deps]).toEqual(['base', []]);
  expect(release.stdout).toContain('Base: a first run from main (tag; repository.default_branch).');

  const next = await run(root, { runId: '622', runner: 'm0' });
  expect([next.tier, next.deps]).toEqual(['own-job', []]);
  neverSees(next);

  // Main is down to one slot of the job: a new branch takes it (the retention rule in
  // choose.ts). Every other slot holds another domain's warm build and the disk has room, so
  // main's next push makes a new slot (choose.ts: no wipe under disk-target), never theirs.
  const other = await run(root, { event: newBranch('feature/other'), runId: '623', runner: 'b2' }, true);
  expect([other.tier, other.slot]).toEqual(['base', next.slot]);
  const after = await run(root, { runId: '624', runner: 'm0' });
  neverSees(after);
  expect([after.tier, after.slot === other.slot]).toEqual(['new', false]);
  expect(after.stdout).toContain('The disk is under disk-target: a new slot');
});

test("a branch's later push takes its own slot, not main's", async () => {
  const root = join(scratch, 'root-own');
  await mainSlots(root, 2);
  const first = await run(root, { event: newBranch('dev'), runId: '630', runner: 'd1' });
  const again = await run(root, {
    event: { ...newBranch('dev'), payload: { ...(newBranch('dev').payload as object), created: false, before: SHA } },
    runId: '631',
    runner: 'd2',
  });
  expect([again.tier, again.slot, again.deps]).toEqual(['own-job', first.slot, []]);
  expect(again.stdout).toContain('not needed: a slot of its own');
});

test("a tag named main is a domain of its own: main's next push never sees what its build planted", async () => {
  const root = join(scratch, 'root-tag-main');
  const [only] = await mainSlots(root, 1);
  const t = await run(root, { event: tag('main'), runId: '640', runner: 't1' }, true);
  expect([t.tier, t.slot, t.deps]).toEqual(['base', only, []]); // warm from main, one way
  const next = await run(root, { runId: '641', runner: 'm0' });
  neverSees(next);
  // The tag's slot holds its own warm build and the disk has room: main makes a new slot.
  expect([next.tier, next.slot === t.slot]).toEqual(['new', false]);
});
